#!/usr/bin/env python3
"""Run one test executable with the test PKI and a control port for TLS peers.

Usage:
    peer_host.py [--wine] -- TEST_EXE [ARGS...]
    peer_host.py --wine-prefix-start | --wine-prefix-stop

For a test run the peer host generates the test PKI into a fresh temporary
folder, listens on a control port on 127.0.0.1 and runs the test with these
environment variables:

    SCHAN_PEER_HOST   127.0.0.1:PORT of the control port
    SCHAN_TEST_PKI    the PKI folder (a Unix path, also under Wine)
    SCHAN_TEST_PEERS  the tests/peers folder (Python TLS peers)

With --wine the test runs as `wine TEST_EXE ARGS...` in the WINEPREFIX of the
environment. The peer host exits with the test's exit code, after stopping
every peer that is still running and deleting the PKI folder.

Control protocol (tests/support/test_support.cpp is the client): one request
per TCP connection, one line each way. Fields are separated by single spaces
and percent-encoded (every byte outside the printable ASCII range, space and
"%" become %XX). Requests and their replies:

    START TIMEOUT_S LISTENS ARG...   -> OK ID PORT
    OUTPUT ID                        -> OK TEXT
    STDIN ID TEXT                    -> OK
    WAIT_OUTPUT ID TIMEOUT_MS TEXT   -> OK 1 (TEXT seen) | OK 0 (timed out)
    WAIT_EXIT ID TIMEOUT_MS          -> OK CODE | OK running
    STOP ID                          -> OK CODE

Any request can fail with `ERR MESSAGE`. START replaces "{port}" in each
argument with a free TCP port, "{pki}" with the PKI folder and "{peers}" with
the tests/peers folder. With LISTENS=1 it waits until the process listens on
that port on 127.0.0.1 or ::1, read from /proc/net/tcp and /proc/net/tcp6
because a probing connection would use up peers that serve one connection.
A peer that listens on any other address is stopped and START fails. Every
peer is killed after TIMEOUT_S seconds. Exit codes are the process's own, or
128 + the signal number when a signal ended it.
"""

import argparse
import logging
import os
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_pki  # noqa: E402  (the folder is added to sys.path just above)

PEERS_FOLDER = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers"))

LISTEN_TIMEOUT_S = 20.0   # how long START waits for a server peer to listen
STOP_GRACE_S = 3.0        # time between SIGTERM and SIGKILL
OUTPUT_LIMIT = 4 << 20    # captured output kept per peer, in bytes

log = logging.getLogger("peer_host")


