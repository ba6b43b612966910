"""The server side: schan.SSLContext serving clients of ssl, openssl s_client and schan."""

import hashlib
import os
import socket
import ssl
import threading

import pytest

from conftest import IO_TIMEOUT, connect, read_to_end


@pytest.fixture
def server_context(schan_module, pki):
    context = schan_module.SSLContext(schan_module.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.path("leaf-chain.pem"), pki.path("leaf.key"))
    return context


def serve_echo(context):
    """Return a handler that echoes over TLS until close_notify, then replies to it."""
    def handler(connection):
        with context.wrap_socket(connection, server_side=True) as tls:
            info = {"version": tls.version(), "cipher": tls.cipher(), "alpn": tls.selected_alpn_protocol(),
                    "peer": tls.getpeercert()}
            digest = hashlib.sha256()
            while True:
                data = tls.recv(65536)
                if not data:
                    break
                digest.update(data)
                tls.sendall(data)
            tls.unwrap()
            info["digest"] = digest.digest()
            return info
    return handler


def test_serves_ssl_client(thread_server, server_context, ssl_client_context):
    server = thread_server(serve_echo(server_context))
    with connect(ssl_client_context, server.port) as tls:
        tls.sendall(b"hello schan server")
        assert tls.recv(100) == b"hello schan server"
        assert tls.version() == "TLSv1.3"
        tls.unwrap()
    [info] = server.join()
    assert info["version"] == "TLSv1.3"
    assert info["cipher"][1] == "TLSv1.3"
    assert info["peer"] is None


def test_serves_ssl_client_over_tls12(thread_server, server_context, ssl_client_context):
    server_context.maximum_version = ssl.TLSVersion.TLSv1_2
    server = thread_server(serve_echo(server_context))
    with connect(ssl_client_context, server.port) as tls:
        assert tls.version() == "TLSv1.2"
        tls.sendall(b"x")
        assert tls.recv(1) == b"x"
        tls.unwrap()
    assert server.join()[0]["version"] == "TLSv1.2"


def test_server_alpn_prefers_its_own_order(thread_server, server_context, ssl_client_context):
    server_context.set_alpn_protocols(["h2", "http/1.1"])
    ssl_client_context.set_alpn_protocols(["http/1.1", "h2"])
    server = thread_server(serve_echo(server_context))
    with connect(ssl_client_context, server.port) as tls:
        assert tls.selected_alpn_protocol() == "h2"
        tls.unwrap()
    assert server.join()[0]["alpn"] == "h2"


def test_server_alpn_without_overlap_fails(thread_server, server_context, ssl_client_context, schan_module):
    server_context.set_alpn_protocols(["h2"])
    ssl_client_context.set_alpn_protocols(["http/1.1"])
    server = thread_server(serve_echo(server_context))
    with pytest.raises(ssl.SSLError):
        connect(ssl_client_context, server.port)
    with pytest.raises(schan_module.SSLError):
        server.join()


def test_schan_client_and_server(thread_server, server_context, client_context):
    server = thread_server(serve_echo(server_context))
    payload = os.urandom(4 * 1024 * 1024)
    with connect(client_context, server.port) as tls:
        writer = threading.Thread(target=tls.sendall, args=(payload,))
        writer.start()
        received = bytearray()
        while len(received) < len(payload):
            received += tls.recv(1 << 20)
        writer.join()
        tls.unwrap()
    assert received == payload
    assert server.join()[0]["digest"] == hashlib.sha256(payload).digest()


@pytest.fixture
def client_chain(pki, tmp_path):
    """A PEM file with client.pem followed by its intermediate."""
    path = tmp_path / "client-chain.pem"
    path.write_bytes(pki.read("client.pem") + pki.read("inter.pem"))
    return str(path)


def test_client_certificate_required(thread_server, server_context, ssl_client_context, pki, client_chain):
    server_context.verify_mode = ssl.CERT_REQUIRED
    server_context.load_verify_locations(pki.path("root.pem"))
    server = thread_server(serve_echo(server_context))
    ssl_client_context.load_cert_chain(client_chain, pki.path("client.key"))
    with connect(ssl_client_context, server.port) as tls:
        tls.sendall(b"with certificate")
        assert tls.recv(100) == b"with certificate"
        tls.unwrap()
    [info] = server.join()
    assert info["peer"]["subject"] == ((("commonName", "schan test client"),),)


