;;;; Running the suite, or some of its tests.

(in-package #:schannel-tests)

(defun selected-tests ()
  "Returns the test or suite names listed in SCHANNEL_TESTS (comma-separated), or the whole suite."
  (let ((names (uiop:getenv "SCHANNEL_TESTS")))
    (if (and names (plusp (length names)))
        (mapcar (lambda (name)
                  (or (find-symbol (string-upcase (string-trim " " name)) '#:schannel-tests)
                      (error "SCHANNEL_TESTS names ~S, which is no test or suite of schannel-tests." name)))
                (uiop:split-string names :separator ","))
        (list 'schannel-tests))))

(defun run-tests ()
  "Generates the test PKI, runs the selected tests, prints the results and
deletes the PKI. Returns true when no test failed."
  (generate-pki)
  (unwind-protect
       (let ((results (let ((*print-names* t))
                        (loop for name in (selected-tests)
                              append (run name)))))
         (explain! results)
         (results-status results))
    (delete-pki)))
