;;;; Script that loads the schannel systems and runs the test suite; the
;;;; process exits with 0 when every test passed and 1 otherwise.
;;;;
;;;;   SCHAN_LIBRARY=build/linux/src/libschan.so \
;;;;     sbcl --non-interactive --no-userinit --load bindings/lisp/tests/run-tests.lisp
;;;;
;;;; SCHAN_SERVER and SCHAN_CLIENT name the schan-server and schan-client
;;;; programs; the tests that need them are skipped when they are unset.
;;;; SCHANNEL_TESTS=name,name runs only those tests or suites.

(require :asdf)

(let ((binding-folder (uiop:pathname-parent-directory-pathname
                       (uiop:pathname-directory-pathname *load-truename*))))
  (asdf:initialize-source-registry
   `(:source-registry (:directory ,binding-folder) :inherit-configuration)))

(handler-case
    (progn
      (asdf:load-system "schannel/tests")
      (uiop:quit (if (uiop:symbol-call '#:schannel-tests '#:run-tests) 0 1)))
  (error (condition)
    (format *error-output* "~&The schannel tests could not run: ~A~%" condition)
    (uiop:quit 1)))