def encode_field(data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    return urllib.parse.quote_from_bytes(data, safe="!\"#$&'()*+,-./:;<=>?@[\\]^_`{|}~")


def decode_field(field):
    return urllib.parse.unquote_to_bytes(field)


def exit_code(returncode):
    """Map Popen's negative returncode for a signal to the shell's 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


# ---------------------------------------------------------------------------
# Listening sockets, read from /proc
# ---------------------------------------------------------------------------

TCP_LISTEN = "0A"
LOOPBACK_ADDRESSES = {
    "0100007F",                          # 127.0.0.1 (/proc prints IPv4 in host byte order)
    "00000000000000000000000001000000",  # ::1
    "0000000000000000FFFF00000100007F",  # ::ffff:127.0.0.1
}


def listening_addresses(port):
    """Return the local addresses (as /proc prints them) that listen on `port`."""
    addresses = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as lines:
                next(lines)  # header
                for line in lines:
                    fields = line.split()
                    address, port_hex = fields[1].split(":")
                    if fields[3] == TCP_LISTEN and int(port_hex, 16) == port:
                        addresses.append(address)
        except FileNotFoundError:
            continue
    return addresses


def free_port():
    """Return a TCP port on 127.0.0.1 that no socket is bound to right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------------------
# Peers
# ---------------------------------------------------------------------------

class Peer:
    """One process started for the test, with its captured output."""

    def __init__(self, peer_id, argv, port, timeout_s):
        self.id = peer_id
        self.argv = argv
        self.port = port
        self.output = bytearray()
        self.changed = threading.Condition()
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, cwd=PEERS_FOLDER)
        self.reader = threading.Thread(target=self._read_output, daemon=True)
        self.reader.start()
        self.timer = threading.Timer(timeout_s, self._on_timeout, args=(timeout_s,))
        self.timer.daemon = True
        self.timer.start()

    def _read_output(self):
        while True:
            chunk = self.process.stdout.read1(65536)
            with self.changed:
                if chunk and len(self.output) < OUTPUT_LIMIT:
                    self.output += chunk[:OUTPUT_LIMIT - len(self.output)]
                self.changed.notify_all()
            if not chunk:
                return

    def _append_note(self, note):
        with self.changed:
            self.output += ("\n[peer host: %s]\n" % note).encode()
            self.changed.notify_all()

    def _on_timeout(self, timeout_s):
        if self.process.poll() is None:
            log.warning("peer %d (pid %d) still runs after its timeout of %d s; stopping it",
                        self.id, self.process.pid, timeout_s)
            self._append_note("stopped after its timeout of %d s" % timeout_s)
            self.stop()

    def text(self):
        with self.changed:
            return bytes(self.output)

    def write_stdin(self, data):
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def wait_output(self, text, timeout_s):
        deadline = time.monotonic() + timeout_s
        with self.changed:
            while text not in self.output:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.changed.wait(remaining)
            return True

    def wait_exit(self, timeout_s):
        try:
            return exit_code(self.process.wait(timeout_s))
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        """Stop the process by its PID: SIGTERM, then SIGKILL."""
        self.timer.cancel()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                log.warning("peer %d (pid %d) ignored SIGTERM; sending SIGKILL", self.id, self.process.pid)
                self.process.kill()
                self.process.wait()
        self.reader.join(1.0)
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        return exit_code(self.process.returncode)

    def wait_listening(self):
        """Wait until the peer listens on its port; raise if it never does."""
        deadline = time.monotonic() + LISTEN_TIMEOUT_S
        while time.monotonic() < deadline:
            addresses = listening_addresses(self.port)
            foreign = [a for a in addresses if a not in LOOPBACK_ADDRESSES]
            if foreign:
                raise RuntimeError("the peer listens on port %d of a non-loopback address (%s in /proc "
                                   "notation); bind it to 127.0.0.1 or ::1" % (self.port, foreign[0]))
            if addresses:
                return
            if self.process.poll() is not None:
                raise RuntimeError("the peer exited with code %d before it listened on port %d"
                                   % (exit_code(self.process.returncode), self.port))
            time.sleep(0.01)
        raise RuntimeError("the peer did not listen on port %d within %d s" % (self.port, LISTEN_TIMEOUT_S))


class PeerTable:
    def __init__(self, pki_folder):
        self.pki_folder = pki_folder
        self.lock = threading.Lock()
        self.peers = {}
        self.next_id = 1

    def start(self, timeout_s, listens, argv):
        port = free_port()
        argv = [arg.replace("{port}", str(port)).replace("{pki}", self.pki_folder)
                .replace("{peers}", PEERS_FOLDER) for arg in argv]
        with self.lock:
            peer_id = self.next_id
            self.next_id += 1
        try:
            peer = Peer(peer_id, argv, port, timeout_s)
        except OSError as error:
            raise RuntimeError("cannot start %s: %s" % (argv[0], error)) from error
        with self.lock:
            self.peers[peer_id] = peer
        log.info("peer %d started (pid %d, port %d): %s", peer_id, peer.process.pid, port, " ".join(argv))

        if listens:
            try:
                peer.wait_listening()
            except RuntimeError as error:
                peer.stop()
                output = peer.text().decode("utf-8", "replace").strip()
                raise RuntimeError("%s: %s; its output: %s" % (" ".join(argv), error, output or "(none)")) from None
        return peer

    def get(self, peer_id):
        with self.lock:
            peer = self.peers.get(peer_id)
        if peer is None:
            raise RuntimeError("no peer with id %d" % peer_id)
        return peer

    def stop_all(self):
        with self.lock:
            peers = list(self.peers.values())
        for peer in peers:
            if peer.process.poll() is None:
                log.info("peer %d (pid %d) still runs at the end of the test; stopping it",
                         peer.id, peer.process.pid)
            peer.stop()


