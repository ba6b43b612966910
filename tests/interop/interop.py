#!/usr/bin/env python3
"""Run schan-client and schan-server against other TLS implementations.

Each case starts its peers on 127.0.0.1 with a timeout, checks what both
ends print and stops every process it started by its PID. The PKI (a root CA
and a leaf for DNS:localhost and IP:127.0.0.1) is generated into a
temporary folder for each run. Exit status: 0 passed, 1 failed, 77 skipped
(the reason is printed).
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77
PEER_TIMEOUT = 30  # seconds any one process may run

LEAF_EXTENSIONS = """\
[leaf]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
"""


class Skipped(Exception):
    pass


class Failed(Exception):
    pass


def run_openssl(*arguments, cwd):
    subprocess.run(["openssl", *arguments], cwd=cwd, check=True, timeout=PEER_TIMEOUT,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def generate_pki(folder):
    """Write root.pem/root.key and leaf.pem/leaf.key (signed by root) to folder."""
    with open(os.path.join(folder, "leaf.ext"), "w") as extensions:
        extensions.write(LEAF_EXTENSIONS)
    run_openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "root.key", "-out", "root.pem",
                "-days", "30", "-subj", "/CN=schan interop root",
                "-addext", "basicConstraints=critical,CA:true",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)
    run_openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr",
                "-subj", "/CN=localhost", cwd=folder)
    run_openssl("x509", "-req", "-in", "leaf.csr", "-CA", "root.pem", "-CAkey", "root.key", "-CAcreateserial",
                "-days", "30", "-sha256", "-extfile", "leaf.ext", "-extensions", "leaf", "-out", "leaf.pem",
                cwd=folder)


def free_port():
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_listener(port, process, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise Failed(f"the server exited with {process.returncode} before listening on port {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise Failed(f"no server listened on 127.0.0.1:{port} after {timeout} s")


class Process:
    """A started process whose stdout and stderr are collected by threads."""

    def __init__(self, argv, env=None):
        print("+ " + " ".join(argv), flush=True)
        self.argv = argv
        self.popen = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, env=env)
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._stdout = bytearray()
        self._stderr = bytearray()
        self._threads = [threading.Thread(target=self._collect, args=(self.popen.stdout, self._stdout), daemon=True),
                         threading.Thread(target=self._collect, args=(self.popen.stderr, self._stderr), daemon=True)]
        for thread in self._threads:
            thread.start()

    def _collect(self, stream, target):
        for chunk in iter(lambda: stream.read1(4096), b""):
            with self._lock:
                target.extend(chunk)

    @property
    def stdout(self):
        with self._lock:
            return self._stdout.decode(errors="replace")

    @property
    def stderr(self):
        with self._lock:
            return self._stderr.decode(errors="replace")

    def write(self, data):
        self.popen.stdin.write(data)
        self.popen.stdin.flush()

    def close_stdin(self):
        self.popen.stdin.close()

    def wait_for(self, text, timeout=15.0, stream="stdout"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in getattr(self, stream):
                return True
            if self.popen.poll() is not None:
                time.sleep(0.2)  # let the reader threads finish
                return text in getattr(self, stream)
            time.sleep(0.05)
        return False

    def wait(self, timeout=PEER_TIMEOUT):
        try:
            code = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise Failed(f"{self.argv[0]} did not exit within {timeout} s")
        # The process has exited, but its last output may still be in the
        # pipes: let the collecting threads read to the end.
        for thread in self._threads:
            thread.join(5)
        return code

    def stop(self):
        """Stop the process by its PID: SIGTERM, then SIGKILL."""
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(5)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        for thread in self._threads:
            thread.join(2)

    def report(self):
        return (f"--- {' '.join(self.argv)} (exit {self.popen.poll()})\n"
                f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}")


def expect(condition, message, *processes):
    if not condition:
        raise Failed(message + "\n" + "\n".join(process.report() for process in processes))


def openssl_s_server(pki, port, *options):
    return Process(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", f"{pki}/leaf.pem",
                    "-key", f"{pki}/leaf.key", *options])


def start_schan_server(arguments, pki, *options):
    server = Process([arguments.schan_server, "--cert", f"{pki}/leaf.pem", "--key", f"{pki}/leaf.key", "--once",
                      *options])
    expect(server.wait_for("listening on 127.0.0.1:"), "schan-server did not report its port", server)
    port = int(server.stdout.split("listening on 127.0.0.1:")[1].split()[0])
    return server, port


def case_client_openssl_www(arguments, pki):
    """Native schan-client against openssl s_server -tls1_3 -num_tickets 8 -www."""
    port = free_port()
    server = openssl_s_server(pki, port, "-tls1_3", "-num_tickets", "8", "-www")
    client = None
    try:
        wait_for_listener(port, server.popen)
        client = Process([arguments.schan_client, "--ca", f"{pki}/root.pem", "localhost", str(port)])
        client.write(b"GET / HTTP/1.0\r\n\r\n")
        client.close_stdin()
        code = client.wait()
        expect(code == 0, f"schan-client exited with {code}", client, server)
        expect("protocol=TLSv1.3" in client.stderr and "verify=ok" in client.stderr,
               "schan-client did not report protocol=TLSv1.3 and verify=ok", client, server)
        expect("HTTP/1.0 200 ok" in client.stdout, "schan-client did not print the page", client, server)
    finally:
        server.stop()
        if client:
            client.stop()


def case_openssl_client_alpn(arguments, pki):
    """openssl s_client -alpn h2 -tls1_3 against schan-server --alpn h2,http/1.1 --echo."""
    server, port = start_schan_server(arguments, pki, "--alpn", "h2,http/1.1", "--echo")
    client = None
    try:
        client = Process(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-alpn", "h2", "-tls1_3",
                          "-CAfile", f"{pki}/root.pem", "-verify_return_error", "-servername", "localhost"])
        expect(client.wait_for("ALPN protocol: h2"), "s_client did not negotiate ALPN h2", client, server)
        expect("TLSv1.3" in client.stdout, "s_client did not negotiate TLS 1.3", client, server)
        client.write(b"interop echo line\n")
        expect(client.wait_for("interop echo line"), "schan-server did not echo the line", client, server)
        client.write(b"Q\n")  # s_client closes the connection on a line with Q
        client.wait()
        code = server.wait()
        expect(code == 0, f"schan-server exited with {code}", client, server)
    finally:
        server.stop()
        if client:
            client.stop()


def case_openssl_client_missing_certificate(arguments, pki):
    """schan-server --verify-client required and s_client without a certificate: both fail with a message."""
    server, port = start_schan_server(arguments, pki, "--alpn", "h2,http/1.1", "--echo", "--verify-client",
                                      "required", "--ca", f"{pki}/root.pem")
    client = None
    try:
        client = Process(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-alpn", "h2", "-tls1_3",
                          "-CAfile", f"{pki}/root.pem", "-servername", "localhost"])
        # In TLS 1.3 the client finishes its handshake first and sees the
        # server's alert on its next read, so it is given a line to send.
        # When the alert arrives first, s_client has already exited.
        try:
            client.write(b"interop echo line\n")
        except BrokenPipeError:
            pass
        server_code = server.wait()
        client_code = client.wait()
        expect(server_code != 0, "schan-server exited with 0 for a client without a certificate", client, server)
        expect(client_code != 0, "s_client exited with 0 although the server rejected it", client, server)
        expect("schan-server" in server.stderr or "error" in server.stderr.lower(),
               "schan-server printed no error message", client, server)
        # Depending on when the alert arrives, s_client reports it on stderr
        # ("alert certificate required") or on stdout ("read:errno=0").
        client_text = (client.stderr + client.stdout).lower()
        expect(any(word in client_text for word in ("alert", "error", "errno")),
               "s_client printed no error message", client, server)
        expect("interop echo line" not in client.stdout, "schan-server echoed data to a rejected client",
               client, server)
    finally:
        server.stop()
        if client:
            client.stop()


def case_client_gnutls(arguments, pki):
    """Native schan-client against gnutls-serv --echo in a private network namespace."""
    if shutil.which("gnutls-serv") is None:
        raise Skipped("gnutls-serv is not installed (package gnutls-bin)")
    if not arguments.in_namespace:
        # gnutls-serv 3.7 listens on every address and has no option to
        # choose one, so it runs where loopback is the only interface.
        argv = ["unshare", "--net", sys.executable, os.path.abspath(__file__), "--in-namespace",
                "--schan-client", arguments.schan_client, "--schan-server", arguments.schan_server or "",
                "client-gnutls"]
        probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, text=True, timeout=PEER_TIMEOUT)
        if probe.returncode != 0:
            raise Skipped("unshare --net is not permitted here: " + probe.stderr.strip())
        result = subprocess.run(argv, timeout=4 * PEER_TIMEOUT)
        if result.returncode == SKIP:
            raise Skipped("skipped inside the network namespace")
        if result.returncode != 0:
            raise Failed(f"the case failed inside the network namespace (exit {result.returncode})")
        return

    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=PEER_TIMEOUT)
    port = free_port()
    server = Process(["gnutls-serv", "--echo", "--port", str(port), "--x509certfile", f"{pki}/leaf.pem",
                      "--x509keyfile", f"{pki}/leaf.key"])
    client = None
    try:
        # A probe connection would stall gnutls-serv (3.7) on its failed
        # handshake, so the listening message is awaited instead.
        expect(server.wait_for("Echo Server listening on IPv4", stream="stderr"),
               "gnutls-serv did not report that it listens", server)
        client = Process([arguments.schan_client, "--ca", f"{pki}/root.pem", "localhost", str(port)])
        # schan-client reads standard input in blocks (fread), so the line
        # is sent once standard input ends.
        client.write(b"interop echo line\n")
        client.close_stdin()
        expect(client.wait_for("interop echo line"), "gnutls-serv did not echo the line", client, server)
        code = client.wait()
        expect(code == 0, f"schan-client exited with {code}", client, server)
        expect("verify=ok" in client.stderr, "schan-client did not report verify=ok", client, server)
    finally:
        server.stop()
        if client:
            client.stop()


def case_wine_client_native_server(arguments, pki):
    """The mingw build's schan-client.exe under Wine against the native schan-server --echo, TLS 1.2."""
    exe = arguments.windows_client
    if not exe or not os.path.isfile(exe):
        raise Skipped(f"the Windows schan-client.exe was not found at '{exe}': build the mingw preset first "
                      "or set the CMake cache variable SCHAN_WINDOWS_CLIENT")
    if shutil.which("wine") is None:
        raise Skipped("wine is not installed")

    env = dict(os.environ, WINEDEBUG="-all")
    env.setdefault("WINEPREFIX", os.path.join(pki, "wineprefix"))
    server, port = start_schan_server(arguments, pki, "--echo")
    client = None
    try:
        client = Process(["wine", exe, "--ca", "Z:" + pki.replace("/", "\\") + "\\root.pem", "--max-version", "1.2",
                          "localhost", str(port)], env=env)
        # schan-client reads standard input in blocks (fread), so the line
        # is sent once standard input ends.
        client.write(b"interop echo line\n")
        client.close_stdin()
        # The first start of a new Wine prefix takes a while.
        expect(client.wait_for("interop echo line", timeout=120), "schan-server did not echo the line", client,
               server)
        code = client.wait()
        expect(code == 0, f"schan-client.exe exited with {code}", client, server)
        expect("protocol=TLSv1.2" in client.stderr and "verify=ok" in client.stderr,
               "schan-client.exe did not report protocol=TLSv1.2 and verify=ok", client, server)
        code = server.wait()
        expect(code == 0, f"schan-server exited with {code}", client, server)
    finally:
        server.stop()
        if client:
            client.stop()
        subprocess.run(["wineserver", "-k"], env=env, timeout=PEER_TIMEOUT, check=False)


CASES = {
    "client-openssl-www": case_client_openssl_www,
    "openssl-client-alpn": case_openssl_client_alpn,
    "openssl-client-missing-certificate": case_openssl_client_missing_certificate,
    "client-gnutls": case_client_gnutls,
    "wine-client-native-server": case_wine_client_native_server,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schan-client", required=True, help="native schan-client executable")
    parser.add_argument("--schan-server", help="native schan-server executable")
    parser.add_argument("--windows-client", help="schan-client.exe of the mingw build")
    parser.add_argument("--in-namespace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("case", choices=sorted(CASES))
    arguments = parser.parse_args()

    pki = tempfile.mkdtemp(prefix="schan-interop-")
    try:
        generate_pki(pki)
        CASES[arguments.case](arguments, pki)
    except Skipped as reason:
        print(f"SKIPPED: {reason}", flush=True)
        return SKIP
    except Failed as failure:
        print(f"FAILED: {failure}", flush=True)
        return 1
    finally:
        shutil.rmtree(pki, ignore_errors=True)
    print(f"PASSED: {arguments.case}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
