"""GET and HEAD of static and uploaded files: types, validators, conditional requests
(RFC 9110 §13), ranges (RFC 9110 §14), folders and big files."""
import email.utils
import hashlib
import os
import re
import threading

import pytest
import requests

from rawhttp import Connection, build

TIMEOUT = 10
FIXED_MTIME = 1600000000  # 2020-09-13 12:26:40 UTC, a whole second
DATA = bytes(range(100))  # 100 distinct bytes: every range is recognisable


def put_file(folder, name, data, mtime=FIXED_MTIME):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(str(path), (mtime, mtime))
    return path


def get(server, path, **kwargs):
    kwargs.setdefault("timeout", TIMEOUT)
    kwargs.setdefault("allow_redirects", False)
    return requests.get(server.url + path, **kwargs)


def media_type(value):
    return value.split(";")[0].strip().lower()


def http_date(seconds):
    return email.utils.formatdate(seconds, usegmt=True)


@pytest.mark.parametrize("name, expected", [
    ("page.html", ("text/html",)),
    ("style.css", ("text/css",)),
    ("app.js", ("text/javascript", "application/javascript")),
    ("data.json", ("application/json",)),
    ("image.png", ("image/png",)),
    ("icon.svg", ("image/svg+xml",)),
    ("notes.txt", ("text/plain",)),
])
def test_content_type(server, name, expected):
    put_file(server.static, name, b"content of " + name.encode())
    r = get(server, "/" + name)
    assert r.status_code == 200
    assert media_type(r.headers["Content-Type"]) in expected
    assert r.content == b"content of " + name.encode()


def test_get_headers(server):
    put_file(server.static, "a.txt", DATA)
    r = get(server, "/a.txt")
    assert r.status_code == 200
    assert r.content == DATA
    assert r.headers["Content-Length"] == "100"
    last_modified = email.utils.parsedate_to_datetime(r.headers["Last-Modified"])
    assert last_modified.timestamp() == FIXED_MTIME
    assert r.headers["Last-Modified"].endswith(" GMT")
    assert re.match(r'^(W/)?"[\x21\x23-\x7e]*"$', r.headers["ETag"]), r.headers["ETag"]


def test_etag_changes_with_content(server):
    path = put_file(server.static, "a.txt", DATA)
    first = get(server, "/a.txt").headers["ETag"]
    put_file(server.static, "a.txt", DATA + b"more", mtime=FIXED_MTIME + 60)
    r = get(server, "/a.txt", headers={"If-None-Match": first})
    assert r.status_code == 200
    assert r.content == DATA + b"more"
    assert r.headers["ETag"] != first
    assert path.exists()


def test_head_has_same_headers_and_no_body(server):
    put_file(server.static, "a.txt", DATA)
    g = get(server, "/a.txt")
    h = requests.head(server.url + "/a.txt", timeout=TIMEOUT)
    assert h.status_code == 200
    for name in ("Content-Type", "Content-Length", "Last-Modified", "ETag"):
        assert h.headers.get(name) == g.headers[name], name


def test_head_sends_no_body_bytes(server):
    # HEAD then GET on one connection: a body after the HEAD answer would be read as
    # the next status line and fail to parse.
    put_file(server.static, "a.txt", DATA)
    with Connection(server) as conn:
        conn.send(build("HEAD", "/a.txt") + build("GET", "/a.txt"))
        head = conn.read_response("HEAD")
        assert head.status == 200
        assert head.get("Content-Length") == "100"
        body = conn.read_response()
        assert body.status == 200
        assert body.body == DATA


def test_if_none_match_etag(server):
    put_file(server.static, "a.txt", DATA)
    etag = get(server, "/a.txt").headers["ETag"]
    r = get(server, "/a.txt", headers={"If-None-Match": etag})
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers["ETag"] == etag  # RFC 9110 §15.4.5


def test_if_none_match_list(server):
    put_file(server.static, "a.txt", DATA)
    etag = get(server, "/a.txt").headers["ETag"]
    r = get(server, "/a.txt", headers={"If-None-Match": '"nope", "other", %s' % etag})
    assert r.status_code == 304
    assert r.content == b""


def test_if_none_match_weak_comparison(server):
    # RFC 9110 §13.1.2: If-None-Match uses the weak comparison: W/"x" matches "x".
    put_file(server.static, "a.txt", DATA)
    etag = get(server, "/a.txt").headers["ETag"]
    other = etag[2:] if etag.startswith("W/") else "W/" + etag
    r = get(server, "/a.txt", headers={"If-None-Match": other})
    assert r.status_code == 304


