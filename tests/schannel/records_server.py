#!/usr/bin/env python3
"""TLS server that waits for any plaintext from the client, then sends each
--record argument as one application-data record, optionally followed by
close_notify, all in one TCP write, and then echoes like echo_server.py.

The SChannel injection tests use it to get several records into one
DecryptMessage input."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers"))

import tls_peer  # noqa: E402  (found through the path set above)


def add_options(parser):
    parser.add_argument("--record", action="append", default=[],
                        help="the plaintext of one record to send; repeat for more records")
    parser.add_argument("--close", action="store_true", help="send close_notify after the records and close")


def handle(stream, options):
    stream.handshake()
    request = stream.read_some()
    tls_peer.log("received %d bytes of request" % len(request))
    for record in options.record:
        stream.tls.write(record.encode())
    if options.close:
        stream.queue_close_notify()
    stream.send_pending()
    tls_peer.log("sent %d records%s" % (len(options.record), " and close_notify" if options.close else ""))
    if options.close:
        stream.close_after_drain()
    else:
        tls_peer.echo(stream)


if __name__ == "__main__":
    tls_peer.serve(tls_peer.parse_arguments(__doc__, add_options), handle)
