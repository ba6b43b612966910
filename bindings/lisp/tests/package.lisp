;;;; Package of the schannel test suite.

(defpackage #:schannel-tests
  (:use #:common-lisp #:schannel #:fiveam)
  (:export #:run-tests))

(in-package #:schannel-tests)

(def-suite schannel-tests
  :description "The schannel binding against real TLS peers on 127.0.0.1.")