def test_if_none_match_star(server):
    put_file(server.static, "a.txt", DATA)
    r = get(server, "/a.txt", headers={"If-None-Match": "*"})
    assert r.status_code == 304
    assert r.content == b""


def test_if_none_match_other_etag_is_200(server):
    put_file(server.static, "a.txt", DATA)
    r = get(server, "/a.txt", headers={"If-None-Match": '"not-the-etag"'})
    assert r.status_code == 200
    assert r.content == DATA


@pytest.mark.parametrize("offset", [0, 3600])
def test_if_modified_since_not_modified(server, offset):
    put_file(server.static, "a.txt", DATA)
    r = get(server, "/a.txt", headers={"If-Modified-Since": http_date(FIXED_MTIME + offset)})
    assert r.status_code == 304
    assert r.content == b""


def test_if_modified_since_modified(server):
    put_file(server.static, "a.txt", DATA)
    r = get(server, "/a.txt", headers={"If-Modified-Since": http_date(FIXED_MTIME - 3600)})
    assert r.status_code == 200
    assert r.content == DATA


def test_if_none_match_takes_precedence_over_if_modified_since(server):
    # RFC 9110 §13.2.2: when If-None-Match is present, If-Modified-Since is ignored.
    put_file(server.static, "a.txt", DATA)
    etag = get(server, "/a.txt").headers["ETag"]
    r = get(server, "/a.txt", headers={
        "If-None-Match": '"not-the-etag"', "If-Modified-Since": http_date(FIXED_MTIME)})
    assert r.status_code == 200
    assert r.content == DATA
    r = get(server, "/a.txt", headers={
        "If-None-Match": etag, "If-Modified-Since": http_date(FIXED_MTIME - 3600)})
    assert r.status_code == 304


@pytest.mark.parametrize("spec, first, last", [
    ("bytes=0-9", 0, 9),
    ("bytes=-5", 95, 99),
    ("bytes=10-", 10, 99),
    ("bytes=90-1000", 90, 99),  # a last position past the end is clipped
    ("bytes=-1000", 0, 99),  # a suffix longer than the file is the whole file
])
def test_single_range(server, spec, first, last):
    put_file(server.static, "a.txt", DATA)
    r = get(server, "/a.txt", headers={"Range": spec})
    assert r.status_code == 206
    assert r.headers["Content-Range"] == "bytes %d-%d/100" % (first, last)
    assert r.headers["Content-Length"] == str(last - first + 1)
    assert r.content == DATA[first:last + 1]


@pytest.mark.parametrize("spec", ["bytes=5-2", "items=0-5", "bytes=abc", "bytes=-"])
def test_invalid_range_is_ignored(server, spec):
    # RFC 9110 §14.2: an invalid range or an unknown range unit is ignored: 200, whole body.
    put_file(server.static, "a.txt", DATA)
    r = get(server, "/a.txt", headers={"Range": spec})
    assert r.status_code == 200
    assert r.content == DATA


