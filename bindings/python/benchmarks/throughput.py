#!/usr/bin/env python3
"""Measure bulk TLS throughput of a schan client and an ssl client on loopback.

  throughput.py --pki FOLDER [--mib 256] [--rounds 3]

FOLDER contains the test PKI (tests/support/test_pki.py FOLDER writes it). A
server built on Python's ssl module runs in a child process on 127.0.0.1
and, per connection, first reads MIB MiB, then sends MIB MiB. Each client
uploads with sendall() of 1 MiB blocks and downloads with recv_into() into
a 1 MiB buffer. The best of the rounds is printed in MiB/s. Both clients
negotiate TLS 1.3 with the same cipher suite.
"""

import argparse
import multiprocessing
import os
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

MIB = 1024 * 1024


def serve(pki, mib, ready, connections):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(pki, "leaf-chain.pem"), os.path.join(pki, "leaf.key"))
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(60)
        ready.put(listener.getsockname()[1])
        block = b"s" * MIB
        buffer = bytearray(MIB)
        for _ in range(connections):
            connection, _address = listener.accept()
            with context.wrap_socket(connection, server_side=True) as tls:
                remaining = mib * MIB
                while remaining:
                    remaining -= tls.recv_into(buffer)
                for _block in range(mib):
                    tls.sendall(block)
                tls.unwrap()


def measure(context, port, mib):
    block = b"c" * MIB
    buffer = bytearray(MIB)
    with socket.create_connection(("127.0.0.1", port), timeout=60) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            started = time.perf_counter()
            for _block in range(mib):
                tls.sendall(block)
            uploaded = time.perf_counter()
            remaining = mib * MIB
            while remaining:
                remaining -= tls.recv_into(buffer)
            downloaded = time.perf_counter()
            cipher = tls.cipher()[0]
            tls.unwrap()
    return mib / (uploaded - started), mib / (downloaded - uploaded), cipher


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pki", required=True, help="folder with root.pem, leaf-chain.pem and leaf.key")
    parser.add_argument("--mib", type=int, default=256, help="MiB sent each way per connection (default 256)")
    parser.add_argument("--rounds", type=int, default=3, help="connections per client (default 3)")
    options = parser.parse_args()

    import schan

    clients = {
        "schan": schan.create_default_context(cafile=os.path.join(options.pki, "root.pem")),
        "ssl": ssl.create_default_context(cafile=os.path.join(options.pki, "root.pem")),
    }
    ready = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(options.pki, options.mib, ready,
                                                         options.rounds * len(clients)))
    server.start()
    port = ready.get(timeout=60)
    try:
        for name, context in clients.items():
            results = [measure(context, port, options.mib) for _round in range(options.rounds)]
            upload = max(result[0] for result in results)
            download = max(result[1] for result in results)
            print("%-6s upload %7.1f MiB/s  download %7.1f MiB/s  (%s)" % (name, upload, download, results[0][2]))
    finally:
        server.join(60)
        if server.is_alive():
            server.kill()
    print("Python %s, %s, schan %s backend" % (sys.version.split()[0], ssl.OPENSSL_VERSION, schan.BACKEND))


if __name__ == "__main__":
    main()
