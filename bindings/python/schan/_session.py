"""A native schan session with the reusable buffers it moves bytes through.

Session runs the sans-IO loop of schan.h over a transport: an object with
_raw_receive_into(view, deadline), which returns 0 at the end of stream,
and _raw_send(view, deadline), which returns the bytes it accepted.
SSLObject uses memory BIOs as the transport, SSLSocket the socket itself.
Each bulk transfer is one ctypes call on a whole buffer (schan_feed,
schan_take_output, schan_encrypt, schan_decrypt), and the buffers are
allocated once per session.

Locks: schan allows one thread at a time per session, and ssl users often
read in one thread while another writes. `_read_lock` and `_write_lock`
admit one reader and one writer, each with the buffer it owns.
`_send_lock` and `_receive_lock` admit one thread per direction of the
transport. The short-lived `_lock` serializes every native call and the
state it changes, and it is never held while the transport waits. Locks are
taken in that order.
"""

import ctypes
import sys
import threading

from . import _errors
from . import _library as native

lib = native.lib
HAVE_OUTPUT = native.HAVE_OUTPUT

# Bytes read from the transport at once. schan_feed() accepts about two
# maximum-size records (36874 bytes); the rest waits in the input buffer.
INPUT_SIZE = 64 * 1024
# Bytes taken from schan's output queue at once. schan_encrypt() stops
# queueing at 64 KiB, after a record that may pass that limit by up to
# 16 KiB of plaintext plus the record overhead, so one take drains it.
OUTPUT_SIZE = 96 * 1024
# Plaintext decrypted at once by recv() and read() without a caller buffer,
# and the chunk in which read-only plaintext is copied for schan_encrypt.
PLAINTEXT_SIZE = 64 * 1024


# Output of at least this many bytes goes to a MemoryBIO in a new bytes
# object that schan_take_output() fills, instead of through the output buffer.
OWNED_OUTPUT_MINIMUM = 4096


def _bytes_maker():
    """Return a function making an unfilled bytes object and its address, or None outside CPython.

    PyBytes_FromStringAndSize(NULL, n) makes a bytes object whose contents
    the C API lets its creator fill before passing it on. Filling one
    with schan_take_output() saves the copy that MemoryBIO.write() makes.
    """
    if sys.implementation.name != "cpython" or not hasattr(ctypes, "pythonapi"):
        return None
    new = ctypes.pythonapi.PyBytes_FromStringAndSize
    new.restype = ctypes.py_object
    new.argtypes = [ctypes.c_void_p, ctypes.c_ssize_t]
    # In CPython id() is the object's address, and the contents of every
    # bytes object sit at the same offset from it.
    sample = b"offset"
    offset = ctypes.cast(sample, ctypes.c_void_p).value - id(sample)

    def make(size):
        data = new(None, size)
        return data, id(data) + offset
    return make


_new_bytes = _bytes_maker()


def _address(source):
    """Return the address of a bytes object's contents, or `source` itself if it is an address."""
    return source if isinstance(source, int) else ctypes.cast(source, ctypes.c_void_p).value


def _buffer(size):
    """Return a reusable buffer: (bytearray, its address, a memoryview of it, the ctypes view that pins it)."""
    storage = bytearray(size)
    # The ctypes view pins the bytearray: it can no longer be resized, so
    # the address stays valid for the session's life.
    pinned = (ctypes.c_char * size).from_buffer(storage)
    return storage, ctypes.addressof(pinned), memoryview(storage), pinned


