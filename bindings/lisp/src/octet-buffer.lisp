;;;; A growable first-in first-out queue of octets, and TLS record framing.

(in-package #:schannel)

(deftype octet () '(unsigned-byte 8))

(deftype octets () '(simple-array octet (*)))

(defun make-octets (length)
  (make-array length :element-type 'octet))

(defstruct (octet-buffer (:constructor %make-octet-buffer (data)))
  "Octets queued in DATA between START and END."
  (data (make-octets 0) :type octets)
  (start 0 :type fixnum)
  (end 0 :type fixnum))

(defun make-octet-buffer (&optional (capacity 4096))
  (%make-octet-buffer (make-octets capacity)))

(declaim (inline octet-buffer-length))
(defun octet-buffer-length (buffer)
  (- (octet-buffer-end buffer) (octet-buffer-start buffer)))

(defun octet-buffer-make-room (buffer count)
  "Makes room for COUNT more octets at the end of BUFFER, moving or growing its data."
  (let* ((data (octet-buffer-data buffer))
         (length (octet-buffer-length buffer))
         (needed (+ length count)))
    (when (> (+ (octet-buffer-end buffer) count) (length data))
      (let ((target (if (> needed (length data))
                        (make-octets (max needed (* 2 (length data))))
                        data)))
        (replace target data :start2 (octet-buffer-start buffer) :end2 (octet-buffer-end buffer))
        (setf (octet-buffer-data buffer) target
              (octet-buffer-start buffer) 0
              (octet-buffer-end buffer) length)))))

(defun octet-buffer-append (buffer vector &key (start 0) (end (length vector)))
  "Appends the octets of VECTOR between START and END to BUFFER."
  (let ((count (- end start)))
    (octet-buffer-make-room buffer count)
    (replace (octet-buffer-data buffer) vector
             :start1 (octet-buffer-end buffer) :start2 start :end2 end)
    (incf (octet-buffer-end buffer) count)
    buffer))

(defun octet-buffer-take (buffer target &key (start 0) (end (length target)))
  "Moves queued octets into TARGET between START and END; returns how many were moved."
  (let ((count (min (octet-buffer-length buffer) (- end start))))
    (replace target (octet-buffer-data buffer)
             :start1 start :end1 (+ start count) :start2 (octet-buffer-start buffer))
    (incf (octet-buffer-start buffer) count)
    (when (zerop (octet-buffer-length buffer))
      (setf (octet-buffer-start buffer) 0
            (octet-buffer-end buffer) 0))
    count))

(defun octet-buffer-take-all (buffer)
  "Returns the queued octets as a fresh vector and empties BUFFER."
  (let ((result (make-octets (octet-buffer-length buffer))))
    (octet-buffer-take buffer result)
    result))

(defun octet-buffer-pop (buffer)
  "Removes and returns the first queued octet; BUFFER must not be empty."
  (prog1 (aref (octet-buffer-data buffer) (octet-buffer-start buffer))
    (incf (octet-buffer-start buffer))
    (when (zerop (octet-buffer-length buffer))
      (setf (octet-buffer-start buffer) 0
            (octet-buffer-end buffer) 0))))

;;; TLS record framing (RFC 8446 section 5.1, RFC 5246 section 6.2). The
;;; binding reads whole records from a base stream, because a blocking
;;; READ-SEQUENCE returns only when its sequence is full.

(defconstant +record-header-size+ 5)

(defconstant +max-record-body-size+ (+ 16384 2048)
  "TLS 1.2 allows 2048 octets of expansion over a 16384-octet fragment; TLS 1.3 allows less.")

(defconstant +max-record-size+ (+ +record-header-size+ +max-record-body-size+))

(defun record-header-valid-p (vector start)
  "Returns true when the five octets at START are a header that TLS peers send."
  (let ((content-type (aref vector start))
        (major-version (aref vector (+ start 1)))
        (length (record-body-size vector start)))
    (and (<= 20 content-type 24)
         (= major-version 3)
         (<= length +max-record-body-size+))))

(defun record-body-size (vector start)
  "Returns the fragment length stored in the record header at START."
  (+ (ash (aref vector (+ start 3)) 8)
     (aref vector (+ start 4))))

(defun next-record-end (vector start end)
  "Returns where the record at START ends, or END when it ends later or its header is incomplete."
  (if (< (- end start) +record-header-size+)
      end
      (min end (+ start +record-header-size+ (record-body-size vector start)))))
