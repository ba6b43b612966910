#!/usr/bin/env python3
"""TLS server that waits for any plaintext from the client, then sends each
--record argument as one application-data record, optionally followed by
close_notify, all in one TCP write, and then echoes like echo_server.py.

The SChannel injection tests use it to get several records into one
DecryptMessage input. With --exchange it also plays the server's side of a
handshake that the tests replay with application-data records. It replies to
each expected request record in turn and keeps back the echo of other data
until the last reply is sent, as a server sends no application data in the
middle of its handshake flights."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers"))

import tls_peer  # noqa: E402  (found through the path set above)


def add_options(parser):
    parser.add_argument("--record", action="append", default=[],
                        help="the plaintext of one record to send; repeat for more records")
    parser.add_argument("--close", action="store_true", help="send close_notify after the records and close")
    parser.add_argument("--exchange", action="append", default=[], metavar="REQUEST=ANSWER",
                        help="after the records, wait for the plaintext REQUEST and send ANSWER as one record; "
                             "repeat for more steps, which run in the given order")


def answer_exchanges(stream, exchanges):
    """Reply to each REQUEST=ANSWER step in order, then echo the held data.

    Return False when the client closed before the last step."""
    held = b""
    for exchange in exchanges:
        request, answer = (part.encode() for part in exchange.split("=", 1))
        while request not in held:
            data = stream.read_some()
            if not data:
                tls_peer.log("the client closed before sending %s" % request.decode())
                return False
            held += data
        before, after = held.split(request, 1)
        held = before + after
        stream.tls.write(answer)
        stream.send_pending()
        tls_peer.log("answered %s with %s" % (request.decode(), answer.decode()))
    if held:
        stream.tls.write(held)
        stream.send_pending()
    tls_peer.log("echoed %d bytes held during the exchange" % len(held))
    return True


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
    elif answer_exchanges(stream, options.exchange):
        tls_peer.echo(stream)
    else:
        stream.close_after_drain()


if __name__ == "__main__":
    tls_peer.serve(tls_peer.parse_arguments(__doc__, add_options), handle)
