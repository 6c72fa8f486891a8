"""multipart/form-data request bodies (RFC 7578, RFC 2046 §5.1), parsed as they arrive.

A push parser: `feed(chunk)` returns events and the caller decides where each part's
bytes go, so no body is held in memory. Between calls the parser keeps at most a
delimiter cut by the end of a chunk, or an incomplete part head (up to `max_head` bytes).
Pure: no sockets, no files. Every malformed body raises HTTPError(400, reason).

    parser = MultipartParser(boundary_from(content_type))
    for kind, value in parser.feed(chunk):   # for each chunk; then parser.close()
        ...                                  # PART_BEGIN Part, PART_DATA bytes, PART_END None
"""

from wsserver.http11 import HTTPError
from wsserver.paths import is_utf8, unquote

PART_BEGIN = 1  # value: a Part
PART_DATA = 2  # value: bytes, the next piece of the current part's body
PART_END = 3  # value: None

MAX_HEAD = 8192  # bytes in one part's head: a few header lines, like a request head
MAX_PARTS = 1000  # parts in one body: each costs a Part and, upstream, an open file

# RFC 2046 §5.1.1: bchars := bcharsnospace / " "; boundary := 0*69<bchars> bcharsnospace
_BCHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? "

# Parser states: what the next byte belongs to.
_PREAMBLE = 0  # before the first delimiter: ignored
_HEAD = 1  # after a delimiter: "--" (the end), or padding, CRLF and the part's header lines
_BODY = 2  # a part's body, up to the next delimiter


class Part:
    """The head of one part (RFC 7578 §4.2): `name`, `filename` (None for a plain field),
    `content_type`, `headers` (list of (name, value) pairs, names lower-cased)."""

    def __init__(self, name, filename, content_type, headers):
        self.name = name
        self.filename = filename
        self.content_type = content_type
        self.headers = headers


def boundary_from(content_type):
    """The boundary (bytes) of a 'multipart/form-data; boundary=...' Content-Type value."""
    kind, params = _params(content_type or "", "Content-Type")
    if kind != "multipart/form-data":
        raise HTTPError(400, "Content-Type is not multipart/form-data")
    boundary = params.get("boundary")
    if not boundary:
        raise HTTPError(400, "multipart/form-data without a boundary")
    # RFC 2046 §5.1.1: boundary := 0*69<bchars> bcharsnospace
    bad = [char for char in boundary if char not in _BCHARS]
    if bad or len(boundary) > 70 or boundary[-1] == " ":
        raise HTTPError(400, "invalid multipart boundary (RFC 2046: 1-70 bchars)")
    return boundary.encode()


