#!/usr/bin/env python3
"""TLS server that waits for any plaintext from the client, then sends a body
and close_notify in one TCP write and closes its side of the connection."""

import tls_peer


def add_options(parser):
    parser.add_argument("--body", default="the body that precedes close_notify\n", help="the body to send")


def handle(stream, options):
    stream.handshake()
    request = stream.read_some()
    tls_peer.log("received %d bytes of request" % len(request))
    stream.tls.write(options.body.encode())
    stream.queue_close_notify()
    stream.send_pending()
    tls_peer.log("sent %d bytes of body and close_notify" % len(options.body))
    stream.close_after_drain()


if __name__ == "__main__":
    tls_peer.serve(tls_peer.parse_arguments(__doc__, add_options), handle)
