"""Bulk transfers cross into the library once per buffer, not once per record or byte."""

import collections

import pytest

from conftest import connect

MIB = 1024 * 1024
TRANSFER = 16 * MIB


class CountingLibrary:
    """Wraps the ctypes library and counts calls per function name."""

    def __init__(self, library):
        self._library = library
        self.calls = collections.Counter()

    def __getattr__(self, name):
        function = getattr(self._library, name)

        def counted(*args):
            self.calls[name] += 1
            return function(*args)

        return counted


@pytest.fixture
def counting(monkeypatch):
    from schan import _session
    counter = CountingLibrary(_session.lib)
    monkeypatch.setattr(_session, "lib", counter)
    return counter


def serve_sink_then_source(context):
    """Read TRANSFER bytes, then send TRANSFER bytes back, then close cleanly."""
    def handler(connection):
        with context.wrap_socket(connection, server_side=True) as tls:
            remaining = TRANSFER
            while remaining:
                remaining -= len(tls.recv(MIB))
            block = b"s" * MIB
            for _ in range(TRANSFER // MIB):
                tls.sendall(block)
            tls.unwrap()
    return handler


def test_bulk_transfer_native_calls(thread_server, ssl_server_context, client_context, counting):
    server = thread_server(serve_sink_then_source(ssl_server_context))
    block = b"c" * MIB
    buffer = bytearray(MIB)
    with connect(client_context, server.port) as tls:
        counting.calls.clear()
        for _ in range(TRANSFER // MIB):
            tls.sendall(block)
        sent = dict(counting.calls)
        counting.calls.clear()
        total = 0
        while total < TRANSFER:
            total += tls.recv_into(buffer)
        received = dict(counting.calls)
        tls.unwrap()
    server.join()

    # Sending: one schan_encrypt fills schan's 64 KiB output queue and one
    # schan_take_output drains it, so 16 of each per MiB.
    assert sent == {"schan_encrypt": 16 * TRANSFER // MIB, "schan_take_output": 16 * TRANSFER // MIB}, sent
    # Receiving: a socket read returns what arrived, on loopback often a
    # single 16 KiB record, and costs one schan_feed. One schan_decrypt then
    # returns every complete record, and one more finds that input is
    # needed. So at most three calls per record, with 64 records per MiB.
    records = TRANSFER // (16 * 1024)
    assert sum(received.values()) <= 3 * records, received
    assert set(received) <= {"schan_feed", "schan_decrypt"}, received
