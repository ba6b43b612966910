"""Enumerations and constants with the names and values of the ssl module.

The values equal ssl's (OpenSSL 3 numbering), so ssl's constants and
schan's compare equal and either can be passed to schan.
"""

import collections
import enum


class TLSVersion(enum.IntEnum):
    MINIMUM_SUPPORTED = -2
    MAXIMUM_SUPPORTED = -1
    SSLv3 = 0x0300
    TLSv1 = 0x0301
    TLSv1_1 = 0x0302
    TLSv1_2 = 0x0303
    TLSv1_3 = 0x0304


class VerifyMode(enum.IntEnum):
    CERT_NONE = 0
    CERT_OPTIONAL = 1
    CERT_REQUIRED = 2


class VerifyFlags(enum.IntFlag):
    VERIFY_DEFAULT = 0
    VERIFY_CRL_CHECK_LEAF = 0x4
    VERIFY_CRL_CHECK_CHAIN = 0xC
    VERIFY_X509_STRICT = 0x20
    VERIFY_ALLOW_PROXY_CERTS = 0x40
    VERIFY_X509_TRUSTED_FIRST = 0x8000
    VERIFY_X509_PARTIAL_CHAIN = 0x80000


class Options(enum.IntFlag):
    OP_NO_SSLv2 = 0
    OP_SINGLE_DH_USE = 0
    OP_SINGLE_ECDH_USE = 0
    OP_IGNORE_UNEXPECTED_EOF = 0x80
    OP_NO_TICKET = 0x4000
    OP_NO_COMPRESSION = 0x20000
    OP_ENABLE_MIDDLEBOX_COMPAT = 0x100000
    OP_CIPHER_SERVER_PREFERENCE = 0x400000
    OP_NO_SSLv3 = 0x2000000
    OP_NO_TLSv1 = 0x4000000
    OP_NO_TLSv1_2 = 0x8000000
    OP_NO_TLSv1_1 = 0x10000000
    OP_NO_TLSv1_3 = 0x20000000
    OP_NO_RENEGOTIATION = 0x40000000
    OP_ALL = 0x80000050


class _SSLMethod(enum.IntEnum):
    PROTOCOL_TLS = 2
    PROTOCOL_SSLv23 = 2
    PROTOCOL_TLSv1 = 3
    PROTOCOL_TLSv1_1 = 4
    PROTOCOL_TLSv1_2 = 5
    PROTOCOL_TLS_CLIENT = 16
    PROTOCOL_TLS_SERVER = 17


_ASN1Object = collections.namedtuple("_ASN1Object", "nid shortname longname oid")


class Purpose(_ASN1Object, enum.Enum):
    """Purpose of a context's certificates: SERVER_AUTH gives a client context."""

    SERVER_AUTH = _ASN1Object(129, "serverAuth", "TLS Web Server Authentication", "1.3.6.1.5.5.7.3.1")
    CLIENT_AUTH = _ASN1Object(130, "clientAuth", "TLS Web Client Authentication", "1.3.6.1.5.5.7.3.2")


def purpose_oid(purpose):
    """Return the OID of a schan.Purpose, an ssl.Purpose or an OID string."""
    oid = getattr(purpose, "oid", purpose)
    if oid not in (Purpose.SERVER_AUTH.oid, Purpose.CLIENT_AUTH.oid):
        raise ValueError("unknown purpose %r: use Purpose.SERVER_AUTH or Purpose.CLIENT_AUTH" % (purpose,))
    return oid


def export(namespace):
    """Copy every member of the enumerations into `namespace`, as ssl does."""
    for enumeration in (VerifyMode, VerifyFlags, Options, _SSLMethod):
        namespace.update(enumeration.__members__)


# Options that describe what schan does anyway: SSL 2 and 3, TLS 1.0 and 1.1
# and compression are never offered. Clearing them raises ValueError.
OPTIONS_ALWAYS_ON = (Options.OP_NO_SSLv3 | Options.OP_NO_TLSv1 | Options.OP_NO_TLSv1_1
                     | Options.OP_NO_COMPRESSION)
# Options schan honours: the first two narrow the version range, the third
# reports a transport end without close_notify as a clean end of stream.
OPTIONS_HONOURED = Options.OP_NO_TLSv1_2 | Options.OP_NO_TLSv1_3 | Options.OP_IGNORE_UNEXPECTED_EOF
# Options in ssl's defaults that schan accepts but does not control: the
# TLS provider decides on interoperability workarounds, middlebox
# compatibility and the server's cipher order. Any other option raises
# NotImplementedError.
OPTIONS_WITHOUT_EFFECT = (Options.OP_ALL | Options.OP_ENABLE_MIDDLEBOX_COMPAT
                          | Options.OP_CIPHER_SERVER_PREFERENCE)
DEFAULT_OPTIONS = OPTIONS_ALWAYS_ON | OPTIONS_WITHOUT_EFFECT
