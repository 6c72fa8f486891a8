"""Uploads: PUT, POST multipart and raw, chunked bodies, Expect: 100-continue, listing,
DELETE, --max-upload, and cleanup after failures (no file, no temporary file left)."""
import html.parser
import os
import time
import urllib.parse

import pytest
import requests

from rawhttp import Connection, build, chunked

TIMEOUT = 10
FIXED_MTIME = 1600000000
# Binary with CRLFs, NULs, dashes and every byte value: nothing may be "cleaned up".
BINARY = b"\x00\r\n\r\n--\x00\xff\r\r\n\n" * 50 + bytes(range(256)) + b"\r\n"


def put(server, name, data, **kwargs):
    return requests.put(server.url + "/uploads/" + name, data=data, timeout=TIMEOUT, **kwargs)


def stored_pairs(response):
    """[(name, size)] from a 201 JSON answer, in order."""
    return [(item["name"], item["size"]) for item in response.json()]


def multipart(boundary, parts, close=True):
    """A multipart/form-data body: parts are (field, filename, data)."""
    out = b""
    for field, filename, data in parts:
        out += b"--" + boundary + b"\r\n"
        out += b'Content-Disposition: form-data; name="%s"; filename="%s"\r\n' % (field, filename)
        out += b"Content-Type: application/octet-stream\r\n\r\n"
        out += data + b"\r\n"
    if close:
        out += b"--" + boundary + b"--\r\n"
    return out


# -- PUT ---------------------------------------------------------------------------------

def test_put_new_then_replace(server):
    r = put(server, "a.bin", BINARY)
    assert r.status_code == 201
    assert (server.uploads / "a.bin").read_bytes() == BINARY
    assert requests.get(server.url + "/uploads/a.bin", timeout=TIMEOUT).content == BINARY
    r = put(server, "a.bin", b"second\x00\r\n")
    assert r.status_code == 204
    assert r.content == b""
    assert (server.uploads / "a.bin").read_bytes() == b"second\x00\r\n"
    assert server.wait_stored(["a.bin"]) == ["a.bin"]


def test_put_empty_body(server):
    r = put(server, "empty.txt", b"")
    assert r.status_code == 201
    assert (server.uploads / "empty.txt").read_bytes() == b""


def test_put_big_random(server):
    data = os.urandom(3 * 1024 * 1024 + 17)
    assert put(server, "big.bin", data).status_code == 201
    assert (server.uploads / "big.bin").read_bytes() == data
    assert server.wait_stored(["big.bin"]) == ["big.bin"]


def test_put_chunked(server):
    random_part = os.urandom(200000)

    def pieces():  # a generator body makes requests send Transfer-Encoding: chunked
        yield BINARY
        yield b"x"
        yield random_part

    r = put(server, "chunked.bin", pieces())
    assert r.status_code == 201
    assert r.request.headers.get("Transfer-Encoding") == "chunked"
    assert (server.uploads / "chunked.bin").read_bytes() == BINARY + b"x" + random_part


def test_put_chunked_raw_with_extension_and_trailer(server):
    body = b"5;ext=1\r\nhello\r\n1\r\n\x00\r\n0\r\nX-Trailer: yes\r\n\r\n"
    with Connection(server) as conn:
        conn.send(build("PUT", "/uploads/t.bin", [("Transfer-Encoding", "chunked")], body))
        assert conn.read_response().status == 201
    assert (server.uploads / "t.bin").read_bytes() == b"hello\x00"


# Five field lines of 1,900 bytes: 9.5 KB, within a PC's 64 KiB head and over a
# board's 8 KiB. Trailers have the same limits as the head.
BIG_FIELDS = [("X-Big-%d" % i, "b" * 1890) for i in range(5)]


def test_head_size_limit_on_this_kind(server):
    r = requests.get(server.url + "/uploads/", headers=dict(BIG_FIELDS), timeout=TIMEOUT)
    assert r.status_code == (431 if server.kind.startswith("upy") else 200)


