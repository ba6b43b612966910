;;;; Entry points shaped like CL+SSL's, so that code written for CL+SSL
;;;; needs few edits. The argument names are CL+SSL's where they mean the same.

(in-package #:schannel)

(defun base-stream-of (socket)
  (if (streamp socket)
      socket
      (error 'type-error :datum socket :expected-type 'stream)))

(defun verify-options (verify ca-file)
  "Returns the config options for CL+SSL's VERIFY (NIL, :OPTIONAL or :REQUIRED) and CA-FILE."
  (check-type verify (member nil :optional :required))
  (cond ((null verify) (list :verify :none))
        (ca-file (list :verify :custom-only :ca-file ca-file))
        (t (list :verify :system))))

(defun certificate-options (certificate key password pkcs12)
  (append (when certificate (list :certificate certificate))
          (when key (list :key key))
          (when pkcs12 (list :pkcs12 pkcs12))
          (when password (list :password password))))

(defun with-external-format (stream external-format)
  "Returns a flexi-streams character stream over STREAM when EXTERNAL-FORMAT is given, else STREAM."
  (if external-format
      (flexi-streams:make-flexi-stream stream :external-format external-format)
      stream))

(defun make-ssl-client-stream (socket &key hostname (verify :required) ca-file
                                           certificate key password pkcs12
                                           alpn-protocols min-version max-version
                                           external-format close-callback
                                           (close-base-stream t))
  "Runs a TLS handshake as a client over the binary stream SOCKET and returns
the TLS stream, or with EXTERNAL-FORMAT a flexi-streams character stream
over it.

HOSTNAME is sent as SNI and checked against the server's certificate.
VERIFY is NIL (check nothing), :OPTIONAL or :REQUIRED (verify the chain;
TLS servers always present a certificate, so both mean the same). CA-FILE is
a PEM bundle to trust instead of the system's roots. CERTIFICATE and KEY are
PEM files of a client certificate and its key, PASSWORD the key's password;
PKCS12 is a PKCS#12 file to use instead. ALPN-PROTOCOLS lists the protocol
names to offer. CLOSE-CALLBACK is called after the stream is closed.
Closing the stream also closes SOCKET unless CLOSE-BASE-STREAM is NIL."
  (let ((stream (apply #'make-client-stream (base-stream-of socket) hostname
                       :close-callback close-callback
                       :close-base-stream close-base-stream
                       :alpn alpn-protocols
                       :min-version min-version :max-version max-version
                       (append (verify-options verify ca-file)
                               (certificate-options certificate key password pkcs12)))))
    (with-external-format stream external-format)))

(defun make-ssl-server-stream (socket &key certificate key password pkcs12
                                           verify ca-file
                                           alpn-protocols min-version max-version
                                           external-format close-callback
                                           (close-base-stream t))
  "Runs a TLS handshake as a server over the binary stream SOCKET and returns
the TLS stream, or with EXTERNAL-FORMAT a flexi-streams character stream
over it. CERTIFICATE and KEY are PEM files, PASSWORD the key's password;
PKCS12 is a PKCS#12 file to use instead. VERIFY asks for a client
certificate: NIL (the default) does not, :OPTIONAL accepts clients without
one, :REQUIRED rejects them. It is checked against CA-FILE when given, else
against the system's roots. ALPN-PROTOCOLS lists the protocols the server
accepts, in order of preference."
  (check-type verify (member nil :optional :required))
  (let ((stream (apply #'make-server-stream (base-stream-of socket)
                       :close-callback close-callback
                       :close-base-stream close-base-stream
                       :alpn alpn-protocols
                       :min-version min-version :max-version max-version
                       :client-auth (or verify :none)
                       (append (if ca-file
                                   (list :verify :custom-only :ca-file ca-file)
                                   (list :verify :system))
                               (certificate-options certificate key password pkcs12)))))
    (with-external-format stream external-format)))

(defun get-selected-alpn-protocol (stream)
  "Returns the ALPN protocol agreed with the peer, or NIL. STREAM may be the
stream returned by MAKE-SSL-CLIENT-STREAM or MAKE-SSL-SERVER-STREAM, with
or without an external format."
  (selected-alpn-protocol stream))

(defun ssl-stream-peer-certificate (stream)
  "Returns the peer's certificate in DER form, or NIL when it sent none.
Unlike CL+SSL's SSL-STREAM-X509-CERTIFICATE the result is an octet vector,
not a foreign X509 pointer."
  (peer-certificate stream))
