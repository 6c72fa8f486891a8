"""wsserver.multipart: bodies fed whole, byte by byte and split at every position."""

from checks import raises, status_of

from wsserver.http11 import HTTPError
from wsserver.multipart import (
    PART_BEGIN,
    PART_DATA,
    PART_END,
    MultipartParser,
    boundary_from,
)

BOUNDARY = b"----WebKitFormBoundary7MA4YWxkTrZu0gW"
CONTENT_TYPE = "multipart/form-data; boundary=" + BOUNDARY.decode()

# What Chrome sends for a text field and two files (the second one non-ASCII, UTF-8).
BROWSER_BODY = (
    b"------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"
    b'Content-Disposition: form-data; name="title"\r\n'
    b"\r\n"
    b"Holiday pictures\r\n"
    b"------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"
    b'Content-Disposition: form-data; name="files"; filename="notes.txt"\r\n'
    b"Content-Type: text/plain\r\n"
    b"\r\n"
    b"line one\r\nline two\r\n\r\n"
    b"------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"
    b'Content-Disposition: form-data; name="files"; filename="caf\xc3\xa9.bin"\r\n'
    b"Content-Type: application/octet-stream\r\n"
    b"\r\n"
    b"\x00\x01\xff\r\n--\r\n-----WebKitFormBoundary7MA4YWxkTrZu0g\r\n\r"
    b"\r\n"
    b"------WebKitFormBoundary7MA4YWxkTrZu0gW--\r\n"
)

BROWSER_PARTS = [
    ("title", None, "text/plain", b"Holiday pictures"),
    ("files", "notes.txt", "text/plain", b"line one\r\nline two\r\n"),
    (
        "files",
        "caf\u00e9.bin",
        "application/octet-stream",
        b"\x00\x01\xff\r\n--\r\n-----WebKitFormBoundary7MA4YWxkTrZu0g\r\n\r",
    ),
]


def body_of(*parts, boundary=b"xyz"):
    """A body from (head lines, body bytes) pairs, closed with the close delimiter."""
    out = b""
    for head, data in parts:
        out += b"--" + boundary + b"\r\n" + head + b"\r\n\r\n" + data + b"\r\n"
    return out + b"--" + boundary + b"--\r\n"


def field(name, value):
    return (b'Content-Disposition: form-data; name="' + name + b'"', value)


def feed_chunks(chunks, boundary=BOUNDARY, **limits):
    """Feed the chunks and collect [(name, filename, content_type, body)], checking that
    the body is complete and that close() accepts its end."""
    parser = MultipartParser(boundary, **limits)
    parts = collect_parts(parser, chunks)
    assert parser.done
    parser.close()
    return parts


def collect_parts(parser, chunks):
    """Feed the chunks; [(name, filename, content_type, body)] of the parts completed,
    checking that events come as BEGIN, DATA (never empty)..., END."""
    parts = []
    current = None
    for chunk in chunks:
        for kind, value in parser.feed(chunk):
            if kind == PART_BEGIN:
                assert current is None
                current = [value.name, value.filename, value.content_type, b""]
            elif kind == PART_DATA:
                assert current is not None and len(value) > 0
                current[3] += value
            else:
                assert kind == PART_END and value is None and current is not None
                parts.append(tuple(current))
                current = None
    assert current is None or not parser.done
    return parts


def split(body, size):
    """body cut into chunks of `size` bytes."""
    return [body[i : i + size] for i in range(0, len(body), size)]


def test_browser_body_whole():
    assert feed_chunks([BROWSER_BODY]) == BROWSER_PARTS


def test_browser_body_one_byte_at_a_time():
    assert feed_chunks(split(BROWSER_BODY, 1)) == BROWSER_PARTS


def test_browser_body_split_at_every_position():
    for i in range(len(BROWSER_BODY) + 1):
        assert feed_chunks([BROWSER_BODY[:i], BROWSER_BODY[i:]]) == BROWSER_PARTS, i


def test_browser_body_in_odd_chunk_sizes():
    for size in (2, 3, 5, 7, 13, 38, 39, 40, 41, 64):
        assert feed_chunks(split(BROWSER_BODY, size)) == BROWSER_PARTS, size


def test_bytearray_and_memoryview_chunks():
    chunks = split(BROWSER_BODY, 50)
    assert feed_chunks([bytearray(c) for c in chunks]) == BROWSER_PARTS
    assert feed_chunks([memoryview(c) for c in chunks]) == BROWSER_PARTS


