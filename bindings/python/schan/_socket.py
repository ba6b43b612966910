"""SSLSocket: a socket.socket whose bytes go through a schan session."""

import errno
import os
import select
import socket
import time

from . import _errors
from ._object import _TlsConnection, read_into_buffer


class _Deadline:
    """When a socket operation with a timeout must give up, and its name for the message."""

    __slots__ = ("at", "operation")

    def __init__(self, seconds, operation):
        self.at = time.monotonic() + seconds
        self.operation = operation


# Whether os.readv() and os.write() work on a socket's descriptor (not on Windows).
_DIRECT_IO = os.name == "posix" and hasattr(os, "readv")


def _wait_ready(sock, writing, seconds):
    """Wait until `sock` is readable or writable; return False after `seconds`."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(sock, select.POLLOUT if writing else select.POLLIN)
        return bool(poller.poll(max(0, int(seconds * 1000) + 1)))
    readable, writable, _ = select.select([] if writing else [sock], [sock] if writing else [], [], seconds)
    return bool(readable or writable)


class SSLSocket(_TlsConnection, socket.socket):
    """A TLS connection over a socket; made by SSLContext.wrap_socket().

    Blocking, timeout and non-blocking sockets behave as with ssl: a timeout
    bounds each whole operation (handshake, read, write) and a non-blocking
    socket raises SSLWantReadError or SSLWantWriteError.
    """

    # The session sends through _raw_send() only (see _BioTransport).
    keeps_bytes = False

    def __init__(self, *args, **kwargs):
        raise TypeError("%s does not have a public constructor. Instances are returned by "
                        "SSLContext.wrap_socket()." % self.__class__.__name__)

    @classmethod
    def _create(cls, sock, server_side=False, do_handshake_on_connect=True, suppress_ragged_eofs=True,
                server_hostname=None, context=None, session=None):
        if sock.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) != socket.SOCK_STREAM:
            raise NotImplementedError("only stream sockets are supported")
        if server_side:
            if server_hostname:
                raise ValueError("server_hostname can only be specified in client mode")
            if session is not None:
                raise ValueError("session can only be specified in client mode")
        if context.check_hostname and not server_hostname and not server_side:
            raise ValueError("check_hostname requires server_hostname")
        if session is not None:
            raise NotImplementedError("schan does not support setting a TLS session for resumption")
        server_hostname = context._encode_hostname(server_hostname)

        kwargs = dict(family=sock.family, type=sock.type, proto=sock.proto, fileno=sock.fileno())
        self = cls.__new__(cls, **kwargs)
        socket.socket.__init__(self, **kwargs)
        sock_timeout = sock.gettimeout()
        sock.detach()

        self._context = context
        self._server_side = server_side
        self._server_hostname = server_hostname
        self.do_handshake_on_connect = do_handshake_on_connect
        self.suppress_ragged_eofs = suppress_ragged_eofs
        self._tls = None
        self.settimeout(sock_timeout)
        self._connected = self._is_connected()

        if self._connected:
            try:
                self._tls = context._new_session(server_side, self._server_hostname)
                if do_handshake_on_connect:
                    if self.gettimeout() == 0.0:
                        raise ValueError("do_handshake_on_connect should not be specified for "
                                         "non-blocking sockets")
                    self.do_handshake()
            except Exception:
                # Like ssl, a failed handshake closes the socket, which owns the descriptor now.
                self.close()
                raise
        return self

    def _is_connected(self):
        try:
            self.getpeername()
        except OSError as error:
            if error.errno != errno.ENOTCONN:
                raise
            return False
        return True

    # -- the transport of the session ---------------------------------------

    def _deadline(self, operation):
        timeout = self.gettimeout()
        if timeout is None or timeout == 0.0:
            return None
        return _Deadline(timeout, operation)

    def _wait(self, deadline, writing):
        remaining = deadline.at - time.monotonic()
        if remaining <= 0 or not _wait_ready(self, writing, remaining):
            raise socket.timeout("The %s operation timed out" % deadline.operation)

    def _raw_receive_into(self, view, deadline):
        if deadline is not None:
            return self._receive_until(view, deadline)
        try:
            return socket.socket.recv_into(self, view)
        except BlockingIOError:
            raise _errors.want_read() from None

    def _raw_send(self, view, deadline):
        if deadline is not None:
            return self._send_until(view, deadline)
        try:
            return socket.socket.send(self, view)
        except BlockingIOError:
            raise _errors.want_write() from None

    # A socket with a timeout is non-blocking underneath, and its recv_into()
    # and send() poll before every call. Like ssl, these try the descriptor
    # first and poll only when it is not ready: one system call per transfer
    # instead of three while data flows.

    def _receive_until(self, view, deadline):
        if not _DIRECT_IO:
            self._wait(deadline, False)
            return socket.socket.recv_into(self, view)
        while True:
            try:
                return os.readv(self.fileno(), [view])
            except BlockingIOError:
                self._wait(deadline, False)

    def _send_until(self, view, deadline):
        if not _DIRECT_IO:
            self._wait(deadline, True)
            return socket.socket.send(self, view)
        while True:
            try:
                return os.write(self.fileno(), view)
            except BlockingIOError:
                self._wait(deadline, True)

    # -- ssl.SSLSocket -------------------------------------------------------

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

    def dup(self):
        raise NotImplementedError("Can't dup() %s instances" % self.__class__.__name__)

    def _checkClosed(self, message=None):
        # Kept for code written against ssl.SSLSocket, whose version does nothing.
        pass

    def _check_connected(self):
        if not self._connected:
            # getpeername() raises ENOTCONN for an unconnected socket, as ssl does.
            self.getpeername()

    def do_handshake(self, block=False):
        """Run the handshake; on a non-blocking socket, until it needs to wait."""
        self._check_connected()
        timeout = self.gettimeout()
        try:
            if timeout == 0.0 and block:
                self.settimeout(None)
            self._established().do_handshake(self, self._deadline("handshake"))
        finally:
            self.settimeout(timeout)

    def read(self, len=1024, buffer=None):
        """Read up to `len` bytes; with `buffer`, into it, returning the count."""
        self._checkClosed()
        tls = self._tls
        if tls is None:
            raise ValueError("Read on closed or unwrapped SSL socket.")
        deadline = self._deadline("read")
        try:
            if not tls.handshake_done:
                tls.do_handshake(self, deadline)
            if buffer is not None:
                result = read_into_buffer(tls, self, buffer, len, deadline)
            else:
                result = tls.read(self, len, deadline)
        except _errors.SSLError as error:
            if error.args and error.args[0] == _errors.SSL_ERROR_EOF and self.suppress_ragged_eofs:
                return 0 if buffer is not None else b""
            raise
        if not result and tls.close_sent and tls.close_received:
            raise _errors.zero_return()
        return result

    def write(self, data):
        """Encrypt and send `data`; return the number of bytes written."""
        self._checkClosed()
        tls = self._tls
        if tls is None:
            raise ValueError("Write on closed or unwrapped SSL socket.")
        deadline = self._deadline("write")
        if not tls.handshake_done:
            tls.do_handshake(self, deadline)
        return tls.write(self, data, deadline)

    def getpeercert(self, binary_form=False):
        self._checkClosed()
        self._check_connected()
        return _TlsConnection.getpeercert(self, binary_form)

    def pending(self):
        self._checkClosed()
        tls = self._tls
        return 0 if tls is None else tls.pending()

    def send(self, data, flags=0):
        self._checkClosed()
        if self._tls is None:
            return socket.socket.send(self, data, flags)
        if flags != 0:
            raise ValueError("non-zero flags not allowed in calls to send() on %s" % self.__class__)
        return self.write(data)

    def sendto(self, data, flags_or_addr, addr=None):
        self._checkClosed()
        if self._tls is not None:
            raise ValueError("sendto not allowed on instances of %s" % self.__class__)
        if addr is None:
            return socket.socket.sendto(self, data, flags_or_addr)
        return socket.socket.sendto(self, data, flags_or_addr, addr)

    def sendmsg(self, *args, **kwargs):
        raise NotImplementedError("sendmsg not allowed on instances of %s" % self.__class__)

    def sendall(self, data, flags=0):
        self._checkClosed()
        if self._tls is None:
            return socket.socket.sendall(self, data, flags)
        if flags != 0:
            raise ValueError("non-zero flags not allowed in calls to sendall() on %s" % self.__class__)
        with memoryview(data) as view, view.cast("B") as octets:
            amount = len(octets)
            count = self.send(data if isinstance(data, bytes) else octets)
            while count < amount:
                count += self.send(octets[count:])
        return None

    def sendfile(self, file, offset=0, count=None):
        if self._tls is not None:
            return self._sendfile_use_send(file, offset, count)
        return socket.socket.sendfile(self, file, offset, count)

    def recv(self, buflen=1024, flags=0):
        self._checkClosed()
        if self._tls is None:
            return socket.socket.recv(self, buflen, flags)
        if flags != 0:
            raise ValueError("non-zero flags not allowed in calls to recv() on %s" % self.__class__)
        return self.read(buflen)

    def recv_into(self, buffer, nbytes=None, flags=0):
        self._checkClosed()
        if nbytes is None:
            nbytes = len(buffer) if buffer is not None else 1024
        if self._tls is None:
            return socket.socket.recv_into(self, buffer, nbytes, flags)
        if flags != 0:
            raise ValueError("non-zero flags not allowed in calls to recv_into() on %s" % self.__class__)
        return self.read(nbytes, buffer)

    def recvfrom(self, buflen=1024, flags=0):
        self._checkClosed()
        if self._tls is not None:
            raise ValueError("recvfrom not allowed on instances of %s" % self.__class__)
        return socket.socket.recvfrom(self, buflen, flags)

    def recvfrom_into(self, buffer, nbytes=None, flags=0):
        self._checkClosed()
        if self._tls is not None:
            raise ValueError("recvfrom_into not allowed on instances of %s" % self.__class__)
        return socket.socket.recvfrom_into(self, buffer, nbytes or 0, flags)

    def recvmsg(self, *args, **kwargs):
        raise NotImplementedError("recvmsg not allowed on instances of %s" % self.__class__)

    def recvmsg_into(self, *args, **kwargs):
        raise NotImplementedError("recvmsg_into not allowed on instances of %s" % self.__class__)

    def shutdown(self, how):
        """Shut down the TCP connection without close_notify, as ssl does."""
        self._checkClosed()
        self._tls = None
        socket.socket.shutdown(self, how)

    def unwrap(self):
        """Exchange close_notify with the peer and return the socket, now without TLS.

        NOTE: bytes the peer sent after its close_notify and that were read
        together with it are lost; ssl reads record by record and keeps them.
        """
        tls = self._tls
        if tls is None:
            raise ValueError("No SSL wrapper around " + str(self))
        tls.shutdown(self, self._deadline("unwrap"))
        self._tls = None
        return self

    def verify_client_post_handshake(self):
        if self._tls is None:
            raise ValueError("No SSL wrapper around " + str(self))
        return _TlsConnection.verify_client_post_handshake(self)

    def _real_close(self):
        self._tls = None
        socket.socket._real_close(self)

    def _real_connect(self, address, connect_ex):
        if self._server_side:
            raise ValueError("can't connect in server-side mode")
        if self._connected or self._tls is not None:
            raise ValueError("attempt to connect already-connected SSLSocket!")
        self._tls = self._context._new_session(False, self._server_hostname)
        try:
            if connect_ex:
                result = socket.socket.connect_ex(self, address)
            else:
                result = None
                socket.socket.connect(self, address)
            if not result:
                self._connected = True
                if self.do_handshake_on_connect:
                    self.do_handshake()
            return result
        except (OSError, ValueError):
            self._tls = None
            raise

    def connect(self, address):
        """Connect to a TLS server at `address` and run the handshake."""
        self._real_connect(address, False)

    def connect_ex(self, address):
        """Connect to a TLS server at `address`; return an errno instead of raising."""
        return self._real_connect(address, True)

    def accept(self):
        """Accept a connection and wrap it as the server side of a TLS connection."""
        new_socket, address = socket.socket.accept(self)
        new_socket = self._context.wrap_socket(new_socket,
                                               do_handshake_on_connect=self.do_handshake_on_connect,
                                               suppress_ragged_eofs=self.suppress_ragged_eofs,
                                               server_side=True)
        return new_socket, address
