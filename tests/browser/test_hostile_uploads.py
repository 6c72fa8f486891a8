"""An uploaded page or picture with a script in it, opened in real headless Chromium,
runs nothing as part of the site: the script would delete another upload, and that
upload survives. The same page served as one of the site's own files does delete it,
which shows the script works when a browser runs it."""
import time

import pytest
from playwright.sync_api import Error

from wsserver.server import make_server

# Deletes victim.txt through the site's own API, as a hostile upload would.
ATTACK = "fetch('/uploads/victim.txt', {method: 'DELETE'})"
PAGES = {
    "evil.html": "<!DOCTYPE html><title>evil</title><script>%s</script>" % ATTACK,
    "evil.svg": '<svg xmlns="http://www.w3.org/2000/svg"><script>%s</script></svg>' % ATTACK,
    "evil.txt": "<script>%s</script>" % ATTACK,  # text/plain and nosniff: shown as text
}
SETTLE_S = 1.0  # time the script would have had to run, before the victim is checked


@pytest.fixture
def hostile_site(tmp_path):
    """A server whose static folder and uploads both hold the hostile files."""
    static, uploads = tmp_path / "static", tmp_path / "uploads"
    for folder in (static, uploads):
        folder.mkdir()
        for name, text in PAGES.items():
            (folder / name).write_text(text)
    server = make_server(port=0, bind="127.0.0.1", directory=str(static), uploads=str(uploads))
    server.start()
    yield "http://127.0.0.1:%d" % server.server_address[1], uploads
    server.shutdown()
    server.server_close()


def open_url(page, url):
    """Navigate; a download is an answer too (it renders nothing). True when downloaded."""
    try:
        with page.expect_download(timeout=3000):
            try:
                page.goto(url)
            except Error:
                pass  # the navigation became a download
        return True
    except Error:
        return False  # rendered, no download


@pytest.mark.parametrize("name, downloads", [
    ("evil.html", True), ("evil.svg", True), ("evil.txt", False)])
def test_an_uploaded_script_does_not_run(hostile_site, page, name, downloads):
    url, uploads = hostile_site
    (uploads / "victim.txt").write_text("keep me")
    assert open_url(page, url + "/uploads/" + name) is downloads
    time.sleep(SETTLE_S)
    assert (uploads / "victim.txt").read_text() == "keep me"
    if not downloads:
        assert page.locator("body").inner_text() == PAGES[name]


def test_the_same_script_runs_from_the_sites_own_files(hostile_site, page):
    url, uploads = hostile_site
    (uploads / "victim.txt").write_text("keep me")
    assert open_url(page, url + "/evil.html") is False
    deadline = time.monotonic() + 10
    while (uploads / "victim.txt").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not (uploads / "victim.txt").exists()
