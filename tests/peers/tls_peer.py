"""Shared parts of the Python TLS server peers in this folder.

Each peer listens on 127.0.0.1, serves connections one after another and
exits on its own after --timeout seconds (SIGALRM). TLS runs in an
ssl.SSLObject over two MemoryBIOs, so a peer decides exactly which bytes go
into which TCP write. Peers print one line per event on stdout, which the
tests read through the peer host.
"""

import argparse
import select
import signal
import socket
import ssl
import sys
import tempfile

RECEIVE_SIZE = 65536


def log(message):
    print(message, flush=True)


def parse_arguments(description, add_options=None):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1")
    parser.add_argument("--cert", required=True,
                        help="PEM file with the server certificate, optionally followed by its chain")
    parser.add_argument("--key", required=True, help="PEM file with the private key")
    parser.add_argument("--chain", help="PEM file with the intermediate certificates to send after --cert")
    parser.add_argument("--ciphers", help="OpenSSL cipher string for TLS 1.2 (TLS 1.3 suites stay enabled)")
    parser.add_argument("--tls12", action="store_true", help="negotiate TLS 1.2 at most")
    parser.add_argument("--alpn", help="comma-separated ALPN protocols the server accepts, in preference order")
    parser.add_argument("--timeout", type=int, default=60, help="seconds after which the peer exits")
    if add_options is not None:
        add_options(parser)
    return parser.parse_args()


def make_context(options):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if options.chain:
        # load_cert_chain() reads the certificate and its chain from one file.
        with tempfile.NamedTemporaryFile("wb", suffix=".pem") as combined:
            for part in (options.cert, options.chain):
                with open(part, "rb") as pem:
                    combined.write(pem.read())
            combined.flush()
            context.load_cert_chain(combined.name, options.key)
    else:
        context.load_cert_chain(options.cert, options.key)
    if options.ciphers:
        context.set_ciphers(options.ciphers)
    if options.tls12:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    if options.alpn:
        context.set_alpn_protocols(options.alpn.split(","))
    return context


class TlsStream:
    """A server-side TLS connection whose records this peer writes itself."""

    def __init__(self, sock, context):
        self.sock = sock
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.server_name = None
        context.sni_callback = self._remember_server_name
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_side=True)

    def _remember_server_name(self, _tls, server_name, _context):
        self.server_name = server_name

    def receive(self):
        """Feed the next TCP read to the TLS object; return False at end of stream."""
        data = self.sock.recv(RECEIVE_SIZE)
        if not data:
            self.incoming.write_eof()
            return False
        self.incoming.write(data)
        return True

    def send_pending(self):
        """Send every queued record in one TCP write."""
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def handshake(self, send_last_flight=True):
        """Run the server handshake. With send_last_flight=False the server's
        final flight (TLS 1.2 Finished, TLS 1.3 tickets) stays queued."""
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.send_pending()
                if not self.receive():
                    raise ConnectionError("the client closed the connection during the handshake")
            except ssl.SSLError:
                self.send_pending()  # the fatal alert that OpenSSL queued
                raise
        log("handshake complete: version=%s cipher=%s alpn=%s sni=%s"
            % (self.tls.version(), self.tls.cipher()[0], self.tls.selected_alpn_protocol() or "(none)",
               self.server_name or "(none)"))
        if send_last_flight:
            self.send_pending()

    def read_some(self):
        """Return the next plaintext; b"" after close_notify or end of stream."""
        while True:
            try:
                data = self.tls.read(RECEIVE_SIZE)
            except ssl.SSLWantReadError:
                self.receive()
                continue
            except ssl.SSLEOFError:
                log("end of stream without close_notify")
                return b""
            if not data:
                # SSLObject.read() returns b"" for close_notify (CPython 3.11).
                log("close_notify received")
            return data

    def queue_close_notify(self):
        try:
            self.tls.unwrap()
        except ssl.SSLWantReadError:
            pass  # ours is queued although the client's close_notify has not arrived

    def close_after_drain(self, drain_seconds=5.0):
        """Half-close, read until the client closes, then close.

        Closing with unread bytes in the receive buffer would send a TCP
        reset, which can discard data the client has not read yet."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
            self.sock.settimeout(drain_seconds)
            while self.sock.recv(RECEIVE_SIZE):
                pass
        except OSError:
            pass
        self.sock.close()


def echo(stream):
    """Echo plaintext until the client's close_notify, send ours and close.

    The socket is non-blocking here and the outgoing records are buffered
    without limit, so the peer keeps reading while the client is still
    writing a large message and has not started to read."""
    stream.sock.setblocking(False)
    # Records that arrived with the client's Finished are already queued.
    client_closed, echoed = _echo_available(stream)
    pending = bytearray(stream.outgoing.read())
    while not client_closed or pending:
        readable, writable, _ = select.select([] if client_closed else [stream.sock],
                                              [stream.sock] if pending else [], [])
        if writable:
            try:
                del pending[:stream.sock.send(pending)]
            except BlockingIOError:
                pass
        if readable:
            try:
                data = stream.sock.recv(RECEIVE_SIZE)
            except BlockingIOError:
                continue
            if data:
                stream.incoming.write(data)
            else:
                stream.incoming.write_eof()
            closed, count = _echo_available(stream)
            client_closed = closed or not data
            echoed += count
            pending += stream.outgoing.read()
    log("echoed %d bytes" % echoed)
    stream.sock.setblocking(True)
    stream.close_after_drain()


def _echo_available(stream):
    """Echo every decrypted byte. Return (client closed, bytes echoed)."""
    count = 0
    while True:
        try:
            data = stream.tls.read(RECEIVE_SIZE)
        except ssl.SSLWantReadError:
            return False, count
        except ssl.SSLEOFError:
            log("end of stream without close_notify")
            return True, count
        if not data:
            # SSLObject.read() returns b"" for close_notify (CPython 3.11).
            log("close_notify received")
            stream.queue_close_notify()
            return True, count
        stream.tls.write(data)
        count += len(data)


def serve(options, handle_connection):
    """Accept connections on 127.0.0.1 until the timeout ends the process."""
    signal.signal(signal.SIGALRM, lambda _signum, _frame: _exit_on_timeout(options.timeout))
    signal.alarm(options.timeout)
    context = make_context(options)

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", options.port))
    listener.listen(8)
    log("listening on 127.0.0.1:%d" % options.port)

    while True:
        sock, address = listener.accept()
        sock.settimeout(options.timeout)
        log("connection from %s:%d" % address)
        try:
            handle_connection(TlsStream(sock, context), options)
        except (ssl.SSLError, OSError) as error:
            log("connection failed: %s" % error)
            sock.close()


def _exit_on_timeout(timeout):
    log("exiting after the timeout of %d s" % timeout)
    sys.exit(0)
