"""Properties of the multipart/form-data push parser (hypothesis; CPython only, see
fuzzing.py)."""
from fuzzing import cut_points, fuzz, mutated, pieces
from hypothesis import assume, given
from hypothesis import strategies as st
from test_multipart import collect_parts

from wsserver.http11 import HTTPError
from wsserver.multipart import MultipartParser, boundary_from

BOUNDARY = b"xyz--42"
DELIMITER = b"\r\n--" + BOUNDARY
SMALL_HEAD = 80  # max_head for the "any input" property: heads cross it often

# Part bodies made of the bytes that look like a boundary: every prefix of the
# delimiter, the boundary without its CRLF, dashes, lone CR and LF, and plain bytes.
near_boundary = st.sampled_from([DELIMITER[:k] for k in range(1, len(DELIMITER))]
                                + [b"--" + BOUNDARY, b"--", b"\r", b"\n", b"\r\n\r\n"])
contents = st.lists(near_boundary | st.binary(max_size=12), max_size=12).map(b"".join)
# Names and filenames: any text a browser might send but CR and LF (which it sends
# as %0D %0A); the quoted-string escapes '"' and '\'.
names = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
                max_size=12)
# RFC 2046 §5.1.1 bchars (a boundary cannot end with the space).
BCHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? "
content_types = st.sampled_from(("", "text/plain", "image/png", "application/x-thing"))


@st.composite
def forms(draw, parts=st.integers(0, 4)):
    """(parts, body): [(name, filename or None, content type, content)] and its encoding."""
    expected, body = [], draw(st.sampled_from((b"", b"preamble\r\n")))
    for _ in range(draw(parts)):
        name, filename = draw(names), draw(st.none() | names)
        content_type, content = draw(content_types), draw(contents)
        assume(DELIMITER not in content)  # the sender picks a boundary not in its data
        part_head = head(name, filename, content_type, draw(st.booleans()))
        body += b"--" + BOUNDARY + b"\r\n" + part_head + content
        body += b"\r\n"
        default = "text/plain" if filename is None else "application/octet-stream"
        expected.append((name, filename, content_type or default, content))
    body += b"--" + BOUNDARY + b"--" + draw(st.sampled_from((b"", b"\r\n", b"\r\nepilogue")))
    return expected, body


def head(name, filename, content_type, extended=False):
    """A part's head; with `extended`, the file name as filename* (RFC 8187 §3.2)."""
    disposition = 'Content-Disposition: form-data; name="%s"' % quoted(name)
    if filename is not None and extended:
        disposition += "; filename*=UTF-8''" + "".join("%%%02X" % b for b in filename.encode())
    elif filename is not None:
        disposition += '; filename="%s"' % quoted(filename)
    lines = [disposition] + (["Content-Type: " + content_type] if content_type else [])
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def quoted(text):
    return text.replace("\\", "\\\\").replace('"', '\\"')


def parse(body, cuts, **limits):
    """The parts of body fed in pieces, or the status of the HTTPError; checks that what
    the parser keeps between feeds stays bounded."""
    parser = MultipartParser(BOUNDARY, **limits)
    try:
        parts = collect_parts(parser, bounded(parser, pieces(body, cuts)))
        parser.close()
    except HTTPError as exc:
        return exc.status
    return parts


def bounded(parser, chunks):
    """The chunks, checking after each one was fed (the parser asks for the next one
    then) that the parser keeps at most max_head bytes, or a cut delimiter."""
    for chunk in chunks:
        yield chunk
        assert len(parser._buf) <= max(parser.max_head, len(DELIMITER)), len(parser._buf)


@fuzz(400)
@given(st.data(), st.binary(max_size=300) | mutated(forms().map(lambda f: f[1]),
                                                    junk=near_boundary | st.binary(max_size=8)))
def test_any_input_gives_parts_or_a_400_however_it_is_split(data, body):
    whole = parse(body, [], max_head=SMALL_HEAD, max_parts=3)
    assert whole == 400 or isinstance(whole, list)
    # Split anywhere, the same body gives the same outcome.
    cuts = data.draw(cut_points(len(body), most=12))
    assert parse(body, cuts, max_head=SMALL_HEAD, max_parts=3) == whole


@fuzz(300)
@given(st.data(), forms())
def test_a_form_parses_back_into_its_parts(data, form):
    parts, body = form
    assert parse(body, data.draw(cut_points(len(body), most=12))) == parts


@fuzz(200)
@given(st.text(max_size=80) | st.builds("multipart/form-data; boundary={}".format,
                                        st.text(max_size=72)))
def test_any_content_type_gives_a_boundary_or_a_400(content_type):
    try:
        boundary = boundary_from(content_type)
    except HTTPError as exc:
        assert exc.status == 400
        return
    assert 1 <= len(boundary) <= 70 and boundary.decode() in content_type


@fuzz(100)
@given(st.text(BCHARS, min_size=1, max_size=70).filter(lambda b: b[-1] != " "))
def test_a_boundary_reads_back_quoted_or_not(boundary):
    quoted_form = 'multipart/form-data; boundary="%s"' % boundary
    assert boundary_from(quoted_form) == boundary.encode()
    if " " not in boundary:
        assert boundary_from("Multipart/Form-Data;boundary=" + boundary) == boundary.encode()


@fuzz(60)
@given(st.integers(1, 64), st.integers(1, 2000), st.binary(min_size=1, max_size=40),
       st.sampled_from((b"", b"\r", b"\r\n--", DELIMITER[:-1])))
def test_what_is_kept_between_feeds_does_not_grow_with_the_input(size, repeat, unit, tail):
    # A long part or a long head fed in small pieces: parse() checks that the parser
    # keeps no more than max_head or a delimiter's length, whatever the body's length.
    long_content = b"--" + BOUNDARY + b"\r\n" + head("f", "a", "") + unit * repeat + tail
    long_head = b"--" + BOUNDARY + b"\r\nX-Pad: " + unit * repeat
    for body in (long_content, long_head):
        cuts = range(size, len(body), size)
        parse(body, cuts, max_head=SMALL_HEAD)
