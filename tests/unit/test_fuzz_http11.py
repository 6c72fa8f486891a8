"""Properties of the request head parser and of response field lines (hypothesis;
CPython only, see fuzzing.py)."""
from fuzzing import Stream, fuzz, mutated
from hypothesis import given
from hypothesis import strategies as st

from wsserver import bodies, http11
from wsserver.http11 import HTTPError

# Small limits, so that short inputs reach every limit and long ones go far past them.
LIMITS = {"max_line": 40, "max_header_line": 30, "max_headers": 5, "max_head": 100}
HEAD_STATUSES = (400, 414, 431, 505)

tokens = st.text(http11._TCHAR, min_size=1, max_size=10)
targets = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1,
                  max_size=30)
# Field values as a handler might pass them: any text (but surrogates, which cannot be
# encoded), line breaks and NUL included, which header_line must refuse.
values = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
line_ends = st.sampled_from((b"\r\n", b"\n"))
# Fields of a well-formed head: the names the server acts on, with values made of
# numbers (ASCII, or digits of other scripts), list commas, host prefixes and codings;
# or any other name and value.
numbers = st.sampled_from(("7", "08")) | st.text(st.characters(
    whitelist_categories=("Nd", "No"), blacklist_characters="0123456789"), min_size=1, max_size=2)
framing_fields = st.tuples(
    st.sampled_from(("Content-Length", "Transfer-Encoding", "Host", "Connection")),
    st.lists(numbers | st.sampled_from((",", ", ", "a:", "[::1]:", "chunked", "close")),
             max_size=3).map("".join))
other_fields = st.tuples(tokens, st.text(st.characters(
    blacklist_categories=("Cs", "Cc")), max_size=20))


@st.composite
def heads(draw):
    """A valid request head, some of its lines longer than LIMITS allow."""
    end = draw(line_ends)
    head = b"%s %s HTTP/1.%d" % (draw(tokens).encode(), draw(targets).encode(),
                                 draw(st.integers(0, 9)))
    for _ in range(draw(st.integers(0, 8))):
        name, value = draw(framing_fields | other_fields)
        head += end + name.encode() + b":" + value.encode()
    return head + end + end


def read_head(data, limits):
    """The parser's outcome on data (a Request, None or the HTTPError), and the stream."""
    stream = Stream(data)
    try:
        return http11.read_request_head(stream.readline, **limits), stream
    except HTTPError as exc:
        return exc, stream


def most_read(limits):
    """The most a head may take from the stream: an empty line, the request line, field
    lines up to max_head, the one that crosses it and the end of the head."""
    return 2 + limits["max_line"] + 1 + limits["max_head"] + limits["max_header_line"] + 1 + 2


@fuzz(400)
@given(st.binary(max_size=300) | mutated(heads()))
def test_any_input_gives_a_request_or_an_http_error(data):
    outcome, stream = read_head(data, LIMITS)
    if isinstance(outcome, HTTPError):
        assert outcome.status in HEAD_STATUSES, outcome.status
        return
    # Never a hang: one readline per line, the last field line included.
    assert stream.calls <= 2 + LIMITS["max_headers"] + 1
    if outcome is None:
        assert data in (b"", b"\r\n", b"\n")
        return
    assert http11.is_token(outcome.method) and outcome.version in ("HTTP/1.0", "HTTP/1.1")
    assert len(outcome.headers) <= LIMITS["max_headers"]
    for name, value in outcome.headers.items():
        assert http11.is_token(name) and not http11.has_control(value)
    check_framing(outcome)


def check_framing(request):
    """What the handler does next with a head also ends in a result or an HTTPError."""
    try:
        length = bodies.body_length(request)
        assert length == bodies.CHUNKED or length >= 0
        # RFC 9110 §8.6: Content-Length = 1*DIGIT, ASCII digits; a length read from
        # anything else would differ from a proxy's reading (request smuggling).
        for value in request.headers.get_all("content-length"):
            assert all(c in "0123456789, \t" for c in value), value
    except HTTPError as exc:
        assert exc.status in (400, 501)
    try:
        http11.check_host(request)
        assert all(value.isascii() for value in request.headers.get_all("host"))
    except HTTPError as exc:
        assert exc.status == 400


@fuzz(200)
@given(st.lists(framing_fields, min_size=1, max_size=4), st.integers(0, 1))
def test_framing_fields_give_a_length_or_an_http_error(fields, minor):
    head = "POST / HTTP/1.%d\r\n%s\r\n" % (minor, "".join("%s: %s\r\n" % f for f in fields))
    check_framing(http11.read_request_head(Stream(head.encode()).readline))


@fuzz(100)
@given(heads(), st.integers(1, 300), st.sampled_from((LIMITS, {
    "max_line": 8, "max_header_line": 12, "max_headers": 200, "max_head": 60})))
def test_the_parser_reads_no_further_than_its_limits_allow(head, repeat, limits):
    # The head lives in the stream's buffer until parsed: what the parser takes from it
    # (and so holds) has a bound set by the limits alone, however long the input.
    lines = head.splitlines(True)
    data = lines[0] + b"".join(lines[1:-1]) * repeat + lines[-1]  # its fields, repeated
    outcome, stream = read_head(data, limits)
    assert stream.pos <= most_read(limits)
    assert stream.largest_ask <= max(limits["max_line"], limits["max_header_line"]) + 1
    if len(data) > most_read(limits):
        assert isinstance(outcome, HTTPError) and outcome.status in (414, 431)


@fuzz(200)
@given(tokens, targets, st.integers(0, 9), st.lists(st.tuples(tokens, values), max_size=10),
       line_ends)
def test_field_lines_formatted_by_header_line_parse_back(method, target, minor, fields, end):
    accepted, lines = [], []
    for name, value in fields:
        try:
            lines.append(http11.header_line(name, value))
            accepted.append((name, value))
        except ValueError:
            assert http11.has_control(value)
    head = "%s %s HTTP/1.%d\r\n%s\r\n" % (method, target, minor, "".join(lines))
    request = http11.read_request_head(Stream(head.encode().replace(b"\r\n", end)).readline)
    assert (request.method, request.target) == (method, target)
    assert request.version == ("HTTP/1.0" if minor == 0 else "HTTP/1.1")
    # RFC 9110 §5.5: whitespace around a field value is not part of it.
    assert request.headers.items() == [(name, value.strip(" \t")) for name, value in accepted]


@fuzz(100)
@given(st.integers(100, 599), st.none() | values)
def test_a_status_line_is_one_line_whatever_the_reason(status, reason):
    try:
        line = http11.status_line("HTTP/1.1", status, reason)
    except ValueError:
        assert http11.has_control(reason)
        return
    assert line.startswith("HTTP/1.1 %d " % status) and line.endswith("\r\n")
    assert not http11.has_control(line[:-2])
