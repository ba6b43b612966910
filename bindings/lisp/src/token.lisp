;;;; The token-level API: the caller moves every octet between the context
;;;; and the peer, in the style of SSPI's InitializeSecurityContext,
;;;; AcceptSecurityContext, EncryptMessage and DecryptMessage.

(in-package #:schannel)

(defmacro with-client-context ((context hostname &rest options) &body body)
  "Runs BODY with CONTEXT bound to a new client context for HOSTNAME, freed afterwards.
OPTIONS are the keywords of MAKE-CLIENT-CONTEXT."
  `(let ((,context (make-client-context ,hostname ,@options)))
     (unwind-protect (progn ,@body)
       (free-context ,context))))

(defmacro with-server-context ((context &rest options) &body body)
  "Runs BODY with CONTEXT bound to a new server context, freed afterwards.
OPTIONS are the keywords of MAKE-SERVER-CONTEXT."
  `(let ((,context (make-server-context ,@options)))
     (unwind-protect (progn ,@body)
       (free-context ,context))))

(defun feed-octets (context vector start end)
  "Feeds octets of VECTOR from START to END into the session, decrypting into
the pending plaintext whenever the session's input queue is full."
  (let ((position start))
    (loop while (< position end)
          do (let ((consumed (session-feed context vector position end)))
               (when (zerop consumed)
                 (decrypt-pending context)
                 (setf consumed (session-feed context vector position end))
                 (when (zerop consumed)
                   (error (make-schannel-error
                           :internal "schan accepted no input although its queued records were processed"))))
               (incf position consumed)))))

(defun decrypt-pending (context)
  "Decrypts every complete record queued in the session into the pending
plaintext. An error after some plaintext is kept until that plaintext was returned."
  (when (context-deferred-error context)
    (return-from decrypt-pending))
  (handler-case
      (loop
        (multiple-value-bind (status count) (session-decrypt context)
          (ecase status
            (:ok (octet-buffer-append (context-plaintext context) (context-scratch context) :end count))
            (:have-output (collect-output context (context-outbox context)))
            ((:need-input :closed) (return)))))
    (schannel-error (condition)
      (when (zerop (octet-buffer-length (context-plaintext context)))
        (error condition))
      (setf (context-deferred-error context) condition))))

(defun feed-handshake-record (context token position end)
  "Feeds the rest of the record that starts at POSITION in TOKEN; returns the new position."
  (let ((consumed (session-feed context token position (next-record-end token position end))))
    (when (zerop consumed)
      (error (make-schannel-error
              :internal "schan accepted no handshake input although it asked for more")))
    (+ position consumed)))

(defun drive-handshake (context token start end)
  "Feeds TOKEN one record at a time and steps the handshake. Returns the
octets to send, the count of octets after the end of the handshake, and
whether the handshake is complete."
  (let ((output (make-octet-buffer 1024))
        (position start))
    (loop
      (ecase (session-step context)
        (:have-output (collect-output context output))
        (:ok (return))
        (:need-input
         (when (>= position end)
           (return))
         (setf position (feed-handshake-record context token position end)))))
    (let ((extra (- end position))
          (complete (context-complete-p context)))
      ;; Octets after the last handshake record stay in the context; the next
      ;; DECRYPT-MESSAGE returns their plaintext first.
      (when (plusp extra)
        (feed-octets context token position end))
      (values (cond ((plusp (octet-buffer-length output)) (octet-buffer-take-all output))
                    (complete nil)
                    (t (make-octets 0)))
              extra
              complete))))

(defun initialize-client-context (context &optional token (start 0) end)
  "Advances the client handshake with TOKEN, the octets received from the
server since the last call (NIL on the first call), between START and END.
Returns three values:
- the octets to send to the server; an empty vector when there is nothing
  to send yet (receive more and call again); NIL when the handshake is
  complete and nothing is left to send;
- how many octets at the end of TOKEN came after the handshake, which the
  context keeps for DECRYPT-MESSAGE;
- whether the handshake is complete.
With TLS 1.3 the last token comes together with completion: send it. Any
later call returns NIL and keeps the octets it is given for DECRYPT-MESSAGE.
Signals a SCHANNEL-ERROR when the handshake fails. The condition's token, if
any, is an alert to send to the server."
  (if token
      (drive-handshake context token start (or end (length token)))
      (drive-handshake context (make-octets 0) 0 0)))

(defun accept-server-context (context token &optional (start 0) end)
  "Advances the server handshake with TOKEN, the octets received from the
client since the last call, between START and END. Returns the same three
values as
INITIALIZE-CLIENT-CONTEXT."
  (drive-handshake context token start (or end (length token))))

(defun take-outbox (context)
  "Returns the octets queued for the peer as a fresh vector, or NIL when there are none."
  (let ((outbox (context-outbox context)))
    (and (plusp (octet-buffer-length outbox))
         (octet-buffer-take-all outbox))))

(defun encrypt-message (context buffer &key (start 0) end)
  "Encrypts the plaintext in BUFFER between START and END in place: the TLS
records replace it from START on and may fill BUFFER to its length. Returns
the count of record octets written, to be sent to the peer, and how many
more are waiting in the context because they did not fit. Fetch those with
another call whose :END equals :START. Each record carries up to 16384
plaintext octets and adds 22 octets with TLS 1.3, 29 with TLS 1.2 and
AES-GCM."
  (let ((end (or end (length buffer)))
        (outbox (context-outbox context))
        (position start))
    (loop while (< position end)
          do (multiple-value-bind (status consumed) (session-encrypt context buffer position end)
               (incf position consumed)
               (collect-output context outbox)
               (when (and (zerop consumed) (eq status :need-input))
                 (error (make-schannel-error
                         :invalid-state
                         "a post-handshake exchange is in progress: pass the peer's next octets to DECRYPT-MESSAGE first")))))
    (let ((count (octet-buffer-take outbox buffer :start start)))
      (values count (octet-buffer-length outbox)))))

(defun decrypt-message (context buffer &key (start 0) end)
  "Decrypts the octets received from the peer in BUFFER between START and
END in place: the plaintext replaces them from START on and may fill BUFFER
to its length. Incomplete records are kept in the context until the rest
arrives. Returns three values: the count of plaintext octets written, how
many more plaintext octets are waiting in the context (fetch them with a
call whose :END equals :START), and octets the context must send to the
peer (a post-handshake reply) or NIL. Signals SCHANNEL-PEER-CLOSED once the
peer's close_notify was received and all plaintext before it was returned,
and SCHANNEL-TRUNCATED after FEED-END-OF-INPUT when no close_notify came."
  (let ((end (or end (length buffer)))
        (plaintext (context-plaintext context)))
    (feed-octets context buffer start end)
    (decrypt-pending context)
    (let ((count (octet-buffer-take plaintext buffer :start start)))
      (when (and (zerop count) (zerop (octet-buffer-length plaintext)))
        (let ((deferred (context-deferred-error context)))
          (when deferred
            (error deferred)))
        (when (context-peer-closed-p context)
          (error (make-schannel-error :closed "the peer sent close_notify and no plaintext is left"))))
      (values count (octet-buffer-length plaintext) (take-outbox context)))))

(defun shutdown-context (context)
  "Queues close_notify and returns the octets to send to the peer: any records
that ENCRYPT-MESSAGE could not return yet, then the close_notify alert. Later
ENCRYPT-MESSAGE calls signal an error; DECRYPT-MESSAGE still works until the
peer's close_notify."
  (session-shutdown context)
  (collect-output context (context-outbox context))
  (or (take-outbox context) (make-octets 0)))

(defun feed-end-of-input (context)
  "Tells CONTEXT that the transport from the peer ended. When no close_notify
came before it, the next DECRYPT-MESSAGE signals SCHANNEL-TRUNCATED."
  (session-feed-eof context)
  nil)