class Session:
    """One schan_session with its input, output and plaintext buffers."""

    _free_session = lib.schan_session_free

    def __init__(self, handle, ignore_unexpected_eof=False):
        self._handle = handle
        self.ignore_unexpected_eof = ignore_unexpected_eof
        self._lock = threading.RLock()
        self._read_lock = threading.RLock()
        self._write_lock = threading.RLock()
        self._send_lock = threading.Lock()
        self._receive_lock = threading.Lock()

        self._count = ctypes.c_size_t()
        self._count_ref = ctypes.byref(self._count)
        self._input, self._input_address, self._input_view, self._input_pin = _buffer(INPUT_SIZE)
        self._input_start = self._input_end = 0
        self._output, self._output_address, self._output_view, self._output_pin = _buffer(OUTPUT_SIZE)
        self._output_start = self._output_end = 0
        self._plain, self._plain_address, self._plain_view, self._plain_pin = _buffer(PLAINTEXT_SIZE)
        self._copy, self._copy_address, self._copy_view, self._copy_pin = _buffer(PLAINTEXT_SIZE)

        self._feed_count = 0          # feed calls so far, so a waiting thread sees that input arrived
        self._eof_fed = False         # schan_feed_eof() was called
        # schan returned HAVE_OUTPUT and the output was not taken yet. Output
        # that schan_decrypt() queues while it returns plaintext (a KeyUpdate
        # response) is reported by the next schan_decrypt() as HAVE_OUTPUT,
        # or leaves with the next records from schan_encrypt().
        self._output_queued = False
        self._write_committed = 0     # plaintext of an interrupted write, already encrypted
        # Plaintext decrypted ahead of a read: by pending(), or while a write
        # waited for a post-handshake exchange to finish.
        self._stash = bytearray()
        self.handshake_done = False
        self.close_sent = False
        self.close_received = False
        self._info = None

    def free(self):
        """Free the native session. Runs when the last reference goes, so no call is in progress."""
        with self._lock:
            handle, self._handle = self._handle, None
        if handle:
            self._free_session(handle)

    def __del__(self):
        self.free()

    # -- errors ------------------------------------------------------------

    def _error(self, status):
        if self._handle is None:
            return ValueError("the TLS session was already freed")
        if status == native.E_HANDSHAKE_FAILED and self._eof_fed and not self.handshake_done:
            # ssl reports a transport end during the handshake as SSLEOFError.
            message = lib.schan_last_error(self._handle).decode("utf-8", "replace")
            return _errors.error_for_status(native.E_TRUNCATED, message)
        return _errors.session_error(self._handle, status)

    def _checked_handle(self):
        if self._handle is None:
            raise ValueError("the TLS session was already freed")
        return self._handle

    # -- transport ---------------------------------------------------------

    def flush(self, transport, deadline=None, wait=True):
        """Send every byte schan queued for the peer; return False if another thread does.

        With wait=False, return False at once while another thread is
        sending: that thread sends what is queued, also output queued after
        it started. Readers flush this way, so a reader never waits for a
        writer that waits for the peer, which may wait for the reader.
        """
        while True:
            if not self._send_lock.acquire(wait):
                return False
            try:
                self._send_queued(transport, deadline)
            finally:
                self._send_lock.release()
            # Another thread may have queued output and skipped its flush
            # while this one held the send lock.
            with self._lock:
                if not self._output_queued:
                    return True

    def _send_queued(self, transport, deadline):
        """Send queued output until schan has none left. Needs _send_lock."""
        keeps_bytes = _new_bytes is not None and transport.keeps_bytes
        while True:
            if self._output_start < self._output_end:
                view = self._output_view[self._output_start:self._output_end]
                self._output_start += transport._raw_send(view, deadline)
                continue
            with self._lock:
                if not self._output_queued:
                    return
                handle = self._checked_handle()
                owned = self._take_owned_output(handle) if keeps_bytes else None
                if owned is None:
                    status = lib.schan_take_output(handle, self._output_address, OUTPUT_SIZE, self._count_ref)
                    self._output_queued = status == HAVE_OUTPUT
                    self._output_start, self._output_end = 0, self._count.value
            if owned is not None:
                transport._raw_send_bytes(owned)
                if not self._output_queued:
                    # flush() checks again under _lock for output queued meanwhile.
                    return

    def _take_owned_output(self, handle):
        """Take the queued output into a new bytes object; None when it is small. Needs _lock."""
        size = lib.schan_output_size(handle)
        if size < OWNED_OUTPUT_MINIMUM:
            return None
        data, address = _new_bytes(size)
        status = lib.schan_take_output(handle, address, size, self._count_ref)
        self._output_queued = status == HAVE_OUTPUT
        count = self._count.value
        return data if count == size else data[:count]

    def _feed_buffered(self):
        """Feed buffered input to schan; return whether schan took any. Needs _lock."""
        if self._input_start == self._input_end:
            return False
        status = lib.schan_feed(self._checked_handle(), self._input_address + self._input_start,
                                self._input_end - self._input_start, self._count_ref)
        if status < 0:
            raise self._error(status)
        self._input_start += self._count.value
        self._feed_count += 1
        return self._count.value > 0

    def receive(self, transport, feed_count, deadline=None):
        """Give schan more bytes from the peer.

        `feed_count` is the _feed_count the caller saw when schan asked for
        input. If another thread fed input since, the caller retries first.
        """
        with self._receive_lock:
            with self._lock:
                if self._feed_count != feed_count:
                    return
                if self._feed_buffered():
                    return
                if self._input_start != self._input_end:
                    raise _errors.SSLError(_errors.SSL_ERROR_SSL,
                                           "schan asked for input but did not accept %d buffered bytes"
                                           % (self._input_end - self._input_start))
                if self._eof_fed:
                    raise _errors.error_for_status(native.E_TRUNCATED, "the transport already ended")
            received = transport._raw_receive_into(self._input_view, deadline)
            with self._lock:
                if received == 0:
                    lib.schan_feed_eof(self._checked_handle())
                    self._eof_fed = True
                    self._feed_count += 1
                    return
                self._input_start, self._input_end = 0, received
                self._feed_buffered()

    # -- TLS operations ----------------------------------------------------

    def do_handshake(self, transport, deadline=None):
        """Run the handshake until it is complete."""
        while True:
            with self._lock:
                status = lib.schan_step(self._checked_handle())
                feed_count = self._feed_count
                if status == native.HAVE_OUTPUT:
                    self._output_queued = True
            if status == native.OK:
                self.flush(transport, deadline)
                self.handshake_done = True
                return
            if status == native.HAVE_OUTPUT:
                self.flush(transport, deadline)
            elif status == native.NEED_INPUT:
                self.flush(transport, deadline)
                self.receive(transport, feed_count, deadline)
            else:
                raise self._error(status)

    def _take_stash(self, address, capacity):
        """Move up to `capacity` stashed bytes to `address`. Needs _lock."""
        count = min(capacity, len(self._stash))
        ctypes.memmove(address, bytes(self._stash[:count]), count)
        del self._stash[:count]
        return count

    def read_into(self, transport, address, capacity, deadline=None):
        """Decrypt up to `capacity` bytes to `address`; return the count, 0 at close_notify."""
        if capacity <= 0:
            return 0
        with self._read_lock:
            return self._read_into(transport, address, capacity, deadline)

    def _read_into(self, transport, address, capacity, deadline):
        while True:
            with self._lock:
                if self._stash:
                    return self._take_stash(address, capacity)
                status, count = self._decrypt_buffered(address, capacity)
                feed_count = self._feed_count
            if status == native.OK:
                return count
            if status == native.NEED_INPUT:
                self.flush(transport, deadline, wait=False)
                self.receive(transport, feed_count, deadline)
            elif status == native.HAVE_OUTPUT:
                if not self.flush(transport, deadline, wait=False):
                    # The sending thread takes the output. Until then schan
                    # returns HAVE_OUTPUT unless it gets input to decrypt.
                    self.receive(transport, feed_count, deadline)
            elif status == native.CLOSED:
                self.close_received = True
                return 0
            elif status == native.E_TRUNCATED and self.ignore_unexpected_eof:
                return 0
            else:
                raise self._error(status)

    def _decrypt_buffered(self, address, capacity):
        """Decrypt into `address` what the buffered input allows, without I/O.

        Returns (status, count). Feeds input left in the input buffer between
        schan_decrypt calls, so one call can return several records. A
        status other than OK after some plaintext is left for the next call:
        schan reports it again. Needs _lock.
        """
        handle = self._checked_handle()
        count = 0
        while True:
            self._feed_buffered()
            status = lib.schan_decrypt(handle, address + count, capacity - count, self._count_ref)
            if status == native.HAVE_OUTPUT:
                self._output_queued = True
            if status != native.OK:
                return (native.OK, count) if count else (status, 0)
            count += self._count.value
            if count == capacity or self._input_start == self._input_end:
                return native.OK, count

    def read(self, transport, length, deadline=None):
        """Return up to `length` bytes of plaintext; b"" at close_notify."""
        if length <= 0:
            return b""
        with self._read_lock:
            count = self._read_into(transport, self._plain_address, min(length, PLAINTEXT_SIZE), deadline)
            return bytes(self._plain_view[:count])

    def pending(self):
        """Decrypt what is already buffered, without I/O; return the plaintext available.

        While another thread reads, return only what was decrypted before,
        because waiting for that read could block.
        """
        if not self._read_lock.acquire(blocking=False):
            return len(self._stash)
        try:
            with self._lock:
                if self._handle is None or not self.handshake_done or self.close_received:
                    return len(self._stash)
                while True:
                    status, count = self._decrypt_buffered(self._plain_address, PLAINTEXT_SIZE)
                    if status != native.OK or count == 0:
                        return len(self._stash)
                    self._stash += self._plain_view[:count]
        finally:
            self._read_lock.release()

    def write(self, transport, data, deadline=None):
        """Encrypt and send `data` (any bytes-like object); return the bytes consumed.

        If the transport cannot take every record (a non-blocking socket), the
        error propagates and the next call, which must pass the same data,
        returns how much of it was already encrypted, as ssl requires.
        """
        with self._write_lock:
            if self._write_committed:
                self.flush(transport, deadline)
                committed, self._write_committed = self._write_committed, 0
                return committed
            if isinstance(data, bytes):
                return self._write_from(transport, data, len(data), deadline)
            with memoryview(data) as view, view.cast("B") as octets:
                length = len(octets)
                offset = 0
                while offset < length:
                    chunk = min(length - offset, PLAINTEXT_SIZE)
                    self._copy_view[:chunk] = octets[offset:offset + chunk]
                    offset += self._write_from(transport, self._copy_address, chunk, deadline, offset)
                return length

    def _write_from(self, transport, source, length, deadline, already_done=0):
        """Encrypt `length` bytes at `source` (an address or a bytes object) and send them."""
        if length == 0:
            return 0
        offset = 0
        while offset < length:
            # ctypes passes a bytes object as the address of its contents, so
            # only a partly encrypted one needs its address computed.
            pointer = source if offset == 0 else _address(source) + offset
            with self._lock:
                status = lib.schan_encrypt(self._checked_handle(), pointer, length - offset, self._count_ref)
                offset += self._count.value
                if status == HAVE_OUTPUT:
                    self._output_queued = True
            if status == native.NEED_INPUT:
                # A post-handshake exchange (renegotiation, KeyUpdate) must finish first.
                self.flush(transport, deadline)
                self._run_post_handshake(transport, deadline)
                continue
            if status < 0:
                raise self._error(status)
            try:
                self.flush(transport, deadline)
            except OSError:
                if offset or already_done:
                    self._write_committed = already_done + offset
                raise
        return offset

    def _run_post_handshake(self, transport, deadline):
        """Feed input and decrypt into the stash until schan leaves renegotiation."""
        # NOTE: this path allocates a buffer per call; it only runs while the
        # peer renegotiates during a write.
        scratch = ctypes.create_string_buffer(PLAINTEXT_SIZE)
        address = ctypes.addressof(scratch)
        while True:
            with self._lock:
                handle = self._checked_handle()
                if lib.schan_get_state(handle) != native.STATE_RENEGOTIATING:
                    return
                status = lib.schan_decrypt(handle, address, PLAINTEXT_SIZE, self._count_ref)
                feed_count = self._feed_count
                if status == native.OK:
                    self._stash += scratch.raw[:self._count.value]
                    continue
                if status == native.HAVE_OUTPUT:
                    self._output_queued = True
            if status == native.NEED_INPUT:
                self.flush(transport, deadline)
                self.receive(transport, feed_count, deadline)
            elif status == native.HAVE_OUTPUT:
                self.flush(transport, deadline)
            elif status == native.CLOSED:
                self.close_received = True
                return
            else:
                raise self._error(status)

    def shutdown(self, transport, deadline=None):
        """Send close_notify and wait for the peer's, discarding plaintext."""
        with self._lock:
            status = lib.schan_shutdown(self._checked_handle())
            if status < 0:
                raise self._error(status)
            self.close_sent = True
            if status == native.HAVE_OUTPUT:
                self._output_queued = True
        self.flush(transport, deadline)
        with self._read_lock:
            while not self.close_received:
                with self._lock:
                    self._stash.clear()
                if self._read_into(transport, self._plain_address, PLAINTEXT_SIZE, deadline) == 0:
                    return

    # -- queries -----------------------------------------------------------

    def connection_info(self):
        """Return (protocol, cipher, alpn, peer chain in DER) once the handshake is complete."""
        if self._info is None:
            with self._lock:
                self._info = self._query_info()
        return self._info

    def _query_info(self):
        handle = self._checked_handle()
        version = ctypes.c_int()
        text = ctypes.c_char_p()
        status = lib.schan_get_protocol(handle, ctypes.byref(version))
        if status < 0:
            raise self._error(status)
        lib.schan_get_cipher(handle, ctypes.byref(text))
        cipher = (text.value or b"").decode("ascii", "replace")
        lib.schan_get_alpn(handle, ctypes.byref(text))
        alpn = (text.value or b"").decode("ascii", "replace")
        chain = []
        count = ctypes.c_size_t()
        lib.schan_get_peer_cert_count(handle, ctypes.byref(count))
        der = ctypes.c_void_p()
        size = ctypes.c_size_t()
        for index in range(count.value):
            if lib.schan_get_peer_cert(handle, index, ctypes.byref(der), ctypes.byref(size)) == native.OK:
                chain.append(ctypes.string_at(der.value, size.value))
        return version.value, cipher, alpn, chain
