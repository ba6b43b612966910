;;;; The context object: one schan session and the Lisp-side calls into it.
;;;;
;;;; Every call copies octets through the context's scratch vector, which is
;;;; pinned while schan reads or writes it, so user vectors of any kind work.
;;;; A context, like a schan session, is used by one thread at a time.

(in-package #:schannel)

(defconstant +scratch-size+ 32768
  "Octets moved per schan call: more than one maximum-size TLS record (18437 octets).")

(defclass context ()
  ((session :initarg :session :initform nil :accessor context-session
            :documentation "The schan_session pointer, or NIL after FREE-CONTEXT.")
   (role :initarg :role :reader context-role
         :documentation ":CLIENT or :SERVER.")
   (complete-p :initform nil :accessor context-complete-p
               :documentation "True once the handshake is complete.")
   (scratch :initform (cffi:make-shareable-byte-vector +scratch-size+) :reader context-scratch)
   (plaintext :initform (make-octet-buffer) :reader context-plaintext
              :documentation "Decrypted octets that DECRYPT-MESSAGE has not returned yet.")
   (outbox :initform (make-octet-buffer) :reader context-outbox
           :documentation "Octets for the peer that the token-level API has not returned yet.")
   (peer-closed-p :initform nil :accessor context-peer-closed-p
                  :documentation "True once schan reported the peer's close_notify.")
   (deferred-error :initform nil :accessor context-deferred-error
                   :documentation "An error to signal once the plaintext before it was returned."))
  (:documentation "A TLS session in the client or server role, driven by tokens or by a stream."))

(defmethod print-object ((context context) stream)
  (print-unreadable-object (context stream :type t :identity t)
    (format stream "~(~A~) ~(~A~)" (context-role context)
            (if (context-session context) (context-state context) :freed))))

(defun live-session (context)
  "Returns the session pointer of CONTEXT, signalling an error when it was freed."
  (or (context-session context)
      (error (make-schannel-error :invalid-state "the context was already freed"))))

(defun free-context (context)
  "Frees the schan session of CONTEXT. Later calls on it signal a SCHANNEL-ERROR."
  (let ((session (context-session context)))
    (setf (context-session context) nil)
    (when session
      (schan-session-free session))
    nil))

(defun context-state (context)
  "Returns the session state: :HANDSHAKE, :OPEN, :RENEGOTIATING, :CLOSING, :CLOSED or :FAILED."
  (schan-get-state (or (context-session context) (cffi:null-pointer))))

(defun error-status-p (status)
  (not (member status '(:ok :need-input :have-output :closed))))

(defun collect-output (context buffer)
  "Appends every octet that schan queued for the peer to the octet buffer BUFFER."
  (map-output context (lambda (vector count)
                        (octet-buffer-append buffer vector :end count)))
  buffer)

(defun session-error (context status)
  "Returns the condition for the failed STATUS, with schan's message and any queued alert."
  (let* ((session (context-session context))
         (token (octet-buffer-take-all (collect-output context (make-octet-buffer 64)))))
    (make-schannel-error status (schan-last-error session)
                         :backend-code (schan-last-backend-error session)
                         :token (and (plusp (length token)) token))))

(defun check-session-status (context status)
  "Returns STATUS when it reports progress, or signals the matching SCHANNEL-ERROR when it is an error."
  (when (error-status-p status)
    (error (session-error context status)))
  status)

(defmacro with-scratch ((pointer context) &body body)
  `(cffi:with-pointer-to-vector-data (,pointer (context-scratch ,context))
     ,@body))

(defun map-output (context function)
  "Takes the octets schan queued for the peer and calls FUNCTION with the scratch vector and a count, once per chunk."
  (let ((session (live-session context))
        (scratch (context-scratch context)))
    (loop
      (let ((written 0)
            (status nil))
        (cffi:with-foreign-object (written-pointer :size)
          (with-scratch (pointer context)
            (setf status (schan-take-output session pointer +scratch-size+ written-pointer)))
          (setf written (cffi:mem-ref written-pointer :size)))
        (when (plusp written)
          (funcall function scratch written))
        (unless (eq status :have-output)
          (return))))))

(defun session-feed (context vector start end)
  "Copies octets of VECTOR from START toward END into the session's input and returns how many it took."
  (let ((count (min (- end start) +scratch-size+))
        (session (live-session context)))
    (replace (context-scratch context) vector :start2 start :end2 (+ start count))
    (cffi:with-foreign-object (consumed :size)
      (with-scratch (pointer context)
        (check-session-status context (schan-feed session pointer count consumed)))
      (cffi:mem-ref consumed :size))))

(defun session-feed-eof (context)
  (check-session-status context (schan-feed-eof (live-session context))))

(defun session-step (context)
  "Drives the handshake. Returns :OK, :NEED-INPUT or :HAVE-OUTPUT, or signals a SCHANNEL-ERROR."
  (let ((status (check-session-status context (schan-step (live-session context)))))
    (when (eq status :ok)
      (setf (context-complete-p context) t))
    status))

(defun session-decrypt (context)
  "Decrypts queued input into the scratch vector. Returns the status and the plaintext count."
  (let ((session (live-session context)))
    (cffi:with-foreign-object (written :size)
      (let ((status (with-scratch (pointer context)
                      (schan-decrypt session pointer +scratch-size+ written))))
        (check-session-status context status)
        (when (eq status :closed)
          (setf (context-peer-closed-p context) t))
        (values status (cffi:mem-ref written :size))))))

(defun session-encrypt (context vector start end)
  "Encrypts octets of VECTOR from START toward END. Returns the status and how many octets were taken."
  (let ((session (live-session context)))
    (cffi:with-foreign-object (consumed :size)
      (let ((status (if (in-place-octets-p vector)
                        (cffi:with-pointer-to-vector-data (pointer vector)
                          (schan-encrypt session (cffi:inc-pointer pointer start) (- end start) consumed))
                        (let ((count (min (- end start) +scratch-size+)))
                          (replace (context-scratch context) vector :start2 start :end2 (+ start count))
                          (with-scratch (pointer context)
                            (schan-encrypt session pointer count consumed))))))
        (check-session-status context status)
        (values status (cffi:mem-ref consumed :size))))))

(defun in-place-octets-p (vector)
  "True when schan can read VECTOR's octets in place: SBCL pins any simple octet vector, so it needs no copy."
  #+sbcl (typep vector '(simple-array (unsigned-byte 8) (*)))
  #-sbcl (declare (ignore vector))
  #-sbcl nil)

(defun session-shutdown (context)
  (check-session-status context (schan-shutdown (live-session context))))

(defun new-session (role config server-name)
  "Creates a schan session from CONFIG and returns its pointer."
  (cffi:with-foreign-object (out :pointer)
    (let ((status (ecase role
                    (:client (schan-client-new config (or server-name (cffi:null-pointer)) out))
                    (:server (schan-server-new config out)))))
      (unless (eq status :ok)
        (error (make-schannel-error
                status
                (format nil "creating the ~(~A~) session failed~@[: ~A~]" role
                        (and (eq role :server) (eq status :invalid-argument)
                             "a server config needs :certificate or :pkcs12"))))))
    (cffi:mem-ref out :pointer)))

(defun make-client-context (hostname &rest options)
  "Returns a client context for a connection to HOSTNAME (a host name or an IP
address literal, or NIL to check no name and send no SNI). OPTIONS are the
config keywords described in config-options.lisp: :ca-file, :ca-pem, :verify,
:revocation, :alpn, :min-version, :max-version, :certificate, :key,
:pkcs12, :cert-store, :password and :resumption, or :config with a shared
CONFIG. Free it with FREE-CONTEXT."
  (let ((session (with-config-pointer (config options)
                   (new-session :client config hostname))))
    (make-instance 'context :session session :role :client)))

(defun make-server-context (&rest options)
  "Returns a server context. OPTIONS are the config keywords described in
config-options.lisp. :certificate (with :key) or :pkcs12 is required, and
:client-auth asks for a client certificate. Free it with FREE-CONTEXT."
  (let ((session (with-config-pointer (config options)
                   (new-session :server config nil))))
    (make-instance 'context :session session :role :server)))

;;; Queries. OBJECT is a context or a stream over one (see TLS-CONTEXT).

(defgeneric tls-context (object)
  (:documentation "Returns the context behind OBJECT: a context, a schannel stream or a stream wrapped around one.")
  (:method ((object context)) object))

(defun query-string (object function)
  (let* ((context (tls-context object))
         (session (live-session context)))
    (cffi:with-foreign-object (out :pointer)
      (check-session-status context (funcall function session out))
      (cffi:foreign-string-to-lisp (cffi:mem-ref out :pointer)))))

(defun negotiated-protocol (object)
  "Returns the negotiated protocol version, :TLS-1.2 or :TLS-1.3."
  (let* ((context (tls-context object))
         (session (live-session context)))
    (cffi:with-foreign-object (version :int)
      (check-session-status context (schan-get-protocol session version))
      (cffi:foreign-enum-keyword 'schan-tls-version (cffi:mem-ref version :int) :errorp nil))))

(defun negotiated-cipher (object)
  "Returns the IANA name of the negotiated cipher suite, for example \"TLS_AES_128_GCM_SHA256\"."
  (query-string object #'schan-get-cipher))

(defun selected-alpn-protocol (object)
  "Returns the negotiated ALPN protocol name, or NIL when none was negotiated."
  (let ((protocol (query-string object #'schan-get-alpn)))
    (and (plusp (length protocol)) protocol)))

(defun session-resumed-p (object)
  "Returns true when the handshake resumed an earlier session."
  (let* ((context (tls-context object))
         (session (live-session context)))
    (cffi:with-foreign-object (resumed :int)
      (check-session-status context (schan-session-resumed session resumed))
      (/= 0 (cffi:mem-ref resumed :int)))))

(defun peer-certificate-count (context)
  (cffi:with-foreign-object (count :size)
    (check-session-status context (schan-get-peer-cert-count (live-session context) count))
    (cffi:mem-ref count :size)))

(defun peer-certificate (object &optional (index 0))
  "Returns certificate INDEX of the peer's chain in DER form (0 is the peer's own), or NIL when the chain is shorter."
  (let ((context (tls-context object)))
    (when (< index (peer-certificate-count context))
      (cffi:with-foreign-objects ((der :pointer) (length :size))
        (check-session-status context (schan-get-peer-cert (live-session context) index der length))
        (let* ((count (cffi:mem-ref length :size))
               (pointer (cffi:mem-ref der :pointer))
               (result (make-octets count)))
          (dotimes (position count result)
            (setf (aref result position) (cffi:mem-aref pointer :uint8 position))))))))

(defun peer-certificate-chain (object)
  "Returns the peer's certificate chain as a list of DER octet vectors, the peer's own first."
  (let ((context (tls-context object)))
    (loop for index below (peer-certificate-count context)
          collect (peer-certificate context index))))

(defun library-version (&key full)
  "Returns the version of the loaded schan library, for example \"0.1.0\",
or with FULL also its ABI version, for example \"0.1.0 (ABI 1)\"."
  (if full
      (schan-version-string-full)
      (schan-version)))

(defun backend-name ()
  "Returns the loaded library's TLS provider: \"schannel\" or \"openssl\"."
  (schan-backend-name))
