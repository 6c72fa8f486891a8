"""HTTP/1.1 message syntax (RFC 9112): request heads and response heads; bodies.py
frames the bodies.

Pure: no sockets, no threads, no files. Readers are injected (a `readline(limit)` and a
`readinto(buffer)` callable), so the same code parses a CPython `rfile`, a MicroPython
socket and an `io.BytesIO` in the unit tests. Every error is an `HTTPError` that carries
the status to answer with.
"""

# Limits, each answered with its own status. Browsers send request lines of a few KiB
# at most; a board cannot hold more anyway.
MAX_REQUEST_LINE = 8190  # bytes, 414 past it (RFC 9112 §3 recommends >= 8000)
MAX_HEADER_LINE = 8190  # bytes per field line, 431 past it (RFC 6585 §5)
MAX_HEADERS = 100  # field lines per head, 431 past it
MAX_HEAD = 65536  # bytes of all field lines together, 431 past it

# RFC 9110 §9: the methods this vocabulary knows; any other token gets 501.
STANDARD_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")

# RFC 9110 §5.6.2: tchar, the characters of a token (method, field name).
# (Strings, not frozensets: the same test for one character, 1 KB less heap on a board.)
_TCHAR = "!#$%&'*+-.^_`|~0123456789" "abcdefghijklmnopqrstuvwxyz" "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

REASONS = {
    100: "Continue", 101: "Switching Protocols",
    200: "OK", 201: "Created", 204: "No Content", 206: "Partial Content",
    301: "Moved Permanently", 304: "Not Modified",
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 408: "Request Timeout", 411: "Length Required",
    413: "Content Too Large", 414: "URI Too Long", 416: "Range Not Satisfiable",
    417: "Expectation Failed", 426: "Upgrade Required", 431: "Request Header Fields Too Large",
    500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable",
    505: "HTTP Version Not Supported", 507: "Insufficient Storage",
}


