"""The standard library's HTTPS clients and server, unchanged, over schan."""

import http.client
import http.server
import ssl
import threading
import urllib.error
import urllib.request

import pytest

from conftest import IO_TIMEOUT


def test_http_client_against_s_server(s_server, client_context):
    _peer, port = s_server("-www")
    connection = http.client.HTTPSConnection("localhost", port, context=client_context, timeout=IO_TIMEOUT)
    connection.request("GET", "/")
    response = connection.getresponse()
    body = response.read()
    connection.close()
    assert response.status == 200
    assert b"s_server" in body


def test_urlopen_against_s_server(s_server, client_context):
    _peer, port = s_server("-www")
    with urllib.request.urlopen("https://localhost:%d/" % port, context=client_context,
                                timeout=IO_TIMEOUT) as response:
        assert response.status == 200
        assert b"Ciphers supported in s_server binary" in response.read()


def test_http_client_against_schan_server(schan_server, client_context):
    _peer, port = schan_server("--http")
    connection = http.client.HTTPSConnection("localhost", port, context=client_context, timeout=IO_TIMEOUT)
    connection.request("GET", "/")
    response = connection.getresponse()
    body = response.read()
    connection.close()
    assert response.status == 200
    assert b"protocol: TLSv1.3" in body


def test_urlopen_against_schan_server(schan_server, client_context):
    _peer, port = schan_server("--http", "--alpn", "http/1.1")
    client_context.set_alpn_protocols(["http/1.1"])
    with urllib.request.urlopen("https://localhost:%d/" % port, context=client_context,
                                timeout=IO_TIMEOUT) as response:
        assert response.status == 200
        assert b"alpn: http/1.1" in response.read()


def test_urlopen_wrong_name_raises_like_ssl(s_server, client_context, ssl_client_context, schan_module):
    _peer, port = s_server("-www", cert="wrong-name")
    url = "https://localhost:%d/" % port
    with pytest.raises(urllib.error.URLError) as ours:
        urllib.request.urlopen(url, context=client_context, timeout=IO_TIMEOUT)
    with pytest.raises(urllib.error.URLError) as theirs:
        urllib.request.urlopen(url, context=ssl_client_context, timeout=IO_TIMEOUT)
    assert isinstance(ours.value.reason, schan_module.SSLCertVerificationError)
    assert isinstance(theirs.value.reason, ssl.SSLCertVerificationError)
    assert ours.value.reason.verify_code == theirs.value.reason.verify_code == 62


def test_http_client_wrong_name_raises(schan_server, client_context, schan_module):
    _peer, port = schan_server("--http", cert="wrong-name")
    connection = http.client.HTTPSConnection("localhost", port, context=client_context, timeout=IO_TIMEOUT)
    with pytest.raises(schan_module.SSLCertVerificationError):
        connection.request("GET", "/")
    connection.close()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = ("path %s over %s\n" % (self.path, self.request.version())).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


@pytest.fixture
def https_server(schan_module, pki):
    """http.server.ThreadingHTTPServer behind a schan server context, as the ssl documentation does it."""
    context = schan_module.SSLContext(schan_module.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.path("leaf-chain.pem"), pki.path("leaf.key"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(IO_TIMEOUT)


def test_http_server_serves_ssl_clients(https_server, ssl_client_context):
    with urllib.request.urlopen("https://localhost:%d/first" % https_server, context=ssl_client_context,
                                timeout=IO_TIMEOUT) as response:
        assert response.read() == b"path /first over TLSv1.3\n"
    connection = http.client.HTTPSConnection("localhost", https_server, context=ssl_client_context,
                                             timeout=IO_TIMEOUT)
    for path in ("/keep-alive/1", "/keep-alive/2"):
        connection.request("GET", path)
        assert connection.getresponse().read() == ("path %s over TLSv1.3\n" % path).encode()
    connection.close()


def test_http_server_serves_schan_clients(https_server, client_context):
    connection = http.client.HTTPSConnection("localhost", https_server, context=client_context,
                                             timeout=IO_TIMEOUT)
    for path in ("/a", "/b", "/c"):
        connection.request("GET", path)
        assert connection.getresponse().read() == ("path %s over TLSv1.3\n" % path).encode()
    connection.close()
