"""SSLContext and create_default_context(), shaped like the ssl module's."""

import ctypes
import os
import re
import threading
import warnings

from . import _certificate
from . import _constants
from . import _errors
from . import _library as native
from ._constants import Options, Purpose, TLSVersion, VerifyFlags, VerifyMode, _SSLMethod
from ._session import Session

lib = native.lib

# Certificate files in a capath folder: OpenSSL's hashed names (c_rehash)
# and the usual PEM extensions.
_CAPATH_FILE = re.compile(r"^([0-9a-fA-F]{8}\.\d+|.+\.(pem|crt))$")

_SUPPORTED_VERSIONS = {
    TLSVersion.MINIMUM_SUPPORTED: native.TLS_DEFAULT,
    TLSVersion.MAXIMUM_SUPPORTED: native.TLS_DEFAULT,
    TLSVersion.TLSv1_2: native.TLS_1_2,
    TLSVersion.TLSv1_3: native.TLS_1_3,
}

# The client certificate request of a server, per verify_mode.
_CLIENT_AUTH = {
    VerifyMode.CERT_NONE: native.CLIENT_AUTH_NONE,
    VerifyMode.CERT_OPTIONAL: native.CLIENT_AUTH_OPTIONAL,
    VerifyMode.CERT_REQUIRED: native.CLIENT_AUTH_REQUIRED,
}

_VERIFY_FLAGS_HONOURED = (VerifyFlags.VERIFY_CRL_CHECK_LEAF | VerifyFlags.VERIFY_CRL_CHECK_CHAIN
                          | VerifyFlags.VERIFY_X509_TRUSTED_FIRST)


def _flag_names(value, enumeration):
    """Return "A | B" for the members of an IntFlag set in `value`, unknown bits in hexadecimal."""
    names = []
    remaining = int(value)
    for member in enumeration:
        if member.value and remaining & member.value == member.value:
            names.append(member.name)
            remaining &= ~member.value
    if remaining:
        names.append(hex(remaining))
    return " | ".join(names)


def _not_supported(feature):
    return NotImplementedError("schan cannot honour %s with the %s backend" % (feature, native.BACKEND))