class MultipartParser:
    """Turn a multipart/form-data body, fed in chunks split anywhere, into part events.

    RFC 2046 §5.1.1: the delimiter is CRLF "--" boundary, since "the CRLF preceding the
    boundary delimiter line is conceptually attached to the boundary". A body may start
    with the boundary line, so parsing starts as if after a CRLF. `done`: close delimiter seen.
    """

    def __init__(self, boundary, max_head=MAX_HEAD, max_parts=MAX_PARTS):
        self.max_head = max_head
        self.max_parts = max_parts
        self._parts = 0  # parts begun so far
        self.done = False
        self._delim = b"\r\n--" + boundary
        self._state = _PREAMBLE
        self._buf = b"\r\n"  # bytes kept from one feed() to the next

    def feed(self, data):
        """Take the next chunk (bytes, bytearray or memoryview); return (kind, value) events."""
        events = []
        if self.done:  # RFC 2046 §5.1.1: the epilogue is "to be ignored"
            return events
        buf = self._buf + bytes(data)  # a copy: the caller may reuse its buffer
        self._buf = b""
        pos = 0
        while pos is not None:
            if self._state == _HEAD:
                pos = self._head(buf, pos, events)
            else:
                pos = self._body(buf, pos, events)
        return events

    def close(self):
        """Call at the end of the body: a body cut before the close delimiter is a 400."""
        if not self.done:
            cut = "before the closing boundary" if self._state else "without a boundary line"
            raise HTTPError(400, "multipart body ended " + cut)

    def _body(self, buf, pos, events):
        """Emit body bytes up to the next delimiter; keep a delimiter cut by the chunk end."""
        found = buf.find(self._delim, pos)
        end = found if found >= 0 else self._tail(buf, pos)
        if self._state == _BODY and end > pos:
            events.append((PART_DATA, buf[pos:end]))
        if found < 0:
            self._buf = buf[end:]
            return None
        if self._state == _BODY:
            events.append((PART_END, None))
        self._state = _HEAD
        return found + len(self._delim)

    def _tail(self, buf, pos):
        """Where a delimiter that may go on in the next chunk starts (len(buf) if none)."""
        delim = self._delim
        n = len(buf)
        cr = buf.find(b"\r", max(pos, n - len(delim) + 1))
        while cr >= 0 and buf[cr:] != delim[: n - cr]:
            cr = buf.find(b"\r", cr + 1)
        return cr if cr >= 0 else n

    def _head(self, buf, pos, events):
        """After a delimiter: "--" ends the body, else a head ends at an empty line."""
        if len(buf) - pos < 2:
            self._buf = buf[pos:]
            return None
        if buf[pos : pos + 2] == b"--":
            # RFC 2046 §5.1.1: close-delimiter := delimiter "--"
            self.done = True
            return None
        end, body = _blank_line(buf, pos, pos + self.max_head + 3)
        if (body if body >= 0 else len(buf)) - pos > self.max_head:
            raise HTTPError(400, "multipart part head longer than %d bytes" % self.max_head)
        _check_padding(buf, pos)
        if body < 0:
            self._buf = buf[pos:]
            return None
        events.append((PART_BEGIN, self._part(buf[pos:end])))
        self._state = _BODY
        return body

    def _part(self, head):
        """The Part for a head: the boundary line's padding, then header lines."""
        self._parts += 1
        if self._parts > self.max_parts:
            raise HTTPError(400, "more than %d parts in multipart body" % self.max_parts)
        headers = [_header(line) for line in head.split(b"\n")[1:]]
        return _make_part(headers)


def _blank_line(buf, pos, limit):
    """(end of head, start of body) around the first empty line in buf[pos:limit], else
    (-1, -1); bare LF accepted. The limit stops a scan to the end of the chunk per part."""
    crlf = buf.find(b"\n\r\n", pos, limit)
    lf = buf.find(b"\n\n", pos, limit)
    if lf >= 0 and (crlf < 0 or lf < crlf):
        return lf, lf + 2
    if crlf >= 0:
        return crlf, crlf + 3
    return -1, -1


def _check_padding(buf, pos):
    """RFC 2046 §5.1.1: dash-boundary transport-padding CRLF, where the padding is
    linear white space. Anything else means the boundary was a prefix of other text."""
    newline = buf.find(b"\n", pos)
    line = buf[pos : newline if newline >= 0 else len(buf)]
    if line.strip(b" \t\r"):
        raise HTTPError(400, "multipart boundary followed by %r, not CRLF" % line[:20])


def _header(line):
    """(name, value) from one part header line, the name lower-cased."""
    if line.endswith(b"\r"):
        line = line[:-1]
    name, colon, value = line.partition(b":")
    # RFC 9112 §5.1: no whitespace is allowed between the field name and colon; a line
    # starting with whitespace would be obsolete line folding.
    if not colon or not name or name.strip() != name or b" " in name or b"\r" in value:
        raise HTTPError(400, "malformed multipart header line %r" % line[:40])
    return _text(name, "header name").lower(), _text(value, "header").strip()


