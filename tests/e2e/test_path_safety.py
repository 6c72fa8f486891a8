"""Hostile paths and file names never reach outside the static and uploads folders.

Every request goes out through raw sockets (`requests` would normalise '..' and
percent-escapes away). Around the two folders sit decoys: a secret next to them, a
sibling folder named like each root plus '-evil' (it catches a `startswith` containment
check), and symlinks inside both folders that point at the decoys. A read must never
return the secret; a write or delete must change nothing outside the uploads folder and
must leave nothing (not even a '.part' file) inside it.
"""
import os
import socket
import time

import pytest

from rawhttp import Connection, build, exchange
from wsserver.paths import quote

MARKER = b"SECRET-MARKER-7f3a9c"
LEAKS = (MARKER, b"root:x:0:0", b"[fonts]")  # the decoys, /etc/passwd, win.ini
REFUSED = (400, 403, 404)
INDEX = b"<p>index page</p>"

# Request-targets for GET and HEAD. {static}/{uploads} are the root folders' names,
# {port} the server's port. Each one must be answered 400, 403 or 404 without a leak.
READ_TARGETS = [
    "/../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E%2Fsecret.txt",
    "/%252e%252e/secret.txt",
    "/%252e%252e%252fsecret.txt",
    "/..%2fsecret.txt",
    "/%2e%2e%2f%2e%2e%2fsecret.txt",
    "/.%2e/secret.txt",
    "/%2e./secret.txt",
    "/..\\secret.txt",
    "/%5c..%5csecret.txt",
    "/%2e%2e%5csecret.txt",
    "/sub/..%5c..%5csecret.txt",
    "/%00",
    "/a%00.html",
    "/..%00/secret.txt",
    "/../secret.txt%00.html",
    "/..%09/secret.txt",
    "/..%20/secret.txt",
    "/%c0%ae%c0%ae/secret.txt",
    "/%e0%80%ae%e0%80%ae/secret.txt",
    "/%e0%80%ae",
    "/%f0%80%80%ae%f0%80%80%ae/secret.txt",
    "/..%c0%afsecret.txt",
    "/..%c1%9csecret.txt",
    "/%ef%bc%8e%ef%bc%8e/secret.txt",
    "/..%ef%bc%8fsecret.txt",
    "/%u002e%u002e/secret.txt",
    "/%%32%65%%32%65/secret.txt",
    "//etc/passwd",
    "/etc/passwd",
    "/C:/Windows/win.ini",
    "/c:%5cwindows%5cwin.ini",
    "/C%3A/Windows/win.ini",
    "/secret.txt::$DATA",
    "http://127.0.0.1/../secret.txt",
    "http://127.0.0.1:{port}/%2e%2e/secret.txt",
    "http://127.0.0.1:{port}/..%2fsecret.txt",
    "*",
    "../secret.txt",
    "secret.txt",
    "/./../secret.txt",
    "/sub/../../secret.txt",
    "/sub/%2e%2e/%2e%2e/secret.txt",
    "/..",
    "/%2e%2e",
    "/...",
    "/..../secret.txt",
    "/....//....//secret.txt",
    "/..;/secret.txt",
    "/" + "." * 500,
    "/" + "../" * 150 + "secret.txt",
    "/" + "%2e%2e/" * 80 + "secret.txt",
    "/uploads/../../secret.txt",
    "/uploads/%2e%2e/%2e%2e/secret.txt",
    "/uploads/..%2f..%2fsecret.txt",
    "/uploads/%2e%2e%2f%2e%2e%2fsecret.txt",
    "/../{static}-evil/secret.txt",
    "/%2e%2e/{static}-evil/secret.txt",
    "/../{static}/../secret.txt",
    "/uploads/../../{uploads}-evil/secret.txt",
    "/uploads/%2e%2e%2f{uploads}-evil%2fsecret.txt",
    "/link.txt",
    "/evil-link.txt",
    "/linkdir",
    "/linkdir/",
    "/linkdir/secret.txt",
    "/sub/uplink/secret.txt",
    "/uploads/link.txt",
    "/uploads/evil-link.txt",
    "/uploads/linkdir",
    "/uploads/linkdir/secret.txt",
]
LINK_TARGETS = ("link", "uplink")


@pytest.fixture
def decoys(server, tmp_path):
    """Fill tmp_path around the server's folders with secrets and links to them."""
    secret = tmp_path / "secret.txt"
    secret.write_bytes(MARKER + b" next to the roots\n")
    for root in (server.static, server.uploads):
        evil = tmp_path / (root.name + "-evil")
        evil.mkdir()
        (evil / "secret.txt").write_bytes(MARKER + b" in a sibling folder\n")
    (server.static / "index.html").write_bytes(INDEX)
    (server.static / "sub").mkdir()
    (server.static / "sub" / "page.txt").write_bytes(b"a page\n")
    server.links = True
    try:
        for root in (server.static, server.uploads):
            evil = tmp_path / (root.name + "-evil")
            (root / "link.txt").symlink_to(secret)
            (root / "evil-link.txt").symlink_to(evil / "secret.txt")
            (root / "linkdir").symlink_to(evil, target_is_directory=True)
        (server.static / "sub" / "uplink").symlink_to(tmp_path, target_is_directory=True)
    except (OSError, NotImplementedError):  # no symlinks (Windows without privilege)
        server.links = False
    return server


