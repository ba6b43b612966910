;;;; Finding and loading the schan shared library, with the ABI check.

(in-package #:schannel.ffi)

(defconstant +schan-abi-version+ 1
  "The SCHAN_ABI_VERSION of the schan.h that ffi.lisp follows.")

(define-condition library-load-error (error)
  ((paths :initarg :paths :reader library-load-error-paths
          :documentation "The paths and names tried, in order.")
   (reasons :initarg :reasons :reader library-load-error-reasons
            :documentation "For each path, the loader's message."))
  (:report (lambda (condition stream)
             (format stream "The schan library could not be loaded. Tried:~%~:{  ~A: ~A~%~}~
                             Set SCHAN_LIBRARY or SCHANNEL:*SCHAN-LIBRARY* to the path of ~
                             schan.dll or libschan.so."
                     (mapcar #'list
                             (library-load-error-paths condition)
                             (library-load-error-reasons condition)))))
  (:documentation "Signalled when no schan library could be loaded, or when the one loaded has another ABI version."))

(defun default-library-names ()
  "Returns the file names the system's library search path is asked for."
  #+(or windows win32) '("schan.dll")
  #+darwin '("libschan.1.dylib" "libschan.dylib")
  #-(or windows win32 darwin) '("libschan.so.1" "libschan.so"))

(defun library-candidates ()
  "Returns the paths to try: SCHAN_LIBRARY, then *SCHAN-LIBRARY*, then the default names."
  (let ((from-environment (uiop:getenv "SCHAN_LIBRARY")))
    (append (when (and from-environment (plusp (length from-environment)))
              (list from-environment))
            (when *schan-library*
              (list (uiop:native-namestring *schan-library*)))
            (default-library-names))))

(defvar *loaded-library* nil
  "The CFFI foreign library object of the loaded schan library, or NIL.")

(defun library-abi-version ()
  (cffi:foreign-funcall "schan_abi_version" :uint32))

(defun try-library (path)
  "Loads PATH and checks its ABI version. Returns the library, or NIL and a reason."
  (let ((library (handler-case (cffi:load-foreign-library path)
                   (error (condition)
                     (return-from try-library (values nil (princ-to-string condition)))))))
    (let ((version (library-abi-version)))
      (if (= version +schan-abi-version+)
          library
          (progn
            (cffi:close-foreign-library library)
            (values nil (format nil "ABI version ~D, but this binding follows ABI version ~D"
                                version +schan-abi-version+)))))))

(defun load-first-library (candidates)
  "Loads the first of CANDIDATES that loads and has the expected ABI version.
Signals LIBRARY-LOAD-ERROR naming every path tried."
  (let ((tried '())
        (reasons '()))
    (dolist (path candidates)
      (multiple-value-bind (library reason) (try-library path)
        (when library
          (return-from load-first-library (setf *loaded-library* library)))
        (push path tried)
        (push reason reasons)))
    (restart-case (error 'library-load-error :paths (nreverse tried) :reasons (nreverse reasons))
      (use-value (path)
        :report "Set *SCHAN-LIBRARY* to a path and try again."
        :interactive (lambda ()
                       (format *query-io* "~&Path of schan.dll or libschan.so: ")
                       (finish-output *query-io*)
                       (list (read-line *query-io*)))
        (setf *schan-library* path)
        (load-schan-library)))))

(defun load-schan-library ()
  "Loads the schan library from the first candidate path that loads and has
ABI version +SCHAN-ABI-VERSION+. The candidates are the SCHAN_LIBRARY
environment variable, *SCHAN-LIBRARY*, then schan.dll (Windows) or
libschan.so.1 and libschan.so (Linux) on the system's search path. Signals
LIBRARY-LOAD-ERROR naming every path tried. Returns the library."
  (load-first-library (library-candidates)))

;;; The library is loaded when this file is loaded, so that a missing or
;;; incompatible library fails the system's load with the paths tried.
(unless *loaded-library*
  (load-schan-library))