def _make_part(headers):
    """Check the Content-Disposition a part must have (RFC 7578 §4.2) and build the Part."""
    disposition = _get(headers, "content-disposition")
    if disposition is None:
        raise HTTPError(400, "multipart part without Content-Disposition")
    kind, params = _params(disposition, "Content-Disposition")
    if kind != "form-data":
        raise HTTPError(400, "multipart part disposition is not form-data")
    name = params.get("name")
    if name is None:
        raise HTTPError(400, "multipart part without a name")
    filename = params.get("filename")
    # RFC 7578 §4.2 tells senders not to use filename*; RFC 6266 §4.3 tells recipients
    # to prefer it when a sender does.
    if "filename*" in params:
        filename = _ext_value(params["filename*"])
    # RFC 7578 §4.4: Content-Type "defaults to text/plain"; file data without a known
    # type is "application/octet-stream".
    default = "text/plain" if filename is None else "application/octet-stream"
    return Part(name, filename, _get(headers, "content-type") or default, headers)


def _get(headers, name):
    """The first value of header `name` (lower-case) in a list of pairs, or None."""
    for key, value in headers:
        if key == name:
            return value
    return None


def _text(raw, what):
    """Decode header bytes as strict UTF-8 (browsers send non-ASCII file names raw).
    MicroPython's decode() is lax (b"\\xc0\\xaf" gives "/"): is_utf8 checks non-ASCII."""
    try:
        text = raw.decode()
        if len(text) == len(raw) or is_utf8(raw):
            return text
    except UnicodeError:
        pass
    raise HTTPError(400, "multipart %s is not valid UTF-8" % what)


def _params(value, header):
    """('type', {parameter: value}) from a value such as 'form-data; name="a"', both
    lower-cased (RFC 9110 §5.6.6: parameter names are case-insensitive)."""
    kind, semi, rest = value.partition(";")
    kind, rest, params = kind.strip().lower(), semi + rest, {}
    while rest.strip():
        rest = rest.lstrip()
        if rest[0] != ";":
            raise HTTPError(400, "malformed parameters in %s" % header)
        key, equals, rest = rest[1:].partition("=")
        key = key.strip().lower()
        if not equals or not key or " " in key or '"' in key or ";" in key:
            if not (key or equals or rest.strip()):
                break  # a trailing ';' is harmless
            raise HTTPError(400, "malformed parameter in %s" % header)
        param, rest = _param_value(rest.lstrip(), header)
        # RFC 6266 §4.1: "multiple instances of the same parameter name are invalid".
        if key in params:
            raise HTTPError(400, "duplicate %s parameter in %s" % (key, header))
        params[key] = param
    return kind, params


def _param_value(text, header):
    """The parameter value at the start of text (token or quoted-string) and the rest."""
    if text.startswith('"'):
        return _quoted(text, header)
    token, semi, rest = text.partition(";")
    token = token.strip()
    if not token or '"' in token or " " in token or "\t" in token:
        raise HTTPError(400, "malformed parameter value in %s" % header)
    return token, semi + rest


def _quoted(text, header):
    """(value, rest) for the quoted-string (RFC 9110 §5.6.4) that starts text. Only \\"
    and \\\\ are unescaped: browsers send other backslashes as they are (HTML escapes only
    '"', CR, LF, as %22 %0D %0A), so a Windows path keeps its backslashes."""
    out = ""
    start = 1
    while True:
        quote = text.find('"', start)
        if quote < 0:
            raise HTTPError(400, "unterminated quoted string in %s" % header)
        slash = text.find("\\", start, quote)
        if slash < 0:
            return out + text[start:quote], text[quote + 1 :]
        pair = text[slash + 1 : slash + 2]
        if pair == '"' or pair == "\\":
            out += text[start:slash] + pair
            start = slash + 2
        else:
            out += text[start : slash + 1]
            start = slash + 1


def _ext_value(text):
    """Decode a filename* value, UTF-8'language'percent-encoded (RFC 8187 §3.2)."""
    charset, _, rest = text.partition("'")
    _, quote, encoded = rest.partition("'")
    if not quote:
        raise HTTPError(400, "malformed filename* in Content-Disposition")
    if charset.lower() != "utf-8":
        raise HTTPError(400, "filename* charset %r is not UTF-8" % charset)
    return unquote(encoded)
