;;;; The server role: Lisp servers against openssl s_client and schan-client,
;;;; and a Lisp client talking to a Lisp server in this image.

(in-package #:schannel-tests)

(def-suite server-tests :in schannel-tests
  :description "make-server-stream, make-ssl-server-stream, accept-server-context and Lisp-to-Lisp connections.")

(in-suite server-tests)

(defun server-credentials ()
  (list :certificate (pki "leaf-chain.pem") :key (pki "leaf.key")))

(defun make-listener ()
  (usocket:socket-listen "127.0.0.1" 0 :reuse-address t :element-type '(unsigned-byte 8)))

(defun accept-connection (listener &key (timeout 20))
  "Returns the next connection on LISTENER, or signals an error after TIMEOUT seconds."
  (unless (usocket:wait-for-input listener :timeout timeout :ready-only t)
    (error "No client connected to port ~D within ~D s." (usocket:get-local-port listener) timeout))
  (usocket:socket-accept listener :element-type '(unsigned-byte 8)))

(defun call-with-socket-pair (function)
  "Calls FUNCTION with the binary streams of both ends of a TCP connection on 127.0.0.1."
  (let* ((listener (make-listener))
         (client (connect (usocket:get-local-port listener)))
         (server (accept-connection listener)))
    (unwind-protect
         (funcall function (usocket:socket-stream client) (usocket:socket-stream server))
      (usocket:socket-close client)
      (usocket:socket-close server)
      (usocket:socket-close listener))))

(defmacro with-socket-pair ((client-stream server-stream) &body body)
  `(call-with-socket-pair (lambda (,client-stream ,server-stream) ,@body)))

(defun run-in-thread (name function)
  "Runs FUNCTION in a new thread. Returns the thread; JOIN-RESULT returns what it returned or signalled."
  (sb-thread:make-thread
   (lambda ()
     (handler-case (with-deadline (list :value (funcall function)))
       (error (condition) (list :error condition))))
   :name name))

(defun join-result (thread &key (timeout 60))
  "Waits for THREAD and returns its value, or re-signals its error."
  (destructuring-bind (kind value) (sb-thread:join-thread thread :timeout timeout)
    (if (eq kind :error)
        (error value)
        value)))

(defun read-line-octets (stream)
  "Reads octets up to a newline and returns them as a string without it, or NIL at end of file."
  (let ((characters '()))
    (loop for octet = (read-byte stream nil nil)
          do (cond ((null octet) (return (and characters (coerce (nreverse characters) 'string))))
                   ((= octet 10) (return (coerce (nreverse characters) 'string)))
                   (t (push (code-char octet) characters))))))

;;; Lisp server, external clients

(test server-with-s-client
  "A Lisp server stream exchanges lines with openssl s_client, which verifies it."
  (let ((listener (make-listener)))
    (unwind-protect
         (with-peer (client (list "openssl" "s_client" "-connect" "127.0.0.1:{port}"
                                  "-CAfile" (pki "root.pem") "-verify_return_error"
                                  "-servername" "localhost" "-quiet")
                            :listens nil :port (usocket:get-local-port listener))
           (let ((socket (accept-connection listener)))
             (unwind-protect
                  (with-deadline
                    (let ((stream (apply #'make-server-stream (usocket:socket-stream socket)
                                         (server-credentials))))
                      (write-peer-input client (format nil "ping~%"))
                      (is (string= "ping" (read-line-octets stream)))
                      (is (eq :tls-1.3 (negotiated-protocol stream)))
                      (write-sequence (ascii (format nil "hello from lisp~%")) stream)
                      (close stream)
                      (is (wait-for-output client "hello from lisp"))))
               (usocket:socket-close socket))))
      (usocket:socket-close listener))))

(test server-with-schan-client
  "A Lisp server stream serves schan-client until both close_notify alerts were exchanged."
  (let ((program (program-from-environment "SCHAN_CLIENT")))
    (if (null program)
        (skip "SCHAN_CLIENT does not name the schan-client program")
        (let ((listener (make-listener)))
          (unwind-protect
               (with-peer (client (list program "--ca" (pki "root.pem") "--alpn" "x-test,http/1.1"
                                        "localhost" "{port}")
                                  :listens nil :port (usocket:get-local-port listener))
                 (write-peer-input client (format nil "ping~%"))
                 (close-peer-input client)
                 (let ((socket (accept-connection listener)))
                   (unwind-protect
                        (with-deadline
                          (let ((stream (apply #'make-server-stream (usocket:socket-stream socket)
                                               :alpn '("http/1.1")
                                               (server-credentials))))
                            (is (string= "http/1.1" (selected-alpn-protocol stream)))
                            (is (string= (format nil "ping~%") (text (read-all stream))))
                            (write-sequence (ascii (format nil "pong~%")) stream)
                            (close stream)
                            (is (eql 0 (wait-for-exit client)))
                            (is (search "pong" (peer-output client)))))
                     (usocket:socket-close socket))))
            (usocket:socket-close listener))))))

(test server-token-api-with-s-client
  "ACCEPT-SERVER-CONTEXT, DECRYPT-MESSAGE and ENCRYPT-MESSAGE serve openssl s_client."
  (let ((listener (make-listener)))
    (unwind-protect
         (with-peer (client (list "openssl" "s_client" "-connect" "127.0.0.1:{port}"
                                  "-CAfile" (pki "root.pem") "-verify_return_error"
                                  "-servername" "localhost" "-quiet")
                            :listens nil :port (usocket:get-local-port listener))
           (let ((socket (accept-connection listener)))
             (unwind-protect
                  (with-deadline
                    (let ((stream (usocket:socket-stream socket)))
                      (with-server-context (context :certificate (pki "leaf-chain.pem") :key (pki "leaf.key"))
                        (loop
                          (multiple-value-bind (token extra complete)
                              (accept-server-context context (receive-available stream))
                            (declare (ignore extra))
                            (when token
                              (send-token stream token))
                            (when complete
                              (return))))
                        (write-peer-input client (format nil "ping~%"))
                        (let ((buffer (make-array 20000 :element-type '(unsigned-byte 8)))
                              (received (receive-available stream)))
                          (replace buffer received)
                          (let ((count (decrypt-message context buffer :end (length received))))
                            (is (string= (format nil "ping~%") (text buffer :end count))))
                          (let ((reply (ascii (format nil "hello from the token API~%"))))
                            (replace buffer reply)
                            (send-token stream buffer :end (encrypt-message context buffer :end (length reply))))
                          (send-token stream (shutdown-context context)))
                        (is (wait-for-output client "hello from the token API")))))
               (usocket:socket-close socket))))
      (usocket:socket-close listener))))

;;; Lisp client and Lisp server in one image

(test lisp-pair-streams
  "A Lisp client and server negotiate ALPN and a client certificate and move 1 MiB each way."
  (with-socket-pair (client-base server-base)
    (let* ((size (* 1024 1024))
           (message (random-octets size 11))
           (server
             (run-in-thread
              "schannel test server"
              (lambda ()
                (let ((stream (apply #'make-server-stream server-base
                                     :alpn '("h2" "http/1.1")
                                     :client-auth :required :ca-file (pki "root.pem")
                                     (server-credentials)))
                      (received (make-array size :element-type '(unsigned-byte 8))))
                  (unwind-protect
                       (progn
                         (read-sequence received stream)
                         (write-sequence received stream)
                         (finish-output stream)
                         (list (md5-hex received)
                               (selected-alpn-protocol stream)
                               (peer-certificate stream)
                               (read-byte stream nil :eof)))
                    (close stream)))))))
      (with-deadline
        (let ((stream (make-client-stream client-base "localhost" :ca-file (pki "root.pem")
                                          :alpn '("http/1.1")
                                          :certificate (pki "client-chain.pem") :key (pki "client.key")))
              (echo (make-array size :element-type '(unsigned-byte 8))))
          (unwind-protect
               (progn
                 (write-sequence message stream)
                 (finish-output stream)
                 (is (= size (read-sequence echo stream)))
                 (is (string= (md5-hex message) (md5-hex echo)))
                 (is (string= "http/1.1" (selected-alpn-protocol stream))))
            (close stream))
          (destructuring-bind (digest alpn client-certificate end) (join-result server)
            (is (string= (md5-hex message) digest))
            (is (string= "http/1.1" alpn))
            (is (= #x30 (aref client-certificate 0)))
            (is (eq :eof end))))))))

(test lisp-pair-ssl-streams
  "MAKE-SSL-SERVER-STREAM and MAKE-SSL-CLIENT-STREAM exchange lines as character streams."
  (with-socket-pair (client-base server-base)
    (let ((server
            (run-in-thread
             "schannel test server"
             (lambda ()
               (let ((stream (make-ssl-server-stream server-base
                                                     :certificate (pki "leaf-chain.pem") :key (pki "leaf.key")
                                                     :external-format :utf-8)))
                 (unwind-protect
                      (let ((line (read-line stream)))
                        (format stream "echo: ~A~%" line)
                        (force-output stream)
                        line)
                   (close stream)))))))
      (with-deadline
        (let ((stream (make-ssl-client-stream client-base :hostname "localhost" :ca-file (pki "root.pem")
                                                          :external-format :utf-8)))
          (unwind-protect
               (progn
                 (format stream "grüße~%")
                 (force-output stream)
                 (is (string= "echo: grüße" (read-line stream)))
                 (is (eq :eof (read-line stream nil :eof))))
            (close stream))
          (is (string= "grüße" (join-result server))))))))

(test lisp-pair-client-certificate-required
  "A server that requires a client certificate rejects a client without one."
  (with-socket-pair (client-base server-base)
    (let ((server
            (run-in-thread
             "schannel test server"
             (lambda ()
               (close (apply #'make-server-stream server-base
                             :client-auth :required :ca-file (pki "root.pem")
                             (server-credentials)))))))
      (with-deadline
        (let ((client-condition
                (handler-case
                    (let ((stream (make-client-stream client-base "localhost" :ca-file (pki "root.pem"))))
                      ;; With TLS 1.3 the client finishes its handshake first and
                      ;; learns of the rejection from the server's alert.
                      (unwind-protect (read-byte stream nil :eof)
                        (close stream :abort t))
                      nil)
                  (schannel-error (condition) condition)))
              (server-condition (handler-case (progn (join-result server) nil)
                                  (schannel-error (condition) condition))))
          (is (typep client-condition 'schannel-error))
          (is (typep server-condition 'schannel-certificate-error))
          (is (eq :cert-required (and server-condition (schannel-error-status server-condition)))))))))

(test lisp-pair-pkcs12-server
  "A server configured from a PKCS#12 file serves a verifying client."
  (with-socket-pair (client-base server-base)
    (let ((server
            (run-in-thread
             "schannel test server"
             (lambda ()
               (let ((stream (make-server-stream server-base :pkcs12 (pki "leaf.p12") :password "secret")))
                 (write-sequence (ascii "pkcs12") stream)
                 (close stream))))))
      (with-deadline
        (let ((stream (make-client-stream client-base "localhost" :ca-file (pki "root.pem"))))
          (unwind-protect (is (string= "pkcs12" (text (read-all stream))))
            (close stream))
          (join-result server))))))

(test lisp-pair-credentials-from-octets
  "Certificates, keys, CA bundles and PKCS#12 data are also accepted as octets or PEM text."
  (with-socket-pair (client-base server-base)
    (let ((server
            (run-in-thread
             "schannel test server"
             (lambda ()
               (let ((stream (make-server-stream
                              server-base
                              :certificate (alexandria:read-file-into-byte-vector (pki "leaf-chain.pem"))
                              :key (alexandria:read-file-into-byte-vector (pki "leaf.key"))
                              :client-auth :required
                              :ca-pem (uiop:read-file-string (pki "root.pem")))))
                 (prog1 (peer-certificate stream)
                   (write-sequence (ascii "octets") stream)
                   (close stream)))))))
      (with-deadline
        (let ((stream (make-client-stream
                       client-base "localhost"
                       :ca-pem (alexandria:read-file-into-byte-vector (pki "root.pem"))
                       :pkcs12 (alexandria:read-file-into-byte-vector (pki "client.p12"))
                       :password "secret")))
          (unwind-protect (is (string= "octets" (text (read-all stream))))
            (close stream))
          (is (= #x30 (aref (join-result server) 0))))))))

(test encrypted-pem-key
  "An encrypted PEM key loads with its password and signals :BAD-PASSWORD without it."
  (let ((context (make-server-context :certificate (pki "leaf-chain.pem") :key (pki "leaf-encrypted.key")
                                      :password "secret")))
    (is (eq :handshake (context-state context)))
    (free-context context))
  (dolist (password '(nil "wrong"))
    (let ((condition (handler-case (make-server-context :certificate (pki "leaf-chain.pem")
                                                        :key (pki "leaf-encrypted.key")
                                                        :password password)
                       (schannel-error (condition) condition))))
      (is (eq :bad-password (and condition (schannel-error-status condition)))))))

(test key-mismatch
  "A key that does not belong to the certificate signals :KEY-MISMATCH."
  (let ((condition (handler-case (make-server-context :certificate (pki "leaf-chain.pem")
                                                      :key (pki "wrong-name.key"))
                     (schannel-error (condition) condition))))
    (is (eq :key-mismatch (and condition (schannel-error-status condition))))))

(test server-without-certificate
  "A server context without a certificate signals SCHANNEL-ERROR with status :INVALID-ARGUMENT."
  (let ((condition (handler-case (make-server-context)
                     (schannel-error (condition) condition))))
    (is (typep condition 'schannel-error))
    (is (eq :invalid-argument (and condition (schannel-error-status condition))))))
