;;;; One round of the Lisp bulk benchmark; prints one JSON line.
;;;;
;;;;   sbcl --script bench/lisp_bulk.lisp ROOT PKI schan|cl+ssl BYTES
;;;;
;;;; Starts bench/python_bulk.py's receiver (a Python ssl server) in a child
;;;; process, connects to it over loopback TCP and sends BYTES with
;;;; write-sequence of 64 KiB vectors through schan's client stream or
;;;; CL+SSL's. CL+SSL gets the socket's file descriptor, its fast path; schan
;;;; gets the usocket stream, the only transport its stream takes. Neither
;;;; client verifies the certificate, and the handshake is not timed. The
;;;; time ends when the receiver acknowledges the last byte.

(require :asdf)
(setf *compile-verbose* nil *load-verbose* nil)

(defparameter *arguments* (uiop:command-line-arguments))
(defparameter *root* (uiop:ensure-directory-pathname (first *arguments*)))
(defparameter *schan-p* (string= (third *arguments*) "schan"))

(asdf:initialize-source-registry
 `(:source-registry (:directory ,(merge-pathnames "bindings/lisp/" *root*)) :inherit-configuration))
(handler-bind ((warning #'muffle-warning))
  (asdf:load-system "usocket")
  (asdf:load-system (if *schan-p* "schannel" "cl+ssl")))

(destructuring-bind (root pki implementation bytes) *arguments*
  (declare (ignore root implementation))
  (let* ((total (parse-integer bytes))
         (write-size 65536)
         (receiver (sb-ext:run-program "python3"
                                       (list (namestring (merge-pathnames "bench/python_bulk.py" *root*))
                                             pki "serve" bytes)
                                       :search t :output :stream :wait nil :error nil))
         (port (parse-integer (read-line (sb-ext:process-output receiver))))
         (socket (usocket:socket-connect "127.0.0.1" port :element-type '(unsigned-byte 8)))
         (payload (make-array write-size :element-type '(unsigned-byte 8) :initial-element #x5a))
         (stream (if *schan-p*
                     (uiop:symbol-call '#:schannel '#:make-client-stream (usocket:socket-stream socket) "localhost"
                                       :verify :none)
                     (uiop:symbol-call '#:cl+ssl '#:make-ssl-client-stream
                                       (sb-bsd-sockets:socket-file-descriptor (usocket:socket socket))
                                       :hostname "localhost" :verify nil)))
         (started (get-internal-real-time))
         (cpu-started (get-internal-run-time)))
    (dotimes (i (floor total write-size))
      (write-sequence payload stream))
    (finish-output stream)
    (unless (eql (read-byte stream) (char-code #\k))
      (error "the receiver did not acknowledge the data"))
    (let ((seconds (/ (- (get-internal-real-time) started) internal-time-units-per-second))
          (cpu-seconds (/ (- (get-internal-run-time) cpu-started) internal-time-units-per-second)))
      (format t "{\"bytes\": ~D, \"write_size\": ~D, \"seconds\": ~,6F, \"cpu_seconds\": ~,6F, ~
                 \"mib_per_s\": ~,2F, \"mib_per_cpu_s\": ~,2F}~%"
              total write-size seconds cpu-seconds (/ total 1048576 seconds) (/ total 1048576 cpu-seconds)))
    (close stream)
    (sb-ext:process-wait receiver)
    (unless (eql (sb-ext:process-exit-code receiver) 0)
      (error "the receiver failed with exit code ~A" (sb-ext:process-exit-code receiver)))))
