;;;; Conditions signalled by the binding.

(in-package #:schannel)

(define-condition schannel-error (error)
  ((status :initarg :status :reader schannel-error-status
           :documentation "The schan status as a keyword, for example :CERT-UNTRUSTED.")
   (message :initarg :message :initform "" :reader schannel-error-message
            :documentation "schan's message: the failing step, the provider's status and its text.")
   (backend-code :initarg :backend-code :initform 0 :reader schannel-error-backend-code
                 :documentation "The provider's raw error code (SECURITY_STATUS or OpenSSL code), for logs.")
   (token :initarg :token :initform nil :accessor schannel-error-token
          :documentation "Octets that schan queued for the peer before failing (usually a fatal
alert), or NIL. Streams send them, but with the token-level API the caller must."))
  (:report (lambda (condition stream)
             (format stream "~A (~A)"
                     (schannel-error-message condition)
                     (schannel-error-status-name condition))))
  (:documentation "A failed schan call or TLS operation."))

(defun schannel-error-code (condition)
  "Returns the numeric schan status of CONDITION, for example -9."
  (let ((status (schannel-error-status condition)))
    (if (integerp status)
        status
        (cffi:foreign-enum-value 'schan-status status))))

(defun schannel-error-status-name (condition)
  "Returns the symbolic C name of the status, for example \"SCHAN_E_CERT_UNTRUSTED\"."
  (schan-status-name (schannel-error-status condition)))

(define-condition schannel-certificate-error (schannel-error) ()
  (:documentation "The peer's certificate was rejected: untrusted, expired, revoked, for another
name, invalid, or missing where one is required."))

(define-condition schannel-untrusted-certificate (schannel-certificate-error) ()
  (:documentation "The peer's certificate chain does not end at a trusted root."))

(define-condition schannel-certificate-name-mismatch (schannel-certificate-error) ()
  (:documentation "The peer's certificate does not name the expected host or address."))

(define-condition schannel-truncated (schannel-error) ()
  (:documentation "The transport ended without the peer's close_notify, so data may be missing."))

(define-condition schannel-peer-closed (schannel-error) ()
  (:documentation "The peer sent close_notify and every byte before it was returned. Signalled by
DECRYPT-MESSAGE when no plaintext is left. Streams report end of file instead."))

(defun condition-class-for-status (status)
  (case status
    (:cert-untrusted 'schannel-untrusted-certificate)
    (:cert-name-mismatch 'schannel-certificate-name-mismatch)
    ((:cert-expired :cert-revoked :revocation-unknown :cert-invalid :cert-required)
     'schannel-certificate-error)
    (:truncated 'schannel-truncated)
    (:closed 'schannel-peer-closed)
    (t 'schannel-error)))

(defun make-schannel-error (status message &key (backend-code 0) token)
  "Returns a condition of the class that matches STATUS."
  (make-condition (condition-class-for-status status)
                  :status status :message message :backend-code backend-code :token token))