def expand(target, server):
    return target.format(static=server.static.name, uploads=server.uploads.name,
                         port=server.port)


def request(server, method, target, headers=(), body=b""):
    """One raw request on a fresh connection; (response, every byte received)."""
    if body or method in ("PUT", "POST"):
        headers = list(headers) + [("Content-Length", str(len(body)))]
    data = build(method, target, list(headers) + [("Connection", "close")], body,
                 host="127.0.0.1:%d" % server.port)
    with Connection(server) as conn:
        conn.send(data)
        response = conn.read_response(method)
        received = response.body + read_rest(conn)
    for name, value in response.headers:
        received += ("%s: %s\r\n" % (name, value)).encode("latin-1")
    return response, received


def read_rest(conn):
    """Whatever follows the response until the server closes (a body sent after HEAD
    would hide there); the request said Connection: close."""
    conn.sock.settimeout(2.0)
    try:
        return conn.read_to_eof()
    except socket.timeout:
        return bytes(conn.buffer)


def assert_alive(server):
    """The server still answers an ordinary GET."""
    response = exchange(server, build("GET", "/index.html", host="127.0.0.1:%d" % server.port))
    assert response.status == 200, response
    assert response.body == INDEX


def assert_no_leak(received, target):
    for leak in LEAKS:
        assert leak not in received, "%r leaked %r" % (target, leak)


@pytest.mark.parametrize("target", READ_TARGETS)
def test_read_stays_inside(decoys, target):
    if any(name in target for name in LINK_TARGETS) and not decoys.links:
        pytest.skip("symlinks are not available here")
    target = expand(target, decoys)
    for method in ("GET", "HEAD"):
        response, received = request(decoys, method, target)
        assert_no_leak(received, target)
        assert response.status in REFUSED, (method, target, response)
    assert_alive(decoys)


def test_corpus_size():
    assert len(READ_TARGETS) >= 40
    assert len(set(READ_TARGETS)) == len(READ_TARGETS)


# --- writes -----------------------------------------------------------------------

def snapshot(root):
    """{relative path: what it is} for everything under root, links not followed."""
    found = {}
    for folder, dirs, files in os.walk(str(root)):
        for name in dirs + files:
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, str(root))
            if os.path.islink(path):
                found[relative] = ("link", os.readlink(path))
            elif os.path.isdir(path):
                found[relative] = ("dir",)
            else:
                with open(path, "rb") as f:
                    found[relative] = ("file", f.read())
    return found


def assert_nothing_written(tmp_path, before):
    """tmp_path is exactly as it was; a server may remove its '.part' file just after
    answering, so allow it a moment."""
    deadline = time.monotonic() + 1.0
    while snapshot(tmp_path) != before and time.monotonic() < deadline:
        time.sleep(0.05)
    after = snapshot(tmp_path)
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(k for k in before if k in after and before[k] != after[k])
    assert (added, removed, changed) == ([], [], [])


def attempt(server, tmp_path, method, target, headers=(), body=b"DATA"):
    """Send a write request; check nothing changed on disk; return the response."""
    before = snapshot(tmp_path)
    response, received = request(server, method, target, headers, body)
    assert_no_leak(received, target)
    assert_nothing_written(tmp_path, before)
    return response


# Segments after '/uploads/' that decode to ONE bad name: 400.
BAD_SEGMENTS = [
    ".", "..", "%2e", "%2e%2e", "%2E%2E", ".hidden", "%2ehidden", ".x.part", "..\\x",
    "%5c..%5cx", "..%5cx", "a%00b", "a%0ab", "a%09b", "a%7f", "C:x", "C%3A%5Cx", "C%3A",
    "x%3A%3A%24DATA", "trailing.", "trailing%20", "%c0%ae%c0%ae", "%e0%80%ae", "%ed%a0%80",
    "%zz", "%", "%4", "x" * 256,
]
# Upload targets that are not a single name under /uploads/: 400, 403, 404 or 405.
BAD_UPLOAD_PATHS = [
    "/uploads/../x", "/uploads/../../x", "/uploads/..%2fx", "/uploads/%2e%2e%2fx",
    "/uploads/%2e%2e/%2e%2e/x", "/uploads/a%2Fb", "/uploads/a/b", "/uploads/linkdir/x",
    "/uploads/../{static}/x", "/uploads/../{uploads}-evil/x", "/uploads//x/..",
    "/x.txt", "/sub/x.txt", "/{uploads}/x", "/../{uploads}/x", "http://127.0.0.1/../x",
]
# Names given in X-Filename, ?name= or a multipart filename: 400.
BAD_NAMES = [
    "../../x", "..\\..\\x", "/etc/x", "C:\\x", ".hidden", "a/b", "..", ".", ".x.part",
    "C:", "x::$DATA", "trailing.", "x" * 256, "../{uploads}-evil/x", "linkdir/x",
]
NOT_SINGLE = (400, 403, 404, 405)


