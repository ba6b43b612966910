#!/usr/bin/env python3
"""TLS server for the Lisp binding's tests: serves one connection on 127.0.0.1.

Modes:
  echo-digest  read --size octets, reply with their MD5 in hex and a newline,
               then the same octets, then close_notify
  close        send "hello from python" and close_notify, then wait for the
               client's close_notify
  truncate     send "partial data" and close the TCP connection without
               close_notify
"""

import argparse
import hashlib
import socket
import ssl
import sys

SOCKET_TIMEOUT_SECONDS = 30


def read_exact(connection, size):
    chunks = []
    remaining = size
    while remaining > 0:
        chunk = connection.recv(min(remaining, 65536))
        if not chunk:
            raise EOFError("the client closed the connection after %d of %d octets"
                           % (size - remaining, size))
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def serve(connection, mode, size):
    if mode == "echo-digest":
        data = read_exact(connection, size)
        connection.sendall(hashlib.md5(data).hexdigest().encode("ascii") + b"\n" + data)
        connection.unwrap()
    elif mode == "close":
        connection.sendall(b"hello from python")
        connection.unwrap()
    elif mode == "truncate":
        connection.sendall(b"partial data")
        # Closing the socket object skips SSL_shutdown, so no close_notify is sent.
        connection.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1")
    parser.add_argument("--cert", required=True, help="PEM file: certificate and chain")
    parser.add_argument("--key", required=True, help="PEM file: private key")
    parser.add_argument("--mode", required=True, choices=["echo-digest", "close", "truncate"])
    parser.add_argument("--size", type=int, default=0, help="octets to read in echo-digest mode")
    args = parser.parse_args()

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    with socket.create_server(("127.0.0.1", args.port)) as listener:
        raw, address = listener.accept()
        raw.settimeout(SOCKET_TIMEOUT_SECONDS)
        print("accepted", address, flush=True)
        connection = context.wrap_socket(raw, server_side=True)
        print("handshake", connection.version(), connection.cipher()[0], flush=True)
        serve(connection, args.mode, args.size)
        print("done", flush=True)
        raw.close()


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # report every failure in the peer's output for the test log
        print("error:", type(error).__name__, error, file=sys.stderr, flush=True)
        sys.exit(1)