# ---------------------------------------------------------------------------
# Control port
# ---------------------------------------------------------------------------

class ControlHandler(socketserver.StreamRequestHandler):
    timeout = 120  # seconds a client may take to send its request line

    def handle(self):
        line = self.rfile.readline()
        if not line:
            return
        fields = line.decode("ascii", "replace").split()
        try:
            reply = ["OK"] + [encode_field(value) for value in self.dispatch(fields)]
        except (RuntimeError, ValueError, IndexError, OSError) as error:
            log.error("request %r failed: %s", line.decode("ascii", "replace").strip()[:200], error)
            reply = ["ERR", encode_field(str(error))]
        self.wfile.write((" ".join(reply) + "\n").encode("ascii"))

    def dispatch(self, fields):
        table = self.server.peers
        command = fields[0] if fields else ""
        if command == "START":
            argv = [decode_field(f).decode("utf-8", "surrogateescape") for f in fields[3:]]
            if not argv:
                raise ValueError("START needs a command line")
            peer = table.start(float(fields[1]), fields[2] == "1", argv)
            return [str(peer.id), str(peer.port)]
        if command == "OUTPUT":
            return [table.get(int(fields[1])).text()]
        if command == "STDIN":
            table.get(int(fields[1])).write_stdin(decode_field(fields[2]) if len(fields) > 2 else b"")
            return []
        if command == "WAIT_OUTPUT":
            text = decode_field(fields[3]) if len(fields) > 3 else b""
            seen = table.get(int(fields[1])).wait_output(text, int(fields[2]) / 1000.0)
            return ["1" if seen else "0"]
        if command == "WAIT_EXIT":
            code = table.get(int(fields[1])).wait_exit(int(fields[2]) / 1000.0)
            return ["running" if code is None else str(code)]
        if command == "STOP":
            return [str(table.get(int(fields[1])).stop())]
        raise ValueError("unknown request %r" % command)


class ControlServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, peers):
        super().__init__(("127.0.0.1", 0), ControlHandler)
        self.peers = peers


# ---------------------------------------------------------------------------
# Wine
# ---------------------------------------------------------------------------

def wine_environment():
    env = dict(os.environ)
    if not env.get("WINEPREFIX"):
        sys.exit("peer_host: WINEPREFIX is not set; set it to the prefix the tests must use")
    env["WINEDEBUG"] = "-all"
    # Without Mono and Gecko a new prefix installs faster and shows no dialog.
    env.setdefault("WINEDLLOVERRIDES", "mscoree=d;mshtml=d")
    return env


def run_wine_tool(argv, env, timeout_s):
    """Run a Wine command and return its exit code.

    Its output goes to a file, not a pipe. The Wine services that a command
    starts (services.exe, winedevice.exe) inherit the output handles and keep
    running, so a pipe would not reach end of file and ctest would wait for
    its timeout. The output is printed only when the command fails."""
    with tempfile.TemporaryFile() as output:
        try:
            result = subprocess.run(argv, env=env, timeout=timeout_s, stdin=subprocess.DEVNULL,
                                    stdout=output, stderr=output)
        except subprocess.TimeoutExpired:
            sys.exit("peer_host: %s timed out after %d s" % (" ".join(argv), timeout_s))
        if result.returncode != 0:
            output.seek(0)
            sys.stderr.write(output.read().decode("utf-8", "replace"))
        return result.returncode