class HTTPError(Exception):
    """A request that gets an error answer: `status`, a short `message`, extra `headers`.

    headers: list of (name, value) pairs added to the error response.
    """

    def __init__(self, status, message="", headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or []


def is_token(text):
    return bool(text) and all(c in _TCHAR for c in text)


def is_digits(text):
    """RFC 5234 DIGIT: ASCII only. CPython's str.isdigit() also takes "²" (which int()
    refuses) and "١٢" (which it reads as 12, where a proxy would see no number)."""
    return bool(text) and all(c in "0123456789" for c in text)


def ascii_line(line, status, what):
    """Decode a head line that must be ASCII; any other byte is a malformed request."""
    try:
        text = line.decode()
    except UnicodeError:
        raise HTTPError(status, "non-ASCII bytes in " + what)
    if len(text) != len(line):
        raise HTTPError(status, "non-ASCII bytes in " + what)
    return text


class Headers:
    """Header fields in arrival order; names compare case-insensitively (RFC 9110 §5.1).

    A field may occur more than once: `get` gives the first value, `get_all` every one.
    """

    def __init__(self, pairs=()):
        self._pairs = []
        self._values = {}
        for name, value in pairs:
            self.add(name, value)

    def add(self, name, value):
        self._pairs.append((name, value))
        key = name.lower()
        if key in self._values:
            self._values[key].append(value)
        else:
            self._values[key] = [value]

    def get(self, name, default=None):
        values = self._values.get(name.lower())
        return values[0] if values else default

    def get_all(self, name):
        return self._values.get(name.lower(), [])

    def tokens(self, name):
        """The lower-cased comma-separated tokens of every `name` field (`Connection`)."""
        found = []
        for value in self.get_all(name):
            for item in value.split(","):
                item = item.strip(" \t").lower()
                if item:
                    found.append(item)
        return found

    def __contains__(self, name):
        return name.lower() in self._values

    def __len__(self):
        return len(self._pairs)

    def items(self):
        return list(self._pairs)


class Request:
    """A parsed request head: `method`, `target`, `version` ("HTTP/1.1"), `headers`."""

    def __init__(self, method, target, version, headers):
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers

    def keep_alive(self):
        """RFC 9112 §9.3: HTTP/1.1 persists unless `close`; HTTP/1.0 only on `keep-alive`."""
        tokens = self.headers.tokens("connection")
        if self.version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens


def parse_request_line(line):
    """method, target, version from `method SP request-target SP HTTP-version` (§3)."""
    text = ascii_line(line, 400, "request line")
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    parts = text.split(" ")
    if len(parts) != 3 or not is_token(parts[0]) or not parts[1]:
        raise HTTPError(400, "malformed request line")
    # The target's own syntax is checked where it is taken apart (paths.split_target).
    method, target, version = parts
    return method, target, _check_version(version)


def _check_version(version):
    """RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT; we speak major version 1."""
    if len(version) != 8 or not version.startswith("HTTP/") or version[6] != ".":
        raise HTTPError(400, "malformed HTTP version")
    major, minor = version[5], version[7]
    if not (major.isdigit() and minor.isdigit()):
        raise HTTPError(400, "malformed HTTP version")
    if major != "1":
        raise HTTPError(505, "only HTTP/1.x is supported")
    return "HTTP/1.0" if minor == "0" else "HTTP/1.1"


def parse_header_line(line):
    """(name, value) from one field line `name ":" OWS value OWS` (RFC 9112 §5)."""
    try:
        text = line.decode()
    except UnicodeError:
        raise HTTPError(400, "header is not UTF-8")
    text = text[:-2] if text.endswith("\r\n") else text[:-1]  # the line's end only
    if text[:1] in (" ", "\t"):
        # §5.2: a server MUST reject obs-fold (or replace it); we reject.
        raise HTTPError(400, "obsolete line folding")
    name, colon, value = text.partition(":")
    # §5.1: no whitespace is allowed between the field name and colon.
    if not colon or not is_token(name):
        raise HTTPError(400, "malformed header line")
    value = value.strip(" \t")
    if has_control(value):
        raise HTTPError(400, "control character in header value")
    return name, value


# The common case at C speed where str has isprintable() (CPython, not MicroPython):
# printable text holds no control character. A tab, and some non-ASCII text, are not
# "printable": for them the loop in has_control decides.
_isprintable = getattr(str, "isprintable", None)


def has_control(text):
    """True when text holds a control character other than tab. RFC 9110 §5.5: a field
    value is visible characters, spaces and tabs; CR, LF and NUL in one MUST be refused
    (they would split a message), and no other control belongs there or in a reason."""
    if _isprintable is not None and _isprintable(text):
        return False
    for char in text:
        if (char < " " and char != "\t") or char == "\x7f":
            return True
    return False


def read_request_head(readline, max_line=MAX_REQUEST_LINE, max_header_line=MAX_HEADER_LINE,
                      max_headers=MAX_HEADERS, max_head=MAX_HEAD):
    """Read one request head through readline(limit); None at a clean end of stream."""
    line = readline(max_line + 1)
    if line in (b"\r\n", b"\n"):
        # §2.2: a server SHOULD ignore at least one empty line before the request line.
        line = readline(max_line + 1)
    if not line:
        return None
    if len(line) > max_line:
        raise HTTPError(414, "request line longer than %d bytes" % max_line)
    if not line.endswith(b"\n"):
        raise HTTPError(400, "incomplete request line")
    method, target, version = parse_request_line(line)
    headers = read_fields(readline, max_header_line, max_headers, max_head, 431)
    return Request(method, target, version, headers)


def read_fields(readline, max_line, max_count, max_total, status):
    """Field lines up to the empty line; `status` answers a field section over a limit."""
    headers = Headers()
    total = 0
    while True:
        line = readline(max_line + 1)
        if line in (b"\r\n", b"\n"):
            return headers
        if len(line) > max_line:
            raise HTTPError(status, "header line longer than %d bytes" % max_line)
        if not line.endswith(b"\n"):
            raise HTTPError(400, "incomplete header section")
        total += len(line)
        if len(headers) >= max_count or total > max_total:
            raise HTTPError(status, "too many or too large headers")
        name, value = parse_header_line(line)
        headers.add(name, value)


# RFC 3986 §3.2.2: the characters of a reg-name, and of an IP literal between brackets.
_REG_NAME = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
             "-._~%!$&'()*+,;=")
_IP_LITERAL = "0123456789abcdefABCDEFvV:."


def check_host(request):
    """RFC 9112 §3.2: a server MUST answer 400 to a HTTP/1.1 request without Host, and
    to any request with more than one Host or an invalid one."""
    hosts = request.headers.get_all("host")
    if len(hosts) > 1 or (request.version == "HTTP/1.1" and not hosts):
        raise HTTPError(400, "a HTTP/1.1 request needs exactly one Host header")
    if hosts and not _valid_host(hosts[0]):
        raise HTTPError(400, "invalid Host header")


def _valid_host(value):
    """`uri-host [":" port]`; empty is valid (a target URI without authority)."""
    if value.startswith("["):
        host, bracket, rest = value[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return False
        chars, port = _IP_LITERAL, rest[1:]
    else:
        host, _, port = value.partition(":")
        chars = _REG_NAME
    return all(c in chars for c in host) and (not port or is_digits(port))


def status_line(version, status, reason=None):
    """The status line; a reason that could end it early (a user's, through
    send_response) would let that user's text start header lines, so it is refused."""
    reason = reason or REASONS.get(status, "Unknown")
    if has_control(reason):
        raise ValueError("invalid reason phrase %r" % reason)
    return "%s %d %s\r\n" % (version, status, reason)


def header_line(name, value):
    """One response field line; ValueError for a value parse_header_line would refuse
    (see has_control)."""
    value = str(value)
    if has_control(value) or not is_token(name):
        raise ValueError("invalid response header %r" % name)
    return "%s: %s\r\n" % (name, value)

