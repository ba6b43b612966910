"""SSLSocket as a client against openssl s_server and Python's ssl module."""

import hashlib
import os
import select
import socket
import ssl
import threading
import time

import pytest

from conftest import IO_TIMEOUT, connect, read_to_end


def ssl_class(error):
    """Return the most specific class of the ssl module that `error` is an instance of."""
    return next(cls for cls in type(error).__mro__ if cls.__module__ == "ssl")


def expect_same_error(run_schan, run_ssl):
    """Run the same scenario with schan and with ssl; return both errors after
    checking that they are instances of the same ssl class."""
    with pytest.raises(Exception) as ours:
        run_schan()
    with pytest.raises(Exception) as theirs:
        run_ssl()
    assert ssl_class(ours.value) is type(theirs.value), (ours.value, theirs.value)
    return ours.value, theirs.value


# -- handshake and connection information ----------------------------------

def test_handshake_and_queries_against_s_server(s_server, client_context, pki):
    _peer, port = s_server("-www")
    with connect(client_context, port) as tls:
        assert tls.version() == "TLSv1.3"
        name, version, bits = tls.cipher()
        assert name.startswith("TLS_")
        assert version == "TLSv1.3"
        assert bits in (128, 256)
        assert tls.selected_alpn_protocol() is None
        assert tls.compression() is None
        assert tls.getpeercert(binary_form=True) == ssl.PEM_cert_to_DER_cert(pki.read("leaf.pem").decode())
        assert tls.getpeercert() == ssl._ssl._test_decode_cert(pki.path("leaf.pem"))
        tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
        page = read_to_end(tls)
    assert page.startswith(b"HTTP/1.0 200 ok\r\n")


def test_tls12_maximum_version(s_server, client_context):
    _peer, port = s_server("-www")
    client_context.maximum_version = ssl.TLSVersion.TLSv1_2
    with connect(client_context, port) as tls:
        assert tls.version() == "TLSv1.2"
        assert tls.cipher()[0].startswith("TLS_ECDHE_")
        assert tls.cipher()[1] == "TLSv1.2"


def test_option_no_tls13_selects_tls12(s_server, client_context):
    _peer, port = s_server("-www")
    client_context.options |= ssl.OP_NO_TLSv1_3
    with connect(client_context, port) as tls:
        assert tls.version() == "TLSv1.2"


def test_version_mismatch_raises_ssl_error(s_server, client_context, ssl_client_context, schan_module):
    _peer, port = s_server("-www", "-tls1_2")
    client_context.minimum_version = ssl.TLSVersion.TLSv1_3
    ssl_client_context.minimum_version = ssl.TLSVersion.TLSv1_3
    ours, _theirs = expect_same_error(lambda: connect(client_context, port),
                                      lambda: connect(ssl_client_context, port))
    assert not isinstance(ours, schan_module.SSLCertVerificationError)


def test_alpn_negotiation(s_server, client_context):
    _peer, port = s_server("-www", "-alpn", "http/1.1")
    client_context.set_alpn_protocols(["h2", "http/1.1"])
    with connect(client_context, port) as tls:
        assert tls.selected_alpn_protocol() == "http/1.1"


def test_ip_address_server_name(s_server, client_context):
    _peer, port = s_server("-www", cert="leaf-ip")
    with connect(client_context, port, server_hostname="127.0.0.1") as tls:
        assert ("IP Address", "127.0.0.1") in tls.getpeercert()["subjectAltName"]


def test_ipv6_literal_server_name(client_context, pki, tmp_path):
    if not socket.has_ipv6:
        pytest.skip("this Python has no IPv6 support")
    chain = tmp_path / "leaf-ip-chain.pem"
    chain.write_bytes(pki.read("leaf-ip.pem") + pki.read("inter.pem"))
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(str(chain), pki.path("leaf-ip.key"))
    try:
        listener = socket.socket(socket.AF_INET6)
        listener.bind(("::1", 0))
    except OSError as error:
        pytest.skip("::1 is not available: %s" % error)
    with listener:
        listener.listen()
        listener.settimeout(IO_TIMEOUT)
        port = listener.getsockname()[1]
        results = []

        def serve():
            try:
                connection, _address = listener.accept()
                with server_context.wrap_socket(connection, server_side=True) as tls:
                    tls.sendall(b"over IPv6")
                    tls.unwrap()
            except Exception as error:  # checked below
                results.append(error)

        thread = threading.Thread(target=serve)
        thread.start()
        with socket.create_connection(("::1", port), timeout=IO_TIMEOUT) as raw:
            with client_context.wrap_socket(raw, server_hostname="::1") as tls:
                assert ("IP Address", "0:0:0:0:0:0:0:1") in tls.getpeercert()["subjectAltName"]
                assert read_to_end(tls) == b"over IPv6"
                tls.unwrap()
        thread.join(IO_TIMEOUT)
    assert results == []