def run_step(argv, env, timeout_s):
    code = run_wine_tool(argv, env, timeout_s)
    if code != 0:
        sys.exit("peer_host: %s failed with exit code %d" % (" ".join(argv), code))


WINESERVER_ALREADY_RUNNING = 2  # exit code of `wineserver -p` (Wine 8) when a server runs


def start_persistent_wineserver(env):
    """Start a wineserver that stays up until `wineserver -k`.

    A server started by an earlier wine command is not persistent and exits
    3 s after its last client (Wine 8's default), so wait up to 6 s for that
    and start anew. A server that is still up then is persistent already."""
    code = run_wine_tool(["wineserver", "-p"], env, 60)
    if code != WINESERVER_ALREADY_RUNNING:
        if code != 0:
            sys.exit("peer_host: wineserver -p failed with exit code %d" % code)
        return
    try:
        subprocess.run(["wineserver", "-w"], env=env, timeout=6, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        log.info("the wineserver of %s is already persistent", env["WINEPREFIX"])
        return
    run_step(["wineserver", "-p"], env, 60)


def wine_prefix_start():
    """Create the prefix if missing and keep its wineserver running."""
    env = wine_environment()
    prefix = env["WINEPREFIX"]
    if not os.path.isfile(os.path.join(prefix, "system.reg")):
        log.info("creating the Wine prefix %s", prefix)
        os.makedirs(prefix, exist_ok=True)
        run_step(["wineboot", "--init"], env, 300)
    start_persistent_wineserver(env)
    run_step(["wine", "cmd", "/c", "exit"], env, 120)
    return 0


def wine_prefix_stop():
    """Stop the wineserver of this WINEPREFIX only."""
    env = wine_environment()
    run_wine_tool(["wineserver", "-k"], env, 60)
    return 0


# ---------------------------------------------------------------------------
# Test run
# ---------------------------------------------------------------------------

def run_test(command, wine):
    pki_folder = tempfile.mkdtemp(prefix="schan-pki-")
    peers = PeerTable(pki_folder)
    server = None
    test = None

    def on_signal(signum, _frame):
        log.error("received signal %d; stopping the test and its peers", signum)
        if test is not None and test.poll() is None:
            test.kill()
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        started = time.monotonic()
        test_pki.generate(pki_folder)
        log.info("generated the test PKI in %s in %.1f s", pki_folder, time.monotonic() - started)

        server = ControlServer(peers)
        threading.Thread(target=server.serve_forever, daemon=True).start()

        env = wine_environment() if wine else dict(os.environ)
        env["SCHAN_PEER_HOST"] = "127.0.0.1:%d" % server.server_address[1]
        env["SCHAN_TEST_PKI"] = pki_folder
        env["SCHAN_TEST_PEERS"] = PEERS_FOLDER
        argv = (["wine"] + command) if wine else command
        test = subprocess.Popen(argv, env=env)
        return exit_code(test.wait())
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        peers.stop_all()
        shutil.rmtree(pki_folder, ignore_errors=True)


def main():
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="peer_host: %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wine", action="store_true", help="run the test under wine")
    parser.add_argument("--wine-prefix-start", action="store_true",
                        help="create WINEPREFIX if missing and start its wineserver")
    parser.add_argument("--wine-prefix-stop", action="store_true", help="stop the wineserver of WINEPREFIX")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- TEST_EXE [ARGS...]")
    options = parser.parse_args()

    if options.wine_prefix_start:
        return wine_prefix_start()
    if options.wine_prefix_stop:
        return wine_prefix_stop()

    command = options.command[1:] if options.command[:1] == ["--"] else options.command
    if not command:
        parser.error("missing the test command after --")
    return run_test(command, options.wine)


if __name__ == "__main__":
    sys.exit(main())
