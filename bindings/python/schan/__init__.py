"""TLS through schan (SChannel on Windows, OpenSSL 3 elsewhere), shaped like ssl.

Code written for the standard ssl module runs on schan by changing the
import: SSLContext, create_default_context(), SSLSocket, SSLObject,
MemoryBIO and the exception classes have ssl's names, arguments and
behaviour where schan supports them. Settings schan cannot honour raise
NotImplementedError or ValueError instead of being ignored. docs/python.md
lists every difference.

The shared library is loaded from the SCHAN_LIBRARY environment variable,
then from this package's folder, then from the system search path.
"""

from . import _constants
from ._certificate import DER_cert_to_PEM_cert, PEM_cert_to_DER_cert, cert_time_to_seconds
from ._constants import Options, Purpose, TLSVersion, VerifyFlags, VerifyMode, _SSLMethod
from ._context import SSLContext, create_default_context
from ._errors import (SSL_ERROR_EOF, SSL_ERROR_INVALID_ERROR_CODE, SSL_ERROR_SSL, SSL_ERROR_SYSCALL,
                      SSL_ERROR_WANT_CONNECT, SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE,
                      SSL_ERROR_WANT_X509_LOOKUP, SSL_ERROR_ZERO_RETURN, CertificateError,
                      SSLCertVerificationError, SSLEOFError, SSLError, SSLSyscallError,
                      SSLWantReadError, SSLWantWriteError, SSLZeroReturnError)
from ._library import ABI_VERSION, BACKEND, LIBRARY_PATH, LIBRARY_VERSION
from ._object import MemoryBIO, SSLObject
from ._socket import SSLSocket

__version__ = "0.1.0"

SSLContext.sslsocket_class = SSLSocket
SSLContext.sslobject_class = SSLObject

_constants.export(globals())

HAS_SNI = True
HAS_ALPN = True
HAS_NPN = False
HAS_ECDH = True
HAS_NEVER_CHECK_COMMON_NAME = True
HAS_SSLv2 = False
HAS_SSLv3 = False
HAS_TLSv1 = False
HAS_TLSv1_1 = False
HAS_TLSv1_2 = True
HAS_TLSv1_3 = True
CHANNEL_BINDING_TYPES = []

__all__ = [
    "SSLContext", "create_default_context", "SSLSocket", "SSLObject", "MemoryBIO",
    "SSLError", "SSLZeroReturnError", "SSLWantReadError", "SSLWantWriteError", "SSLSyscallError",
    "SSLEOFError", "SSLCertVerificationError", "CertificateError",
    "TLSVersion", "VerifyMode", "VerifyFlags", "Options", "Purpose",
    "DER_cert_to_PEM_cert", "PEM_cert_to_DER_cert", "cert_time_to_seconds",
    "BACKEND", "ABI_VERSION", "LIBRARY_PATH", "LIBRARY_VERSION",
]