def test_missing_client_certificate_fails(thread_server, server_context, ssl_client_context, schan_module, pki):
    server_context.verify_mode = ssl.CERT_REQUIRED
    server_context.load_verify_locations(pki.path("root.pem"))
    server = thread_server(serve_echo(server_context))
    with connect(ssl_client_context, server.port) as tls:
        # In TLS 1.3 the client learns of the rejection at its first read.
        with pytest.raises(ssl.SSLError):
            tls.sendall(b"no certificate")
            tls.recv(100)
    with pytest.raises(schan_module.SSLError) as caught:
        server.join()
    assert caught.value.reason == "SCHAN_E_CERT_REQUIRED"
    assert not isinstance(caught.value, schan_module.SSLCertVerificationError)


def test_optional_client_certificate(thread_server, server_context, ssl_client_context, pki):
    server_context.verify_mode = ssl.CERT_OPTIONAL
    server_context.load_verify_locations(pki.path("root.pem"))
    server = thread_server(serve_echo(server_context))
    with connect(ssl_client_context, server.port) as tls:
        tls.sendall(b"optional")
        assert tls.recv(100) == b"optional"
        tls.unwrap()
    assert server.join()[0]["peer"] is None


@pytest.mark.parametrize("load", ["pem", "pkcs12"])
def test_schan_client_certificate_with_s_server(s_server, client_context, pki, client_chain, load):
    if load == "pem":
        client_context.load_cert_chain(client_chain, pki.path("client.key"))
    else:
        client_context.load_pkcs12(pki.path("client.p12"), "secret")
    peer, port = s_server("-Verify", "2", "-verify_return_error", "-CAfile", pki.path("root.pem"))
    with connect(client_context, port) as tls:
        assert peer.wait_for(r"CIPHER is"), peer.output
        tls.sendall(b"sent with a client certificate\n")
        assert peer.wait_for(r"sent with a client certificate"), peer.output
    assert "subject=CN = schan test client" in peer.output


def test_serves_openssl_s_client(thread_server, server_context, processes, pki):
    server = thread_server(serve_echo(server_context))
    client = processes(["openssl", "s_client", "-connect", "127.0.0.1:%d" % server.port,
                        "-CAfile", pki.path("root.pem"), "-verify_return_error", "-servername", "localhost"])
    client.write("hello from s_client\n")
    assert client.wait_for(r"(?s)Verify return code: 0 \(ok\).*hello from s_client"), client.output
    client.write("Q\n")
    [info] = server.join()
    assert info["version"] == "TLSv1.3"


def test_listening_socket_accept(server_context, ssl_client_context):
    listener = server_context.wrap_socket(socket.socket(), server_side=True)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(IO_TIMEOUT)
    results = []

    def serve():
        try:
            connection, _address = listener.accept()
            with connection:
                results.append(connection.version())
                connection.sendall(connection.recv(100).upper())
                connection.unwrap()
        except Exception as error:  # checked below
            results.append(error)

    thread = threading.Thread(target=serve)
    thread.start()
    with listener, connect(ssl_client_context, listener.getsockname()[1]) as tls:
        tls.sendall(b"accepted")
        assert read_to_end(tls) == b"ACCEPTED"
        tls.unwrap()
    thread.join(IO_TIMEOUT)
    assert results == ["TLSv1.3"]


def test_server_with_pkcs12_certificate(thread_server, schan_module, pki, ssl_client_context):
    context = schan_module.SSLContext(schan_module.PROTOCOL_TLS_SERVER)
    context.load_pkcs12(pki.path("leaf.p12"), "secret")
    server = thread_server(serve_echo(context))
    with connect(ssl_client_context, server.port) as tls:
        tls.sendall(b"pkcs12")
        assert tls.recv(100) == b"pkcs12"
        tls.unwrap()
    server.join()
