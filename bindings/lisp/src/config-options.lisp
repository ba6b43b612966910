;;;; Building a schan config from keyword options.
;;;;
;;;; The same keywords are accepted by MAKE-CLIENT-CONTEXT, MAKE-SERVER-CONTEXT,
;;;; MAKE-CLIENT-STREAM and MAKE-SERVER-STREAM:
;;;;
;;;;   :ca-file      PEM file, or a list of them, with CA certificates to trust
;;;;   :ca-pem       PEM text (string or octets), or a list of them, likewise
;;;;   :verify       :system, :custom-only, :custom-and-system or :none; the default
;;;;                 is :custom-only when :ca-file or :ca-pem is given, else :system
;;;;   :revocation   :best-effort, :strict or :off (default: the library's, best effort)
;;;;   :alpn         list of protocol names, in order of preference
;;;;   :min-version, :max-version   :tls-1.2 or :tls-1.3 (default: the library's)
;;;;   :certificate  PEM file (or PEM octets) with the certificate and its chain
;;;;   :key          PEM file (or PEM octets) with the private key, unless :certificate has it
;;;;   :pkcs12       PKCS#12 file (or its octets) with certificate, chain and key
;;;;   :cert-store   Windows certificate store entry with a private key, as
;;;;                 "CurrentUser\MY\<SHA-1 thumbprint>" (SChannel backend only)
;;;;   :password     password of the encrypted key or of the PKCS#12 data
;;;;   :client-auth  servers only: :none, :optional or :required
;;;;   :resumption   clients only: true to cache sessions for resumption, which
;;;;                 needs a config shared with :config, see MAKE-CONFIG
;;;;
;;;; Instead of these, :config passes a CONFIG made by MAKE-CONFIG.

(in-package #:schannel)

(defun native-path (path)
  "Returns PATH as a native file name, merging a relative pathname with *DEFAULT-PATHNAME-DEFAULTS*."
  (etypecase path
    (string path)
    (pathname (uiop:native-namestring (merge-pathnames path)))))

(defun text-octets (text)
  "Returns TEXT (a string or an octet vector) as octets, a string encoded as UTF-8."
  (etypecase text
    (string (babel:string-to-octets text :encoding :utf-8))
    (vector (coerce text 'octets))))

(defmacro with-foreign-octets ((pointer length octets) &body body)
  "Runs BODY with POINTER to a foreign copy of OCTETS and LENGTH bound to its length."
  (let ((vector (gensym "VECTOR")))
    `(let* ((,vector (text-octets ,octets))
            (,length (length ,vector)))
       (cffi:with-foreign-object (,pointer :uint8 (max 1 ,length))
         (dotimes (index ,length)
           (setf (cffi:mem-aref ,pointer :uint8 index) (aref ,vector index)))
         ,@body))))

(defun check-config-status (config status operation)
  "Signals a SCHANNEL-ERROR when STATUS is an error, with the config's last error message."
  (unless (member status '(:ok :need-input :have-output :closed))
    (let ((detail (schan-config-last-error config)))
      (error (make-schannel-error status
                                  (if (plusp (length detail))
                                      detail
                                      (format nil "~A failed" operation))))))
  status)

(defun file-designator-p (object)
  (or (stringp object) (pathnamep object)))

(defun load-certificate (config certificate key password)
  "Loads a PEM certificate chain and its key, from files or from octets."
  (let ((password (or password (cffi:null-pointer))))
    (if (file-designator-p certificate)
        (check-config-status
         config
         (schan-config-load-cert-chain-file config (native-path certificate)
                                            (if key (native-path key) (cffi:null-pointer))
                                            password)
         "loading the certificate")
        (with-foreign-octets (certificate-pointer certificate-length certificate)
          (flet ((load-with-key (key-pointer key-length)
                   (check-config-status
                    config
                    (schan-config-load-cert-chain-pem config certificate-pointer certificate-length
                                                      key-pointer key-length password)
                    "loading the certificate")))
            (if key
                (with-foreign-octets (key-pointer key-length
                                                  (if (file-designator-p key)
                                                      (alexandria:read-file-into-byte-vector key)
                                                      key))
                  (load-with-key key-pointer key-length))
                (load-with-key (cffi:null-pointer) 0)))))))

(defun load-pkcs12 (config pkcs12 password)
  (let ((password (or password (cffi:null-pointer))))
    (if (file-designator-p pkcs12)
        (check-config-status config
                             (schan-config-load-pkcs12-file config (native-path pkcs12) password)
                             "loading the PKCS#12 file")
        (with-foreign-octets (pointer length pkcs12)
          (check-config-status config (schan-config-load-pkcs12 config pointer length password)
                               "loading the PKCS#12 data")))))

(defun ensure-list-of (value)
  "Returns VALUE when it is a list, else a list of VALUE."
  (if (listp value) value (list value)))

(defun configure (config &key ca-file ca-pem verify revocation alpn min-version max-version
                              certificate key pkcs12 cert-store password client-auth resumption)
  "Applies the keyword options listed at the top of this file to CONFIG."
  (dolist (file (ensure-list-of ca-file))
    (check-config-status config (schan-config-load-ca-file config (native-path file))
                         "loading the CA file"))
  (dolist (text (ensure-list-of ca-pem))
    (with-foreign-octets (pointer length text)
      (check-config-status config (schan-config-load-ca-pem config pointer length)
                           "loading the CA PEM data")))
  (let ((mode (or verify (if (or ca-file ca-pem) :custom-only :system))))
    (check-type mode (member :system :custom-only :custom-and-system :none))
    (check-config-status config (schan-config-set-verify-mode config mode) "setting the verify mode"))
  (when revocation
    (check-type revocation (member :best-effort :strict :off))
    (check-config-status config (schan-config-set-revocation-mode config revocation)
                         "setting the revocation mode"))
  (dolist (protocol alpn)
    (check-config-status config (schan-config-add-alpn config protocol) "adding an ALPN protocol"))
  (when (or min-version max-version)
    (check-type min-version (member nil :tls-1.2 :tls-1.3))
    (check-type max-version (member nil :tls-1.2 :tls-1.3))
    (check-config-status config
                         (schan-config-set-versions config (or min-version :default)
                                                    (or max-version :default))
                         "setting the protocol versions"))
  (when certificate
    (load-certificate config certificate key password))
  (when pkcs12
    (load-pkcs12 config pkcs12 password))
  (when cert-store
    (check-config-status config (schan-config-load-cert-store config cert-store)
                         "loading the certificate from the Windows certificate store"))
  (when client-auth
    (check-type client-auth (member :none :optional :required))
    (check-config-status config (schan-config-set-client-auth config client-auth)
                         "setting client authentication"))
  (when resumption
    (check-config-status config (schan-config-enable-resumption config 1)
                         "enabling session resumption"))
  config)

(defun new-config-pointer (options)
  "Returns a new schan config built from the keyword list OPTIONS; the caller frees it."
  (let ((config (cffi:with-foreign-object (out :pointer)
                  (let ((status (schan-config-new out)))
                    (unless (eq status :ok)
                      (error (make-schannel-error status "creating a schan config failed"))))
                  (cffi:mem-ref out :pointer)))
        (done nil))
    (unwind-protect
         (progn
           (apply #'configure config options)
           (setf done t)
           config)
      (unless done
        (schan-config-free config)))))

(defclass config ()
  ((pointer :initarg :pointer :accessor config-pointer
            :documentation "The schan_config pointer, or NIL after FREE-CONFIG."))
  (:documentation "A schan config that several contexts and streams share through :CONFIG."))

(defun make-config (&rest options)
  "Returns a CONFIG built from the keyword OPTIONS described at the top of
config-options.lisp. Contexts and streams created with :CONFIG share it,
which session resumption (:RESUMPTION T) needs, because the session cache
belongs to the config. Sessions copy the config, so FREE-CONFIG may follow
at any time."
  (make-instance 'config :pointer (new-config-pointer options)))

(defun free-config (config)
  "Frees the schan config of CONFIG. Sessions created from it stay valid."
  (let ((pointer (config-pointer config)))
    (setf (config-pointer config) nil)
    (when pointer
      (schan-config-free pointer))
    nil))

(defmacro with-config ((config &rest options) &body body)
  "Runs BODY with CONFIG bound to a new CONFIG built from OPTIONS, freed afterwards."
  `(let ((,config (make-config ,@options)))
     (unwind-protect (progn ,@body)
       (free-config ,config))))

(defun call-with-config-pointer (function options)
  "Calls FUNCTION with a schan config pointer: the one of the :CONFIG option,
or a new one built from OPTIONS and freed afterwards."
  (let ((shared (getf options :config)))
    (cond ((null shared)
           (let ((pointer (new-config-pointer options)))
             (unwind-protect (funcall function pointer)
               (schan-config-free pointer))))
          ((rest (rest options))
           (error "Pass either :CONFIG or config options, not both: ~S" options))
          ((null (config-pointer shared))
           (error (make-schannel-error :invalid-state "the config passed as :CONFIG was already freed")))
          (t
           (funcall function (config-pointer shared))))))

(defmacro with-config-pointer ((pointer options) &body body)
  "Runs BODY with POINTER bound to the schan config for the keyword list OPTIONS."
  `(call-with-config-pointer (lambda (,pointer) ,@body) ,options))
