"""Request bodies (RFC 9112 §6): their framing, and readers that stream them.

Pure: a reader wraps injected `readline(limit)` / `readinto(buffer)` callables and gives
`readinto(buffer) -> n`, 0 at the end of the body, so the upload code copies any body
through one fixed buffer whatever its framing.
"""
from wsserver.http11 import (MAX_HEAD, MAX_HEADER_LINE, HTTPError, ascii_line, is_digits,
                             read_fields)

MAX_CHUNK_LINE = 1024  # bytes of a chunk-size line with its extensions, 400 past it
MAX_TRAILERS = 20  # trailer field lines after the last chunk, 400 past it

# Strings, not frozensets: `c in s` is as right for one character, and a set costs a
# board about 1 KB of heap.
_HEX = "0123456789abcdefABCDEF"

CHUNKED = -1  # body_length() of a chunked body: its length is known only at its end


def body_length(request):
    """The body's length from its framing headers (RFC 9112 §6.3), or CHUNKED.

    Ambiguous framing is refused, because a proxy in front of us might read it the
    other way (request smuggling).
    """
    headers = request.headers
    if "transfer-encoding" in headers:
        if "content-length" in headers:
            raise HTTPError(400, "both Content-Length and Transfer-Encoding")
        if request.version == "HTTP/1.0":
            raise HTTPError(400, "Transfer-Encoding in a HTTP/1.0 request")
        if headers.tokens("transfer-encoding") != ["chunked"]:
            raise HTTPError(501, "only the chunked transfer coding is supported")
        return CHUNKED
    values = []
    for value in headers.get_all("content-length"):
        values.extend(item.strip(" \t") for item in value.split(","))
    if not values:
        return 0
    # RFC 9110 §8.6: a list of identical values may be taken as one; anything else is invalid.
    if not all(is_digits(v) and v == values[0] for v in values) or len(values[0]) > 18:
        raise HTTPError(400, "invalid Content-Length")
    return int(values[0])


class LengthReader:
    """The body of a request with Content-Length: `readinto(buffer)` -> n, 0 at its end."""

    def __init__(self, readinto, length):
        self._readinto = readinto
        self.remaining = length

    def readinto(self, buffer):
        count = min(len(buffer), self.remaining)
        if count == 0:
            return 0
        got = self._readinto(memoryview(buffer)[:count])
        if not got:
            raise HTTPError(400, "body ended %d bytes early" % self.remaining)
        self.remaining -= got
        return got

    def at_end(self):
        return self.remaining == 0


class ChunkedReader:
    """A chunked body (RFC 9112 §7.1) decoded on the fly: `readinto(buffer)` -> n, 0 at end.

    limit: largest decoded size accepted; a body growing past it raises 413 as soon as
    the chunk that crosses it is announced, before its data is read.
    max_line, max_head: limits of the trailer section, as of a head (400 past them).
    """

    def __init__(self, readline, readinto, limit=None, max_line=MAX_HEADER_LINE,
                 max_head=MAX_HEAD):
        self._readline = readline
        self._readinto = readinto
        self._limit = limit
        self._max_line = max_line
        self._max_head = max_head
        self._left = 0
        self._done = False
        self.total = 0

    def readinto(self, buffer):
        if self._left == 0:
            if self._done:
                return 0
            self._left = self._next_chunk_size()
            if self._left == 0:
                self._read_trailers()
                return 0
        got = self._readinto(memoryview(buffer)[:min(len(buffer), self._left)])
        if not got:
            raise HTTPError(400, "chunked body ended early")
        self._left -= got
        if self._left == 0 and self._readline(3) not in (b"\r\n", b"\n"):
            raise HTTPError(400, "chunk data not followed by CRLF")
        return got

    def at_end(self):
        return self._done

    def _next_chunk_size(self):
        line = self._readline(MAX_CHUNK_LINE + 1)
        if len(line) > MAX_CHUNK_LINE or not line.endswith(b"\n"):
            raise HTTPError(400, "malformed chunk size line")
        # chunk-size [ ";" chunk-ext ]: extensions carry nothing we use.
        size = ascii_line(line, 400, "chunk size").partition(";")[0].strip(" \t\r\n")
        if not size or len(size) > 15 or not all(c in _HEX for c in size):
            raise HTTPError(400, "malformed chunk size %r" % size)
        size = int(size, 16)
        self.total += size
        if self._limit is not None and self.total > self._limit:
            raise HTTPError(413, "body larger than %d bytes" % self._limit)
        return size

    def _read_trailers(self):
        read_fields(self._readline, self._max_line, MAX_TRAILERS, self._max_head, 400)
        self._done = True