# -- certificate verification ----------------------------------------------

CERTIFICATE_FAILURES = [
    # (certificate, intermediates, server_hostname, verify_code, schan status)
    ("wrong-name", "inter.pem", "localhost", 62, "SCHAN_E_CERT_NAME_MISMATCH"),
    ("leaf-dns-ip", "inter.pem", "127.0.0.1", 62, "SCHAN_E_CERT_NAME_MISMATCH"),
    ("expired", "inter.pem", "localhost", 10, "SCHAN_E_CERT_EXPIRED"),
    ("foreign-leaf", None, "localhost", 20, "SCHAN_E_CERT_UNTRUSTED"),
    ("self-signed", None, "localhost", 20, "SCHAN_E_CERT_UNTRUSTED"),
]


@pytest.mark.parametrize("cert, chain, hostname, code, reason", CERTIFICATE_FAILURES,
                         ids=[case[0] for case in CERTIFICATE_FAILURES])
def test_certificate_failure_matches_ssl(s_server, client_context, ssl_client_context, schan_module,
                                         cert, chain, hostname, code, reason):
    _peer, port = s_server("-www", cert=cert, chain=chain)
    ours, _theirs = expect_same_error(lambda: connect(client_context, port, server_hostname=hostname),
                                      lambda: connect(ssl_client_context, port, server_hostname=hostname))
    assert isinstance(ours, schan_module.SSLCertVerificationError)
    assert isinstance(ours, ValueError)
    assert ours.verify_code == code
    assert ours.reason == reason
    assert ours.verify_message
    assert reason in str(ours)


def test_cert_none_skips_every_check(s_server, schan_module):
    _peer, port = s_server("-www", cert="wrong-name", chain=None)
    context = schan_module.SSLContext(schan_module.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = schan_module.CERT_NONE
    with connect(context, port) as tls:
        assert tls.getpeercert() == {}
        assert isinstance(tls.getpeercert(binary_form=True), bytes)


def test_check_hostname_off_still_verifies_chain(s_server, client_context, schan_module):
    client_context.check_hostname = False
    _peer, port = s_server("-www", cert="wrong-name")
    with connect(client_context, port, server_hostname=None) as tls:
        assert tls.getpeercert()["subject"] == ((("commonName", "wrong.example"),),)
    _peer, port = s_server("-www", cert="foreign-leaf", chain=None)
    with pytest.raises(schan_module.SSLCertVerificationError):
        connect(client_context, port, server_hostname=None)


def test_context_without_trust_anchors_fails_like_ssl(s_server, schan_module):
    _peer, port = s_server("-www")
    ours, _theirs = expect_same_error(
        lambda: connect(schan_module.SSLContext(schan_module.PROTOCOL_TLS_CLIENT), port),
        lambda: connect(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), port))
    assert isinstance(ours, schan_module.SSLCertVerificationError)


def test_system_roots_do_not_trust_test_root(s_server, schan_module):
    _peer, port = s_server("-www")
    with pytest.raises(schan_module.SSLCertVerificationError) as caught:
        connect(schan_module.create_default_context(), port)
    assert caught.value.reason == "SCHAN_E_CERT_UNTRUSTED"


# -- end of stream -----------------------------------------------------------

def serve_then_truncate(context):
    def handler(connection):
        with context.wrap_socket(connection, server_side=True) as tls:
            tls.recv(100)
            tls.sendall(b"partial body")
            # ssl's close() sends no close_notify: the client sees a truncation.
            tls.close()
    return handler


