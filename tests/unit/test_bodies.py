"""bodies: Content-Length and chunked framing, and the readers that stream a body."""
import io

from checks import status_of
from wsserver import bodies, http11


def head(data):
    return http11.read_request_head(io.BytesIO(data).readline)


def length_of(fields, version=b"HTTP/1.1"):
    return bodies.body_length(head(b"POST / " + version + b"\r\n" + fields + b"\r\n"))


def test_body_length():
    assert length_of(b"") == 0
    assert length_of(b"Content-Length: 42\r\n") == 42
    assert length_of(b"Content-Length: 7, 7\r\nContent-Length: 7\r\n") == 7
    assert length_of(b"Transfer-Encoding: chunked\r\n") == bodies.CHUNKED


def test_bad_or_ambiguous_framing_is_refused():
    for fields in (b"Content-Length: abc\r\n", b"Content-Length: -1\r\n",
                   b"Content-Length: 1, 2\r\n", b"Content-Length: 1\r\nContent-Length: 2\r\n",
                   b"Content-Length: +5\r\n", b"Content-Length:\r\n",
                   b"Content-Length: 99999999999999999999\r\n",
                   b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"):
        assert status_of(length_of, fields) == 400, fields
    assert status_of(length_of, b"Transfer-Encoding: chunked\r\n", b"HTTP/1.0") == 400


def test_content_length_takes_ascii_digits_only():
    # Found by test_fuzz_http11: "\xc2\xb2" (superscript two) passed str.isdigit() and
    # int() then raised ValueError; Arabic-Indic "\xd9\xa1\xd9\xa2" was read as 12.
    for value in (b"\xc2\xb2", b"\xd9\xa1\xd9\xa2", b"1\xc2\xb2"):
        assert status_of(length_of, b"Content-Length: " + value + b"\r\n") == 400, value
    assert status_of(length_of, b"Transfer-Encoding: gzip, chunked\r\n") == 501
    assert status_of(length_of, b"Transfer-Encoding: gzip\r\n") == 501


def read_all(reader, size=7):
    out = bytearray()
    buffer = bytearray(size)
    while True:
        count = reader.readinto(buffer)
        if not count:
            return bytes(out)
        out.extend(buffer[:count])


def chunked(data, limit=None):
    stream = io.BytesIO(data)
    return bodies.ChunkedReader(stream.readline, stream.readinto, limit), stream


def test_chunked_body_decodes_with_extensions_and_trailers():
    body = (b"4\r\nWiki\r\n5;name=value\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n"
            b"0\r\nExpires: never\r\n\r\nNEXT")
    reader, stream = chunked(body)
    assert read_all(reader) == b"Wikipedia in\r\n\r\nchunks."
    assert reader.at_end() and reader.total == 23
    assert stream.read() == b"NEXT"  # the next request on the connection is untouched


def test_bad_chunked_bodies_are_400():
    for body in (b"zz\r\n", b"-1\r\n", b"0x5\r\nhello\r\n0\r\n\r\n", b"5\r\nhelloX\r\n0\r\n\r\n",
                 b"5\r\nhel", b"", b"1" * 20 + b"\r\n", b" 5\r\nhello\r\n0\r\n\r\n"[:3]):
        reader = chunked(body)[0]
        assert status_of(read_all, reader) == 400, body


def test_chunked_body_over_limit_is_413_before_its_data():
    reader, stream = chunked(b"3\r\nabc\r\n10\r\n" + b"x" * 16 + b"\r\n0\r\n\r\n", limit=10)
    assert status_of(read_all, reader) == 413
    assert stream.read(16) == b"x" * 16  # refused when announced, not after reading


def test_length_reader_reads_exactly_and_detects_early_end():
    stream = io.BytesIO(b"hello worldNEXT")
    reader = bodies.LengthReader(stream.readinto, 11)
    assert read_all(reader, 4) == b"hello world" and reader.at_end()
    assert stream.read() == b"NEXT"
    short = bodies.LengthReader(io.BytesIO(b"abc").readinto, 5)
    assert status_of(read_all, short) == 400
