"""Uploaded files cannot attack the site: whatever anyone uploaded is served so that a
browser never runs it as part of the site's origin (tests/browser checks a real browser
does not). The site's own static files are served as they are."""
import pytest
import requests

TIMEOUT = 10
SCRIPT = b"<script>fetch('/uploads/victim.txt', {method: 'DELETE'})</script>"


@pytest.mark.parametrize("name, attachment", [
    ("page.html", True), ("page.htm", True), ("drawing.svg", True), ("feed.xml", True),
    ("tool.bin", True), ("noext", True), ("doc.pdf", True),
    ("notes.txt", False), ("photo.png", False), ("data.json", False), ("clip.mp4", False),
])
def test_uploads_are_sandboxed_and_active_types_are_attachments(server, name, attachment):
    (server.uploads / name).write_bytes(SCRIPT)
    for method in ("GET", "HEAD"):
        r = requests.request(method, server.url + "/uploads/" + name, timeout=TIMEOUT)
        assert r.status_code == 200
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Content-Security-Policy"] == "sandbox"
        assert r.headers.get("Content-Disposition") == ("attachment" if attachment else None)


def test_ranges_of_uploads_carry_the_same_headers(server):
    (server.uploads / "page.html").write_bytes(SCRIPT)
    r = requests.get(server.url + "/uploads/page.html", headers={"Range": "bytes=0-7"},
                     timeout=TIMEOUT)
    assert r.status_code == 206 and r.content == SCRIPT[:8]
    assert r.headers["Content-Disposition"] == "attachment"
    assert r.headers["Content-Security-Policy"] == "sandbox"


def test_static_files_are_served_as_the_site(server):
    (server.static / "index.html").write_bytes(b"<h1>site</h1>")
    r = requests.get(server.url + "/", timeout=TIMEOUT)
    assert r.text == "<h1>site</h1>"
    for header in ("Content-Disposition", "Content-Security-Policy"):
        assert header not in r.headers
