;;;; Settings read when the schannel system loads. The system
;;;; "schannel/config" contains only the packages and this file, so these
;;;; variables can be set before the library is loaded:
;;;;
;;;;   (asdf:load-system "schannel/config")
;;;;   (setf schannel:*schan-library* #p"C:/schan/bin/schan.dll")
;;;;   (asdf:load-system "schannel")

(in-package #:schannel.ffi)

(defvar *schan-library* nil
  "Path of the schan shared library (a string or pathname), or NIL.
Tried after the SCHAN_LIBRARY environment variable and before the system's
library search path. Set it before the schannel system is loaded (see
settings.lisp), or set it and call LOAD-SCHAN-LIBRARY.")
