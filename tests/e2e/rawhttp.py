"""Raw-socket HTTP/1.1 for the end-to-end tests: exact bytes out, strictly parsed answers in.

`requests` hides framing (it never shows a body sent after HEAD, and it refuses to send
malformed input), so the tests that check bytes on the wire use these helpers instead.
Answers are framed as RFC 9112 §6.3 says: no body for HEAD, 1xx, 204 and 304; else
chunked, Content-Length, or read until the server closes.

Every socket has a timeout and every loop is bounded by a size limit, so a server that
hangs or floods fails the test instead of stalling it.
"""
import socket

TIMEOUT = 10.0  # seconds a single send or recv may block
MAX_HEAD = 64 * 1024  # bytes of response head accepted before giving up
MAX_BODY = 64 * 1024 * 1024  # bytes of response body accepted before giving up
NO_BODY_STATUSES = (204, 304)


class ProtocolError(AssertionError):
    """The server's bytes are not a well-formed HTTP/1.1 response (a test failure)."""


class Response:
    """A parsed response: `version`, `status`, `reason`, `headers` (pairs), `body`."""

    def __init__(self, version, status, reason, headers):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = b""

    def get(self, name, default=None):
        """The first value of header `name` (case-insensitive), or default."""
        values = self.get_all(name)
        return values[0] if values else default

    def get_all(self, name):
        name = name.lower()
        return [value for key, value in self.headers if key.lower() == name]

    def tokens(self, name):
        """Lower-cased comma-separated tokens of every `name` header."""
        found = []
        for value in self.get_all(name):
            found.extend(t.strip().lower() for t in value.split(",") if t.strip())
        return found

    def __repr__(self):
        return "<Response %d %r %r body=%d bytes>" % (
            self.status, self.reason, self.headers, len(self.body))


def address_of(target):
    """(host, port) of a `Running` server record or an address tuple."""
    if isinstance(target, tuple):
        return target
    return (target.host, target.port)


class Connection:
    """One client connection with a receive buffer kept across responses (keep-alive,
    pipelining)."""

    def __init__(self, target, timeout=TIMEOUT):
        self.sock = socket.create_connection(address_of(target), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = bytearray()
        self.eof = False

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        self.sock.close()

    def send(self, data):
        """Send all of data; False if the server has already closed or reset."""
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            return False
        return True

    def _fill(self):
        """One recv into the buffer; False at end of stream (a reset counts as the end,
        after the bytes that arrived before it)."""
        if self.eof:
            return False
        try:
            data = self.sock.recv(256 * 1024)
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            return False
        self.buffer += data
        return True

    def _take(self, n):
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data

    def read_until(self, marker, limit, what):
        """Bytes up to and including marker."""
        start = 0
        while True:
            i = self.buffer.find(marker, start)
            if i >= 0:
                return self._take(i + len(marker))
            if len(self.buffer) > limit:
                raise ProtocolError("%s longer than %d bytes: %r"
                                    % (what, limit, bytes(self.buffer[:200])))
            start = max(0, len(self.buffer) - len(marker) + 1)
            if not self._fill():
                raise ProtocolError("connection closed inside %s: %r"
                                    % (what, bytes(self.buffer[:200])))

    def read_exact(self, n, what="body"):
        while len(self.buffer) < n:
            if not self._fill():
                raise ProtocolError("connection closed after %d of %d bytes of %s"
                                    % (len(self.buffer), n, what))
        return self._take(n)

    def read_to_eof(self, limit=MAX_BODY):
        while self._fill():
            if len(self.buffer) > limit:
                raise ProtocolError("more than %d bytes before close" % limit)
        return self._take(len(self.buffer))

    def read_head(self):
        """The next response head (status line and headers), body not read."""
        head = self.read_until(b"\r\n\r\n", MAX_HEAD, "response head")
        return parse_head(head)

    def read_response(self, method="GET"):
        """The next response (an interim 1xx one too) with its body."""
        response = self.read_head()
        status = response.status
        if method == "HEAD" or status < 200 or status in NO_BODY_STATUSES:
            return response
        if response.get_all("Transfer-Encoding"):
            if response.tokens("Transfer-Encoding")[-1:] != ["chunked"]:
                raise ProtocolError("unknown response transfer coding: %r" % response)
            response.body = self.read_chunked()
        elif response.get_all("Content-Length"):
            lengths = set(response.get_all("Content-Length"))
            if len(lengths) != 1 or not next(iter(lengths)).strip().isdigit():
                raise ProtocolError("bad response Content-Length: %r" % response)
            length = int(next(iter(lengths)))
            if length > MAX_BODY:
                raise ProtocolError("response body too big: %d" % length)
            response.body = self.read_exact(length)
        else:
            response.body = self.read_to_eof()
        return response

    def read_chunked(self):
        body = bytearray()
        while True:
            line = self.read_until(b"\r\n", 1024, "chunk size line")
            size_text = line[:-2].split(b";")[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise ProtocolError("bad chunk size line %r" % line)
            if size == 0:
                break
            if len(body) + size > MAX_BODY:
                raise ProtocolError("chunked response body too big")
            body += self.read_exact(size, "chunk")
            if self.read_exact(2, "chunk end") != b"\r\n":
                raise ProtocolError("chunk data not followed by CRLF")
        for _ in range(100):  # trailer section, bounded
            if self.read_until(b"\r\n", 8192, "trailer line") == b"\r\n":
                return bytes(body)
        raise ProtocolError("too many trailer lines")

    def closed_by_server(self):
        """True when the server has closed (or reset) the connection and sent nothing
        more; False when more bytes arrive or nothing happens within the timeout."""
        if self.buffer:
            return False
        if self.eof:
            return True
        try:
            data = self.sock.recv(1)
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True
        if data:
            self.buffer += data
            return False
        self.eof = True
        return True


def parse_head(head):
    """A Response from the bytes of a head ending with an empty line."""
    lines = head[:-4].split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if (len(parts) < 2 or not parts[0].startswith(b"HTTP/1.")
            or len(parts[1]) != 3 or not parts[1].isdigit()):
        raise ProtocolError("bad status line %r" % lines[0])
    reason = parts[2].decode("latin-1") if len(parts) == 3 else ""
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise ProtocolError("bad response header line %r" % line)
        headers.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))
    return Response(parts[0].decode("ascii"), int(parts[1]), reason, headers)


def build(method, target, headers=(), body=b"", version="HTTP/1.1", host="127.0.0.1"):
    """Request bytes: Host (unless host is None) and the given headers, in that order,
    then body as given (add Content-Length or Transfer-Encoding yourself)."""
    lines = ["%s %s %s" % (method, target, version)]
    if host is not None:
        lines.append("Host: %s" % host)
    lines.extend("%s: %s" % pair for pair in headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(pieces):
    """The chunked transfer coding of pieces (bytes), with the last chunk."""
    out = b""
    for piece in pieces:
        if piece:
            out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return out + b"0\r\n\r\n"


def exchange(target, data, method="GET"):
    """Open a connection, send data, return the first response (interim 1xx included)."""
    with Connection(target) as conn:
        conn.send(data)
        return conn.read_response(method)
