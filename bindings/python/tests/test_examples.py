"""The examples in bindings/python/examples, run as programs."""

import os
import subprocess
import sys

from conftest import BINDING_DIR, IO_TIMEOUT, connect, read_to_end

EXAMPLES = BINDING_DIR / "examples"


def example_environment():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(BINDING_DIR)
    return env


def test_https_get_example(s_server, pki):
    _peer, port = s_server("-www")
    result = subprocess.run([sys.executable, str(EXAMPLES / "https_get.py"), "https://localhost:%d/" % port,
                             "--cafile", pki.path("root.pem")],
                            env=example_environment(), capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert b"200 ok over TLSv1.3" in result.stderr
    assert b"s_server -accept" in result.stdout


def test_https_get_example_reports_verification_failure(s_server, pki):
    _peer, port = s_server("-www", cert="wrong-name")
    result = subprocess.run([sys.executable, str(EXAMPLES / "https_get.py"), "https://localhost:%d/" % port,
                             "--cafile", pki.path("root.pem")],
                            env=example_environment(), capture_output=True, timeout=60)
    assert result.returncode == 1
    assert b"certificate verification failed" in result.stderr


def test_echo_server_example(processes, pki, ssl_client_context):
    server = processes([sys.executable, str(EXAMPLES / "echo_server.py"), "--cert", pki.path("leaf-chain.pem"),
                        "--key", pki.path("leaf.key"), "--connections", "1"], env=example_environment())
    match = server.wait_for(r"listening on 127\.0\.0\.1:(\d+)")
    assert match, server.output
    with connect(ssl_client_context, int(match.group(1))) as tls:
        tls.sendall(b"echo through the example")
        assert tls.recv(100) == b"echo through the example"
        tls.unwrap()
    assert server.process.wait(IO_TIMEOUT) == 0
    assert server.wait_for(r"echoed 24 bytes, closed with close_notify"), server.output