class SSLContext:
    """Settings shared by TLS connections: verification, versions, ALPN, certificates."""

    sslsocket_class = None  # set by the package: SSLSocket
    sslobject_class = None  # set by the package: SSLObject
    # Bound here so that __del__ still finds it while the interpreter shuts down.
    _free_config = lib.schan_config_free

    def __init__(self, protocol=None):
        if protocol is None:
            warnings.warn("ssl.SSLContext() without protocol argument is deprecated.",
                          DeprecationWarning, stacklevel=2)
            protocol = _SSLMethod.PROTOCOL_TLS
        elif protocol == _SSLMethod.PROTOCOL_TLS:
            warnings.warn("ssl.PROTOCOL_TLS is deprecated", DeprecationWarning, stacklevel=2)
        if protocol not in (_SSLMethod.PROTOCOL_TLS, _SSLMethod.PROTOCOL_TLS_CLIENT,
                            _SSLMethod.PROTOCOL_TLS_SERVER):
            raise ValueError("schan supports PROTOCOL_TLS_CLIENT, PROTOCOL_TLS_SERVER and PROTOCOL_TLS, "
                             "not %r: use minimum_version and maximum_version to choose versions"
                             % (protocol,))

        self._protocol = _SSLMethod(protocol)
        self._lock = threading.RLock()
        config = ctypes.c_void_p()
        status = lib.schan_config_new(ctypes.byref(config))
        if status < 0:
            raise _errors.error_for_status(status, "schan_config_new failed")
        self._config = config.value

        client = self._protocol == _SSLMethod.PROTOCOL_TLS_CLIENT
        self._verify_mode = VerifyMode.CERT_REQUIRED if client else VerifyMode.CERT_NONE
        self._check_hostname = client
        self._minimum_version = TLSVersion.MINIMUM_SUPPORTED
        self._maximum_version = TLSVersion.MAXIMUM_SUPPORTED
        self._options = _constants.DEFAULT_OPTIONS
        self._verify_flags = VerifyFlags.VERIFY_X509_TRUSTED_FIRST
        self._ca_certificates = []   # DER of every CA certificate loaded
        self._system_roots = False   # load_default_certs() or set_default_verify_paths() was called
        self._has_certificate = False

    def __del__(self):
        config, self._config = getattr(self, "_config", None), None
        if config:
            self._free_config(config)

    # -- simple attributes -------------------------------------------------

    @property
    def protocol(self):
        return self._protocol

    @property
    def verify_mode(self):
        """CERT_NONE, CERT_OPTIONAL or CERT_REQUIRED. A client treats CERT_OPTIONAL as CERT_REQUIRED."""
        return self._verify_mode

    @verify_mode.setter
    def verify_mode(self, value):
        mode = VerifyMode(value)
        if mode == VerifyMode.CERT_NONE and self._check_hostname:
            raise ValueError("Cannot set verify_mode to CERT_NONE when check_hostname is enabled.")
        self._verify_mode = mode

    @property
    def check_hostname(self):
        return self._check_hostname

    @check_hostname.setter
    def check_hostname(self, value):
        value = bool(value)
        if value and self._verify_mode == VerifyMode.CERT_NONE:
            self._verify_mode = VerifyMode.CERT_REQUIRED
        self._check_hostname = value

    @property
    def minimum_version(self):
        return self._minimum_version

    @minimum_version.setter
    def minimum_version(self, value):
        self._minimum_version = self._checked_version(value, "minimum_version")

    @property
    def maximum_version(self):
        return self._maximum_version

    @maximum_version.setter
    def maximum_version(self, value):
        self._maximum_version = self._checked_version(value, "maximum_version")

    @staticmethod
    def _checked_version(value, attribute):
        version = TLSVersion(value)
        if version not in _SUPPORTED_VERSIONS:
            raise ValueError("schan supports only TLS 1.2 and TLS 1.3; %s cannot be %s"
                             % (attribute, version.name))
        return version

    @property
    def options(self):
        return self._options

    @options.setter
    def options(self, value):
        value = Options(int(value))
        cleared = _constants.OPTIONS_ALWAYS_ON & ~value
        if cleared:
            raise ValueError("schan never offers SSL 3, TLS 1.0, TLS 1.1 or compression; "
                             "options cannot clear %s" % _flag_names(cleared, Options))
        known = (_constants.OPTIONS_ALWAYS_ON | _constants.OPTIONS_HONOURED
                 | _constants.OPTIONS_WITHOUT_EFFECT)
        unknown = value & ~known
        if unknown:
            raise _not_supported("the option %s" % _flag_names(unknown, Options))
        self._options = value

    @property
    def verify_flags(self):
        return self._verify_flags

    @verify_flags.setter
    def verify_flags(self, value):
        value = VerifyFlags(int(value))
        unknown = value & ~_VERIFY_FLAGS_HONOURED
        if unknown:
            raise _not_supported("the verify flag %s" % _flag_names(unknown, VerifyFlags))
        self._verify_flags = value

    @property
    def post_handshake_auth(self):
        """False: schan does not support TLS 1.3 post-handshake client authentication."""
        return False

    @post_handshake_auth.setter
    def post_handshake_auth(self, value):
        if value:
            raise _not_supported("post_handshake_auth (TLS 1.3 post-handshake authentication)")

    @property
    def hostname_checks_common_name(self):
        return False

    @hostname_checks_common_name.setter
    def hostname_checks_common_name(self, value):
        if value:
            raise _not_supported("hostname_checks_common_name: only subject alternative names are checked")

    @property
    def keylog_filename(self):
        return None

    @keylog_filename.setter
    def keylog_filename(self, value):
        if value is not None:
            raise _not_supported("keylog_filename")

    @property
    def sni_callback(self):
        return None

    @sni_callback.setter
    def sni_callback(self, value):
        if value is not None:
            raise _not_supported("sni_callback")

    def set_servername_callback(self, server_name_callback):
        self.sni_callback = server_name_callback

    # -- trust -------------------------------------------------------------

    def load_verify_locations(self, cafile=None, capath=None, cadata=None):
        """Trust the CA certificates of a PEM file, a folder of PEM files or PEM/DER data."""
        if cafile is None and capath is None and cadata is None:
            raise TypeError("cafile, capath and cadata cannot be all omitted")
        if cafile is not None:
            with open(os.fspath(cafile), "rb") as file:
                self._load_ca_pem(file.read(), os.fsdecode(cafile))
        if capath is not None:
            self._load_ca_folder(os.fspath(capath))
        if cadata is not None:
            if isinstance(cadata, str):
                try:
                    pem = cadata.encode("ascii")
                except UnicodeEncodeError:
                    raise TypeError("cadata should be an ASCII string or a bytes-like object") from None
                self._load_ca_pem(pem, "cadata")
            else:
                with memoryview(cadata) as view:
                    try:
                        certificates = _certificate.split_der_certificates(view.tobytes())
                    except ValueError as error:
                        raise _errors.error_for_status(
                            native.E_BAD_FORMAT, "cadata: %s (bytes must be DER; pass PEM as str)" % error) from None
                if not certificates:
                    raise _errors.error_for_status(native.E_BAD_FORMAT, "cadata contains no certificate")
                pem = "".join(_certificate.DER_cert_to_PEM_cert(der) for der in certificates)
                self._load_ca_pem(pem.encode("ascii"), "cadata")

    def _load_ca_folder(self, folder):
        loaded = 0
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if not _CAPATH_FILE.match(os.fsdecode(name)) or not os.path.isfile(path):
                continue
            with open(path, "rb") as file:
                pem = file.read()
            if b"-----BEGIN CERTIFICATE-----" in pem:
                self._load_ca_pem(pem, os.fsdecode(path))
                loaded += 1
        if loaded == 0:
            raise _errors.error_for_status(native.E_BAD_FORMAT,
                                           "no PEM certificate file in capath %s" % os.fsdecode(folder))

    def _load_ca_pem(self, pem, source):
        with self._lock:
            status = lib.schan_config_load_ca_pem(self._config, pem, len(pem))
            if status < 0:
                message = lib.schan_config_last_error(self._config).decode("utf-8", "replace")
                raise _errors.setting_error(status, "%s: %s" % (source, message))
            self._ca_certificates.extend(_certificate.pem_certificates(pem.decode("ascii", "replace")))

    def load_default_certs(self, purpose=Purpose.SERVER_AUTH):
        """Trust the operating system's root certificates as well."""
        _constants.purpose_oid(purpose)
        self._system_roots = True

    def set_default_verify_paths(self):
        """Trust the operating system's root certificates as well."""
        self._system_roots = True

    def get_ca_certs(self, binary_form=False):
        """Return the CA certificates loaded with load_verify_locations()."""
        if binary_form:
            return list(self._ca_certificates)
        return [_certificate.decode_certificate(der) for der in self._ca_certificates]

    def cert_store_stats(self):
        count = len(self._ca_certificates)
        return {"x509": count, "crl": 0, "x509_ca": count}

    # -- own certificate ---------------------------------------------------

    def load_cert_chain(self, certfile, keyfile=None, password=None):
        """Use a certificate, its chain and its private key (PEM) for this side.

        `certfile` contains the certificate followed by the intermediates to
        send; `keyfile` the key, or None when certfile contains it.
        `password` is a str, bytes or a callable returning one. As with ssl,
        a callable is called only when the key turns out to be encrypted.
        """
        self._require("schan_config_load_cert_chain_pem", "load_cert_chain")
        with open(os.fspath(certfile), "rb") as file:
            certificate = file.read()
        key = None
        if keyfile is not None:
            with open(os.fspath(keyfile), "rb") as file:
                key = file.read()
        source = os.fsdecode(certfile) if keyfile is None else "%s, %s" % (os.fsdecode(certfile),
                                                                          os.fsdecode(keyfile))

        def load(secret):
            return lib.schan_config_load_cert_chain_pem(self._config, certificate, len(certificate), key,
                                                        0 if key is None else len(key), secret)

        self._load_credentials(load, password, source)

    def load_pkcs12(self, p12file, password=None):
        """Use the certificate chain and private key of a PKCS#12 (PFX) file for this side.

        schan's addition to the ssl API; `password` as for load_cert_chain().
        """
        self._require("schan_config_load_pkcs12", "load_pkcs12")
        with open(os.fspath(p12file), "rb") as file:
            data = file.read()

        def load(secret):
            return lib.schan_config_load_pkcs12(self._config, data, len(data), secret)

        self._load_credentials(load, password, os.fsdecode(p12file))

    def _load_credentials(self, load, password, source):
        with self._lock:
            lazy = callable(password)
            status = load(None if lazy else _encode_password(password))
            if lazy and status == native.E_BAD_PASSWORD:
                status = load(_encode_password(password()))
            if status < 0:
                message = lib.schan_config_last_error(self._config).decode("utf-8", "replace")
                raise _errors.setting_error(status, "%s: %s" % (source, message))
            self._has_certificate = True

    @staticmethod
    def _require(function, feature):
        if not native.has_function(function):
            raise NotImplementedError("the schan library at %s lacks %s, which %s needs; "
                                      "use a newer library" % (native.LIBRARY_PATH, function, feature))

    # -- negotiation -------------------------------------------------------

    def set_alpn_protocols(self, alpn_protocols):
        """Offer these ALPN protocols, in order of preference."""
        encoded = []
        for protocol in alpn_protocols:
            name = bytes(protocol, "ascii")
            if len(name) == 0 or len(name) > 255:
                raise _errors.SSLError(_errors.SSL_ERROR_SSL, "ALPN protocols must be 1 to 255 in length")
            encoded.append(name)
        with self._lock:
            lib.schan_config_clear_alpn(self._config)
            for name in encoded:
                status = lib.schan_config_add_alpn(self._config, name)
                if status < 0:
                    raise _errors.config_error(self._config, status, "set_alpn_protocols")

    def set_npn_protocols(self, npn_protocols):
        raise _not_supported("NPN (set_npn_protocols); use set_alpn_protocols")

    def set_ciphers(self, cipherlist):
        raise _not_supported("set_ciphers: the TLS provider's cipher suite policy applies")

    def get_ciphers(self):
        raise _not_supported("get_ciphers: the TLS provider's cipher suite policy applies")

    def set_ecdh_curve(self, curve_name):
        raise _not_supported("set_ecdh_curve: the TLS provider chooses the key exchange groups")

    def load_dh_params(self, path):
        raise _not_supported("load_dh_params: the TLS provider chooses the key exchange groups")

    def session_stats(self):
        raise _not_supported("session_stats: schan keeps no session cache")

    # -- connections -------------------------------------------------------

    def wrap_socket(self, sock, server_side=False, do_handshake_on_connect=True, suppress_ragged_eofs=True,
                    server_hostname=None, session=None):
        """Return an SSLSocket that runs TLS over the connected (or later connected) `sock`."""
        return self.sslsocket_class._create(sock=sock, server_side=server_side,
                                            do_handshake_on_connect=do_handshake_on_connect,
                                            suppress_ragged_eofs=suppress_ragged_eofs,
                                            server_hostname=server_hostname, context=self, session=session)

    def wrap_bio(self, incoming, outgoing, server_side=False, server_hostname=None, session=None):
        """Return an SSLObject that reads TLS records from `incoming` and writes them to `outgoing`."""
        if server_side and server_hostname:
            raise ValueError("server_hostname can only be specified in client mode")
        if not server_side and self._check_hostname and not server_hostname:
            raise ValueError("check_hostname requires server_hostname")
        return self.sslobject_class._create(incoming, outgoing, server_side=server_side,
                                            server_hostname=self._encode_hostname(server_hostname),
                                            session=session, context=self)

    @staticmethod
    def _encode_hostname(hostname):
        if hostname is None:
            return None
        if isinstance(hostname, (bytes, bytearray)):
            hostname = bytes(hostname).decode("ascii")
        elif isinstance(hostname, str):
            hostname = hostname.encode("idna").decode("ascii")
        else:
            raise TypeError("server_hostname must be str or bytes, not %s" % type(hostname).__name__)
        if not hostname or hostname.startswith(".") or "\0" in hostname:
            raise ValueError("server_hostname cannot be an empty string or start with a leading dot.")
        return hostname

    def _version_range(self):
        low = _SUPPORTED_VERSIONS[self._minimum_version] or native.TLS_1_2
        high = _SUPPORTED_VERSIONS[self._maximum_version] or native.TLS_1_3
        if self._options & Options.OP_NO_TLSv1_2:
            low = max(low, native.TLS_1_3)
        if self._options & Options.OP_NO_TLSv1_3:
            high = min(high, native.TLS_1_2)
        if low > high:
            raise _errors.error_for_status(
                native.E_UNSUPPORTED_VERSION,
                "no protocol version is enabled: minimum_version, maximum_version and options "
                "leave nothing between TLS 1.2 and TLS 1.3")
        if self._maximum_version == TLSVersion.MAXIMUM_SUPPORTED and not self._options & Options.OP_NO_TLSv1_3:
            high = native.TLS_DEFAULT
        return low, high

    def _native_verify_mode(self):
        if self._verify_mode == VerifyMode.CERT_NONE:
            return native.VERIFY_NONE
        if self._ca_certificates and self._system_roots:
            return native.VERIFY_CUSTOM_AND_SYSTEM
        if self._system_roots:
            return native.VERIFY_SYSTEM
        # Like ssl, a context without trusted certificates verifies nothing
        # successfully: the custom bundle is empty.
        return native.VERIFY_CUSTOM_ONLY

    def _native_revocation_mode(self):
        if self._verify_flags & VerifyFlags.VERIFY_CRL_CHECK_LEAF:
            return native.REVOCATION_STRICT
        return native.REVOCATION_BEST_EFFORT

    def _apply_settings(self):
        """Write the settings kept in Python into the native config. Needs _lock."""
        low, high = self._version_range()
        for status, operation in (
                (lib.schan_config_set_versions(self._config, low, high), "minimum_version/maximum_version"),
                (lib.schan_config_set_verify_mode(self._config, self._native_verify_mode()), "verify_mode"),
                (lib.schan_config_set_revocation_mode(self._config, self._native_revocation_mode()),
                 "verify_flags")):
            if status < 0:
                raise _errors.config_error(self._config, status, operation)

    def _new_session(self, server_side, server_hostname):
        """Create the native session of one connection."""
        handle = ctypes.c_void_p()
        with self._lock:
            self._apply_settings()
            if server_side:
                status = self._new_server(handle)
            else:
                # Without check_hostname schan gets no name, so it skips the
                # name check; NOTE: it then sends no SNI either, unlike ssl.
                checked = self._check_hostname or self._verify_mode == VerifyMode.CERT_NONE
                name = server_hostname.encode("ascii") if checked and server_hostname else None
                status = lib.schan_client_new(self._config, name, ctypes.byref(handle))
            if status < 0:
                raise _errors.error_for_status(status, "creating the TLS session failed")
        return Session(handle.value, bool(self._options & Options.OP_IGNORE_UNEXPECTED_EOF))

    def _new_server(self, handle):
        """Create a server session. Needs _lock."""
        self._require("schan_server_new", "server_side=True")
        if not self._has_certificate:
            raise _errors.SSLError(_errors.SSL_ERROR_SSL,
                                   "a server needs a certificate: call load_cert_chain() or load_pkcs12() first")
        status = lib.schan_config_set_client_auth(self._config, _CLIENT_AUTH[self._verify_mode])
        if status < 0:
            raise _errors.config_error(self._config, status, "verify_mode")
        return lib.schan_server_new(self._config, ctypes.byref(handle))


