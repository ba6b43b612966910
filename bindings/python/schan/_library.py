"""Load the schan shared library and declare the C functions of schan.h."""

import ctypes
import ctypes.util
import os
import sys

# The oldest ABI version whose functions this binding calls. The functions
# of _OPTIONAL_FUNCTIONS are looked up by name.
REQUIRED_ABI_VERSION = 1

# Statuses of schan.h.
OK = 0
NEED_INPUT = 1
HAVE_OUTPUT = 2
CLOSED = 3
E_INVALID_ARGUMENT = -1
E_INVALID_STATE = -2
E_OUT_OF_MEMORY = -3
E_INTERNAL = -4
E_TRUNCATED = -5
E_HANDSHAKE_FAILED = -6
E_ALERT_RECEIVED = -7
E_UNSUPPORTED_VERSION = -8
E_CERT_UNTRUSTED = -9
E_CERT_EXPIRED = -10
E_CERT_NAME_MISMATCH = -11
E_CERT_REVOKED = -12
E_REVOCATION_UNKNOWN = -13
E_CERT_INVALID = -14
E_PROTOCOL = -15
E_FILE_NOT_FOUND = -16
E_BAD_FORMAT = -17
E_UNSUPPORTED = -18
E_BAD_PASSWORD = -19
E_KEY_MISMATCH = -20
E_CERT_REQUIRED = -21

# schan_tls_version
TLS_DEFAULT = 0
TLS_1_2 = 0x0303
TLS_1_3 = 0x0304

# schan_verify_mode
VERIFY_SYSTEM = 0
VERIFY_CUSTOM_ONLY = 1
VERIFY_CUSTOM_AND_SYSTEM = 2
VERIFY_NONE = 3

# schan_revocation_mode
REVOCATION_BEST_EFFORT = 0
REVOCATION_STRICT = 1
REVOCATION_OFF = 2

# schan_client_auth
CLIENT_AUTH_NONE = 0
CLIENT_AUTH_OPTIONAL = 1
CLIENT_AUTH_REQUIRED = 2

# schan_state
STATE_HANDSHAKE = 0
STATE_OPEN = 1
STATE_RENEGOTIATING = 2
STATE_CLOSING = 3
STATE_CLOSED = 4
STATE_FAILED = 5

_p = ctypes.c_void_p
_size = ctypes.c_size_t
_size_p = ctypes.POINTER(ctypes.c_size_t)
_int = ctypes.c_int
_str = ctypes.c_char_p

# name: (result type, argument types). Pointers to buffers are declared as
# c_void_p so callers pass plain integer addresses (or bytes) without
# building a ctypes object per call.
_REQUIRED_FUNCTIONS = {
    "schan_abi_version": (ctypes.c_uint32, []),
    "schan_version": (_str, []),
    "schan_backend_name": (_str, []),
    "schan_status_name": (_str, [_int]),
    "schan_config_new": (_int, [ctypes.POINTER(_p)]),
    "schan_config_free": (None, [_p]),
    "schan_config_set_versions": (_int, [_p, _int, _int]),
    "schan_config_add_alpn": (_int, [_p, _str]),
    "schan_config_clear_alpn": (_int, [_p]),
    "schan_config_set_verify_mode": (_int, [_p, _int]),
    "schan_config_set_revocation_mode": (_int, [_p, _int]),
    "schan_config_load_ca_file": (_int, [_p, _str]),
    "schan_config_load_ca_pem": (_int, [_p, _p, _size]),
    "schan_config_last_error": (_str, [_p]),
    "schan_client_new": (_int, [_p, _str, ctypes.POINTER(_p)]),
    "schan_session_free": (None, [_p]),
    "schan_feed": (_int, [_p, _p, _size, _size_p]),
    "schan_feed_eof": (_int, [_p]),
    "schan_step": (_int, [_p]),
    "schan_output_size": (_size, [_p]),
    "schan_take_output": (_int, [_p, _p, _size, _size_p]),
    "schan_encrypt": (_int, [_p, _p, _size, _size_p]),
    "schan_decrypt": (_int, [_p, _p, _size, _size_p]),
    "schan_shutdown": (_int, [_p]),
    "schan_get_state": (_int, [_p]),
    "schan_get_protocol": (_int, [_p, ctypes.POINTER(_int)]),
    "schan_get_cipher": (_int, [_p, ctypes.POINTER(_str)]),
    "schan_get_alpn": (_int, [_p, ctypes.POINTER(_str)]),
    "schan_get_peer_cert_count": (_int, [_p, _size_p]),
    "schan_get_peer_cert": (_int, [_p, _size, ctypes.POINTER(_p), _size_p]),
    "schan_last_error": (_str, [_p]),
    "schan_last_status": (_int, [_p]),
    "schan_last_backend_error": (ctypes.c_uint64, [_p]),
}

