"""SSLObject and MemoryBIO: TLS without a socket, as in the ssl module."""

import collections
import ctypes

from . import _certificate
from . import _errors

_VERSION_NAMES = {0x0303: "TLSv1.2", 0x0304: "TLSv1.3"}


class MemoryBIO:
    """A buffer of bytes between an SSLObject and the caller's transport."""

    # The bytes are kept as the chunks that write() received, so read() of a
    # whole chunk returns it without a copy, and no buffer is reallocated as
    # records pass through.
    def __init__(self):
        self._chunks = collections.deque()
        self._offset = 0  # bytes of the first chunk already read
        self._pending = 0
        self._eof_written = False

    @property
    def pending(self):
        """The number of bytes waiting to be read."""
        return self._pending

    @property
    def eof(self):
        """True once write_eof() was called and every byte was read."""
        return self._eof_written and self._pending == 0

    def read(self, size=-1):
        """Read and return up to `size` bytes; every byte when `size` is negative."""
        if size < 0 or size > self._pending:
            size = self._pending
        if size == 0:
            return b""
        if self._offset == 0 and len(self._chunks[0]) == size:
            self._pending -= size
            return self._chunks.popleft()

        parts = []
        remaining = size
        while remaining:
            chunk = self._chunks[0]
            taken = min(remaining, len(chunk) - self._offset)
            parts.append(memoryview(chunk)[self._offset:self._offset + taken])
            self._offset += taken
            remaining -= taken
            if self._offset == len(chunk):
                self._chunks.popleft()
                self._offset = 0
        self._pending -= size
        return b"".join(parts)

    def write(self, data):
        """Append the bytes of a bytes-like object; return how many were written."""
        with memoryview(data) as view:
            if self._eof_written:
                raise _errors.SSLError(_errors.SSL_ERROR_SSL, "cannot write() after write_eof()")
            if view.nbytes:
                self._chunks.append(view.tobytes())
                self._pending += view.nbytes
            return view.nbytes

    def _keep(self, data):
        """Append a bytes object without copying it; the caller must not change it afterwards."""
        if self._eof_written:
            raise _errors.SSLError(_errors.SSL_ERROR_SSL, "cannot write() after write_eof()")
        self._chunks.append(data)
        self._pending += len(data)

    def write_eof(self):
        """Mark the end of the stream: after the buffered bytes, the peer sent nothing more."""
        self._eof_written = True


class _BioTransport:
    """The transport of an SSLObject: the incoming and outgoing BIOs.

    Works with schan.MemoryBIO and with ssl.MemoryBIO (asyncio passes those).
    """

    __slots__ = ("incoming", "outgoing", "keeps_bytes")

    def __init__(self, incoming, outgoing):
        self.incoming = incoming
        self.outgoing = outgoing
        # A schan MemoryBIO keeps a bytes object given to it, so the session
        # takes large output straight into one (_raw_send_bytes).
        self.keeps_bytes = isinstance(outgoing, MemoryBIO)

    def _raw_receive_into(self, view, _deadline):
        data = self.incoming.read(len(view))
        if data:
            view[:len(data)] = data
            return len(data)
        if self.incoming.eof:
            return 0
        raise _errors.want_read()

    def _raw_send(self, view, _deadline):
        self.outgoing.write(view)
        return len(view)

    def _raw_send_bytes(self, data):
        self.outgoing._keep(data)


