;;;; Test support: the generated PKI, TLS peers started on 127.0.0.1 and
;;;; stopped by their process id, and TCP connections to them.
;;;;
;;;; Every peer runs under coreutils `timeout`, so it ends even when this
;;;; image dies; STOP-PEER sends SIGTERM to that process, which passes it on.

(in-package #:schannel-tests)

(defparameter *peer-timeout* 60
  "Seconds after which `timeout` kills a peer.")

(defparameter *test-deadline* 90
  "Seconds one test may wait on a socket before SBCL signals a deadline timeout.")

(defvar *pki* nil
  "The folder of the generated test PKI, a directory pathname.")

(defun source-file (relative)
  "Returns the path of RELATIVE in the repository, as a native file name."
  (uiop:native-namestring
   (merge-pathnames relative (asdf:system-relative-pathname "schannel" "../../"))))

(defun pki (name)
  "Returns the native path of the PKI file NAME, for example \"root.pem\"."
  (uiop:native-namestring (merge-pathnames name *pki*)))

(defun make-temporary-folder (prefix)
  (let ((folder (uiop:ensure-directory-pathname
                 (merge-pathnames (format nil "~A-~36R" prefix (random (expt 36 8) (make-random-state t)))
                                  (uiop:temporary-directory)))))
    (ensure-directories-exist folder)
    folder))

(defun generate-pki ()
  "Generates the test PKI with tests/support/test_pki.py into a new temporary folder."
  (let ((folder (make-temporary-folder "schannel-pki")))
    (uiop:run-program
     (list "timeout" "180" "python3" "-c"
           "import sys; sys.path.insert(0, sys.argv[1]); import test_pki; test_pki.generate(sys.argv[2])"
           (source-file "tests/support/") (uiop:native-namestring folder))
     :output *error-output* :error-output *error-output*)
    ;; Chains for peers that send no intermediate of their own: a client
    ;; certificate for servers that trust only root.pem, and a server
    ;; certificate for another host name for schan-server.
    (loop for (target . parts) in '(("client-chain.pem" "client.pem" "inter.pem")
                                     ("wrong-name-chain.pem" "wrong-name.pem" "inter.pem"))
          do (with-open-file (chain (merge-pathnames target folder)
                                    :direction :output :element-type '(unsigned-byte 8))
               (dolist (part parts)
                 (write-sequence (alexandria:read-file-into-byte-vector (merge-pathnames part folder))
                                 chain))))
    ;; An encrypted copy of leaf.key, for the :password option with PEM keys.
    (uiop:run-program (list "openssl" "pkey" "-in" (uiop:native-namestring (merge-pathnames "leaf.key" folder))
                            "-aes256" "-passout" "pass:secret"
                            "-out" (uiop:native-namestring (merge-pathnames "leaf-encrypted.key" folder)))
                      :output *error-output* :error-output *error-output*)
    (setf *pki* folder)))

(defun delete-pki ()
  (when *pki*
    (uiop:delete-directory-tree *pki* :validate t :if-does-not-exist :ignore)
    (setf *pki* nil)))

(defun program-from-environment (variable)
  "Returns the program named by the environment VARIABLE, or NIL when it is unset or missing."
  (let ((path (uiop:getenv variable)))
    (and path (plusp (length path)) (probe-file path) path)))

;;; Peers

(defstruct peer
  process
  port
  output-file
  command)

(defun free-port ()
  "Returns a TCP port on 127.0.0.1 that was free a moment ago."
  (let ((listener (usocket:socket-listen "127.0.0.1" 0 :reuse-address t)))
    (unwind-protect (usocket:get-local-port listener)
      (usocket:socket-close listener))))

(defun listening-p (port)
  "Returns true when a socket listens on PORT at 127.0.0.1, read from /proc/net/tcp
because a probing connection would use up a peer that serves one connection."
  (let ((address (format nil "0100007F:~4,'0X" port)))
    (with-open-file (table "/proc/net/tcp")
      (loop for line = (read-line table nil)
            while line
            thereis (let ((fields (uiop:split-string (string-trim " " line) :separator " ")))
                      (setf fields (remove "" fields :test #'string=))
                      (and (>= (length fields) 4)
                           (string= (second fields) address)
                           (string= (fourth fields) "0A")))))))

(defun peer-output (peer)
  "Returns everything the peer wrote to its standard output and error so far."
  (if (probe-file (peer-output-file peer))
      (uiop:read-file-string (peer-output-file peer) :external-format :latin-1)
      ""))

(defun peer-alive-p (peer)
  (uiop:process-alive-p (peer-process peer)))

(defun wait-until (predicate &key (timeout 10) (interval 0.02))
  "Calls PREDICATE until it returns true or TIMEOUT seconds passed, and returns its last value."
  (let ((deadline (+ (get-internal-real-time) (* timeout internal-time-units-per-second))))
    (loop
      (let ((value (funcall predicate)))
        (when (or value (> (get-internal-real-time) deadline))
          (return value)))
      (sleep interval))))

(defun wait-for-output (peer text &key (timeout 10))
  "Waits until the peer's output contains TEXT; returns NIL on timeout."
  (wait-until (lambda () (search text (peer-output peer))) :timeout timeout))

(defun wait-for-exit (peer &key (timeout 10))
  "Waits for the peer to exit and returns its exit code, or NIL on timeout."
  (when (wait-until (lambda () (not (peer-alive-p peer))) :timeout timeout)
    (uiop:wait-process (peer-process peer))))

(defun replace-port (argument port)
  "Returns ARGUMENT with every \"{port}\" replaced by PORT."
  (let ((position (search "{port}" argument)))
    (if position
        (concatenate 'string (subseq argument 0 position) (princ-to-string port)
                     (replace-port (subseq argument (+ position 6)) port))
        argument)))

(defun start-peer (command &key (listens t) (timeout *peer-timeout*) directory (port (free-port)))
  "Starts COMMAND, a list of strings in which \"{port}\" stands for PORT (by
default a free port), under `timeout`. With LISTENS, waits until the peer
listens on that port."
  (let* ((argv (mapcar (lambda (argument) (replace-port argument port)) command))
         (output-file (merge-pathnames (format nil "peer-~D.log" port) *pki*))
         (process (uiop:launch-program (list* "timeout" "-k" "5" (princ-to-string timeout) argv)
                                       :input :stream
                                       :output output-file :if-output-exists :supersede
                                       :error-output :output
                                       :directory directory))
         (peer (make-peer :process process :port port :output-file output-file :command argv)))
    (when listens
      (unless (wait-until (lambda () (or (listening-p port) (not (peer-alive-p peer)))))
        (stop-peer peer)
        (error "The peer ~{~A~^ ~} did not listen on port ~D within 10 s. Output:~%~A"
               argv port (peer-output peer)))
      (unless (peer-alive-p peer)
        (error "The peer ~{~A~^ ~} exited before it listened. Output:~%~A" argv (peer-output peer))))
    peer))

(defun write-peer-input (peer text)
  "Writes TEXT to the peer's standard input, for openssl s_server commands."
  (let ((input (uiop:process-info-input (peer-process peer))))
    (write-string text input)
    (finish-output input)))

(defun close-peer-input (peer)
  "Closes the peer's standard input, so that it reads end of file."
  (close (uiop:process-info-input (peer-process peer))))

(defun stop-peer (peer)
  "Stops the peer by its process id (SIGTERM, then SIGKILL) and returns its exit code."
  (let ((process (peer-process peer)))
    (when (uiop:process-alive-p process)
      (uiop:terminate-process process)
      (unless (wait-until (lambda () (not (uiop:process-alive-p process))) :timeout 5)
        (uiop:terminate-process process :urgent t)))
    (prog1 (uiop:wait-process process)
      (uiop:close-streams process))))

(defmacro with-peer ((peer command &rest options) &body body)
  "Runs BODY with PEER bound to a started peer, stopped afterwards."
  `(let ((,peer (start-peer ,command ,@options)))
     (unwind-protect (progn ,@body)
       (stop-peer ,peer))))

(defun s-server-command (&rest options)
  "Returns an openssl s_server command line on 127.0.0.1 with leaf.pem and its
intermediate, plus OPTIONS. Its output is line-buffered, so WAIT-FOR-OUTPUT
sees each log line when it is printed."
  (append (list "stdbuf" "-oL" "-eL" "openssl" "s_server" "-accept" "127.0.0.1:{port}"
                "-cert" (pki "leaf.pem") "-key" (pki "leaf.key") "-cert_chain" (pki "inter.pem"))
          options))

(defun schan-server-command (program mode &key (certificate "leaf-chain.pem") (key "leaf.key"))
  "Returns the command line of the schan-server PROGRAM in MODE (\"--http\" or \"--echo\") for one connection."
  (list program mode "--once" "--port" "{port}" "--cert" (pki certificate) "--key" (pki key)))

(defun python-peer-command (mode &rest options)
  "Returns the command line of tests/tls_peer.py in MODE on a free port."
  (append (list "python3" (source-file "bindings/lisp/tests/tls_peer.py")
                "--port" "{port}" "--cert" (pki "leaf-chain.pem") "--key" (pki "leaf.key")
                "--mode" mode)
          options))

;;; Connections

(defun connect (port)
  "Returns a connected usocket on 127.0.0.1:PORT with a binary stream."
  (usocket:socket-connect "127.0.0.1" port :element-type '(unsigned-byte 8) :timeout 10))

(defmacro with-connection ((stream port) &body body)
  "Runs BODY with STREAM bound to a binary stream connected to 127.0.0.1:PORT, closed afterwards."
  (let ((socket (gensym "SOCKET")))
    `(let* ((,socket (connect ,port))
            (,stream (usocket:socket-stream ,socket)))
       (declare (ignorable ,stream))
       (unwind-protect (progn ,@body)
         (usocket:socket-close ,socket)))))

(defmacro with-deadline (&body body)
  "Runs BODY so that a wait on a socket longer than *TEST-DEADLINE* seconds signals an error."
  `(sb-sys:with-deadline (:seconds *test-deadline*)
     ,@body))

(defun ascii (string)
  (flexi-streams:string-to-octets string :external-format :latin-1))

(defun text (octets &key (start 0) end)
  (flexi-streams:octets-to-string octets :external-format :latin-1
                                         :start start :end (or end (length octets))))

(defun read-all (stream)
  "Reads STREAM to its end of file and returns the octets."
  (let ((result (make-array 0 :element-type '(unsigned-byte 8) :adjustable t :fill-pointer 0))
        (buffer (make-array 4096 :element-type '(unsigned-byte 8))))
    (loop for count = (read-sequence buffer stream)
          do (loop for index below count
                   do (vector-push-extend (aref buffer index) result))
          while (= count (length buffer)))
    (coerce result '(simple-array (unsigned-byte 8) (*)))))

(defun md5-hex (octets)
  (format nil "~(~{~2,'0X~}~)" (coerce (sb-md5:md5sum-sequence octets) 'list)))

(defun random-octets (count &optional (seed 42))
  (let ((state (sb-ext:seed-random-state seed))
        (result (make-array count :element-type '(unsigned-byte 8))))
    (dotimes (index count result)
      (setf (aref result index) (random 256 state)))))
