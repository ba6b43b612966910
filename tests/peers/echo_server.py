#!/usr/bin/env python3
"""TLS echo server: sends back every plaintext byte until the client's
close_notify, then sends its own close_notify."""

import tls_peer


def handle(stream, _options):
    stream.handshake()
    tls_peer.echo(stream)


if __name__ == "__main__":
    tls_peer.serve(tls_peer.parse_arguments(__doc__), handle)
