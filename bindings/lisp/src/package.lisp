;;;; Packages of the schannel system.
;;;;
;;;; SCHANNEL.FFI contains the raw CFFI definitions of schan.h; SCHANNEL is the
;;;; Lisp API: token-level contexts, Gray streams and CL+SSL-style entry points.

(defpackage #:schannel.ffi
  (:use #:common-lisp)
  (:documentation "CFFI definitions of every type and function of schan.h.")
  (:export
   ;; Library loading
   #:*schan-library*
   #:library-load-error
   #:library-load-error-paths
   #:load-schan-library
   #:+schan-abi-version+
   ;; Types
   #:schan-status
   #:schan-tls-version
   #:schan-verify-mode
   #:schan-revocation-mode
   #:schan-client-auth
   #:schan-state
   ;; Library
   #:schan-abi-version
   #:schan-version
   #:schan-version-string-full
   #:schan-backend-name
   #:schan-status-name
   ;; Configuration
   #:schan-config-new
   #:schan-config-free
   #:schan-config-set-versions
   #:schan-config-add-alpn
   #:schan-config-clear-alpn
   #:schan-config-set-verify-mode
   #:schan-config-set-revocation-mode
   #:schan-config-load-ca-file
   #:schan-config-load-ca-pem
   #:schan-config-load-cert-chain-file
   #:schan-config-load-cert-chain-pem
   #:schan-config-load-pkcs12-file
   #:schan-config-load-pkcs12
   #:schan-config-load-cert-store
   #:schan-config-set-client-auth
   #:schan-config-enable-resumption
   #:schan-config-last-error
   ;; Sessions
   #:schan-client-new
   #:schan-server-new
   #:schan-session-free
   #:schan-feed
   #:schan-feed-eof
   #:schan-step
   #:schan-output-size
   #:schan-take-output
   #:schan-encrypt
   #:schan-decrypt
   #:schan-shutdown
   #:schan-get-state
   #:schan-get-protocol
   #:schan-get-cipher
   #:schan-get-alpn
   #:schan-get-peer-cert-count
   #:schan-get-peer-cert
   #:schan-session-resumed
   #:schan-last-error
   #:schan-last-status
   #:schan-last-backend-error))

(defpackage #:schannel
  (:use #:common-lisp #:schannel.ffi)
  (:documentation "TLS for Common Lisp through schan: SChannel on Windows, OpenSSL elsewhere.")
  (:export
   ;; Library
   #:*schan-library*
   #:library-load-error
   #:library-load-error-paths
   #:load-schan-library
   #:library-version
   #:backend-name
   ;; Conditions
   #:schannel-error
   #:schannel-error-status
   #:schannel-error-code
   #:schannel-error-status-name
   #:schannel-error-message
   #:schannel-error-backend-code
   #:schannel-error-token
   #:schannel-certificate-error
   #:schannel-untrusted-certificate
   #:schannel-certificate-name-mismatch
   #:schannel-truncated
   #:schannel-peer-closed
   ;; Shared configs
   #:config
   #:make-config
   #:free-config
   #:with-config
   ;; Token-level API
   #:context
   #:context-role
   #:context-complete-p
   #:context-state
   #:make-client-context
   #:make-server-context
   #:free-context
   #:with-client-context
   #:with-server-context
   #:initialize-client-context
   #:accept-server-context
   #:encrypt-message
   #:decrypt-message
   #:shutdown-context
   #:feed-end-of-input
   ;; Queries on a context or a stream
   #:negotiated-protocol
   #:negotiated-cipher
   #:selected-alpn-protocol
   #:peer-certificate
   #:peer-certificate-chain
   #:session-resumed-p
   ;; Gray streams
   #:schannel-stream
   #:stream-context
   #:stream-base-stream
   #:make-client-stream
   #:make-server-stream
   ;; CL+SSL-style entry points
   #:make-ssl-client-stream
   #:make-ssl-server-stream
   #:get-selected-alpn-protocol
   #:ssl-stream-peer-certificate))
