#!/usr/bin/env python3
"""TLS server that waits for any plaintext from the client, then sends a body
and closes the TCP connection without close_notify (a truncation attack)."""

import tls_peer


def add_options(parser):
    parser.add_argument("--body", default="the body that is cut off without close_notify\n",
                        help="the body to send")


def handle(stream, options):
    stream.handshake()
    request = stream.read_some()
    tls_peer.log("received %d bytes of request" % len(request))
    stream.tls.write(options.body.encode())
    stream.send_pending()
    tls_peer.log("sent %d bytes of body; closing without close_notify" % len(options.body))
    stream.close_after_drain()


if __name__ == "__main__":
    tls_peer.serve(tls_peer.parse_arguments(__doc__, add_options), handle)
