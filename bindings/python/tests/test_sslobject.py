"""SSLObject and MemoryBIO: sans-IO TLS in memory and under asyncio."""

import asyncio
import ssl

import pytest

from conftest import IO_TIMEOUT


def test_memory_bio_matches_ssl(schan_module):
    for bio in (schan_module.MemoryBIO(), ssl.MemoryBIO()):
        assert bio.pending == 0
        assert not bio.eof
        assert bio.write(b"abcdef") == 6
        assert bio.write(memoryview(b"gh")) == 2
        assert bio.pending == 8
        assert bio.read(3) == b"abc"
        assert bio.read() == b"defgh"
        assert bio.read() == b""
        bio.write(b"tail")
        bio.write_eof()
        assert not bio.eof
        assert bio.read(100) == b"tail"
        assert bio.eof
        with pytest.raises(ssl.SSLError, match="write_eof"):
            bio.write(b"more")
        with pytest.raises(TypeError):
            bio.write("text")


def bio_for(context):
    """Return the MemoryBIO class a context needs: ssl's own for ssl contexts, schan's otherwise."""
    if isinstance(context, ssl.SSLContext):
        return ssl.MemoryBIO
    import schan
    return schan.MemoryBIO


class Pair:
    """A client and a server SSLObject connected through memory BIOs."""

    def __init__(self, client_context, server_context, client_bio=None, hostname="localhost"):
        client_bio = client_bio or bio_for(client_context)
        server_bio = bio_for(server_context)
        self.client_in, self.client_out = client_bio(), client_bio()
        self.server_in, self.server_out = server_bio(), server_bio()
        self.client = client_context.wrap_bio(self.client_in, self.client_out, server_hostname=hostname)
        self.server = server_context.wrap_bio(self.server_in, self.server_out, server_side=True)

    def pump(self):
        """Move queued records both ways; return the number of bytes moved."""
        moved = 0
        for source, target in ((self.client_out, self.server_in), (self.server_out, self.client_in)):
            data = source.read()
            if data:
                target.write(data)
                moved += len(data)
        return moved

    def handshake(self):
        pending = {self.client, self.server}
        for _round in range(20):
            for side in list(pending):
                try:
                    side.do_handshake()
                    pending.discard(side)
                except ssl.SSLWantReadError:
                    pass
            moved = self.pump()
            if not pending and not moved:
                return
        raise AssertionError("the in-memory handshake did not finish")


def attempt(call):
    """Return call()'s result, or the name of the ssl exception class it raised."""
    try:
        return call()
    except ssl.SSLError as error:
        return next(cls.__name__ for cls in type(error).__mro__ if cls.__module__ == "ssl")


def close_sequence(pair):
    """Exchange data and close_notify; return what each step returned or raised."""
    steps = []
    pair.client.write(b"ping")
    pair.pump()
    steps.append(pair.server.read(100))
    pair.server.write(b"pong")
    steps.append(attempt(pair.server.unwrap))
    pair.pump()
    steps.append(pair.client.pending())
    steps.append(pair.client.read(2))
    steps.append(pair.client.pending())
    steps.append(pair.client.read(100))
    steps.append(pair.client.read(100))
    steps.append(attempt(pair.client.unwrap))
    pair.pump()
    steps.append(attempt(pair.server.unwrap))
    steps.append(attempt(lambda: pair.client.read(100)))
    return steps


def test_client_object_matches_ssl(schan_module, client_context, ssl_client_context, ssl_server_context):
    results = []
    for context in (client_context, ssl_client_context):
        pair = Pair(context, ssl_server_context)
        with pytest.raises(ssl.SSLWantReadError):
            pair.client.do_handshake()
        assert pair.client_out.pending > 0
        pair.handshake()
        assert pair.client.version() == "TLSv1.3"
        assert pair.client.server_hostname == "localhost"
        assert not pair.client.server_side
        results.append(close_sequence(pair))
    assert results[0] == results[1]
    assert results[0][0] == b"ping"
    assert results[0][3] == b"po"