def test_trailers_have_the_head_limits(server):
    trailers = b"".join(b"%s: %s\r\n" % (n.encode(), v.encode()) for n, v in BIG_FIELDS)
    body = b"5\r\nhello\r\n0\r\n" + trailers + b"\r\n"
    with Connection(server) as conn:
        conn.send(build("PUT", "/uploads/t.bin", [("Transfer-Encoding", "chunked")], body))
        status = conn.read_response().status
    if server.kind.startswith("upy"):
        assert status == 400
        assert server.wait_stored([]) == []
    else:
        assert status == 201
        assert (server.uploads / "t.bin").read_bytes() == b"hello"


@pytest.mark.parametrize("target", ["/uploads/..%2fescape.txt", "/uploads/%2e%2e/escape.txt",
                                    "/uploads/sub/escape.txt", "/uploads/%00escape.txt"])
def test_put_bad_name_writes_nothing(server, target):
    with Connection(server) as conn:
        conn.send(build("PUT", target, [("Content-Length", "3")], b"bad"))
        r = conn.read_response()
    assert 400 <= r.status < 500, r
    assert not (server.uploads.parent / "escape.txt").exists()
    assert server.wait_stored([]) == []


# -- POST ----------------------------------------------------------------------------------

def test_post_multipart_one_file(server):
    r = requests.post(server.url + "/uploads/", timeout=TIMEOUT,
                      files={"file": ("one.bin", BINARY, "application/octet-stream")})
    assert r.status_code == 201
    assert r.headers["Content-Type"].split(";")[0] == "application/json"
    assert stored_pairs(r) == [("one.bin", len(BINARY))]
    assert (server.uploads / "one.bin").read_bytes() == BINARY
    assert server.wait_stored(["one.bin"]) == ["one.bin"]


def test_post_multipart_several_files(server):
    files = [
        ("one.bin", BINARY),
        ("two.txt", b"line one\r\nline two\r\n--\r\n"),
        ("three.bin", os.urandom(300000)),
        ("empty.txt", b""),
    ]
    r = requests.post(server.url + "/uploads/", timeout=TIMEOUT,
                      files=[("file", (name, data, "application/octet-stream")) for name, data in files])
    assert r.status_code == 201
    assert sorted(stored_pairs(r)) == sorted((name, len(data)) for name, data in files)
    for name, data in files:
        assert (server.uploads / name).read_bytes() == data, name
    assert server.wait_stored(sorted(name for name, _ in files)) == sorted(name for name, _ in files)


def test_post_multipart_content_looks_like_boundary(server):
    boundary = b"XyZzY123"
    tricky = (b"abc--XyZzY123 not a delimiter without CRLF before it\r\n"
              b"\r\n--XyZzY12 prefix of the delimiter\r\n"
              b"\r\n--XyZzY1\r\n--XyZz\r\n--\r\n-\r\n\r\n\r"
              + os.urandom(70000) + b"\r\n--XyZzY12")
    body = multipart(boundary, [(b"file", b"tricky.bin", tricky), (b"file", b"cr.bin", b"ends with CR\r")])
    r = requests.post(server.url + "/uploads/", data=body, timeout=TIMEOUT,
                      headers={"Content-Type": "multipart/form-data; boundary=XyZzY123"})
    assert r.status_code == 201
    assert sorted(stored_pairs(r)) == [("cr.bin", 13), ("tricky.bin", len(tricky))]
    assert (server.uploads / "tricky.bin").read_bytes() == tricky
    assert (server.uploads / "cr.bin").read_bytes() == b"ends with CR\r"


