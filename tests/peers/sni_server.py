#!/usr/bin/env python3
"""TLS server that reports the SNI host name it received: it sends
"sni=NAME\\n" (or "sni=(none)\\n") right after the handshake, prints the same
line on stdout, then echoes like echo_server.py."""

import tls_peer


def handle(stream, _options):
    stream.handshake()
    report = "sni=%s\n" % (stream.server_name or "(none)")
    tls_peer.log(report.strip())
    stream.tls.write(report.encode())
    tls_peer.echo(stream)


if __name__ == "__main__":
    tls_peer.serve(tls_peer.parse_arguments(__doc__), handle)
