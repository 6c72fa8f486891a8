"""Request targets, URL paths and file names (RFC 9112 §3.2, RFC 3986 §2).

Pure string work: no `os`, no files. The server joins what `url_to_relative` and
`upload_name` return to its root folder; these functions make sure that the result can
only name something under that root, on POSIX and on Windows alike:

- percent-decoding happens exactly once, and the bytes must be strict UTF-8 (RFC 3629),
  so `%c0%ae` (an overlong '.') is an error, not a dot;
- no '.' or '..' segment, no backslash, no NUL or other control character, no ':'
  (a drive 'C:' or an NTFS stream 'name::$DATA'), no segment ending in '.' or ' '
  (Windows strips those, so '.. ' and '...' could become '..'), no Windows device
  names ('CON', 'nul.txt').

Every refusal is an `HTTPError(400, reason)`.
"""
from wsserver.http11 import HTTPError
from wsserver.utf8 import is_utf8

_HEX = "0123456789ABCDEF"
# RFC 3986 §2.3: the only characters `quote` leaves as they are.
_UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
# Windows opens these as devices whatever the folder and the extension.
# (COM0-9 and LPT0-9 are tested apart: 20 more strings would cost a board 1.5 KB.)
_DEVICES = ("con", "prn", "aux", "nul", "conin$", "conout$")
MAX_NAME_BYTES = 255

_TYPES = {
    "html": "text/html", "htm": "text/html", "css": "text/css",
    "js": "text/javascript", "mjs": "text/javascript", "json": "application/json",
    "txt": "text/plain", "log": "text/plain", "csv": "text/csv", "xml": "text/xml",
    "md": "text/markdown", "py": "text/x-python", "svg": "image/svg+xml",
    "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
    "webp": "image/webp", "ico": "image/vnd.microsoft.icon", "wasm": "application/wasm",
    "pdf": "application/pdf", "zip": "application/zip", "gz": "application/gzip",
    "tar": "application/x-tar", "mp3": "audio/mpeg", "mp4": "video/mp4",
    "webm": "video/webm", "woff": "font/woff", "woff2": "font/woff2", "ttf": "font/ttf",
    "mpy": "application/octet-stream", "bin": "application/octet-stream",
}
DEFAULT_TYPE = "application/octet-stream"


def split_target(target):
    """Split a request-target into (path, query); query is '' when absent.

    Accepts origin-form '/a/b?x=1' and absolute-form 'http://host:port/a?x=1'
    (RFC 9112 §3.2.1, §3.2.2); the authority of the latter is ignored (Host rules).
    Everything else (asterisk-form '*', authority-form, relative paths) is a 400.
    """
    for char in target:
        if not "!" <= char <= "~":
            raise HTTPError(400, "request-target has a space, control or non-ASCII character")
    if "#" in target:
        raise HTTPError(400, "request-target has a fragment")
    if not target.startswith("/"):
        target = _strip_authority(target)
    path, _, query = target.partition("?")
    return path, query


def _strip_authority(target):
    """'http://host:port/a?b' -> '/a?b' (absolute-form, RFC 9112 §3.2.2)."""
    scheme, sep, rest = target.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        raise HTTPError(400, "request-target is neither origin-form nor absolute-form")
    end = len(rest)
    for stop in "/?":
        index = rest.find(stop)
        if 0 <= index < end:
            end = index
    authority = rest[:end]
    if not authority:
        raise HTTPError(400, "absolute-form request-target has an empty host")
    if "@" in authority:  # RFC 9110 §4.2.4: treat userinfo as an error
        raise HTTPError(400, "absolute-form request-target has userinfo")
    rest = rest[end:]
    return rest if rest.startswith("/") else "/" + rest


def unquote(text):
    """Percent-decode text (RFC 3986 §2.1) once; the bytes must be strict UTF-8."""
    if "%" not in text:
        return text
    pieces = text.split("%")
    data = bytearray(_encode(pieces[0]))
    for piece in pieces[1:]:
        data.append(_hex_byte(piece))
        data += _encode(piece[2:])
    if not is_utf8(data):
        raise HTTPError(400, "percent-encoded bytes are not valid UTF-8")
    return bytes(data).decode()


