"""The ssl exception hierarchy and the mapping from schan statuses to it.

When the standard ssl module is importable, every class here also derives
from its namesake in ssl, so code that catches ssl.SSLError (http.client,
asyncio, urllib3) catches schan's errors too.
"""

import errno as _errno

from . import _library as native

try:
    import ssl as _ssl
except ImportError:  # Python built without OpenSSL
    _ssl = None

# The error numbers ssl stores in args[0], for code that checks them
# (ssl.SSLSocket.read compares args[0] with SSL_ERROR_EOF).
SSL_ERROR_SSL = 1
SSL_ERROR_WANT_READ = 2
SSL_ERROR_WANT_WRITE = 3
SSL_ERROR_WANT_X509_LOOKUP = 4
SSL_ERROR_SYSCALL = 5
SSL_ERROR_ZERO_RETURN = 6
SSL_ERROR_WANT_CONNECT = 7
SSL_ERROR_EOF = 8
SSL_ERROR_INVALID_ERROR_CODE = 10


def _bases(name, schan_bases, fallback):
    """Return the bases for a class: `schan_bases`, then ssl's class of that
    name, or `fallback` without the ssl module."""
    standard = getattr(_ssl, name, None)
    return schan_bases + ((standard,) if standard is not None else fallback)


class SSLError(*_bases("SSLError", (), (OSError,))):
    """A TLS error. args is (ssl error number, message), as with ssl.SSLError.

    Attributes: `library` is "schan", `reason` the symbolic schan status
    (for example "SCHAN_E_PROTOCOL"), `status` its number and
    `backend_code` the TLS provider's raw code (for logs only).
    """

    library = "schan"
    reason = None
    status = None
    backend_code = 0

    def __str__(self):
        if len(self.args) >= 2 and isinstance(self.args[1], str):
            return self.args[1]
        return super().__str__()


class SSLZeroReturnError(*_bases("SSLZeroReturnError", (SSLError,), ())):
    """The TLS connection was closed with close_notify."""


class SSLWantReadError(*_bases("SSLWantReadError", (SSLError,), ())):
    """A non-blocking operation needs bytes from the peer first."""


class SSLWantWriteError(*_bases("SSLWantWriteError", (SSLError,), ())):
    """A non-blocking operation needs the socket to accept bytes first."""


class SSLSyscallError(*_bases("SSLSyscallError", (SSLError,), ())):
    """A transport error during a TLS operation."""


class SSLEOFError(*_bases("SSLEOFError", (SSLError,), ())):
    """The transport ended without the peer's close_notify (truncation)."""


class SSLCertVerificationError(*_bases("SSLCertVerificationError", (SSLError,), (ValueError,))):
    """The peer's certificate failed verification.

    `verify_code` is the OpenSSL X509_V_ERR_* number closest to schan's
    status (the same on every backend), `verify_message` schan's message.
    """

    verify_code = 0
    verify_message = ""


CertificateError = SSLCertVerificationError

# schan status: (OpenSSL X509_V_ERR_* code that ssl would report, short text).
_VERIFY_CODES = {
    native.E_CERT_UNTRUSTED: (20, "unable to get local issuer certificate"),
    native.E_CERT_EXPIRED: (10, "certificate has expired"),
    native.E_CERT_NAME_MISMATCH: (62, "Hostname mismatch"),
    native.E_CERT_REVOKED: (23, "certificate revoked"),
    native.E_REVOCATION_UNKNOWN: (3, "unable to get certificate CRL"),
    native.E_CERT_INVALID: (79, "invalid certificate"),
}


def _new(cls, number, status, message, backend_code=0):
    name = native.status_name(status)
    error = cls(number, "[%s] %s" % (name, message or name))
    error.reason = name
    error.status = status
    error.backend_code = backend_code
    return error


def error_for_status(status, message, backend_code=0):
    """Build the exception ssl would raise for a negative schan status."""
    if status == native.E_OUT_OF_MEMORY:
        return MemoryError(message or "schan: out of memory")
    if status in _VERIFY_CODES:
        code, text = _VERIFY_CODES[status]
        error = _new(SSLCertVerificationError, SSL_ERROR_SSL, status,
                     "certificate verify failed: %s: %s" % (text, message), backend_code)
        error.verify_code = code
        error.verify_message = message or text
        return error
    if status == native.E_TRUNCATED:
        return _new(SSLEOFError, SSL_ERROR_EOF, status,
                    "EOF occurred in violation of protocol: %s" % message, backend_code)
    return _new(SSLError, SSL_ERROR_SSL, status, message, backend_code)


def session_error(session, status):
    """Build the exception for a failed call on a native session."""
    message = native.lib.schan_last_error(session).decode("utf-8", "replace")
    backend_code = native.lib.schan_last_backend_error(session)
    return error_for_status(status, message, backend_code)


def config_error(config, status, operation):
    """Build the exception for a failed call on a native config."""
    message = native.lib.schan_config_last_error(config).decode("utf-8", "replace")
    return setting_error(status, "%s: %s" % (operation, message) if message else operation)


def setting_error(status, message):
    """Build the exception for a setting the library rejected.

    A setting the backend does not support raises NotImplementedError, so
    that it is not mistaken for a TLS failure.
    """
    if status == native.E_FILE_NOT_FOUND:
        return FileNotFoundError(_errno.ENOENT, message)
    if status == native.E_UNSUPPORTED:
        return NotImplementedError("%s (%s backend)" % (message, native.BACKEND))
    return error_for_status(status, message)


def want_read():
    return SSLWantReadError(SSL_ERROR_WANT_READ, "The operation did not complete (read)")


def want_write():
    return SSLWantWriteError(SSL_ERROR_WANT_WRITE, "The operation did not complete (write)")


def zero_return():
    return SSLZeroReturnError(SSL_ERROR_ZERO_RETURN, "TLS/SSL connection has been closed (EOF)")
