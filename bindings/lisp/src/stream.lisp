;;;; Gray streams: TLS over any binary base stream, through trivial-gray-streams.

(in-package #:schannel)

(defconstant +max-fragment-size+ 16384
  "The largest plaintext of one TLS record, so the stream encrypts its output in pieces of this size.")

(defclass schannel-stream (trivial-gray-streams:trivial-gray-stream-mixin
                           trivial-gray-streams:fundamental-binary-input-stream
                           trivial-gray-streams:fundamental-binary-output-stream)
  ((base-stream :initarg :base-stream :reader stream-base-stream
                :documentation "The binary stream that carries the TLS records.")
   (context :initarg :context :reader stream-context)
   (input :initform (make-octet-buffer +max-fragment-size+) :reader stream-input
          :documentation "Plaintext received and not read yet.")
   (output :initform (make-octets +max-fragment-size+) :reader stream-output
           :documentation "Plaintext written and not encrypted yet, up to OUTPUT-FILL.")
   (output-fill :initform 0 :accessor stream-output-fill)
   (record :initform (make-octets +max-record-size+) :reader stream-record
           :documentation "One record read from the base stream, fed to schan from RECORD-START to RECORD-END.")
   (record-start :initform 0 :accessor stream-record-start)
   (record-end :initform 0 :accessor stream-record-end)
   (base-ended-p :initform nil :accessor stream-base-ended-p
                 :documentation "True once the base stream reached end of file.")
   (end-of-file-p :initform nil :accessor stream-end-of-file-p
                  :documentation "True once the peer's close_notify came and all plaintext before it was read.")
   (close-callback :initarg :close-callback :initform nil :reader stream-close-callback)
   (close-base-stream-p :initarg :close-base-stream :initform t :reader stream-close-base-stream-p))
  (:documentation "A binary stream of plaintext over a TLS session on a binary base stream."))

(defmethod print-object ((stream schannel-stream) output)
  (print-unreadable-object (stream output :type t :identity t)
    (format output "~(~A~) over ~A" (context-role (stream-context stream)) (stream-base-stream stream))))

(defmethod tls-context ((stream schannel-stream))
  (stream-context stream))

(defmethod tls-context ((stream flexi-streams:flexi-stream))
  (tls-context (flexi-streams:flexi-stream-stream stream)))

(defmethod stream-element-type ((stream schannel-stream))
  '(unsigned-byte 8))

;;; Moving records between schan and the base stream

(defun send-alert (stream condition)
  "Sends the octets that schan queued before failing (usually a fatal alert), ignoring transport errors."
  (let ((token (schannel-error-token condition)))
    (when token
      (setf (schannel-error-token condition) nil)
      (ignore-errors
       (write-sequence token (stream-base-stream stream))
       (finish-output (stream-base-stream stream))))))

(defmacro with-alerts-sent ((stream) &body body)
  "Runs BODY; when it signals a SCHANNEL-ERROR, first sends the alert the error carries."
  `(handler-bind ((schannel-error (lambda (condition) (send-alert ,stream condition))))
     ,@body))

(defun send-queued-output (stream)
  "Writes every octet that schan queued for the peer to the base stream, without forcing it out."
  (let ((base (stream-base-stream stream)))
    (map-output (stream-context stream)
                (lambda (vector count)
                  (write-sequence vector base :end count)))))

(defun read-record (stream)
  "Reads the next record from the base stream into the record vector. Reads
only the header when it is not one that TLS peers send, so that schan
reports the protocol error instead of the read waiting for a made-up length.
Returns NIL when the base stream ended before a complete record."
  (let* ((record (stream-record stream))
         (base (stream-base-stream stream))
         (header-end (read-sequence record base :end +record-header-size+)))
    (setf (stream-record-start stream) 0
          (stream-record-end stream) header-end)
    (when (< header-end +record-header-size+)
      (return-from read-record nil))
    (when (record-header-valid-p record 0)
      (let* ((record-end (+ +record-header-size+ (record-body-size record 0)))
             (read-end (read-sequence record base :start +record-header-size+ :end record-end)))
        (setf (stream-record-end stream) read-end)
        (when (< read-end record-end)
          (return-from read-record nil))))
    t))

(defun feed-record (stream)
  "Feeds the unfed part of the last record read to schan."
  (let ((consumed (session-feed (stream-context stream) (stream-record stream)
                                (stream-record-start stream) (stream-record-end stream))))
    (when (zerop consumed)
      (error (make-schannel-error
              :internal "schan accepted no input although it asked for more")))
    (incf (stream-record-start stream) consumed)))

(defun receive-input (stream)
  "Gives schan more input: the rest of the last record, else the next record
from the base stream, else the end of the base stream."
  (cond ((< (stream-record-start stream) (stream-record-end stream))
         (feed-record stream))
        ((stream-base-ended-p stream)
         (error (make-schannel-error
                 :internal "schan asked for input after the end of the transport was reported")))
        (t
         (let ((complete (read-record stream)))
           (when (< (stream-record-start stream) (stream-record-end stream))
             (feed-record stream))
           (unless complete
             (setf (stream-base-ended-p stream) t)
             (session-feed-eof (stream-context stream)))))))

(defun run-handshake (stream)
  "Steps the handshake until it is complete, sending and receiving records over the base stream."
  (let ((context (stream-context stream))
        (base (stream-base-stream stream)))
    (with-alerts-sent (stream)
      (loop
        (ecase (session-step context)
          (:ok (return))
          (:have-output
           (send-queued-output stream)
           (finish-output base))
          (:need-input (receive-input stream)))))))

(defun decrypt-once (stream &key (wait t))
  "Makes one decrypt call, keeping plaintext, sending replies and reading
input as it requires. Returns the status schan reported, or :WOULD-WAIT
when WAIT is NIL and reading the base stream could wait for the peer."
  (multiple-value-bind (status count) (session-decrypt (stream-context stream))
    (ecase status
      (:ok (octet-buffer-append (stream-input stream) (context-scratch (stream-context stream)) :end count))
      (:have-output
       (send-queued-output stream)
       (force-output (stream-base-stream stream)))
      (:closed (setf (stream-end-of-file-p stream) t))
      (:need-input
       (if (or wait
               (< (stream-record-start stream) (stream-record-end stream))
               (listen (stream-base-stream stream)))
           (receive-input stream)
           (setf status :would-wait))))
    status))

(defun fill-input (stream)
  "Returns true when plaintext is available, waiting for it if needed, or NIL
at the end of file after the peer's close_notify. Sends buffered output
first, because the peer may wait for it before it replies."
  (when (plusp (octet-buffer-length (stream-input stream)))
    (return-from fill-input t))
  (when (stream-end-of-file-p stream)
    (return-from fill-input nil))
  (flush-output stream)
  (force-output (stream-base-stream stream))
  (with-alerts-sent (stream)
    (loop
      (when (plusp (octet-buffer-length (stream-input stream)))
        (return t))
      (when (stream-end-of-file-p stream)
        (return nil))
      (decrypt-once stream))))

(defun encrypt-octets (stream vector start end)
  "Encrypts octets of VECTOR from START to END and writes the records to the base stream."
  (let ((context (stream-context stream))
        (position start))
    (with-alerts-sent (stream)
      (loop while (< position end)
            do (multiple-value-bind (status consumed)
                   (session-encrypt context vector position end)
                 (incf position consumed)
                 (send-queued-output stream)
                 ;; During a post-handshake exchange schan takes no plaintext
                 ;; until the peer's reply was decrypted.
                 (when (and (zerop consumed) (eq status :need-input))
                   (decrypt-once stream)))))))

(defun flush-output (stream)
  "Encrypts the buffered plaintext and writes the records to the base stream."
  (encrypt-octets stream (stream-output stream) 0 (stream-output-fill stream))
  (setf (stream-output-fill stream) 0))

(define-condition closed-stream-error (stream-error) ()
  (:report (lambda (condition output)
             (format output "The stream ~S is closed." (stream-error-stream condition)))))

(defun check-open (stream)
  (unless (open-stream-p stream)
    (error 'closed-stream-error :stream stream)))

;;; Input

(defmethod trivial-gray-streams:stream-read-byte ((stream schannel-stream))
  (check-open stream)
  (if (fill-input stream)
      (octet-buffer-pop (stream-input stream))
      :eof))

(defmethod trivial-gray-streams:stream-read-sequence ((stream schannel-stream) sequence start end &key)
  (check-open stream)
  (let ((position start)
        (end (or end (length sequence))))
    (loop while (and (< position end) (fill-input stream))
          do (incf position (octet-buffer-take (stream-input stream) sequence
                                               :start position :end end)))
    position))

(defmethod trivial-gray-streams:stream-listen ((stream schannel-stream))
  (check-open stream)
  (with-alerts-sent (stream)
    (loop
      (when (plusp (octet-buffer-length (stream-input stream)))
        (return t))
      (when (or (stream-end-of-file-p stream) (stream-base-ended-p stream))
        (return nil))
      ;; When the base stream has octets waiting, this reads one record,
      ;; which may wait until the rest of that record arrives.
      (when (eq (decrypt-once stream :wait nil) :would-wait)
        (return nil)))))

;;; Output

(defmethod trivial-gray-streams:stream-write-byte ((stream schannel-stream) byte)
  (check-open stream)
  (when (= (stream-output-fill stream) +max-fragment-size+)
    (flush-output stream))
  (setf (aref (stream-output stream) (stream-output-fill stream)) byte)
  (incf (stream-output-fill stream))
  byte)

(defmethod trivial-gray-streams:stream-write-sequence ((stream schannel-stream) sequence start end &key)
  (check-open stream)
  (let* ((position start)
         (end (or end (length sequence)))
         (whole-records (* +max-fragment-size+ (floor (- end position) +max-fragment-size+))))
    ;; Whole records of a vector that schan reads in place are encrypted
    ;; from it, without a copy into the output vector; the rest is buffered.
    (when (and (plusp whole-records) (in-place-octets-p sequence))
      (flush-output stream)
      (encrypt-octets stream sequence position (+ position whole-records))
      (incf position whole-records))
    (loop while (< position end)
          do (when (= (stream-output-fill stream) +max-fragment-size+)
               (flush-output stream))
             (let ((count (min (- end position)
                               (- +max-fragment-size+ (stream-output-fill stream)))))
               (replace (stream-output stream) sequence
                        :start1 (stream-output-fill stream) :start2 position :end2 (+ position count))
               (incf (stream-output-fill stream) count)
               (incf position count)))
    sequence))

(defmethod trivial-gray-streams:stream-force-output ((stream schannel-stream))
  (check-open stream)
  (flush-output stream)
  (force-output (stream-base-stream stream))
  nil)

(defmethod trivial-gray-streams:stream-finish-output ((stream schannel-stream))
  (check-open stream)
  (flush-output stream)
  (finish-output (stream-base-stream stream))
  nil)

;;; Closing

(defun send-close-notify (stream)
  "Sends the buffered plaintext, then close_notify, unless the session failed.
Like CL+SSL's CLOSE, it ignores a base stream that fails because the peer
already closed the connection: the close_notify cannot arrive then anyway."
  (unless (eq (context-state (stream-context stream)) :failed)
    (handler-case
        (progn
          (flush-output stream)
          (with-alerts-sent (stream)
            (session-shutdown (stream-context stream))
            (send-queued-output stream))
          (finish-output (stream-base-stream stream)))
      (stream-error ()
        nil))))

(defmethod close ((stream schannel-stream) &key abort)
  "Closes STREAM. Without ABORT it first sends the buffered output and
close_notify, without waiting for the peer's close_notify. Then it frees
the session, closes the base stream (unless the stream was made with
:CLOSE-BASE-STREAM NIL) and calls the close callback."
  (when (open-stream-p stream)
    (unwind-protect
         (unless abort
           (send-close-notify stream))
      (call-next-method)
      (free-context (stream-context stream))
      (when (stream-close-base-stream-p stream)
        (close (stream-base-stream stream) :abort abort))
      (when (stream-close-callback stream)
        (funcall (stream-close-callback stream))))
    t))

;;; Constructors

(defun wrap-base-stream (context base-stream close-callback close-base-stream)
  "Returns a stream for CONTEXT over BASE-STREAM after the handshake, or frees CONTEXT when the handshake fails."
  (let ((stream (make-instance 'schannel-stream
                               :base-stream base-stream :context context
                               :close-callback close-callback
                               :close-base-stream close-base-stream))
        (done nil))
    (unwind-protect
         (progn
           (run-handshake stream)
           (setf done t)
           stream)
      (unless done
        (free-context context)))))

(defun make-client-stream (base-stream hostname &rest options
                           &key close-callback (close-base-stream t) &allow-other-keys)
  "Runs a TLS handshake as a client over BASE-STREAM, a binary stream such
as (usocket:socket-stream socket), and returns a SCHANNEL-STREAM of
plaintext. HOSTNAME is sent as SNI and checked against the server's
certificate; NIL checks no name. The other OPTIONS are the config keywords
of MAKE-CLIENT-CONTEXT. CLOSE-CALLBACK is called with no arguments after
the stream is closed; CLOSE-BASE-STREAM NIL leaves BASE-STREAM open then.
Signals a SCHANNEL-ERROR when the handshake fails, leaving BASE-STREAM open."
  (let ((context (apply #'make-client-context hostname
                        (alexandria:remove-from-plist options :close-callback :close-base-stream))))
    (wrap-base-stream context base-stream close-callback close-base-stream)))

(defun make-server-stream (base-stream &rest options
                           &key close-callback (close-base-stream t) &allow-other-keys)
  "Runs a TLS handshake as a server over BASE-STREAM and returns a
SCHANNEL-STREAM of plaintext. OPTIONS are the config keywords of
MAKE-SERVER-CONTEXT (:certificate with :key, or :pkcs12, is required) and
the stream keywords of MAKE-CLIENT-STREAM."
  (let ((context (apply #'make-server-context
                        (alexandria:remove-from-plist options :close-callback :close-base-stream))))
    (wrap-base-stream context base-stream close-callback close-base-stream)))
