;;;; ASDF systems of the schan Common Lisp binding.

(defsystem "schannel"
  :description "TLS through schan (SChannel on Windows, OpenSSL elsewhere): SSPI-style
tokens, Gray streams over any binary stream, and CL+SSL-style entry points."
  :version "0.1.0"
  :license "MIT"
  :depends-on ("schannel/config" "cffi" "trivial-gray-streams" "flexi-streams" "babel" "alexandria")
  :pathname "src/"
  :serial t
  :components ((:file "library")
               (:file "ffi")
               (:file "octet-buffer")
               (:file "conditions")
               (:file "config-options")
               (:file "session")
               (:file "token")
               (:file "stream")
               (:file "cl-plus-ssl"))
  :in-order-to ((test-op (test-op "schannel/tests"))))

(defsystem "schannel/config"
  :description "The packages of the schannel system and the settings to make before loading it,
such as SCHANNEL:*SCHAN-LIBRARY*."
  :version "0.1.0"
  :license "MIT"
  :pathname "src/"
  :serial t
  :components ((:file "package")
               (:file "settings")))

(defsystem "schannel/tests"
  :description "FiveAM suite of the schannel system, run against real TLS peers on 127.0.0.1."
  :depends-on ("schannel" "fiveam" "usocket" "flexi-streams" "chunga" "drakma"
               (:feature :sbcl (:require "sb-md5")))
  :pathname "tests/"
  :serial t
  :components ((:file "package")
               (:file "peers")
               (:file "token-tests")
               (:file "stream-tests")
               (:file "cl-plus-ssl-tests")
               (:file "server-tests")
               (:file "main"))
  :perform (test-op (operation component)
             (unless (uiop:symbol-call '#:schannel-tests '#:run-tests)
               (error "The schannel test suite failed."))))
