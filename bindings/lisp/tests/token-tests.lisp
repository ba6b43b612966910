;;;; The token-level API against openssl s_server and the Python TLS peer.

(in-package #:schannel-tests)

(def-suite token-tests :in schannel-tests
  :description "with-client-context, initialize-client-context, encrypt-message and decrypt-message.")

(in-suite token-tests)

;;; The example of docs/lisp.md, run as written

(defparameter +example-marker+ "<!-- tested by bindings/lisp/tests/token-tests.lisp -->")

(defun load-documented-example ()
  "Evaluates the Lisp block that follows the test marker in docs/lisp.md."
  (let* ((document (uiop:read-file-string (source-file "docs/lisp.md")))
         (marker (or (search +example-marker+ document)
                     (error "docs/lisp.md has no line ~A" +example-marker+)))
         (start (+ (search "```lisp" document :start2 marker) (length "```lisp")))
         (end (search "```" document :start2 start)))
    (with-input-from-string (input (subseq document start end))
      (let ((*package* (find-package '#:schannel-tests)))
        (loop for form = (read input nil input)
              until (eq form input)
              do (eval form))))))

(test documented-token-loop
  "The token loop of docs/lisp.md fetches a page from openssl s_server -www."
  (with-peer (server (s-server-command "-www"))
    (load-documented-example)
    (let ((response (with-deadline
                      (funcall 'fetch-with-tokens (peer-port server) (pki "root.pem")))))
      (is (eql 0 (search "HTTP/1.0 200 ok" response)))
      (is (search "</BODY></HTML>" response)))))

;;; Token transport over a usocket stream

(defun send-token (stream token &key (end (length token)))
  (write-sequence token stream :end end)
  (finish-output stream))

(defun receive-available (stream &key (settle 0))
  "Waits for one octet, sleeps SETTLE seconds, then returns it with every octet already waiting (NIL at end of file)."
  (let ((first (read-byte stream nil nil)))
    (when first
      (sleep settle)
      (let ((octets (list first)))
        (loop while (listen stream)
              do (push (read-byte stream) octets))
        (coerce (nreverse octets) '(simple-array (unsigned-byte 8) (*)))))))

(defun token-handshake (context stream &key (settle 0))
  "Runs the handshake loop and returns the EXTRA count of the call that returned NIL."
  (let ((token (initialize-client-context context))
        (extra 0))
    (loop while token
          do (send-token stream token)
             (multiple-value-setq (token extra)
               (if (context-complete-p context)
                   (initialize-client-context context)
                   (let ((received (receive-available stream :settle settle)))
                     (unless received
                       (feed-end-of-input context))
                     (initialize-client-context context received)))))
    extra))

(defun decrypt-to-end (context stream)
  "Decrypts everything the peer sends until its close_notify and returns the plaintext octets."
  (let ((plaintext (make-array 0 :element-type '(unsigned-byte 8) :adjustable t :fill-pointer 0))
        (buffer (make-array 20000 :element-type '(unsigned-byte 8))))
    (handler-case
        (loop
          (let ((received (receive-available stream)))
            (if received
                (replace buffer received)
                (feed-end-of-input context))
            ;; Call again without input until nothing is left, so that a
            ;; close_notify that came with the data is seen before waiting.
            (loop for end = (length received) then 0
                  do (multiple-value-bind (count remaining reply) (decrypt-message context buffer :end end)
                       (declare (ignore remaining))
                       (when reply
                         (send-token stream reply))
                       (when (zerop count)
                         (return))
                       (loop for index below count
                             do (vector-push-extend (aref buffer index) plaintext))))))
      (schannel-peer-closed ()
        (coerce plaintext '(simple-array (unsigned-byte 8) (*)))))))

(test token-queries-tls-1.2
  "A TLS 1.2 handshake with tokens reports version, cipher and the peer's chain."
  (with-peer (server (s-server-command "-www"))
    (with-connection (stream (peer-port server))
      (with-deadline
        (with-client-context (context "localhost" :ca-file (pki "root.pem") :max-version :tls-1.2)
          (token-handshake context stream)
          (is (context-complete-p context))
          (is (eq :tls-1.2 (negotiated-protocol context)))
          (is (search "TLS_ECDHE_RSA_WITH_AES_256_GCM" (negotiated-cipher context)))
          ;; One TLS 1.2 AES-GCM record: header, explicit nonce and tag.
          (is (= 129 (encrypt-message context (make-array 200 :element-type '(unsigned-byte 8)) :end 100)))
          (is (null (selected-alpn-protocol context)))
          (let ((chain (peer-certificate-chain context)))
            (is (<= 2 (length chain)))
            (is (every (lambda (der) (= #x30 (aref der 0))) chain))
            (is (equalp (first chain) (peer-certificate context 0)))
            (is (null (peer-certificate context (length chain))))))))))

(test token-untrusted-certificate
  "A server certificate from a foreign root signals SCHANNEL-UNTRUSTED-CERTIFICATE."
  (with-peer (server (list "openssl" "s_server" "-accept" "127.0.0.1:{port}" "-www"
                           "-cert" (pki "foreign-leaf.pem") "-key" (pki "foreign-leaf.key")))
    (with-connection (stream (peer-port server))
      (with-deadline
        (with-client-context (context "localhost" :ca-file (pki "root.pem"))
          (let ((condition (handler-case (progn (token-handshake context stream) nil)
                             (schannel-error (condition) condition))))
            (is (typep condition 'schannel-untrusted-certificate))
            (is (eq :cert-untrusted (schannel-error-status condition)))
            (is (= -9 (schannel-error-code condition)))
            (is (string= "SCHAN_E_CERT_UNTRUSTED" (schannel-error-status-name condition)))
            (is (plusp (length (schannel-error-message condition))))
            (is (eq :failed (context-state context)))))))))

(test token-name-mismatch
  "A server certificate for another name signals SCHANNEL-CERTIFICATE-NAME-MISMATCH."
  (with-peer (server (list "openssl" "s_server" "-accept" "127.0.0.1:{port}" "-www"
                           "-cert" (pki "wrong-name.pem") "-key" (pki "wrong-name.key")
                           "-cert_chain" (pki "inter.pem")))
    (with-connection (stream (peer-port server))
      (with-deadline
        (with-client-context (context "localhost" :ca-file (pki "root.pem"))
          (signals schannel-certificate-name-mismatch
            (token-handshake context stream)))))))

(test token-extra-octets-after-handshake
  "Application data that arrives with the last handshake record is counted and kept for DECRYPT-MESSAGE."
  (with-peer (server (python-peer-command "close"))
    (with-connection (stream (peer-port server))
      (with-deadline
        (with-client-context (context "localhost" :ca-file (pki "root.pem") :max-version :tls-1.2)
          ;; Waiting before each read lets the server's Finished and its
          ;; first data record arrive in one token.
          (let ((extra (token-handshake context stream :settle 0.5)))
            (is (plusp extra)))
          (let* ((buffer (make-array 100 :element-type '(unsigned-byte 8)))
                 (count (decrypt-message context buffer :end 0)))
            (is (string= "hello from python" (text buffer :end count)))))))))

(test token-clean-close
  "The peer's close_notify signals SCHANNEL-PEER-CLOSED after all data; SHUTDOWN-CONTEXT answers it."
  (with-peer (server (python-peer-command "close"))
    (with-connection (stream (peer-port server))
      (with-deadline
        (with-client-context (context "localhost" :ca-file (pki "root.pem"))
          (token-handshake context stream)
          (is (string= "hello from python" (text (decrypt-to-end context stream))))
          (is (eq :closing (context-state context)))
          (let ((close-notify (shutdown-context context)))
            (is (plusp (length close-notify)))
            (send-token stream close-notify))
          (is (eq :closed (context-state context)))
          (is (eql 0 (wait-for-exit server)))
          (is (search "done" (peer-output server))))))))

(test token-truncation
  "A transport that ends without close_notify signals SCHANNEL-TRUNCATED after the data."
  (with-peer (server (python-peer-command "truncate"))
    (with-connection (stream (peer-port server))
      (with-deadline
        (with-client-context (context "localhost" :ca-file (pki "root.pem"))
          (token-handshake context stream)
          (let ((buffer (make-array 20000 :element-type '(unsigned-byte 8)))
                (plaintext '()))
            (signals schannel-truncated
              (loop
                (let ((received (receive-available stream)))
                  (if received
                      (replace buffer received)
                      (feed-end-of-input context))
                  (loop for end = (length received) then 0
                        for count = (decrypt-message context buffer :end end)
                        while (plusp count)
                        do (push (text buffer :end count) plaintext)))))
            (is (string= "partial data" (apply #'concatenate 'string (reverse plaintext))))))))))

(test token-encrypt-into-small-buffer
  "Records that do not fit the buffer wait in the context and come with the next call."
  (with-peer (server (python-peer-command "echo-digest" "--size" "1000"))
    (with-connection (stream (peer-port server))
      (with-deadline
        (with-client-context (context "localhost" :ca-file (pki "root.pem"))
          (token-handshake context stream)
          (let* ((message (random-octets 1000))
                 (buffer (copy-seq message)))
            (multiple-value-bind (count remaining) (encrypt-message context buffer)
              (is (= 1000 count))
              ;; One TLS 1.3 record: header, content type and AEAD tag.
              (is (= 22 remaining))
              (send-token stream buffer :end count)
              (multiple-value-bind (rest-count rest-remaining) (encrypt-message context buffer :end 0)
                (is (= remaining rest-count))
                (is (zerop rest-remaining))
                (send-token stream buffer :end rest-count)))
            (let ((reply (decrypt-to-end context stream)))
              (is (string= (format nil "~A~%" (md5-hex message)) (text reply :end 33)))
              (is (equalp message (subseq reply 33))))))))))

(test token-freed-context
  "Calls on a freed context signal SCHANNEL-ERROR with status :INVALID-STATE."
  (let ((context (make-client-context "localhost")))
    (free-context context)
    (is (eq :failed (context-state context)))
    (let ((condition (handler-case (initialize-client-context context)
                       (schannel-error (condition) condition))))
      (is (typep condition 'schannel-error))
      (is (eq :invalid-state (schannel-error-status condition))))))

(test token-missing-ca-file
  "A missing CA file signals SCHANNEL-ERROR with status :FILE-NOT-FOUND and names the file."
  (let* ((path (pki "no-such-root.pem"))
         (condition (handler-case (make-client-context "localhost" :ca-file path)
                      (schannel-error (condition) condition))))
    (is (typep condition 'schannel-error))
    (is (eq :file-not-found (schannel-error-status condition)))
    (is (search "no-such-root.pem" (schannel-error-message condition)))))

(test token-renegotiation-replies
  "DECRYPT-MESSAGE returns the handshake records of a TLS 1.2 renegotiation as its third value."
  (with-peer (server (s-server-command "-tls1_2"))
    (with-connection (stream (peer-port server))
      (with-deadline
        (with-client-context (context "localhost" :ca-file (pki "root.pem"))
          (token-handshake context stream)
          (flet ((send-text (string)
                   (let ((buffer (make-array 200 :element-type '(unsigned-byte 8))))
                     (replace buffer (ascii string))
                     (send-token stream buffer :end (encrypt-message context buffer :end (length string))))))
            (send-text (format nil "first~%"))
            (is (wait-for-output server "first"))
            (write-peer-input server (format nil "r~%"))
            (is (wait-for-output server "SSL_do_handshake -> 1"))
            (write-peer-input server (format nil "from server~%"))
            (let ((buffer (make-array 20000 :element-type '(unsigned-byte 8)))
                  (plaintext "")
                  (replies '()))
              ;; Until the line came and the renegotiation finished, because
              ;; ENCRYPT-MESSAGE refuses plaintext while it runs.
              (loop until (and (search (string #\Newline) plaintext)
                               (eq :open (context-state context)))
                    do (let ((received (receive-available stream)))
                         (replace buffer received)
                         (loop for end = (length received) then 0
                               do (multiple-value-bind (count remaining reply)
                                      (decrypt-message context buffer :end end)
                                    (declare (ignore remaining))
                                    (when reply
                                      (push reply replies)
                                      (send-token stream reply))
                                    (when (zerop count)
                                      (return))
                                    (setf plaintext (concatenate 'string plaintext (text buffer :end count)))))))
              (is (string= (format nil "from server~%") plaintext))
              ;; The ClientHello, then the client's ChangeCipherSpec and Finished.
              (is (<= 1 (length replies))))
            (send-text (format nil "from client~%"))
            (is (wait-for-output server "from client"))))))))

(test library-candidates-order
  "The library is looked for in SCHAN_LIBRARY, then *SCHAN-LIBRARY*, then by its default names."
  (let ((*schan-library* #p"/nonexistent/custom/libschan.so"))
    (let ((candidates (schannel.ffi::library-candidates)))
      (is (equal (uiop:getenv "SCHAN_LIBRARY") (first candidates)))
      (is (equal "/nonexistent/custom/libschan.so" (second candidates)))
      (is (member "libschan.so.1" candidates :test #'equal)))))

(test library-load-error-names-paths
  "A library that cannot be loaded signals LIBRARY-LOAD-ERROR naming every path tried."
  (let ((condition (handler-case (schannel.ffi::load-first-library
                                  '("/nonexistent/a/libschan.so" "/nonexistent/b/libschan.so"))
                     (library-load-error (condition) condition))))
    (is (typep condition 'library-load-error))
    (is (equal '("/nonexistent/a/libschan.so" "/nonexistent/b/libschan.so")
               (library-load-error-paths condition)))
    (is (search "/nonexistent/b/libschan.so" (princ-to-string condition)))))

(test library-version-strings
  "LIBRARY-VERSION returns the version, and with :FULL also the ABI version."
  (let ((version (library-version)))
    (is (plusp (length version)))
    (is (string= (format nil "~A (ABI ~D)" version schannel.ffi:+schan-abi-version+)
                 (library-version :full t)))))

(test cert-store-needs-schannel
  "The :CERT-STORE option signals :UNSUPPORTED with the OpenSSL backend."
  (if (string= "openssl" (backend-name))
      (let ((condition (handler-case (make-client-context
                                      "localhost"
                                      :cert-store "CurrentUser\\MY\\0000000000000000000000000000000000000000")
                         (schannel-error (condition) condition))))
        (is (eq :unsupported (and condition (schannel-error-status condition)))))
      (skip "the backend is ~A" (backend-name))))