class _TlsConnection:
    """The queries that SSLObject and SSLSocket share, on an established session."""

    __slots__ = ()
    _tls = None
    _context = None
    _server_side = False

    def _established(self):
        tls = self._tls
        if tls is None:
            raise ValueError("the TLS connection is closed or unwrapped")
        return tls

    def _info(self):
        """Return the connection info, or None before the handshake completed."""
        tls = self._tls
        if tls is None or not tls.handshake_done:
            return None
        return tls.connection_info()

    def version(self):
        """Return the negotiated protocol ("TLSv1.2" or "TLSv1.3"), or None before the handshake."""
        info = self._info()
        if info is None:
            return None
        return _VERSION_NAMES.get(info[0], "0x%04x" % info[0])

    def cipher(self):
        """Return (IANA cipher suite name, protocol, secret bits), or None before the handshake."""
        info = self._info()
        if info is None:
            return None
        return info[1], self.version(), _secret_bits(info[1])

    def shared_ciphers(self):
        """Return None: schan does not report the cipher suites the client offered."""
        return None

    def compression(self):
        """Return None: TLS compression is never used."""
        return None

    def selected_alpn_protocol(self):
        info = self._info()
        if info is None or not info[2]:
            return None
        return info[2]

    def selected_npn_protocol(self):
        return None

    def getpeercert(self, binary_form=False):
        """Return the peer's certificate: DER bytes, or the dict of ssl.

        The dict is empty when the certificate was not verified (CERT_NONE),
        as with ssl. None when the peer sent no certificate.
        """
        tls = self._established()
        if not tls.handshake_done:
            raise ValueError("handshake not done yet")
        chain = tls.connection_info()[3]
        if not chain:
            return None
        if binary_form:
            return chain[0]
        if self._context.verify_mode == 0:
            return {}
        return _certificate.decode_certificate(chain[0])

    def get_channel_binding(self, cb_type="tls-unique"):
        raise NotImplementedError("schan does not provide TLS channel bindings (%s)" % cb_type)

    def verify_client_post_handshake(self):
        raise NotImplementedError("schan does not support TLS 1.3 post-handshake client authentication")

    @property
    def session(self):
        """None: schan does not expose TLS session resumption."""
        return None

    @session.setter
    def session(self, value):
        if value is not None:
            raise NotImplementedError("schan does not support setting a TLS session for resumption")

    @property
    def session_reused(self):
        return False


def _secret_bits(cipher):
    for marker, bits in (("AES_256", 256), ("CHACHA20", 256), ("AES_128", 128), ("CAMELLIA_256", 256),
                         ("CAMELLIA_128", 128), ("ARIA_256", 256), ("ARIA_128", 128), ("3DES", 112)):
        if marker in cipher:
            return bits
    return None


class SSLObject(_TlsConnection):
    """A TLS connection over two memory BIOs; made by SSLContext.wrap_bio()."""

    def __init__(self, *args, **kwargs):
        raise TypeError("%s does not have a public constructor. Instances are returned by "
                        "SSLContext.wrap_bio()." % self.__class__.__name__)

    @classmethod
    def _create(cls, incoming, outgoing, server_side=False, server_hostname=None, session=None,
                context=None):
        self = cls.__new__(cls)
        self._context = context
        self._server_side = server_side
        self._server_hostname = server_hostname
        self._transport = _BioTransport(incoming, outgoing)
        self.session = session  # raises NotImplementedError unless None
        self._tls = context._new_session(server_side, server_hostname)
        return self

    @property
    def context(self):
        return self._context

    @context.setter
    def context(self, context):
        self._context = context

    @property
    def server_side(self):
        return self._server_side

    @property
    def server_hostname(self):
        return self._server_hostname

    def do_handshake(self):
        """Advance the handshake. SSLWantReadError means that the incoming BIO needs more bytes."""
        self._established().do_handshake(self._transport)

    def read(self, len=1024, buffer=None):
        """Read up to `len` bytes; with `buffer`, into it, returning the count.

        Returns b"" (or 0) after the peer's close_notify, and raises
        SSLZeroReturnError once both sides have sent close_notify.
        """
        tls = self._established()
        if not tls.handshake_done:
            tls.do_handshake(self._transport)
        if buffer is not None:
            result = read_into_buffer(tls, self._transport, buffer, len, None)
        else:
            result = tls.read(self._transport, len)
        if not result and tls.close_sent and tls.close_received:
            raise _errors.zero_return()
        return result

    def write(self, data):
        """Encrypt `data` into the outgoing BIO; return the number of bytes written."""
        tls = self._established()
        if not tls.handshake_done:
            tls.do_handshake(self._transport)
        return tls.write(self._transport, data)

    def pending(self):
        tls = self._tls
        return 0 if tls is None else tls.pending()

    def unwrap(self):
        """Send close_notify; SSLWantReadError until the peer's close_notify arrived."""
        self._established().shutdown(self._transport)


def read_into_buffer(tls, transport, buffer, length, deadline):
    """Decrypt into a writable buffer without an intermediate copy."""
    with memoryview(buffer) as view, view.cast("B") as octets:
        if octets.readonly:
            raise TypeError("read() needs a writable buffer")
        if length is None or length <= 0 or length > len(octets):
            length = len(octets)
        if length == 0:
            return 0
        target = (ctypes.c_char * length).from_buffer(octets)
        try:
            return tls.read_into(transport, ctypes.addressof(target), length, deadline)
        finally:
            del target