# The server role and certificate loading. ABI version 1 libraries built
# before they were added lack them; they still load, and the features that
# need them raise NotImplementedError.
_OPTIONAL_FUNCTIONS = {
    "schan_server_new": (_int, [_p, ctypes.POINTER(_p)]),
    "schan_config_load_cert_chain_pem": (_int, [_p, _p, _size, _p, _size, _str]),
    "schan_config_load_pkcs12": (_int, [_p, _p, _size, _str]),
    "schan_config_set_client_auth": (_int, [_p, _int]),
}


def _library_names():
    """Return the file names the library has on this platform, most specific first."""
    if sys.platform == "win32":
        return ["schan.dll"]
    if sys.platform == "darwin":
        return ["libschan.1.dylib", "libschan.dylib"]
    return ["libschan.so.1", "libschan.so"]


def _candidates():
    """Yield (description, path or name) in the order the library is looked for."""
    override = os.environ.get("SCHAN_LIBRARY")
    if override:
        yield "SCHAN_LIBRARY", override
        return
    package_folder = os.path.dirname(os.path.abspath(__file__))
    for name in _library_names():
        path = os.path.join(package_folder, name)
        if os.path.exists(path):
            yield "package folder", path
    for name in _library_names():
        yield "system search path", name
    found = ctypes.util.find_library("schan")
    if found:
        yield "system search path", found


def _open_library():
    tried = []
    for origin, target in _candidates():
        try:
            library = ctypes.CDLL(target)
        except OSError as error:
            tried.append("%s (%s): %s" % (target, origin, error))
            continue
        return library, target, tried
    raise ImportError(
        "schan: the schan library was not found; this binding needs ABI version %d or newer. "
        "Tried: %s. Set SCHAN_LIBRARY to the path of %s, or install the wheel that contains it."
        % (REQUIRED_ABI_VERSION, "; ".join(tried) or "nothing", " or ".join(_library_names())))


def _declare(library, path, functions, required):
    for name, (result, arguments) in functions.items():
        try:
            function = getattr(library, name)
        except AttributeError:
            if required:
                raise ImportError("schan: %s does not export %s, which ABI version %d has; "
                                  "the library is older than this binding"
                                  % (path, name, REQUIRED_ABI_VERSION)) from None
            continue
        function.restype = result
        function.argtypes = arguments


def load():
    """Open the library, check its ABI version and declare every function.

    Raises ImportError naming every path tried when no library loads, or the
    versions when the library is too old.
    """
    library, path, _tried = _open_library()
    try:
        abi_version = library.schan_abi_version
    except AttributeError:
        raise ImportError("schan: %s is not a schan library (it does not export schan_abi_version)"
                          % path) from None
    abi_version.restype = ctypes.c_uint32
    abi_version.argtypes = []
    found = abi_version()
    if found < REQUIRED_ABI_VERSION:
        raise ImportError("schan: %s has ABI version %d, but this binding needs ABI version %d or newer"
                          % (path, found, REQUIRED_ABI_VERSION))
    _declare(library, path, _REQUIRED_FUNCTIONS, required=True)
    _declare(library, path, _OPTIONAL_FUNCTIONS, required=False)
    return library, path


lib, LIBRARY_PATH = load()
ABI_VERSION = lib.schan_abi_version()
LIBRARY_VERSION = lib.schan_version().decode("ascii")
BACKEND = lib.schan_backend_name().decode("ascii")


def has_function(name):
    """Return whether the loaded library exports the optional function `name`."""
    return hasattr(lib, name) and getattr(lib, name).argtypes is not None


def status_name(status):
    return lib.schan_status_name(status).decode("ascii", "replace")
