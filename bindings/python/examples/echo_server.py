#!/usr/bin/env python3
"""A TLS echo server on 127.0.0.1 built with schan.SSLContext.

  echo_server.py --cert leaf-chain.pem --key leaf.key --port 8443

Each connection runs in its own thread: the server sends back every byte
until the client's close_notify, replies with its own close_notify and
closes. Prints
"listening on 127.0.0.1:PORT" once it accepts connections; --port 0 picks a
free port.
"""

import argparse
import logging
import socket
import sys
import threading

import schan

log = logging.getLogger("echo_server")


def echo(connection, address):
    peer = "%s:%d" % address
    try:
        with connection:
            log.info("%s: %s with %s", peer, connection.version(), connection.cipher()[0])
            total = 0
            while True:
                data = connection.recv(65536)
                if not data:
                    break
                connection.sendall(data)
                total += len(data)
            connection.unwrap()
            log.info("%s: echoed %d bytes, closed with close_notify", peer, total)
    except (OSError, schan.SSLError) as error:
        log.warning("%s: connection failed: %s", peer, error)


def main():
    parser = argparse.ArgumentParser(description="TLS echo server on 127.0.0.1 through schan.")
    parser.add_argument("--cert", required=True, help="PEM file: the server certificate followed by its intermediates")
    parser.add_argument("--key", help="PEM file with the private key (default: read it from --cert)")
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default 0: a free port)")
    parser.add_argument("--connections", type=int, default=0,
                        help="exit after serving this many connections (default 0: serve until interrupted)")
    options = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")

    context = schan.SSLContext(schan.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(options.cert, options.key)

    with socket.create_server(("127.0.0.1", options.port)) as listener:
        print("listening on 127.0.0.1:%d" % listener.getsockname()[1], flush=True)
        with context.wrap_socket(listener, server_side=True) as tls_listener:
            served = 0
            threads = []
            while options.connections == 0 or served < options.connections:
                try:
                    connection, address = tls_listener.accept()
                except schan.SSLError as error:
                    log.warning("handshake failed: %s", error)
                    continue
                served += 1
                thread = threading.Thread(target=echo, args=(connection, address))
                thread.start()
                threads.append(thread)
            for thread in threads:
                thread.join()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
