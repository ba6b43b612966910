;;;; The CL+SSL-style entry points and Drakma over a schannel stream.

(in-package #:schannel-tests)

(def-suite cl-plus-ssl-tests :in schannel-tests
  :description "make-ssl-client-stream, get-selected-alpn-protocol and drakma:http-request.")

(in-suite cl-plus-ssl-tests)

(defmacro with-ssl-client-stream ((stream port &rest options) &body body)
  "Runs BODY with STREAM bound to the result of MAKE-SSL-CLIENT-STREAM over a connection to PORT."
  (let ((socket (gensym "SOCKET")))
    `(let ((,socket (connect ,port)))
       (unwind-protect
            (with-deadline
              (let ((,stream (make-ssl-client-stream (usocket:socket-stream ,socket) ,@options)))
                (unwind-protect (progn ,@body)
                  (close ,stream))))
         (usocket:socket-close ,socket)))))

(test ssl-client-character-stream
  "With :EXTERNAL-FORMAT the result is a character stream; :VERIFY :REQUIRED checks the chain."
  (with-peer (server (s-server-command "-www"))
    (with-ssl-client-stream (stream (peer-port server) :hostname "localhost" :verify :required
                                    :ca-file (pki "root.pem")
                                    :external-format '(:latin-1 :eol-style :crlf))
      (is (typep stream 'flexi-streams:flexi-stream))
      (format stream "GET / HTTP/1.0~%~%")
      (force-output stream)
      (is (string= "HTTP/1.0 200 ok" (read-line stream)))
      (is (eq :tls-1.3 (negotiated-protocol stream)))
      (is (= #x30 (aref (ssl-stream-peer-certificate stream) 0))))))

(test ssl-client-binary-stream
  "Without :EXTERNAL-FORMAT the result is the binary schannel stream."
  (with-peer (server (s-server-command "-www"))
    (with-ssl-client-stream (stream (peer-port server) :hostname "localhost" :ca-file (pki "root.pem"))
      (is (typep stream 'schannel-stream))
      (write-sequence (ascii +get-request+) stream)
      (is (eql 0 (search "HTTP/1.0 200 ok" (text (read-all stream))))))))

(test ssl-client-verify-modes
  ":VERIFY NIL accepts any certificate; :REQUIRED and :OPTIONAL reject a mismatched one."
  (flet ((wrong-name-server ()
           (list "openssl" "s_server" "-accept" "127.0.0.1:{port}" "-www"
                 "-cert" (pki "wrong-name.pem") "-key" (pki "wrong-name.key")
                 "-cert_chain" (pki "inter.pem"))))
    (with-peer (server (wrong-name-server))
      (with-ssl-client-stream (stream (peer-port server) :hostname "localhost" :verify nil)
        (is (open-stream-p stream))))
    (dolist (verify '(:required :optional))
      (with-peer (server (wrong-name-server))
        (signals schannel-certificate-name-mismatch
          (with-ssl-client-stream (stream (peer-port server) :hostname "localhost" :verify verify
                                          :ca-file (pki "root.pem"))
            stream))))))

(test ssl-client-alpn-and-callback
  "GET-SELECTED-ALPN-PROTOCOL works on the character stream; :CLOSE-CALLBACK runs on CLOSE."
  (with-peer (server (s-server-command "-www" "-alpn" "http/1.1"))
    (let ((closed nil))
      (with-ssl-client-stream (stream (peer-port server) :hostname "localhost" :ca-file (pki "root.pem")
                                      :alpn-protocols '("h2" "http/1.1")
                                      :external-format :latin-1
                                      :close-callback (lambda () (setf closed t)))
        (is (string= "http/1.1" (get-selected-alpn-protocol stream))))
      (is (eq t closed)))))

(test ssl-client-certificate
  ":CERTIFICATE, :KEY and :PASSWORD send a client certificate from PEM files."
  (with-peer (server (s-server-command "-www" "-Verify" "1" "-CAfile" (pki "root.pem")))
    (with-ssl-client-stream (stream (peer-port server) :hostname "localhost" :ca-file (pki "root.pem")
                                    :certificate (pki "client-chain.pem") :key (pki "client.key"))
      (write-sequence (ascii +get-request+) stream)
      (is (eql 0 (search "HTTP/1.0 200 ok" (text (read-all stream))))))))

;;; Drakma

(defun drakma-fetch (port path)
  "Fetches PATH from https://localhost:PORT with drakma:http-request over a schannel stream.
Returns the body, the status code and the headers."
  (let ((socket (connect port)))
    (unwind-protect
         (with-deadline
           (let* ((tls (make-ssl-client-stream (usocket:socket-stream socket)
                                               :hostname "localhost" :verify :required
                                               :ca-file (pki "root.pem")))
                  ;; Drakma expects a re-used stream wrapped like its own:
                  ;; flexi-streams over a chunga chunked stream.
                  (stream (flexi-streams:make-flexi-stream (chunga:make-chunked-stream tls)
                                                           :external-format :latin-1)))
             (multiple-value-bind (body status headers)
                 (drakma:http-request (format nil "https://localhost:~D~A" port path)
                                      :stream stream :close t :want-stream nil)
               (values body status headers))))
      (usocket:socket-close socket))))

(test drakma-over-s-server
  "drakma:http-request reads openssl s_server's page over a schannel stream."
  (with-peer (server (s-server-command "-www"))
    (multiple-value-bind (body status) (drakma-fetch (peer-port server) "/")
      (is (= 200 status))
      (is (search "</BODY></HTML>" (if (stringp body) body (text body)))))))

(defmacro with-schan-server ((server mode &rest options) &body body)
  "Runs BODY with SERVER bound to a started schan-server peer, or skips the test without SCHAN_SERVER."
  (let ((program (gensym "PROGRAM")))
    `(let ((,program (program-from-environment "SCHAN_SERVER")))
       (if (null ,program)
           (skip "SCHAN_SERVER does not name the schan-server program")
           (with-peer (,server (schan-server-command ,program ,mode ,@options))
             ,@body)))))

(test drakma-over-schan-server
  "drakma:http-request fetches a page from schan-server --http over a schannel stream."
  (with-schan-server (server "--http")
    (multiple-value-bind (body status headers) (drakma-fetch (peer-port server) "/")
      (is (= 200 status))
      (is (string= "text/plain" (cdr (assoc :content-type headers))))
      (is (search "TLSv1.3" (if (stringp body) body (text body)))))))

;;; schan-server with the CL+SSL-style client

(test ssl-client-schan-server-http
  "A verifying client stream sends a GET to schan-server --http, reads the response and closes."
  (with-schan-server (server "--http")
    (with-ssl-client-stream (stream (peer-port server) :hostname "localhost" :verify :required
                                    :ca-file (pki "root.pem"))
      (write-sequence (ascii (format nil "GET / HTTP/1.1~C~CHost: localhost~C~C~C~C"
                                     #\Return #\Newline #\Return #\Newline #\Return #\Newline))
                      stream)
      (force-output stream)
      (let ((response (text (read-all stream))))
        (is (eql 0 (search "HTTP/1.1 200 OK" response)))))
    (is (eql 0 (wait-for-exit server)))
    (is (search "closed cleanly" (peer-output server)))))

(test ssl-client-schan-server-close-notify
  "CLOSE sends close_notify, which schan-server --echo answers and logs as a clean close."
  (with-schan-server (server "--echo")
    (with-ssl-client-stream (stream (peer-port server) :hostname "localhost" :verify :required
                                    :ca-file (pki "root.pem"))
      (write-sequence (ascii "ping") stream)
      (force-output stream)
      (let ((echo (make-array 4 :element-type '(unsigned-byte 8))))
        (is (= 4 (read-sequence echo stream)))
        (is (string= "ping" (text echo)))))
    (is (eql 0 (wait-for-exit server)))
    (is (search "closed cleanly" (peer-output server)))))

(test ssl-client-schan-server-wrong-name
  "schan-server with a certificate for another host signals SCHANNEL-CERTIFICATE-NAME-MISMATCH."
  (with-schan-server (server "--http" :certificate "wrong-name-chain.pem" :key "wrong-name.key")
    (signals schannel-certificate-name-mismatch
      (with-ssl-client-stream (stream (peer-port server) :hostname "localhost" :verify :required
                                      :ca-file (pki "root.pem"))
        stream))))