def serve_then_close_notify(context):
    def handler(connection):
        with context.wrap_socket(connection, server_side=True) as tls:
            tls.recv(100)
            tls.sendall(b"complete body")
            tls.unwrap()
    return handler


def test_truncation_raises_eof_error(thread_server, ssl_server_context, client_context, schan_module):
    server = thread_server(serve_then_truncate(ssl_server_context))
    with connect(client_context, server.port, suppress_ragged_eofs=False) as tls:
        tls.sendall(b"request")
        assert tls.recv(100) == b"partial body"
        with pytest.raises(schan_module.SSLEOFError) as caught:
            tls.recv(100)
    assert isinstance(caught.value, ssl.SSLEOFError)
    assert caught.value.errno == ssl.SSL_ERROR_EOF
    server.join()


def test_truncation_is_suppressed_by_default(thread_server, ssl_server_context, client_context):
    server = thread_server(serve_then_truncate(ssl_server_context))
    with connect(client_context, server.port) as tls:
        tls.sendall(b"request")
        assert tls.recv(100) == b"partial body"
        assert tls.recv(100) == b""
        assert tls.recv(100) == b""
    server.join()


def test_ignore_unexpected_eof_option(thread_server, ssl_server_context, client_context):
    server = thread_server(serve_then_truncate(ssl_server_context))
    client_context.options |= ssl.OP_IGNORE_UNEXPECTED_EOF
    with connect(client_context, server.port, suppress_ragged_eofs=False) as tls:
        tls.sendall(b"request")
        assert tls.recv(100) == b"partial body"
        assert tls.recv(100) == b""
    server.join()


@pytest.mark.parametrize("suppress", [True, False])
def test_clean_close_returns_empty_bytes_like_ssl(thread_server, ssl_server_context, client_context,
                                                  ssl_client_context, suppress):
    server = thread_server(serve_then_close_notify(ssl_server_context), count=2)
    results = []
    for context in (client_context, ssl_client_context):
        with connect(context, server.port, suppress_ragged_eofs=suppress) as tls:
            tls.sendall(b"request")
            received = [tls.recv(100), tls.recv(100), tls.recv(100)]
            plain = tls.unwrap()
            assert plain is tls
            received.append(plain.recv(100))
            results.append(received)
    assert results[0] == results[1] == [b"complete body", b"", b"", b""]
    server.join()


def test_read_after_unwrap_raises_value_error(thread_server, ssl_server_context, client_context):
    server = thread_server(serve_then_close_notify(ssl_server_context))
    with connect(client_context, server.port) as tls:
        tls.sendall(b"request")
        read_to_end(tls)
        tls.unwrap()
        with pytest.raises(ValueError, match="unwrapped"):
            tls.read(10)
        with pytest.raises(ValueError, match="No SSL wrapper"):
            tls.unwrap()
    server.join()


def close_after_client_hello(connection):
    connection.recv(65536)
    # Half-close first: closing with unread input would send a reset instead of the end of stream.
    connection.shutdown(socket.SHUT_WR)
    while connection.recv(65536):
        pass


def test_transport_end_during_handshake(thread_server, client_context, schan_module):
    server = thread_server(close_after_client_hello)
    with pytest.raises(schan_module.SSLEOFError) as caught:
        connect(client_context, server.port)
    assert isinstance(caught.value, ssl.SSLEOFError)
    server.join()


def test_plaintext_peer_raises_ssl_error(thread_server, client_context, ssl_client_context, schan_module):
    def handler(connection):
        connection.recv(1000)
        connection.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\nThis server speaks plain HTTP.\r\n" * 4)
    server = thread_server(handler, count=2)
    ours, _theirs = expect_same_error(lambda: connect(client_context, server.port),
                                      lambda: connect(ssl_client_context, server.port))
    assert type(ours) is schan_module.SSLError
    assert ours.reason == "SCHAN_E_PROTOCOL"
    server.join()


# -- data transfer -----------------------------------------------------------

def serve_echo(context):
    def handler(connection):
        with context.wrap_socket(connection, server_side=True) as tls:
            total = 0
            while True:
                data = tls.recv(65536)
                if not data:
                    break
                tls.sendall(data)
                total += len(data)
            tls.unwrap()
            return total
    return handler