def _hex_byte(piece):
    """The byte that the two hex digits starting piece stand for (after a '%')."""
    high = _HEX.find(piece[:1].upper())
    low = _HEX.find(piece[1:2].upper())
    if len(piece) < 2 or high < 0 or low < 0:
        raise HTTPError(400, "bad percent-escape '%%%s'" % piece[:2])
    return high * 16 + low


def _encode(text):
    try:
        return text.encode()
    except UnicodeError:  # a lone surrogate in a CPython str
        raise HTTPError(400, "text is not valid Unicode")


def parse_query(query):
    """'a=1&b=x+y&c' -> [('a', '1'), ('b', 'x y'), ('c', '')] (form-urlencoded)."""
    pairs = []
    for field in query.split("&"):
        if field:
            name, _, value = field.partition("=")
            pairs.append((unquote(name.replace("+", " ")), unquote(value.replace("+", " "))))
    return pairs


def query_value(query, name, default=None):
    """The value of the first field called name in query, or default."""
    for key, value in parse_query(query):
        if key == name:
            return value
    return default


def url_to_relative(url_path):
    """'/a/b%20c/' -> 'a/b c': a checked path relative to the root ('' for the root).

    Decodes once ('%252e' is the name '%2e'); '%2F' separates like '/'; empty
    segments ('//') are dropped. The result never starts with '/' and has no '.' or
    '..' segment.
    """
    if not url_path.startswith("/"):
        raise HTTPError(400, "URL path does not start with '/'")
    segments = []
    for segment in unquote(url_path).split("/"):
        if segment:
            _check_segment(segment, "URL path")
            segments.append(segment)
    return "/".join(segments)


def upload_name(name):
    """Return name unchanged if it is a safe file name for an upload, else raise 400.

    Also refuses names starting with '.': hidden files and the server's own
    temporary '.upload-*.part' files.
    """
    if not name:
        raise HTTPError(400, "empty file name")
    if "/" in name:
        raise HTTPError(400, "file name has '/'")
    if len(_encode(name)) > MAX_NAME_BYTES:
        raise HTTPError(400, "file name longer than %d bytes" % MAX_NAME_BYTES)
    _check_segment(name, "file name")
    if name.startswith("."):
        raise HTTPError(400, "file name starts with '.'")
    return name


def _check_segment(segment, what):
    """Refuse a path segment or file name that could leave the folder or alias a file."""
    if segment == "." or segment == "..":
        raise HTTPError(400, "%s has a '%s' segment" % (what, segment))
    for char in segment:
        code = ord(char)
        if code < 0x20 or 0x7F <= code <= 0x9F:
            raise HTTPError(400, "%s has a control character" % what)
        if char == "\\" or char == ":":
            raise HTTPError(400, "%s has '%s'" % (what, char))
    if segment.endswith(".") or segment.endswith(" "):
        raise HTTPError(400, "%s has a name ending in '.' or ' '" % what)
    stem = segment.partition(".")[0].rstrip(" ").lower()
    if stem in _DEVICES or (len(stem) == 4 and stem[:3] in ("com", "lpt")
                            and stem[3] in "0123456789"):
        raise HTTPError(400, "%s has a Windows device name" % what)


def quote(text):
    """Percent-encode text for a URL path segment: only RFC 3986 unreserved stay."""
    out = []
    for byte in _encode(text):
        char = chr(byte)
        out.append(char if char in _UNRESERVED else "%" + _HEX[byte >> 4] + _HEX[byte & 15])
    return "".join(out)


def shows_inline(content_type):
    """True for a type a browser shows without running anything in it: text other than
    HTML and XML, pictures other than SVG (which may hold scripts), sound, video, JSON."""
    kind = content_type.split(";")[0]
    if kind in ("text/html", "text/xml", "image/svg+xml"):
        return False
    return kind.split("/")[0] in ("text", "image", "audio", "video") or kind == "application/json"


def guess_type(path):
    """Content-Type for path from its extension (any case); text types are UTF-8."""
    _, dot, ext = path.rpartition(".")
    if not dot or "/" in ext or "\\" in ext:
        return DEFAULT_TYPE
    kind = _TYPES.get(ext.lower(), DEFAULT_TYPE)
    return kind + "; charset=utf-8" if kind.startswith("text/") else kind