def _encode_password(password):
    """Return a password as the NUL-terminated bytes schan takes, or None."""
    if password is None:
        return None
    if isinstance(password, str):
        password = password.encode("utf-8")
    elif isinstance(password, (bytes, bytearray)):
        password = bytes(password)
    else:
        raise TypeError("password should be a string, bytes or a callable returning one")
    if b"\0" in password:
        raise ValueError("password must not contain NUL characters")
    return password


def create_default_context(purpose=Purpose.SERVER_AUTH, *, cafile=None, capath=None, cadata=None):
    """Return a context with ssl's defaults for `purpose`.

    Purpose.SERVER_AUTH gives a client context that verifies the server's
    certificate and host name; without cafile, capath and cadata it trusts
    the operating system's roots.
    """
    oid = _constants.purpose_oid(purpose)
    if oid == Purpose.SERVER_AUTH.oid:
        context = SSLContext(_SSLMethod.PROTOCOL_TLS_CLIENT)
        context.verify_mode = VerifyMode.CERT_REQUIRED
        context.check_hostname = True
    else:
        context = SSLContext(_SSLMethod.PROTOCOL_TLS_SERVER)
    if cafile or capath or cadata:
        context.load_verify_locations(cafile, capath, cadata)
    elif context.verify_mode != VerifyMode.CERT_NONE:
        context.load_default_certs(purpose)
    return context
