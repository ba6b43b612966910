#!/usr/bin/env python3
"""TLS server that sends application data in the same TCP write as its last
handshake flight (the TLS 1.2 ChangeCipherSpec and Finished, or the TLS 1.3
NewSessionTicket messages), then echoes like echo_server.py."""

import tls_peer


def add_options(parser):
    parser.add_argument("--message", default="application data sent with the last handshake flight\n",
                        help="the application data to send")


def handle(stream, options):
    stream.handshake(send_last_flight=False)
    stream.tls.write(options.message.encode())
    stream.send_pending()
    tls_peer.log("sent %d bytes of application data with the last handshake flight" % len(options.message))
    tls_peer.echo(stream)


if __name__ == "__main__":
    tls_peer.serve(tls_peer.parse_arguments(__doc__, add_options), handle)
