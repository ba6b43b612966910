;;;; CFFI definitions of include/schan/schan.h, in the header's order.
;;;;
;;;; Every function keeps its C name, with underscores written as hyphens.
;;;; Statuses and other enums are keywords over a 32-bit int. The header's
;;;; *_FORCE_INT32 values, which only fix that width, are left out. An enum
;;;; value that this file does not know (from a newer library) comes back as
;;;; its integer. A :string parameter takes a Lisp string, or
;;;; (cffi:null-pointer) where the header allows NULL. Keep this file in step
;;;; with the header and with +SCHAN-ABI-VERSION+ in library.lisp.

(in-package #:schannel.ffi)

;;; Types

(cffi:defcenum (schan-status :int :allow-undeclared-values t)
  (:ok 0)
  (:need-input 1)
  (:have-output 2)
  (:closed 3)
  (:invalid-argument -1)
  (:invalid-state -2)
  (:out-of-memory -3)
  (:internal -4)
  (:truncated -5)
  (:handshake-failed -6)
  (:alert-received -7)
  (:unsupported-version -8)
  (:cert-untrusted -9)
  (:cert-expired -10)
  (:cert-name-mismatch -11)
  (:cert-revoked -12)
  (:revocation-unknown -13)
  (:cert-invalid -14)
  (:protocol -15)
  (:file-not-found -16)
  (:bad-format -17)
  (:unsupported -18)
  (:bad-password -19)
  (:key-mismatch -20)
  (:cert-required -21))

(cffi:defcenum (schan-tls-version :int :allow-undeclared-values t)
  (:default 0)
  (:tls-1.2 #x0303)
  (:tls-1.3 #x0304))

(cffi:defcenum (schan-verify-mode :int :allow-undeclared-values t)
  (:system 0)
  (:custom-only 1)
  (:custom-and-system 2)
  (:none 3))

(cffi:defcenum (schan-revocation-mode :int :allow-undeclared-values t)
  (:best-effort 0)
  (:strict 1)
  (:off 2))

(cffi:defcenum (schan-client-auth :int :allow-undeclared-values t)
  (:none 0)
  (:optional 1)
  (:required 2))

(cffi:defcenum (schan-state :int :allow-undeclared-values t)
  (:handshake 0)
  (:open 1)
  (:renegotiating 2)
  (:closing 3)
  (:closed 4)
  (:failed 5))

;;; Library

(cffi:defcfun ("schan_abi_version" schan-abi-version) :uint32)

(cffi:defcfun ("schan_version" schan-version) :string)

(cffi:defcfun ("schan_version_string_full" schan-version-string-full) :string)

(cffi:defcfun ("schan_backend_name" schan-backend-name) :string)

(cffi:defcfun ("schan_status_name" schan-status-name) :string
  (status schan-status))

;;; Configuration

(cffi:defcfun ("schan_config_new" schan-config-new) schan-status
  (out :pointer))

(cffi:defcfun ("schan_config_free" schan-config-free) :void
  (config :pointer))

(cffi:defcfun ("schan_config_set_versions" schan-config-set-versions) schan-status
  (config :pointer)
  (min-version schan-tls-version)
  (max-version schan-tls-version))

(cffi:defcfun ("schan_config_add_alpn" schan-config-add-alpn) schan-status
  (config :pointer)
  (protocol :string))

(cffi:defcfun ("schan_config_clear_alpn" schan-config-clear-alpn) schan-status
  (config :pointer))

(cffi:defcfun ("schan_config_set_verify_mode" schan-config-set-verify-mode) schan-status
  (config :pointer)
  (mode schan-verify-mode))

(cffi:defcfun ("schan_config_set_revocation_mode" schan-config-set-revocation-mode) schan-status
  (config :pointer)
  (mode schan-revocation-mode))

(cffi:defcfun ("schan_config_load_ca_file" schan-config-load-ca-file) schan-status
  (config :pointer)
  (path :string))

(cffi:defcfun ("schan_config_load_ca_pem" schan-config-load-ca-pem) schan-status
  (config :pointer)
  (pem :pointer)
  (length :size))

(cffi:defcfun ("schan_config_load_cert_chain_file" schan-config-load-cert-chain-file) schan-status
  (config :pointer)
  (cert-pem-path :string)
  (key-pem-path :string)
  (password :string))

(cffi:defcfun ("schan_config_load_cert_chain_pem" schan-config-load-cert-chain-pem) schan-status
  (config :pointer)
  (cert-pem :pointer)
  (cert-length :size)
  (key-pem :pointer)
  (key-length :size)
  (password :string))

(cffi:defcfun ("schan_config_load_pkcs12_file" schan-config-load-pkcs12-file) schan-status
  (config :pointer)
  (path :string)
  (password :string))

(cffi:defcfun ("schan_config_load_pkcs12" schan-config-load-pkcs12) schan-status
  (config :pointer)
  (data :pointer)
  (length :size)
  (password :string))

(cffi:defcfun ("schan_config_load_cert_store" schan-config-load-cert-store) schan-status
  (config :pointer)
  (path :string))

(cffi:defcfun ("schan_config_set_client_auth" schan-config-set-client-auth) schan-status
  (config :pointer)
  (mode schan-client-auth))

(cffi:defcfun ("schan_config_enable_resumption" schan-config-enable-resumption) schan-status
  (config :pointer)
  (enabled :int))

(cffi:defcfun ("schan_config_last_error" schan-config-last-error) :string
  (config :pointer))

;;; Sessions

(cffi:defcfun ("schan_client_new" schan-client-new) schan-status
  (config :pointer)
  (server-name :string)
  (out :pointer))

(cffi:defcfun ("schan_server_new" schan-server-new) schan-status
  (config :pointer)
  (out :pointer))

(cffi:defcfun ("schan_session_free" schan-session-free) :void
  (session :pointer))

(cffi:defcfun ("schan_feed" schan-feed) schan-status
  (session :pointer)
  (data :pointer)
  (length :size)
  (consumed :pointer))

(cffi:defcfun ("schan_feed_eof" schan-feed-eof) schan-status
  (session :pointer))

(cffi:defcfun ("schan_step" schan-step) schan-status
  (session :pointer))

(cffi:defcfun ("schan_output_size" schan-output-size) :size
  (session :pointer))

(cffi:defcfun ("schan_take_output" schan-take-output) schan-status
  (session :pointer)
  (buffer :pointer)
  (capacity :size)
  (written :pointer))

(cffi:defcfun ("schan_encrypt" schan-encrypt) schan-status
  (session :pointer)
  (plaintext :pointer)
  (length :size)
  (consumed :pointer))

(cffi:defcfun ("schan_decrypt" schan-decrypt) schan-status
  (session :pointer)
  (buffer :pointer)
  (capacity :size)
  (written :pointer))

(cffi:defcfun ("schan_shutdown" schan-shutdown) schan-status
  (session :pointer))

(cffi:defcfun ("schan_get_state" schan-get-state) schan-state
  (session :pointer))

(cffi:defcfun ("schan_get_protocol" schan-get-protocol) schan-status
  (session :pointer)
  (version :pointer))

(cffi:defcfun ("schan_get_cipher" schan-get-cipher) schan-status
  (session :pointer)
  (name :pointer))

(cffi:defcfun ("schan_get_alpn" schan-get-alpn) schan-status
  (session :pointer)
  (protocol :pointer))

(cffi:defcfun ("schan_get_peer_cert_count" schan-get-peer-cert-count) schan-status
  (session :pointer)
  (count :pointer))

(cffi:defcfun ("schan_get_peer_cert" schan-get-peer-cert) schan-status
  (session :pointer)
  (index :size)
  (der :pointer)
  (length :pointer))

(cffi:defcfun ("schan_session_resumed" schan-session-resumed) schan-status
  (session :pointer)
  (resumed :pointer))

(cffi:defcfun ("schan_last_error" schan-last-error) :string
  (session :pointer))

(cffi:defcfun ("schan_last_status" schan-last-status) schan-status
  (session :pointer))

(cffi:defcfun ("schan_last_backend_error" schan-last-backend-error) :uint64
  (session :pointer))