def test_reused_caller_buffer():
    # files.py reads into one bytearray and feeds a memoryview of it: data already
    # handed out must not change when the buffer is overwritten.
    parser = MultipartParser(BOUNDARY)
    buffer = bytearray(16)
    view = memoryview(buffer)
    collected = []
    for start in range(0, len(BROWSER_BODY), 16):
        piece = BROWSER_BODY[start : start + 16]
        view[: len(piece)] = piece
        collected.extend(parser.feed(view[: len(piece)]))
    parser.close()
    data = b"".join([v for k, v in collected if k == PART_DATA])
    assert data == b"".join([p[3] for p in BROWSER_PARTS])


def test_tricky_bodies_split_everywhere():
    # CRLF, "--", the boundary without CRLF, a boundary not at a line start, every
    # prefix of the delimiter, and a body that is only CR LF.
    tricky = [
        b"\r\n",
        b"--",
        b"--xyz",
        b"a--xyz--",
        b"\r\n-",
        b"\r\n--xy",
        b"\r\r\n--x\r\n--xy\r\n",
        b"\r\n\r\n--xy\r\n",
        b"\n--xyz\r--xyz",
        b"end\r",
    ]
    body = body_of(*[field(b"f%d" % i, t) for i, t in enumerate(tricky)])
    want = [("f%d" % i, None, "text/plain", t) for i, t in enumerate(tricky)]
    for i in range(len(body) + 1):
        assert feed_chunks([body[:i], body[i:]], b"xyz") == want, i
    for size in (1, 2, 3, 4, 5, 6):
        assert feed_chunks(split(body, size), b"xyz") == want, size


def test_three_way_split_of_delimiter():
    body = body_of(field(b"a", b"1"), field(b"b", b"2"))
    want = [("a", None, "text/plain", b"1"), ("b", None, "text/plain", b"2")]
    for i in range(len(body)):
        for j in range(i, min(i + 12, len(body) + 1)):
            assert feed_chunks([body[:i], body[i:j], body[j:]], b"xyz") == want


def test_empty_file_and_empty_field():
    head = b'Content-Disposition: form-data; name="upload"; filename="empty.txt"'
    body = body_of((head, b""), field(b"note", b""))
    assert feed_chunks([body], b"xyz") == [
        ("upload", "empty.txt", "application/octet-stream", b""),
        ("note", None, "text/plain", b""),
    ]
    assert feed_chunks(split(body, 1), b"xyz") == feed_chunks([body], b"xyz")


def test_no_file_chosen():
    # A browser sends an empty filename and an empty body for an empty file input.
    head = b'Content-Disposition: form-data; name="f"; filename=""\r\nContent-Type: application/octet-stream'
    assert feed_chunks([body_of((head, b""))], b"xyz") == [
        ("f", "", "application/octet-stream", b"")
    ]


def test_preamble_and_epilogue_ignored():
    body = b"This is the preamble, --xyz not at a line start.\r\n" + body_of(
        field(b"a", b"1")
    ) + b"epilogue --xyz\r\n--xyz\r\ngarbage"
    want = [("a", None, "text/plain", b"1")]
    for i in range(len(body) + 1):
        assert feed_chunks([body[:i], body[i:]], b"xyz") == want


def test_feed_after_done_is_ignored():
    parser = MultipartParser(b"xyz")
    parser.feed(body_of(field(b"a", b"1")))
    assert parser.done
    assert parser.feed(b"--xyz\r\nanything") == []
    parser.close()


def test_transport_padding_and_bare_lf():
    body = (
        b"--xyz \t\r\n"
        b'Content-Disposition: form-data; name="a"\r\n\r\n1'
        b"\r\n--xyz\t\n"
        b'content-disposition: form-data; name="b"\ncontent-type: text/csv\n\n2'
        b"\r\n--xyz--  \r\n"
    )
    assert feed_chunks([body], b"xyz") == [
        ("a", None, "text/plain", b"1"),
        ("b", None, "text/csv", b"2"),
    ]