def test_server_object_matches_ssl(schan_module, pki, ssl_client_context, ssl_server_context):
    server_context = schan_module.SSLContext(schan_module.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(pki.path("leaf-chain.pem"), pki.path("leaf.key"))
    results = []
    for context in (server_context, ssl_server_context):
        pair = Pair(ssl_client_context, context)
        pair.handshake()
        assert pair.server.server_side
        assert pair.server.getpeercert() is None
        results.append(close_sequence(pair))
    assert results[0] == results[1]


def test_read_into_buffer_with_ssl_memory_bio(client_context, ssl_server_context):
    pair = Pair(client_context, ssl_server_context, client_bio=ssl.MemoryBIO)
    pair.handshake()
    pair.server.write(b"0123456789")
    pair.pump()
    buffer = bytearray(8)
    assert pair.client.read(4, buffer) == 4
    assert buffer[:4] == b"0123"
    assert pair.client.read(0, buffer) == 6
    assert buffer[:6] == b"456789"
    with pytest.raises(ssl.SSLWantReadError):
        pair.client.read(10, buffer)


def test_truncation_raises_eof_error(schan_module, client_context, ssl_server_context):
    pair = Pair(client_context, ssl_server_context)
    pair.handshake()
    pair.server.write(b"cut")
    pair.pump()
    pair.client_in.write_eof()
    assert pair.client.read(100) == b"cut"
    with pytest.raises(schan_module.SSLEOFError):
        pair.client.read(100)


def test_large_write_through_memory(schan_module, client_context, ssl_server_context):
    pair = Pair(client_context, ssl_server_context)
    pair.handshake()
    payload = bytes(range(256)) * 4096
    assert pair.client.write(bytearray(payload)) == len(payload)
    pair.pump()
    received = bytearray()
    while len(received) < len(payload):
        received += pair.server.read(65536)
    assert received == payload


def test_write_before_handshake_runs_it(schan_module, client_context):
    incoming, outgoing = schan_module.MemoryBIO(), schan_module.MemoryBIO()
    tls = client_context.wrap_bio(incoming, outgoing, server_hostname="localhost")
    with pytest.raises(schan_module.SSLWantReadError):
        tls.write(b"early")
    assert outgoing.pending > 0
    assert tls.version() is None
    assert tls.cipher() is None
    with pytest.raises(TypeError):
        schan_module.SSLObject()


# -- asyncio, which drives SSLObject through wrap_bio --------------------------------

async def echo_once(reader, writer):
    data = await reader.read(100)
    writer.write(data.upper())
    await writer.drain()
    writer.close()


def test_asyncio_client_with_schan_context(client_context, ssl_server_context):
    async def scenario():
        server = await asyncio.start_server(echo_once, "127.0.0.1", 0, ssl=ssl_server_context)
        port = server.sockets[0].getsockname()[1]
        async with server:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client_context,
                                                           server_hostname="localhost")
            assert writer.get_extra_info("ssl_object").version() == "TLSv1.3"
            writer.write(b"hello asyncio")
            await writer.drain()
            reply = await reader.read()
            writer.close()
            await writer.wait_closed()
            return reply

    assert asyncio.run(asyncio.wait_for(scenario(), IO_TIMEOUT)) == b"HELLO ASYNCIO"


def test_asyncio_server_with_schan_context(schan_module, pki, ssl_client_context):
    server_context = schan_module.SSLContext(schan_module.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(pki.path("leaf-chain.pem"), pki.path("leaf.key"))

    async def scenario():
        server = await asyncio.start_server(echo_once, "127.0.0.1", 0, ssl=server_context)
        port = server.sockets[0].getsockname()[1]
        async with server:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ssl_client_context,
                                                           server_hostname="localhost")
            writer.write(b"served by schan")
            await writer.drain()
            reply = await reader.read()
            writer.close()
            await writer.wait_closed()
            return reply

    assert asyncio.run(asyncio.wait_for(scenario(), IO_TIMEOUT)) == b"SERVED BY SCHAN"