def test_post_multipart_quoted_boundary_and_form_field(server):
    # A quoted boundary parameter and a non-file field next to the file.
    boundary = b"a quoted:boundary"
    body = (b"--a quoted:boundary\r\n"
            b'Content-Disposition: form-data; name="note"\r\n\r\n'
            b"just a field\r\n"
            + multipart(boundary, [(b"file", b"q.bin", b"quoted\r\n")]))
    r = requests.post(server.url + "/uploads/", data=body, timeout=TIMEOUT,
                      headers={"Content-Type": 'multipart/form-data; boundary="a quoted:boundary"'})
    assert r.status_code == 201
    assert ("q.bin", 8) in stored_pairs(r)
    assert (server.uploads / "q.bin").read_bytes() == b"quoted\r\n"


def test_post_multipart_split_across_reads(server):
    # Tiny pieces with pauses: the server sees the delimiters split across its reads.
    boundary = b"----splitBoundary7MA4YWxkTrZu0gW"
    parts = [(b"file", b"s1.bin", b"first\r\n--\r\n\x00 file" * 5), (b"file", b"s2.bin", b"\r\nsecond")]
    body = multipart(boundary, parts)
    head = build("POST", "/uploads/", [
        ("Content-Type", "multipart/form-data; boundary=" + boundary.decode()),
        ("Content-Length", str(len(body)))])
    sizes = [1, 2, 3, 5, 7]
    with Connection(server) as conn:
        assert conn.send(head)
        i = 0
        for n in range(len(body)):  # bounded: at least one byte per round
            if i >= len(body):
                break
            piece = body[i:i + sizes[n % len(sizes)]]
            assert conn.send(piece)
            i += len(piece)
            time.sleep(0.002)
        r = conn.read_response()
    assert r.status == 201, r
    for _, name, data in parts:
        assert (server.uploads / name.decode()).read_bytes() == data


def test_post_multipart_filename_with_path_stays_inside(server):
    r = requests.post(server.url + "/uploads/", timeout=TIMEOUT,
                      files={"file": ("../../evil.txt", b"evil", "text/plain")})
    assert r.status_code in (201, 400), r.text
    assert not (server.uploads.parent / "evil.txt").exists()
    assert not (server.uploads.parent.parent / "evil.txt").exists()
    if r.status_code == 201:
        assert stored_pairs(r) == [("evil.txt", 4)]
        assert (server.uploads / "evil.txt").read_bytes() == b"evil"


def test_post_raw_with_x_filename(server):
    r = requests.post(server.url + "/uploads/", data=BINARY, timeout=TIMEOUT,
                      headers={"X-Filename": "raw.bin", "Content-Type": "application/octet-stream"})
    assert r.status_code == 201
    assert stored_pairs(r) == [("raw.bin", len(BINARY))]
    assert (server.uploads / "raw.bin").read_bytes() == BINARY