def test_large_transfer_with_reader_and_writer_threads(thread_server, ssl_server_context, client_context):
    server = thread_server(serve_echo(ssl_server_context))
    payload = os.urandom(8 * 1024 * 1024)
    with connect(client_context, server.port) as tls:
        def write():
            view = memoryview(payload)
            for offset in range(0, len(payload), 100_000):
                tls.sendall(view[offset:offset + 100_000])

        writer = threading.Thread(target=write)
        writer.start()
        received = bytearray()
        while len(received) < len(payload):
            chunk = tls.recv(1 << 20)
            assert chunk
            received += chunk
        writer.join()
        tls.unwrap()
    assert hashlib.sha256(received).digest() == hashlib.sha256(payload).digest()
    assert server.join() == [len(payload)]


def test_echo_through_schan_server(schan_server, client_context):
    peer, port = schan_server("--echo", "--alpn", "h2,http/1.1")
    client_context.set_alpn_protocols(["http/1.1"])
    payload = os.urandom(2 * 1024 * 1024)
    with connect(client_context, port) as tls:
        assert tls.selected_alpn_protocol() == "http/1.1"
        writer = threading.Thread(target=tls.sendall, args=(payload,))
        writer.start()
        received = bytearray()
        while len(received) < len(payload):
            chunk = tls.recv(1 << 20)
            assert chunk
            received += chunk
        writer.join()
        tls.unwrap()
    assert received == payload
    assert peer.wait_for(r"closed cleanly"), peer.output


def test_recv_into_read_and_makefile(s_server, client_context):
    _peer, port = s_server("-www")
    with connect(client_context, port) as tls:
        writer = tls.makefile("wb")
        writer.write(b"GET / HTTP/1.0\r\n\r\n")
        writer.flush()
        buffer = bytearray(32)
        view = memoryview(buffer)
        assert tls.recv_into(view[4:], 5) == 5
        assert buffer[4:9] == b"HTTP/"
        assert tls.read(4, buffer) == 4
        assert buffer[:4] == b"1.0 "
        assert tls.read(4) == b"200 "
        reader = tls.makefile("rb")
        assert reader.readline() == b"ok\r\n"
        assert reader.read().endswith(b"</HTML>\r\n\r\n")
        reader.close()
        writer.close()


def test_pending_reports_buffered_plaintext(thread_server, ssl_server_context, client_context):
    def handler(connection):
        with ssl_server_context.wrap_socket(connection, server_side=True) as tls:
            tls.recv(10)
            tls.sendall(b"x" * 1000)
            tls.recv(10)
            tls.unwrap()

    server = thread_server(handler)
    with connect(client_context, server.port) as tls:
        tls.sendall(b"go")
        assert tls.recv(10) == b"x" * 10
        assert tls.pending() == 990
        assert tls.recv(2000) == b"x" * 990
        assert tls.pending() == 0
        tls.sendall(b"done")
        tls.unwrap()
    server.join()


def test_sendfile_sends_through_tls(thread_server, ssl_server_context, client_context, tmp_path):
    content = os.urandom(300_000)
    path = tmp_path / "payload.bin"
    path.write_bytes(content)

    def handler(connection):
        with ssl_server_context.wrap_socket(connection, server_side=True) as tls:
            data = read_to_end(tls)
            tls.unwrap()
            return data

    server = thread_server(handler)
    with connect(client_context, server.port) as tls, open(path, "rb") as file:
        assert tls.sendfile(file, offset=1000) == len(content) - 1000
        tls.unwrap()
    assert server.join() == [content[1000:]]


def test_connect_after_wrap(s_server, client_context):
    _peer, port = s_server("-www")
    with client_context.wrap_socket(socket.socket(), server_hostname="localhost") as tls:
        assert tls.version() is None
        tls.settimeout(IO_TIMEOUT)
        tls.connect(("127.0.0.1", port))
        assert tls.version() == "TLSv1.3"
    with client_context.wrap_socket(socket.socket(), server_hostname="localhost") as tls:
        tls.settimeout(IO_TIMEOUT)
        assert tls.connect_ex(("127.0.0.1", port)) == 0
        assert tls.version() == "TLSv1.3"