def test_data_emitted_as_soon_as_certain():
    parser = MultipartParser(b"xyz")
    events = parser.feed(b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nhello\r\n--x')
    assert events[1:] == [(PART_DATA, b"hello")]
    assert events[0][0] == PART_BEGIN
    assert parser._buf == b"\r\n--x"
    assert parser.feed(b"!") == [(PART_DATA, b"\r\n--x!")]
    assert parser._buf == b""
    assert parser.feed(b"\r") == []
    assert parser.feed(b"\n--xyz--") == [(PART_END, None)]
    assert parser.done


def test_part_headers():
    head = (
        b'Content-Disposition: form-data; name="doc"; filename="a.txt"\r\n'
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"X-Extra:  kept  "
    )
    parser = MultipartParser(b"xyz")
    part = parser.feed(body_of((head, b"x")))[0][1]
    assert part.name == "doc" and part.filename == "a.txt"
    assert part.content_type == "text/plain; charset=utf-8"
    assert part.headers == [
        ("content-disposition", 'form-data; name="doc"; filename="a.txt"'),
        ("content-type", "text/plain; charset=utf-8"),
        ("x-extra", "kept"),
    ]


def first_part(disposition):
    parser = MultipartParser(b"xyz")
    return parser.feed(body_of((b"Content-Disposition: " + disposition, b"")))[0][1]


def test_disposition_parameters():
    table = [
        (b'form-data; name="a"; filename="x\\"y.txt"', "a", 'x"y.txt'),
        (b'form-data; name="a"; filename="x\\\\y"', "a", "x\\y"),
        (b'form-data; name="a"; filename="C:\\dir\\f.txt"', "a", "C:\\dir\\f.txt"),
        (b'form-data; name="a"; filename="semi;colon=.txt"', "a", "semi;colon=.txt"),
        (b'form-data; name="a"; filename="q%22uote.txt"', "a", "q%22uote.txt"),
        (b"form-data; name=token; filename=plain.txt", "token", "plain.txt"),
        (b'FORM-DATA ; NAME = "a" ; FileName="f" ;', "a", "f"),
        (b'form-data; name=""', "", None),
        (
            b'form-data; name="a"; filename="fallback.txt"; '
            b"filename*=UTF-8''caf%C3%A9%20%22x%22.txt",
            "a",
            'caf\u00e9 "x".txt',
        ),
        (b"form-data; name=a; filename*=utf-8'en'plain", "a", "plain"),
    ]
    for disposition, name, filename in table:
        part = first_part(disposition)
        assert (part.name, part.filename) == (name, filename), disposition


def test_boundary_from():
    table = [
        ("multipart/form-data; boundary=abc", b"abc"),
        ('multipart/form-data; boundary="a b:c?"', b"a b:c?"),
        ('Multipart/Form-Data;Boundary="----x"; charset=utf-8', b"----x"),
        ("multipart/form-data; charset=utf-8; BOUNDARY=" + "z" * 70, b"z" * 70),
        (CONTENT_TYPE, BOUNDARY),
    ]
    for content_type, boundary in table:
        assert boundary_from(content_type) == boundary, content_type


def test_quoted_boundary_body():
    boundary = boundary_from('multipart/form-data; boundary="b (q)"')
    body = body_of(field(b"a", b"1"), boundary=b"b (q)")
    assert feed_chunks(split(body, 3), boundary) == [("a", None, "text/plain", b"1")]


def test_boundary_from_errors():
    for content_type in [
        None,
        "",
        "multipart/form-data",
        "multipart/form-data; charset=utf-8",
        "multipart/form-data; boundary=",
        'multipart/form-data; boundary=""',
        "multipart/form-data; boundary=" + "z" * 71,
        'multipart/form-data; boundary="ends with space "',
        'multipart/form-data; boundary="bad\\\\char"',
        "multipart/form-data; boundary=a; boundary=b",
        'multipart/form-data; boundary="unterminated',
        "multipart/form-data; boundary",
        "application/x-www-form-urlencoded; boundary=abc",
        "multipart/mixed; boundary=abc",
    ]:
        assert status_of(boundary_from, content_type) == 400, content_type


def parse_error(body, chunk_size=None, **limits):
    """The message of the HTTPError(400) raised while feeding (or closing) body."""
    parser = MultipartParser(b"xyz", **limits)
    chunks = split(body, chunk_size) if chunk_size else [body]

    def run():
        for chunk in chunks:
            parser.feed(chunk)
        parser.close()

    exc = raises(HTTPError, run)
    assert exc.status == 400
    return exc.message


def test_bad_part_heads():
    table = [
        (b"Content-Type: text/plain", "without Content-Disposition"),
        (b"", "without Content-Disposition"),
        (b'Content-Disposition: form-data; filename="a"', "without a name"),
        (b'Content-Disposition: attachment; name="a"', "not form-data"),
        (b'Content-Disposition: form-data; name="a"; name="b"', "duplicate"),
        (b'Content-Disposition: form-data; name="a', "unterminated"),
        (b"Content-Disposition: form-data; name=a b=c", "parameter"),
        (b'Content-Disposition: form-data; name="a"; filename="\xff"', "UTF-8"),
        (b"Content-Disposition: form-data; name=a; filename*=UTF-8''%ff", "UTF-8"),
        # Overlong '/': MicroPython's decode() alone would accept both.
        (b'Content-Disposition: form-data; name="a"; filename="\xc0\xaf"', "UTF-8"),
        (b"Content-Disposition: form-data; name=a; filename*=UTF-8''%c0%af", "UTF-8"),
        (b"Content-Disposition: form-data; name=a; filename*=UTF-8''%4", "percent"),
        (b"Content-Disposition: form-data; name=a; filename*=UTF-8''%+1", "percent"),
        (b"Content-Disposition: form-data; name=a; filename*=latin1''x", "charset"),
        (b"Content-Disposition: form-data; name=a; filename*=x.txt", "filename*"),
        (b'Content-Disposition : form-data; name="a"', "header line"),
        (b'Content-Disposition: form-data; name="a"\r\n continued', "header line"),
        (b'Content-Disposition: form-data; name="a"\r\nno colon', "header line"),
        (b'Content-Disposition: form-data; name="a"\r\nX: a\rb', "header line"),
    ]
    for head, reason in table:
        for size in (None, 1):
            message = parse_error(body_of((head, b"data")), size)
            assert reason in message, (head, message)


def test_head_too_long():
    head = b'Content-Disposition: form-data; name="a"\r\nX-Pad: ' + b"p" * 100
    assert "longer than 64" in parse_error(body_of((head, b"")), max_head=64)
    # Without an end of head, the parser stops as soon as the limit is passed.
    parser = MultipartParser(b"xyz", max_head=64)
    parser.feed(b"--xyz\r\nX-Pad: ")
    assert status_of(parser.feed, b"p" * 60) == 400


def test_head_at_limit_is_accepted():
    body = body_of(field(b"a", b"1"))
    head_size = body.index(b"1") - len(b"--xyz")
    assert feed_chunks([body], b"xyz", max_head=head_size) == [("a", None, "text/plain", b"1")]
    assert "longer than" in parse_error(body, max_head=head_size - 1)


def test_too_many_parts():
    body = body_of(field(b"a", b"1"), field(b"b", b"2"), field(b"c", b"3"))
    assert len(feed_chunks([body], b"xyz", max_parts=3)) == 3
    assert "more than 2 parts" in parse_error(body, max_parts=2)


def test_truncated_body():
    body = body_of(field(b"a", b"1"))
    for cut in range(len(body) - 2):
        # Each cut stops before the closing "--" after the last boundary.
        message = parse_error(body[:cut], 7)
        assert "boundary" in message, (cut, message)
    assert "without a boundary line" in parse_error(b"no boundary here\r\n")
    assert "closing boundary" in parse_error(body[: body.index(b"1") + 1])


def test_garbage_instead_of_boundary():
    for body in [
        b"--xyzjunk\r\n\r\n",
        b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--xyzz\r\n',
        b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--xyz-\r\n',
        b"--xyz x",
    ]:
        for size in (None, 1):
            assert "not CRLF" in parse_error(body, size), body


def test_memory_stays_bounded():
    # A 1 MiB part in 4 KiB chunks, each ending with a prefix of the delimiter: the
    # parser keeps less than one delimiter between calls and hands out every byte.
    boundary = b"-" * 20 + b"bound"
    delim_size = len(b"\r\n--" + boundary)
    parser = MultipartParser(boundary)
    events = parser.feed(b"--" + boundary + b'\r\nContent-Disposition: form-data; name="f"; filename="big"\r\n\r\n')
    assert [e[0] for e in events] == [PART_BEGIN]
    chunk = b"x" * 3990 + b"\r\n--\r\n--" + boundary[:-1] + b"z" * 60 + b"\r\n--" + boundary[:10]
    assert len(chunk) == 4096
    total = 0
    for _ in range(256):
        for kind, value in parser.feed(chunk):
            assert kind == PART_DATA
            total += len(value)
        assert len(parser._buf) < delim_size
    events = parser.feed(b"\r\n--" + boundary + b"--")
    total += sum([len(v) for k, v in events if k == PART_DATA])
    assert total == 256 * 4096
    assert events[-1] == (PART_END, None) and parser.done
    parser.close()
