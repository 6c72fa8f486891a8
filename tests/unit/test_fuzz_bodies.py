"""Properties of the body readers: ChunkedReader and LengthReader (hypothesis; CPython
only, see fuzzing.py)."""
from fuzzing import Stream, cut_points, fuzz, mutated
from hypothesis import given
from hypothesis import strategies as st

from wsserver import bodies
from wsserver.http11 import MAX_HEADER_LINE, HTTPError

NEXT = b"GET /next HTTP/1.1\r\n"  # a pipelined request after the body, left untouched
line_ends = st.sampled_from((b"\r\n", b"\n"))


@st.composite
def chunked_bodies(draw, bodies=st.binary(max_size=200)):
    """(body, its chunked encoding): any chunk sizes, hex in either case with leading
    zeros, extensions, trailers, CRLF or bare LF line ends."""
    body = draw(bodies)
    cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=6)))
    encoded = b""
    for start, end in zip([0] + cuts, cuts + [len(body)]):
        if end > start:  # a chunk of size 0 would be the last one
            encoded += chunk_line(draw, end - start) + body[start:end] + draw(line_ends)
    encoded += chunk_line(draw, 0)
    for _ in range(draw(st.integers(0, 2))):
        encoded += b"Trailer-%d: x" % draw(st.integers(0, 9)) + draw(line_ends)
    return body, encoded + draw(line_ends)


def chunk_line(draw, size):
    digits = b"%0*x" % (draw(st.integers(1, 4)), size)
    extension = draw(st.sampled_from((b"", b";a=b", b' ; name="v;x"')))
    return (digits.upper() if draw(st.booleans()) else digits) + extension + draw(line_ends)


def read_body(reader, buffer_size):
    """Read to the end: (body, readinto calls made), or the HTTPError."""
    out = bytearray()
    buffer = bytearray(buffer_size)
    calls = 0
    try:
        while True:
            calls += 1
            count = reader.readinto(buffer)
            if not count:
                return bytes(out), calls
            out += buffer[:count]
    except HTTPError as exc:
        return exc, calls


@fuzz(400)
@given(st.data(), st.binary(max_size=300) | mutated(chunked_bodies().map(lambda b: b[1])),
       st.integers(1, 40), st.none() | st.integers(0, 100))
def test_any_chunked_input_gives_a_body_or_an_http_error(data, encoded, buffer_size, limit):
    stream = Stream(encoded, data.draw(cut_points(len(encoded))))
    reader = bodies.ChunkedReader(stream.readline, stream.readinto, limit)
    body, calls = read_body(reader, buffer_size)
    if isinstance(body, HTTPError):
        assert body.status in ((400, 413) if limit is not None else (400,)), body.status
    else:
        assert reader.at_end() and reader.total == len(body)
        assert limit is None or len(body) <= limit
    # Never a hang: each call gives at least a byte, so one call per byte and the end.
    # The stream is asked once at most after it ran dry; no read asks for more than
    # a line's limit or the caller's buffer (the reader keeps no buffer of its own).
    assert calls <= len(encoded) + 1
    assert stream.calls_at_eof <= 1
    assert stream.largest_ask <= max(MAX_HEADER_LINE + 1, buffer_size)


@fuzz(300)
@given(st.data(), chunked_bodies(), st.integers(1, 40))
def test_a_chunked_encoding_decodes_to_its_body(data, body_and_encoding, buffer_size):
    body, encoded = body_and_encoding
    stream = Stream(encoded + NEXT, data.draw(cut_points(len(encoded))))
    reader = bodies.ChunkedReader(stream.readline, stream.readinto, limit=len(body))
    assert read_body(reader, buffer_size)[0] == body
    assert reader.at_end() and stream.rest() == NEXT


@fuzz(200)
@given(st.data(), st.binary(max_size=100), st.integers(0, 120), st.integers(1, 40))
def test_a_length_reader_reads_exactly_its_length(data, sent, length, buffer_size):
    stream = Stream(sent, data.draw(cut_points(len(sent))))
    body, calls = read_body(bodies.LengthReader(stream.readinto, length), buffer_size)
    if length <= len(sent):
        assert body == sent[:length] and stream.rest() == sent[length:]
    else:
        assert body.status == 400  # the body ended early
    assert calls <= length + 1 and stream.calls_at_eof <= 1