def test_range_ignored_for_head(server):
    # RFC 9110 §14.2: range handling is defined for GET only.
    put_file(server.static, "a.txt", DATA)
    r = requests.head(server.url + "/a.txt", headers={"Range": "bytes=0-9"}, timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.headers["Content-Length"] == "100"


def test_range_with_matching_if_none_match_is_304(server):
    # RFC 9110 §13.2.2: the precondition is evaluated before Range.
    put_file(server.static, "a.txt", DATA)
    r = get(server, "/a.txt", headers={"Range": "bytes=0-9", "If-None-Match": "*"})
    assert r.status_code == 304


@pytest.mark.parametrize("spec", ["bytes=100-", "bytes=200-300", "bytes=100-100"])
def test_unsatisfiable_range(server, spec):
    put_file(server.static, "a.txt", DATA)
    r = get(server, "/a.txt", headers={"Range": spec})
    assert r.status_code == 416
    assert r.headers["Content-Range"] == "bytes */100"


def test_multi_range_gets_whole_file(server):
    # Serving the whole representation to a multi-range request is allowed (RFC 9110
    # §14.2: a server MAY ignore Range); this server does that.
    put_file(server.static, "a.txt", DATA)
    r = get(server, "/a.txt", headers={"Range": "bytes=0-1,5-6"})
    assert r.status_code == 200
    assert r.content == DATA
    assert "Content-Range" not in r.headers


def test_root_serves_index_html(server):
    put_file(server.static, "index.html", b"<h1>home</h1>")
    r = get(server, "/")
    assert r.status_code == 200
    assert r.content == b"<h1>home</h1>"
    assert media_type(r.headers["Content-Type"]) == "text/html"


def test_folder_serves_index_html(server):
    put_file(server.static, "sub/index.html", b"<p>sub</p>")
    r = get(server, "/sub/")
    assert r.status_code == 200
    assert r.content == b"<p>sub</p>"
    assert media_type(r.headers["Content-Type"]) == "text/html"


def test_folder_without_slash_redirects(server):
    put_file(server.static, "sub/index.html", b"<p>sub</p>")
    r = get(server, "/sub")
    assert r.status_code == 301
    assert r.headers["Location"].endswith("/sub/")
    follow = requests.get(server.url + "/sub", timeout=TIMEOUT)
    assert follow.status_code == 200
    assert follow.content == b"<p>sub</p>"


def test_percent_encoded_name(server):
    put_file(server.static, "hello world.txt", b"spaced")
    r = get(server, "/hello%20world.txt")
    assert r.status_code == 200
    assert r.content == b"spaced"


@pytest.mark.parametrize("path", ["/missing.txt", "/sub/missing.txt", "/nodir/"])
def test_missing_is_404(server, path):
    put_file(server.static, "sub/index.html", b"<p>sub</p>")
    assert get(server, path).status_code == 404
    assert requests.head(server.url + path, timeout=TIMEOUT).status_code == 404


@pytest.mark.parametrize("target", ["/../secret.txt", "/%2e%2e/secret.txt", "/sub/../../secret.txt",
                                    "/..%2fsecret.txt", "/..%5csecret.txt"])
def test_no_escape_from_root(server, target):
    # requests would normalise "..", so the target goes raw.
    put_file(server.static.parent, "secret.txt", b"SECRET")
    put_file(server.static, "sub/index.html", b"<p>sub</p>")
    with Connection(server) as conn:
        conn.send(build("GET", target))
        r = conn.read_response()
    assert r.status in (400, 403, 404), r
    assert b"SECRET" not in r.body


def test_big_file_is_byte_identical(server):
    data = os.urandom(8 * 1024 * 1024)
    put_file(server.static, "big.bin", data)
    r = get(server, "/big.bin")
    assert r.status_code == 200
    assert r.headers["Content-Length"] == str(len(data))
    assert hashlib.sha256(r.content).digest() == hashlib.sha256(data).digest()


def test_download_uploaded_file(server):
    data = b"uploaded\r\n\x00bytes"
    put_file(server.uploads, "up.bin", data)
    r = get(server, "/uploads/up.bin")
    assert r.status_code == 200
    assert r.content == data
    h = requests.head(server.url + "/uploads/up.bin", timeout=TIMEOUT)
    assert h.status_code == 200
    assert h.headers["Content-Length"] == str(len(data))
    assert get(server, "/uploads/nothing.bin").status_code == 404


@pytest.mark.cpython_only("a board has no fstat: it cannot tell that the file it opened "
                          "is not the one it looked at")
@pytest.mark.parametrize("size", [100, 200000])  # sent from memory / streamed
def test_a_file_replaced_while_served_is_sent_whole(server, size):
    # One version of the file, or the other, with its own length and ETag: never the new
    # bytes under the old version's head.
    versions = [b"a" * size, b"b" * (size + 37)]
    target = server.static / "changing.bin"
    target.write_bytes(versions[0])
    stop = threading.Event()

    def replace_again_and_again():
        i = 0
        while not stop.is_set():
            i += 1
            temp = server.static / ".next"
            temp.write_bytes(versions[i % 2])
            os.replace(temp, target)

    replacer = threading.Thread(target=replace_again_and_again)
    replacer.start()
    try:
        with requests.Session() as session:
            for _ in range(200):
                r = session.get(server.url + "/changing.bin", timeout=TIMEOUT)
                if r.status_code == 503:  # kept changing through every try: allowed
                    continue
                assert r.status_code == 200
                assert r.content in versions
                assert r.headers["ETag"].endswith('-%x"' % len(r.content))
    finally:
        stop.set()
        replacer.join(TIMEOUT)