def test_explicit_handshake_and_socket_identity(s_server, client_context):
    _peer, port = s_server("-www")
    raw = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT)
    descriptor = raw.fileno()
    with client_context.wrap_socket(raw, server_hostname="localhost", do_handshake_on_connect=False) as tls:
        assert isinstance(tls, socket.socket)
        assert tls.fileno() == descriptor
        assert raw.fileno() == -1
        assert tls.gettimeout() == IO_TIMEOUT
        with pytest.raises(ValueError, match="handshake not done"):
            tls.getpeercert()
        assert tls.version() is None
        tls.do_handshake()
        assert tls.version() == "TLSv1.3"
    assert tls.fileno() == -1


def test_socket_methods_ssl_forbids(s_server, client_context, schan_module):
    _peer, port = s_server("-www")
    with connect(client_context, port) as tls:
        with pytest.raises(NotImplementedError):
            tls.dup()
        with pytest.raises(NotImplementedError):
            tls.recvmsg(10)
        with pytest.raises(ValueError):
            tls.sendto(b"x", ("127.0.0.1", port))
        with pytest.raises(ValueError):
            tls.recv(10, socket.MSG_PEEK)
    with pytest.raises(TypeError):
        schan_module.SSLSocket()


def test_shutdown_drops_tls(thread_server, ssl_server_context, client_context):
    def handler(connection):
        with ssl_server_context.wrap_socket(connection, server_side=True) as tls:
            first = tls.recv(10)
            try:
                return first, tls.recv(10)
            except ssl.SSLError as error:
                return first, error

    server = thread_server(handler)
    with connect(client_context, server.port) as tls:
        tls.sendall(b"hello")
        tls.shutdown(socket.SHUT_RDWR)
        assert tls.pending() == 0
        with pytest.raises(OSError):
            tls.send(b"after shutdown")
    [(first, end)] = server.join()
    assert first == b"hello"
    assert end == b"" or isinstance(end, ssl.SSLError)


# -- timeouts and non-blocking sockets -----------------------------------------

def test_handshake_timeout(thread_server, client_context):
    closed = threading.Event()
    server = thread_server(lambda connection: closed.wait(IO_TIMEOUT))
    started = time.monotonic()
    with pytest.raises(socket.timeout, match="handshake operation timed out"):
        connect(client_context, server.port, timeout=0.5)
    assert time.monotonic() - started < 5
    closed.set()
    server.join()


def test_read_timeout(thread_server, ssl_server_context, client_context):
    done = threading.Event()

    def handler(connection):
        with ssl_server_context.wrap_socket(connection, server_side=True) as tls:
            done.wait(IO_TIMEOUT)
            tls.close()

    server = thread_server(handler)
    with connect(client_context, server.port) as tls:
        tls.settimeout(0.3)
        started = time.monotonic()
        with pytest.raises(socket.timeout, match="read operation timed out"):
            tls.recv(10)
        assert 0.25 < time.monotonic() - started < 5
    done.set()
    server.join()


def handshake_non_blocking(tls, schan_module):
    while True:
        try:
            tls.do_handshake()
            return
        except schan_module.SSLWantReadError:
            select.select([tls], [], [], IO_TIMEOUT)
        except schan_module.SSLWantWriteError:
            select.select([], [tls], [], IO_TIMEOUT)


def test_non_blocking_socket_with_s_server(s_server, client_context, schan_module):
    peer, port = s_server()
    raw = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT)
    raw.setblocking(False)
    with client_context.wrap_socket(raw, server_hostname="localhost", do_handshake_on_connect=False) as tls:
        handshake_non_blocking(tls, schan_module)
        assert peer.wait_for(r"CIPHER is"), peer.output
        with pytest.raises(schan_module.SSLWantReadError):
            tls.recv(100)
        tls.send(b"hello from schan\n")
        assert peer.wait_for(r"hello from schan"), peer.output
        peer.write("hello from s_server\n")
        received = b""
        while not received.endswith(b"\n"):
            select.select([tls], [], [], IO_TIMEOUT)
            try:
                received += tls.recv(100)
            except schan_module.SSLWantReadError:
                continue
        assert received == b"hello from s_server\n"


