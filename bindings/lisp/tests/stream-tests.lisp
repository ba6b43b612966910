;;;; Client Gray streams over usocket streams, against openssl s_server and the Python TLS peer.

(in-package #:schannel-tests)

(def-suite stream-tests :in schannel-tests
  :description "make-client-stream: reading, writing, listen, close, conditions and options.")

(in-suite stream-tests)

(defparameter +get-request+ (format nil "GET / HTTP/1.0~C~C~C~C" #\Return #\Newline #\Return #\Newline))

(defmacro with-client-stream ((stream port &rest options) &body body)
  "Runs BODY with STREAM bound to a client stream to localhost:PORT that trusts root.pem."
  (let ((socket (gensym "SOCKET")))
    `(let ((,socket (connect ,port)))
       (unwind-protect
            (with-deadline
              (let ((,stream (make-client-stream (usocket:socket-stream ,socket) "localhost"
                                                 :ca-file (pki "root.pem") ,@options)))
                (unwind-protect (progn ,@body)
                  (close ,stream))))
         (usocket:socket-close ,socket)))))

(defun handshake-error (port &rest options)
  "Returns the condition that a client stream handshake with the server on PORT signals, or NIL."
  (with-connection (stream port)
    (with-deadline
      (handler-case (progn (close (apply #'make-client-stream stream "localhost" options)) nil)
        (schannel-error (condition) condition)))))

(test stream-http-get
  "A GET through a client stream returns the page, then end of file at the server's close_notify."
  (with-peer (server (s-server-command "-www"))
    (with-client-stream (stream (peer-port server))
      (is (typep stream 'schannel-stream))
      (is (equal '(unsigned-byte 8) (stream-element-type stream)))
      (is (input-stream-p stream))
      (is (output-stream-p stream))
      (write-sequence (ascii +get-request+) stream)
      (force-output stream)
      (let ((response (text (read-all stream))))
        (is (eql 0 (search "HTTP/1.0 200 ok" response)))
        (is (search "</BODY></HTML>" response)))
      (is (eq :eof (read-byte stream nil :eof)))
      (is (eq :eof (read-byte stream nil :eof))))))

(test stream-read-write-byte
  "WRITE-BYTE sends a request one octet at a time; READ-BYTE reads the reply."
  (with-peer (server (s-server-command "-www"))
    (with-client-stream (stream (peer-port server))
      (loop for octet across (ascii +get-request+)
            do (write-byte octet stream))
      (finish-output stream)
      (let ((status-line (loop repeat 15 collect (code-char (read-byte stream)))))
        (is (string= "HTTP/1.0 200 ok" (coerce status-line 'string)))))))

(test stream-sequence-bounds
  "WRITE-SEQUENCE and READ-SEQUENCE honour :START and :END."
  (with-peer (server (s-server-command "-www"))
    (with-client-stream (stream (peer-port server))
      (let ((padded (concatenate '(vector (unsigned-byte 8))
                                 (ascii "xxxx") (ascii +get-request+) (ascii "yyyy"))))
        (write-sequence padded stream :start 4 :end (- (length padded) 4))
        (finish-output stream))
      (let ((buffer (make-array 40 :element-type '(unsigned-byte 8) :initial-element 0)))
        (is (= 25 (read-sequence buffer stream :start 10 :end 25)))
        (is (string= "HTTP/1.0 200 ok" (text buffer :start 10 :end 25)))
        (is (every #'zerop (subseq buffer 0 10)))
        (is (every #'zerop (subseq buffer 25)))))))

(test stream-listen
  "LISTEN is false before the server sends anything and true once its reply arrived."
  (with-peer (server (s-server-command "-www"))
    (with-client-stream (stream (peer-port server))
      (is (not (listen stream)))
      (write-sequence (ascii +get-request+) stream)
      (force-output stream)
      (is (wait-until (lambda () (listen stream)) :timeout 10))
      (is (= (char-code #\H) (read-byte stream))))))

(test stream-large-transfer
  "8 MiB go out with WRITE-SEQUENCE and come back with READ-SEQUENCE, checked by MD5."
  (let ((size (* 8 1024 1024)))
    (with-peer (server (python-peer-command "echo-digest" "--size" (princ-to-string size)))
      (with-client-stream (stream (peer-port server))
        (let ((message (random-octets size 7))
              (digest-line (make-array 33 :element-type '(unsigned-byte 8)))
              (echo (make-array size :element-type '(unsigned-byte 8)))
              (start (get-internal-real-time)))
          (write-sequence message stream)
          (finish-output stream)
          (is (= 33 (read-sequence digest-line stream)))
          (is (string= (format nil "~A~%" (md5-hex message)) (text digest-line)))
          (is (= size (read-sequence echo stream)))
          (is (string= (md5-hex message) (md5-hex echo)))
          (is (eq :eof (read-byte stream nil :eof)))
          (format *error-output* "~&; 8 MiB each way through the Lisp stream in ~,2F s~%"
                  (/ (- (get-internal-real-time) start) internal-time-units-per-second)))))))

(test stream-clean-close
  "End of file after the peer's close_notify; CLOSE sends our close_notify to the peer."
  (with-peer (server (python-peer-command "close"))
    (with-connection (base (peer-port server))
      (with-deadline
        (let* ((callback-calls 0)
               (stream (make-client-stream base "localhost" :ca-file (pki "root.pem")
                                           :close-callback (lambda () (incf callback-calls)))))
          (is (string= "hello from python" (text (read-all stream))))
          (is (eq :eof (read-byte stream nil :eof)))
          (is (eq t (close stream)))
          (is (not (open-stream-p stream)))
          (is (not (open-stream-p base)))
          (is (= 1 callback-calls))
          (is (null (close stream)))
          (is (eql 0 (wait-for-exit server)))
          (is (search "done" (peer-output server))))))))

(test stream-close-abort
  "CLOSE with :ABORT sends no close_notify, so the peer sees the connection end without one."
  (with-peer (server (python-peer-command "close"))
    (with-connection (base (peer-port server))
      (with-deadline
        (let ((stream (make-client-stream base "localhost" :ca-file (pki "root.pem"))))
          (is (string= "hello from python" (text (read-all stream))))
          (close stream :abort t)
          (is (eql 1 (wait-for-exit server)))
          (is (search "error:" (peer-output server))))))))

(test stream-keeps-base-stream-open
  "With :CLOSE-BASE-STREAM NIL, CLOSE leaves the base stream open."
  (with-peer (server (python-peer-command "close"))
    (with-connection (base (peer-port server))
      (with-deadline
        (let ((stream (make-client-stream base "localhost" :ca-file (pki "root.pem")
                                          :close-base-stream nil)))
          (read-all stream)
          (close stream)
          (is (open-stream-p base)))))))

(test stream-truncation
  "A transport that ends without close_notify signals SCHANNEL-TRUNCATED after the data."
  (with-peer (server (python-peer-command "truncate"))
    (with-client-stream (stream (peer-port server))
      (let ((buffer (make-array 12 :element-type '(unsigned-byte 8))))
        (is (= 12 (read-sequence buffer stream)))
        (is (string= "partial data" (text buffer))))
      (signals schannel-truncated
        (read-byte stream)))))

(test stream-closed-stream-error
  "Reading a closed stream signals a STREAM-ERROR."
  (with-peer (server (python-peer-command "close"))
    (with-connection (base (peer-port server))
      (with-deadline
        (let ((stream (make-client-stream base "localhost" :ca-file (pki "root.pem"))))
          (close stream)
          (signals stream-error (read-byte stream)))))))

(test stream-certificate-conditions
  "Untrusted, mismatched and expired server certificates signal their conditions."
  (flet ((server-with (certificate key &rest chain)
           (append (list "openssl" "s_server" "-accept" "127.0.0.1:{port}" "-www"
                         "-cert" (pki certificate) "-key" (pki key))
                   (when chain (list "-cert_chain" (pki (first chain)))))))
    (with-peer (server (server-with "foreign-leaf.pem" "foreign-leaf.key"))
      (is (typep (handshake-error (peer-port server) :ca-file (pki "root.pem"))
                 'schannel-untrusted-certificate)))
    (with-peer (server (server-with "self-signed.pem" "self-signed.key"))
      (is (typep (handshake-error (peer-port server) :ca-file (pki "root.pem"))
                 'schannel-untrusted-certificate)))
    (with-peer (server (server-with "wrong-name.pem" "wrong-name.key" "inter.pem"))
      (is (typep (handshake-error (peer-port server) :ca-file (pki "root.pem"))
                 'schannel-certificate-name-mismatch)))
    (with-peer (server (server-with "expired.pem" "expired.key" "inter.pem"))
      (let ((condition (handshake-error (peer-port server) :ca-file (pki "root.pem"))))
        (is (typep condition 'schannel-certificate-error))
        (is (eq :cert-expired (and condition (schannel-error-status condition))))))
    (with-peer (server (server-with "foreign-leaf.pem" "foreign-leaf.key"))
      (is (null (handshake-error (peer-port server) :verify :none))))))

(test stream-versions
  "The :MIN-VERSION and :MAX-VERSION options select the protocol version."
  (with-peer (server (s-server-command "-www"))
    (with-client-stream (stream (peer-port server) :max-version :tls-1.2)
      (is (eq :tls-1.2 (negotiated-protocol stream)))))
  (with-peer (server (s-server-command "-www"))
    (with-client-stream (stream (peer-port server) :min-version :tls-1.3)
      (is (eq :tls-1.3 (negotiated-protocol stream)))
      (is (search "TLS_AES_" (negotiated-cipher stream)))))
  (with-peer (server (s-server-command "-www" "-tls1_2"))
    (is (typep (handshake-error (peer-port server) :ca-file (pki "root.pem") :min-version :tls-1.3)
               'schannel-error))))

(test stream-alpn
  "The :ALPN option offers protocols and the server's choice is returned."
  (with-peer (server (s-server-command "-www" "-alpn" "http/1.1"))
    (with-client-stream (stream (peer-port server) :alpn '("h2" "http/1.1"))
      (is (string= "http/1.1" (selected-alpn-protocol stream)))))
  (with-peer (server (s-server-command "-www"))
    (with-client-stream (stream (peer-port server) :alpn '("h2"))
      (is (null (selected-alpn-protocol stream))))))

(test stream-client-certificate
  "A server that requires a client certificate accepts one from PEM files or PKCS#12."
  (flet ((server ()
           (s-server-command "-www" "-Verify" "1" "-CAfile" (pki "root.pem"))))
    (with-peer (peer (server))
      (with-client-stream (stream (peer-port peer)
                                  :certificate (pki "client-chain.pem") :key (pki "client.key"))
        (write-sequence (ascii +get-request+) stream)
        (is (eql 0 (search "HTTP/1.0 200 ok" (text (read-all stream)))))))
    (with-peer (peer (server))
      (with-client-stream (stream (peer-port peer) :pkcs12 (pki "client.p12") :password "secret")
        (write-sequence (ascii +get-request+) stream)
        (is (eql 0 (search "HTTP/1.0 200 ok" (text (read-all stream)))))))
    (with-peer (peer (server))
      (is (typep (handler-case
                     (with-client-stream (stream (peer-port peer))
                       (write-sequence (ascii +get-request+) stream)
                       (read-all stream))
                   (schannel-error (condition) condition))
                 'schannel-error)))))

(test stream-bad-pkcs12-password
  "A wrong PKCS#12 password signals SCHANNEL-ERROR with status :BAD-PASSWORD."
  (let ((condition (handler-case (make-client-context "localhost" :pkcs12 (pki "client.p12")
                                                                  :password "wrong")
                     (schannel-error (condition) condition))))
    (is (typep condition 'schannel-error))
    (is (eq :bad-password (and condition (schannel-error-status condition))))))

(defun read-line-from (stream)
  "Reads octets up to a newline from STREAM and returns them as a string without it."
  (coerce (loop for octet = (read-byte stream)
                until (= octet 10)
                collect (code-char octet))
          'string))

(defun exchange-after-server-command (command &rest options)
  "Connects to an interactive openssl s_server, has it run COMMAND (a stdin
command such as \"K\" or \"r\") and then send a line. Returns the line read
and whether the server printed the line the client sent afterwards."
  (with-peer (server (apply #'s-server-command options))
    (with-client-stream (stream (peer-port server))
      (write-sequence (ascii (format nil "first~%")) stream)
      (force-output stream)
      (is (wait-for-output server "first"))
      (write-peer-input server (format nil "~A~%" command))
      ;; s_server drops the rest of a stdin read that starts with a command,
      ;; so the line goes only after the command ran.
      (is (wait-for-output server "SSL_do_handshake -> 1"))
      (write-peer-input server (format nil "from server~%"))
      (let ((line (read-line-from stream)))
        (write-sequence (ascii (format nil "from client~%")) stream)
        (force-output stream)
        (list line (wait-for-output server "from client"))))))

(test stream-key-update
  "A TLS 1.3 KeyUpdate that requests an update is answered and data flows both ways afterwards."
  (destructuring-bind (line echoed) (exchange-after-server-command "K")
    (is (string= "from server" line))
    (is-true echoed)))

(test stream-renegotiation
  "A TLS 1.2 renegotiation started by the server completes while the client reads."
  (destructuring-bind (line echoed) (exchange-after-server-command "r" "-tls1_2")
    (is (string= "from server" line))
    (is-true echoed)))

(defun fetch-and-report-resumption (port config)
  "Sends a GET to localhost:PORT with CONFIG, reads the whole response and returns whether the session was resumed."
  (with-connection (base port)
    (with-deadline
      (let ((stream (make-client-stream base "localhost" :config config)))
        (unwind-protect
             (progn
               (write-sequence (ascii +get-request+) stream)
               ;; Reading to the end also processes the TLS 1.3 tickets.
               (read-all stream)
               (session-resumed-p stream))
          (close stream))))))

(test stream-session-resumption
  "A config made with :RESUMPTION T resumes the session of an earlier connection."
  (dolist (version '(:tls-1.2 :tls-1.3))
    (with-peer (server (s-server-command "-www"))
      (with-config (config :ca-file (pki "root.pem") :resumption t :min-version version :max-version version)
        (is (not (fetch-and-report-resumption (peer-port server) config)))
        (is (fetch-and-report-resumption (peer-port server) config))))))

(test stream-shared-config-without-resumption
  "A shared config without :RESUMPTION makes full handshakes."
  (with-peer (server (s-server-command "-www"))
    (with-config (config :ca-file (pki "root.pem"))
      (is (not (fetch-and-report-resumption (peer-port server) config)))
      (is (not (fetch-and-report-resumption (peer-port server) config))))))

(test shared-config-rules
  ":CONFIG cannot be combined with config options or used after FREE-CONFIG."
  (let ((config (make-config :ca-file (pki "root.pem"))))
    (signals error (make-client-context "localhost" :config config :alpn '("h2")))
    (free-config config)
    (signals schannel-error (make-client-context "localhost" :config config))))