def test_post_raw_with_query_name(server):
    r = requests.post(server.url + "/uploads/?name=query.bin", data=BINARY, timeout=TIMEOUT,
                      headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 201
    assert stored_pairs(r) == [("query.bin", len(BINARY))]
    assert (server.uploads / "query.bin").read_bytes() == BINARY


def test_post_raw_chunked(server):
    def pieces():
        yield b"chunk one\r\n"
        yield b"\x00chunk two"

    r = requests.post(server.url + "/uploads/", data=pieces(), timeout=TIMEOUT,
                      headers={"X-Filename": "rawchunk.bin"})
    assert r.status_code == 201
    assert stored_pairs(r) == [("rawchunk.bin", 21)]
    assert (server.uploads / "rawchunk.bin").read_bytes() == b"chunk one\r\n\x00chunk two"


# -- Expect: 100-continue ------------------------------------------------------------------

def test_expect_100_continue(server):
    body = BINARY
    head = build("PUT", "/uploads/cont.bin", [
        ("Content-Length", str(len(body))), ("Expect", "100-continue")])
    with Connection(server, timeout=5) as conn:
        assert conn.send(head)
        interim = conn.read_response()  # a socket timeout here means no 100 was sent
        assert interim.status == 100
        assert interim.version == "HTTP/1.1"
        assert conn.send(body)
        final = conn.read_response()
    assert final.status == 201
    assert (server.uploads / "cont.bin").read_bytes() == body


def test_expect_100_continue_multipart(server):
    body = multipart(b"b0undary", [(b"file", b"mp.bin", BINARY)])
    head = build("POST", "/uploads/", [
        ("Content-Type", "multipart/form-data; boundary=b0undary"),
        ("Content-Length", str(len(body))), ("Expect", "100-continue")])
    with Connection(server, timeout=5) as conn:
        assert conn.send(head)
        assert conn.read_response().status == 100
        assert conn.send(body)
        final = conn.read_response()
    assert final.status == 201
    assert (server.uploads / "mp.bin").read_bytes() == BINARY


def test_expect_100_continue_ignored_for_http10(server):
    # RFC 9110 §10.1.1: a server MUST ignore 100-continue in an HTTP/1.0 request, so
    # the first answer is the final one.
    with Connection(server) as conn:
        conn.send(b"PUT /uploads/old.bin HTTP/1.0\r\nContent-Length: 3\r\n"
                  b"Expect: 100-continue\r\n\r\nabc")
        r = conn.read_response()
    assert r.status == 201, r
    assert (server.uploads / "old.bin").read_bytes() == b"abc"


# -- listing and DELETE ---------------------------------------------------------------------

class LinkParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.links.extend(value for name, value in attrs if name == "href" and value)


def write_upload(server, name, data):
    path = server.uploads / name
    path.write_bytes(data)
    os.utime(str(path), (FIXED_MTIME, FIXED_MTIME))


def test_listing_html_links_download_the_files(server):
    files = {"a.txt": b"alpha", "b c.bin": b"beta\x00"}
    for name, data in files.items():
        write_upload(server, name, data)
    base = server.url + "/uploads/"
    r = requests.get(base, timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0] == "text/html"
    parser = LinkParser()
    parser.feed(r.text)
    found = {}
    for href in parser.links:
        url = urllib.parse.urljoin(base, href)
        path = urllib.parse.urlsplit(url).path
        if path.startswith("/uploads/") and path != "/uploads/":
            name = urllib.parse.unquote(path[len("/uploads/"):])
            if name in files:
                found[name] = requests.get(url, timeout=TIMEOUT).content
    assert found == files


def test_listing_json(server):
    files = {"a.txt": b"alpha", "b.bin": b"\x00" * 1234}
    for name, data in files.items():
        write_upload(server, name, data)
    r = requests.get(server.url + "/uploads/", headers={"Accept": "application/json"}, timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0] == "application/json"
    items = r.json()
    assert isinstance(items, list)
    assert sorted((item["name"], item["size"]) for item in items) == sorted(
        (name, len(data)) for name, data in files.items())
    for item in items:
        assert isinstance(item["mtime"], (int, float))
        assert int(item["mtime"]) == FIXED_MTIME


def test_listing_json_empty(server):
    r = requests.get(server.url + "/uploads/", headers={"Accept": "application/json"}, timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.json() == []


def test_delete(server):
    assert put(server, "gone.bin", b"bye").status_code == 201
    r = requests.delete(server.url + "/uploads/gone.bin", timeout=TIMEOUT)
    assert r.status_code == 204
    assert r.content == b""
    assert requests.get(server.url + "/uploads/gone.bin", timeout=TIMEOUT).status_code == 404
    assert server.stored() == []
    assert requests.delete(server.url + "/uploads/gone.bin", timeout=TIMEOUT).status_code == 404


# -- --max-upload -----------------------------------------------------------------------------

@pytest.fixture
def small(start_server):
    return start_server(max_upload=1000)


def test_max_upload_allows_the_limit(small):
    assert put(small, "limit.bin", b"L" * 1000).status_code == 201
    assert (small.uploads / "limit.bin").read_bytes() == b"L" * 1000


@pytest.mark.parametrize("method, target, extra", [
    ("PUT", "/uploads/over.bin", []),
    ("POST", "/uploads/", [("X-Filename", "over.bin")]),
    ("PUT", "/uploads/over.bin", [("Expect", "100-continue")]),
])
def test_max_upload_content_length_413_before_body(small, method, target, extra):
    # Only the head is sent: the answer must come from Content-Length alone.
    head = build(method, target, [("Content-Length", "1001")] + extra)
    with Connection(small, timeout=5) as conn:
        assert conn.send(head)
        r = conn.read_response()
    assert r.status == 413, r
    assert small.wait_stored([]) == []


def test_max_upload_chunked_413_while_streaming(small):
    head = build("PUT", "/uploads/over.bin", [("Transfer-Encoding", "chunked")])
    with Connection(small, timeout=5) as conn:
        assert conn.send(head)
        for _ in range(3):  # 1200 bytes, past the limit; no last chunk is ever sent
            if not conn.send(b"190\r\n" + b"C" * 400 + b"\r\n"):
                break
        r = conn.read_response()
    assert r.status == 413, r
    assert small.wait_stored([]) == []


def test_max_upload_existing_file_untouched(small):
    assert put(small, "keep.bin", b"old").status_code == 201
    head = build("PUT", "/uploads/keep.bin", [("Transfer-Encoding", "chunked")])
    with Connection(small, timeout=5) as conn:
        conn.send(head + chunked([b"N" * 600, b"N" * 600]))
        assert conn.read_response().status == 413
    assert small.wait_stored(["keep.bin"]) == ["keep.bin"]
    assert (small.uploads / "keep.bin").read_bytes() == b"old"


# -- failures leave nothing behind --------------------------------------------------------------

@pytest.mark.parametrize("existing", [False, True])
@pytest.mark.parametrize("kind", ["put", "multipart"])
def test_client_disconnect_mid_upload(server, kind, existing):
    if existing:
        (server.uploads / "keep.bin").write_bytes(b"old content")
    # More than one server read buffer (256 KiB on CPython) is sent, so the server is
    # writing the temporary file when the client goes away.
    total = 2000000
    if kind == "put":
        head = build("PUT", "/uploads/keep.bin", [("Content-Length", str(total))])
        start = b""
    else:
        head = build("POST", "/uploads/", [
            ("Content-Type", "multipart/form-data; boundary=cut"), ("Content-Length", str(total))])
        start = (b'--cut\r\nContent-Disposition: form-data; name="file"; filename="keep.bin"\r\n'
                 b"Content-Type: application/octet-stream\r\n\r\n")
    expected = ["keep.bin"] if existing else []
    with Connection(server) as conn:
        assert conn.send(head + start + os.urandom(600000))
        for _ in range(40):  # give the server a moment to start writing (not asserted)
            if len(server.stored()) > len(expected):
                break
            time.sleep(0.05)
    assert server.wait_stored(expected) == expected
    if existing:
        assert (server.uploads / "keep.bin").read_bytes() == b"old content"


BAD_MULTIPART = {
    "truncated data": b'--B\r\nContent-Disposition: form-data; name="file"; filename="t.bin"\r\n\r\n'
                      + b"D" * 5000,
    "truncated headers": b'--B\r\nContent-Disposition: form-data; name="file"; filen',
    "no delimiter at all": b"this is not multipart at all\r\n" * 10,
}


@pytest.mark.parametrize("case", sorted(BAD_MULTIPART))
def test_malformed_multipart_400(server, case):
    body = BAD_MULTIPART[case]
    head = build("POST", "/uploads/", [
        ("Content-Type", "multipart/form-data; boundary=B"), ("Content-Length", str(len(body)))])
    with Connection(server) as conn:
        conn.send(head + body)
        r = conn.read_response()
    assert r.status == 400, r
    assert server.wait_stored([]) == []


def test_multipart_without_boundary_400(server):
    body = multipart(b"B", [(b"file", b"nb.bin", b"x")])
    r = requests.post(server.url + "/uploads/", data=body, timeout=TIMEOUT,
                      headers={"Content-Type": "multipart/form-data"})
    assert r.status_code == 400
    assert server.wait_stored([]) == []