def test_non_blocking_handshake_waits_for_server(thread_server, ssl_server_context, client_context,
                                                 schan_module):
    server_may_answer = threading.Event()

    def handler(connection):
        server_may_answer.wait(IO_TIMEOUT)
        with ssl_server_context.wrap_socket(connection, server_side=True) as tls:
            tls.sendall(b"ready")
            tls.recv(10)

    server = thread_server(handler)
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=IO_TIMEOUT)
    raw.setblocking(False)
    with client_context.wrap_socket(raw, server_hostname="localhost", do_handshake_on_connect=False) as tls:
        with pytest.raises(schan_module.SSLWantReadError) as first:
            tls.do_handshake()
        assert isinstance(first.value, ssl.SSLWantReadError)
        assert first.value.errno == ssl.SSL_ERROR_WANT_READ
        with pytest.raises(schan_module.SSLWantReadError):
            tls.do_handshake()
        server_may_answer.set()
        handshake_non_blocking(tls, schan_module)
        # Session tickets may make the socket readable before the data arrives.
        while True:
            select.select([tls], [], [], IO_TIMEOUT)
            try:
                assert tls.recv(10) == b"ready"
                break
            except schan_module.SSLWantReadError:
                continue
        tls.send(b"bye")
    server.join()


def test_non_blocking_handshake_on_connect_raises(schan_module, client_context):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        raw = socket.create_connection(listener.getsockname(), timeout=IO_TIMEOUT)
        raw.setblocking(False)
        with pytest.raises(ValueError, match="non-blocking"):
            client_context.wrap_socket(raw, server_hostname="localhost")


def test_non_blocking_write_retries_like_ssl(thread_server, ssl_server_context, client_context, schan_module):
    start_reading = threading.Event()

    def handler(connection):
        with ssl_server_context.wrap_socket(connection, server_side=True) as tls:
            start_reading.wait(IO_TIMEOUT)
            digest = hashlib.sha256()
            total = 0
            while True:
                data = tls.recv(65536)
                if not data:
                    break
                digest.update(data)
                total += len(data)
            tls.unwrap()
            return total, digest.digest()

    server = thread_server(handler)
    payload = os.urandom(16 * 1024 * 1024)
    with connect(client_context, server.port) as tls:
        tls.setblocking(False)
        view = memoryview(payload)
        sent = 0
        blocked = 0
        while sent < len(payload):
            chunk = view[sent:sent + 1024 * 1024]
            try:
                sent += tls.send(chunk)
            except schan_module.SSLWantWriteError:
                blocked += 1
                start_reading.set()
                select.select([], [tls], [], IO_TIMEOUT)
        assert blocked > 0
        tls.setblocking(True)
        tls.settimeout(IO_TIMEOUT)
        tls.unwrap()
    assert server.join() == [(len(payload), hashlib.sha256(payload).digest())]


# -- post-handshake messages ---------------------------------------------------

@pytest.mark.parametrize("command", ["k", "K"], ids=["key_update", "key_update_requested"])
def test_key_update_from_s_server(s_server, client_context, command):
    peer, port = s_server()
    with connect(client_context, port) as tls:
        assert peer.wait_for(r"CIPHER is"), peer.output
        peer.write(command + "\n")
        # s_server reads each command in its own read of standard input.
        # Its report of the KeyUpdate stays in its stdout buffer, so the
        # data that follows the KeyUpdate is what shows that it arrived.
        time.sleep(0.5)
        peer.write("after the key update\n")
        received = b""
        while not received.endswith(b"\n"):
            received += tls.recv(100)
        assert received == b"after the key update\n"
        tls.sendall(b"reply after the key update\n")
        assert peer.wait_for(r"reply after the key update"), peer.output


def test_tls12_renegotiation_from_s_server(s_server, client_context):
    peer, port = s_server("-tls1_2")
    with connect(client_context, port) as tls:
        assert peer.wait_for(r"CIPHER is"), peer.output
        peer.write("r\n")
        time.sleep(0.5)
        peer.write("after renegotiation\n")
        received = b""
        while not received.endswith(b"\n"):
            received += tls.recv(100)
        assert received == b"after renegotiation\n"
        tls.sendall(b"reply after renegotiation\n")
        assert peer.wait_for(r"reply after renegotiation"), peer.output
