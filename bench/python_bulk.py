#!/usr/bin/env python3
"""Run one round of the Python bulk benchmark and print one JSON line.

  python_bulk.py PKI socket|object schan|ssl BYTES
  python_bulk.py PKI serve BYTES [1.2]

A client built on schan or on the standard ssl module sends BYTES in
64 KiB writes to a server built on the ssl module, so both clients face
the same peer. "socket" runs SSLSocket over a loopback TCP connection to a
server in a child process; the time ends when the server's one-byte
acknowledgement arrives, and the CPU time is the client process's. "object"
pumps SSLObject and MemoryBIO pairs in memory in this process; both times
include the server's decryption.
"serve" runs only that server for one connection, for the Lisp and Wine
benchmarks: it prints its port on a line, then serves. "1.2" lets it accept
TLS 1.2, which is all Wine 8's SChannel offers. SCHAN_LIBRARY selects the
libschan.so that schan loads.
"""

import json
import os
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings", "python"))

WRITE_SIZE = 64 * 1024


def tls_module(impl):
    """Return schan or ssl; schan is imported only by its clients, so the receiver needs no libschan."""
    if impl != "schan":
        return ssl
    import schan
    return schan


def client_context(impl, pki):
    module = tls_module(impl)
    context = module.create_default_context(cafile=os.path.join(pki, "root.pem"))
    context.minimum_version = module.TLSVersion.TLSv1_3
    return context


def server_context(pki, minimum=ssl.TLSVersion.TLSv1_3):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = minimum
    context.load_cert_chain(os.path.join(pki, "leaf-ec-chain.pem"), os.path.join(pki, "leaf-ec.key"))
    return context


def serve(listener, pki, total, minimum=ssl.TLSVersion.TLSv1_3):
    connection, _address = listener.accept()
    with server_context(pki, minimum).wrap_socket(connection, server_side=True) as tls:
        buffer = bytearray(WRITE_SIZE)
        remaining = total
        while remaining:
            received = tls.recv_into(buffer)
            if received == 0:
                raise RuntimeError("the client closed the connection early")
            remaining -= received
        tls.sendall(b"k")


def run_socket(impl, pki, total):
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(120)
    child = os.fork()
    if child == 0:
        try:
            serve(listener, pki, total)
            os._exit(0)
        except BaseException:  # noqa: B036 - the child must never return into the parent's code
            os._exit(1)
    address = listener.getsockname()
    listener.close()
    payload = b"\x5a" * WRITE_SIZE
    try:
        with socket.create_connection(address, timeout=120) as raw:
            with client_context(impl, pki).wrap_socket(raw, server_hostname="localhost") as tls:
                cipher = tls.cipher()[0]
                started, cpu_started = time.perf_counter(), time.process_time()
                for _write in range(total // WRITE_SIZE):
                    tls.sendall(payload)
                if tls.recv(1) != b"k":
                    raise RuntimeError("the server did not acknowledge the data")
                seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    finally:
        _pid, status = os.waitpid(child, 0)
    if status != 0:
        raise RuntimeError("the server process failed with status %d" % status)
    return seconds, cpu_seconds, cipher


def pump(source, destination):
    data = source.read()
    if data:
        destination.write(data)


def run_object(impl, pki, total):
    module = tls_module(impl)
    client_in, client_out = module.MemoryBIO(), module.MemoryBIO()
    server_in, server_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_context(impl, pki).wrap_bio(client_in, client_out, server_hostname="localhost")
    server = server_context(pki).wrap_bio(server_in, server_out, server_side=True)

    for _flight in range(10):
        for endpoint in (client, server):
            try:
                endpoint.do_handshake()
            except (ssl.SSLWantReadError, module.SSLWantReadError):
                pass
        pump(client_out, server_in)
        pump(server_out, client_in)
    payload = b"\x5a" * WRITE_SIZE
    received = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    for _write in range(total // WRITE_SIZE):
        client.write(payload)
        server_in.write(client_out.read())
        while True:
            try:
                received += len(server.read(WRITE_SIZE))
            except ssl.SSLWantReadError:
                break
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    if received != total:
        raise RuntimeError("the server received %d of %d bytes" % (received, total))
    return seconds, cpu_seconds, client.cipher()[0]


def main():
    if len(sys.argv) in (4, 5) and sys.argv[2] == "serve":
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(120)
        print(listener.getsockname()[1], flush=True)
        minimum = ssl.TLSVersion.TLSv1_2 if sys.argv[4:] == ["1.2"] else ssl.TLSVersion.TLSv1_3
        serve(listener, sys.argv[1], int(sys.argv[3]), minimum)
        return
    if len(sys.argv) != 5 or sys.argv[2] not in ("socket", "object") or sys.argv[3] not in ("schan", "ssl"):
        sys.exit(__doc__)
    pki, mode, impl, total = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    runner = run_socket if mode == "socket" else run_object
    seconds, cpu_seconds, cipher = runner(impl, pki, total)
    mib = total / (1 << 20)
    print(json.dumps({"bytes": total, "write_size": WRITE_SIZE, "seconds": seconds, "cpu_seconds": cpu_seconds,
                      "mib_per_s": mib / seconds, "mib_per_cpu_s": mib / cpu_seconds, "cipher": cipher}))


if __name__ == "__main__":
    main()