@pytest.mark.parametrize("segment", BAD_SEGMENTS)
def test_put_bad_name(decoys, tmp_path, segment):
    response = attempt(decoys, tmp_path, "PUT", "/uploads/" + segment)
    assert response.status == 400, response


@pytest.mark.parametrize("target", BAD_UPLOAD_PATHS)
def test_put_not_a_name_under_uploads(decoys, tmp_path, target):
    response = attempt(decoys, tmp_path, "PUT", expand(target, decoys))
    assert response.status in NOT_SINGLE, response


@pytest.mark.parametrize("target", BAD_UPLOAD_PATHS + ["/uploads/" + s for s in BAD_SEGMENTS])
def test_delete_stays_inside(decoys, tmp_path, target):
    response = attempt(decoys, tmp_path, "DELETE", expand(target, decoys), body=b"")
    assert response.status in NOT_SINGLE, response


@pytest.mark.parametrize("name", BAD_NAMES)
def test_post_x_filename(decoys, tmp_path, name):
    headers = [("X-Filename", expand(name, decoys))]
    response = attempt(decoys, tmp_path, "POST", "/uploads/", headers)
    assert response.status == 400, response


@pytest.mark.parametrize("name", BAD_NAMES + ["", "trailing "])
def test_post_query_name(decoys, tmp_path, name):
    query = "?name=" + quote(expand(name, decoys))
    response = attempt(decoys, tmp_path, "POST", "/uploads/" + query)
    assert response.status == 400, response


@pytest.mark.parametrize("query", [
    "?name=trailing+", "?name=..%2F..%2Fx", "?name=%2e%2e", "?name=%c0%ae%c0%ae",
    "?name=%zz", "?name=a%00b", "?name=%2ehidden", "?name=x%3A%3A%24DATA",
])
def test_post_raw_query_name(decoys, tmp_path, query):
    response = attempt(decoys, tmp_path, "POST", "/uploads/" + query)
    assert response.status == 400, response


def multipart(*filenames):
    """A multipart/form-data body with one file part per (raw, unescaped) filename."""
    body = b""
    for filename in filenames:
        body += (b"--XyZzY\r\nContent-Disposition: form-data; name=\"file\"; filename=\""
                 + filename.encode() + b"\"\r\nContent-Type: application/octet-stream"
                 b"\r\n\r\nDATA\r\n")
    return body + b"--XyZzY--\r\n"


MULTIPART_TYPE = [("Content-Type", "multipart/form-data; boundary=XyZzY")]


@pytest.mark.parametrize("filename", BAD_NAMES + ["..\\\\..\\\\x"])
def test_post_multipart_filename(decoys, tmp_path, filename):
    body = multipart(expand(filename, decoys))
    response = attempt(decoys, tmp_path, "POST", "/uploads/", MULTIPART_TYPE, body)
    assert response.status == 400, response


def test_post_multipart_bad_second_file(decoys, tmp_path):
    """A bad name after a good one: 400, nothing outside uploads, no '.part' left (the
    good file may or may not have been kept)."""
    before = snapshot(tmp_path)
    response, received = request(decoys, "POST", "/uploads/", MULTIPART_TYPE,
                                 multipart("good.txt", "../../x"))
    assert response.status == 400, response
    after = snapshot(tmp_path)
    after.pop(os.path.join(decoys.uploads.name, "good.txt"), None)
    assert after == before


def test_put_over_symlink_leaves_target_alone(decoys, tmp_path):
    """PUT to a name that is a symlink to a secret: whatever the answer, the secret and
    everything else outside the uploads folder stay as they were."""
    if not decoys.links:
        pytest.skip("symlinks are not available here")
    before = snapshot(tmp_path)
    for name in ("link.txt", "evil-link.txt"):
        response, _ = request(decoys, "PUT", "/uploads/" + name, (), b"OVERWRITTEN")
        assert response.status in (201, 204, 400, 403, 409), response
    after = snapshot(tmp_path)
    uploads = decoys.uploads.name + os.sep
    assert {k: v for k, v in after.items() if not k.startswith(uploads)} == {
        k: v for k, v in before.items() if not k.startswith(uploads)}
    assert not [k for k in after if k.endswith(".part")]


def test_delete_symlink_leaves_target_alone(decoys, tmp_path):
    if not decoys.links:
        pytest.skip("symlinks are not available here")
    before = snapshot(tmp_path)
    for name in ("link.txt", "evil-link.txt", "linkdir"):
        response, _ = request(decoys, "DELETE", "/uploads/" + name)
        assert response.status in (204, 400, 403, 404, 405), response
    after = snapshot(tmp_path)
    uploads = decoys.uploads.name + os.sep
    assert {k: v for k, v in after.items() if not k.startswith(uploads)} == {
        k: v for k, v in before.items() if not k.startswith(uploads)}
    assert_alive(decoys)
