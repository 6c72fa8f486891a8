"""The page at GET / in real headless Chromium against the real server: uploads (file
input and drag and drop) with progress, the file list, delete, and the live log
(filters, pause, cap, dropped notice, reconnect). Screenshots go to test-artifacts/.
"""
import logging
import os
import pathlib
import re
from urllib.parse import urlsplit

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixtures fail and say how to install it
    expect = None

REPO = pathlib.Path(__file__).resolve().parents[2]
STATIC = REPO / "static"          # what the server serves in these tests, and ships
ARTIFACTS = REPO / "test-artifacts"
STATIC_FILES = ("index.html", "app.js", "app.css")
STATIC_BUDGET = 20 * 1024
log = logging.getLogger("sensor")


def open_page(page, site):
    page.goto(site.url + "/")
    expect(page.locator("#state")).to_have_text("live")


def upload_by_input(page, name, data):
    page.set_input_files("#files", files=[
        {"name": name, "mimeType": "application/octet-stream", "buffer": data}])


def upload_by_drop(page, name, data):
    """A synthetic drop of one file on the drop zone, as a user's drag and drop gives."""
    page.evaluate("""([name, bytes]) => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(bytes)], name, {type: 'text/plain'}));
        const zone = document.getElementById('drop');
        for (const type of ['dragenter', 'dragover', 'drop'])
            zone.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true, cancelable: true}));
    }""", [name, list(data)])


def expect_uploaded(page, name, status="done"):
    item = page.locator("#queue li", has_text=name)
    expect(item.locator("progress")).to_have_js_property("value", 100)
    expect(item.locator(".pct")).to_have_text("100%")
    expect(item.locator(".st")).to_have_text(status)


def file_row(page, name):
    return page.locator("#list tbody tr").filter(
        has=page.get_by_role("link", name=name, exact=True))


def log_line(page, text):
    return page.locator("#log .l", has_text=text)


def visible_log_texts(page):
    return page.locator("#log .l:visible").all_inner_texts()


def screenshot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def assert_only_local(page, site):
    outside = [url for url in page.requested
               if urlsplit(url).scheme not in ("data", "blob")
               and (urlsplit(url).hostname, urlsplit(url).port) != ("127.0.0.1", site.port)]
    assert page.requested and not outside, outside


def test_static_files_fit_in_flash():
    sizes = {name: (STATIC / name).stat().st_size for name in STATIC_FILES}
    assert sum(sizes.values()) < STATIC_BUDGET, sizes


def test_upload_list_log_filters_delete(site, page):
    open_page(page, site)
    expect(page.locator("#files-msg")).to_have_text("No files yet.")

    # A file through the file input: progress to 100 %, listed, stored byte for byte.
    photo = os.urandom(3 * 1024 * 1024 + 17)
    upload_by_input(page, "photo one.bin", photo)
    expect_uploaded(page, "photo one.bin")
    row = file_row(page, "photo one.bin")
    expect(row.locator("td.num")).to_have_text("3.0 MB")
    expect(row.get_by_role("link")).to_have_attribute("href", "/uploads/photo%20one.bin")
    assert (site.uploads / "photo one.bin").read_bytes() == photo

    # A file dropped on the drop zone; its untrusted name stays text, never markup.
    tricky = '<img src=x onerror="window.pwned=1">é.txt'
    note = "dropped on the zone\n".encode() * 50
    upload_by_drop(page, tricky, note)
    expect_uploaded(page, tricky)
    expect(file_row(page, tricky)).to_be_visible()
    assert (site.uploads / tricky).read_bytes() == note
    expect(page.locator("#files-msg")).to_have_text(re.compile(r"^2 files, 3\.0 MB$"))

    # A name the server refuses: the item says failed, with the server's reason.
    upload_by_input(page, ".hidden", b"x")
    failed = page.locator("#queue li", has_text=".hidden")
    expect(failed.locator(".st")).to_have_text(re.compile(r"failed: 400 .*starts with '\.'"))
    assert not (site.uploads / ".hidden").exists()

    # The server's records of those uploads appear in the live log.
    stored = log_line(page, 'stored "photo one.bin" (%d bytes)' % len(photo))
    expect(stored).to_be_visible()
    expect(stored.locator(".lv")).to_have_text("INFO")
    expect(stored.locator(".n")).to_have_text("wsserver")
    expect(stored.locator(".t")).to_have_text(re.compile(r"^\d\d:\d\d:\d\d\.\d{3}$"))
    expect(log_line(page, '"PUT /uploads/photo%20one.bin HTTP/1.1" 201')).to_be_visible()
    expect(log_line(page, 'stored "%s"' % tricky)).to_be_visible()
    log.warning("temperature high: 81 C")
    log.debug("raw adc 1234")
    warning = log_line(page, "temperature high")
    debug = log_line(page, "raw adc 1234")
    expect(warning).to_have_class(re.compile(r"\bwarning\b"))
    expect(debug).to_be_visible()
    assert page.evaluate("window.pwned") is None
    assert page.locator("#list img, #log img, #queue img").count() == 0
    screenshot(page, "page.png")

    # Text filter, case-insensitive, applied to the lines already shown.
    page.fill("#filter", "PHOTO ONE")
    expect(warning).to_be_hidden()
    expect(stored).to_be_visible()
    texts = visible_log_texts(page)
    assert texts and all("photo one" in text.lower() for text in texts), texts

    # Level filter (minimum level), alone and with the text filter.
    page.fill("#filter", "")
    page.select_option("#level", label="WARNING")
    expect(stored).to_be_hidden()
    expect(debug).to_be_hidden()
    expect(warning).to_be_visible()
    assert all(" WARNING " in t or " ERROR " in t or " CRITICAL " in t
               for t in visible_log_texts(page))
    page.fill("#filter", "photo")
    expect(warning).to_be_hidden()
    page.fill("#filter", "")
    page.select_option("#level", label="DEBUG")
    expect(debug).to_be_visible()
    expect(stored).to_be_visible()

    # Pause: new records wait (counted), then appear on resume.
    page.click("#pause")
    expect(page.locator("#pause")).to_have_attribute("aria-pressed", "true")
    log.error("while paused")
    expect(page.locator("#waiting")).to_have_text(re.compile(r"^\d+ waiting$"))
    assert log_line(page, "while paused").count() == 0
    page.click("#pause")
    expect(log_line(page, "while paused")).to_be_visible()
    expect(page.locator("#waiting")).to_have_text("")

    # Delete: dismissing the confirmation keeps the file, accepting removes it.
    page.once("dialog", lambda dialog: dialog.dismiss())
    row.get_by_role("button", name="Delete photo one.bin").click()
    expect(log_line(page, 'deleted "photo one.bin"')).to_have_count(0)
    assert (site.uploads / "photo one.bin").exists()
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete photo one.bin").click()
    expect(row).to_have_count(0)
    assert not (site.uploads / "photo one.bin").exists()
    expect(log_line(page, 'deleted "photo one.bin"')).to_be_visible()
    expect(page.locator("#files-msg")).to_have_text(re.compile(r"^1 file, "))

    # Clear empties the panel.
    page.click("#clear")
    expect(page.locator("#log .l")).to_have_count(0)

    assert_only_local(page, site)
    assert page.errors == []


def test_loads_nothing_from_outside(site, page):
    (site.uploads / "a.txt").write_bytes(b"a")
    open_page(page, site)
    expect(file_row(page, "a.txt")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert_only_local(page, site)
    paths = {urlsplit(url).path for url in page.requested}
    assert {"/", "/app.js", "/app.css", "/uploads/", "/ws/log"} <= paths, paths


def test_burst_is_capped_and_page_stays_responsive(site, page):
    site.server.log_hub.queue_length = 5000  # this viewer keeps up with the whole burst
    open_page(page, site)
    for i in range(3000):
        log.info("burst %d", i)
    expect(log_line(page, "burst 2999")).to_be_visible()
    expect(page.locator("#log .l")).to_have_count(2000)
    expect(page.locator("#log .l").first).not_to_contain_text("burst 999")
    # The view follows the newest line (once the last animation frame has run).
    page.wait_for_function("(e => e.scrollHeight - e.scrollTop - e.clientHeight < 8)"
                           "(document.getElementById('log'))", timeout=10000)


def test_scrolling_up_stops_following(site, page):
    open_page(page, site)
    for i in range(300):
        log.info("line %d", i)
    expect(log_line(page, "line 299")).to_be_visible()
    page.locator("#log").evaluate("e => { e.scrollTop = 0; }")
    log.info("after scrolling up")
    expect(log_line(page, "after scrolling up")).to_have_count(1)
    expect(page.locator("#latest")).to_be_visible()
    assert page.locator("#log").evaluate("e => e.scrollTop") == 0
    page.click("#latest")
    expect(log_line(page, "after scrolling up")).to_be_in_viewport()
    expect(page.locator("#latest")).to_be_hidden()


def test_dropped_lines_notice(site, page):
    site.server.log_hub.queue_length = 5  # a tiny queue: a burst outruns this viewer
    open_page(page, site)
    for i in range(2000):
        log.info("flood %d", i)
    expect(log_line(page, "flood 1999")).to_be_visible()
    notice = page.locator("#log .dropped").first
    expect(notice).to_have_text(re.compile(r"^\d+ lines? dropped"))


def test_reconnects_after_server_restart(start_site, page):
    site = start_site()
    open_page(page, site)
    port = site.port
    site.stop()
    expect(page.locator("#state")).to_have_text(re.compile(r"^reconnecting in \d+ s$"))
    site = start_site(port=port)
    expect(page.locator("#state")).to_have_text("live", timeout=20000)
    log.warning("back after restart")
    expect(log_line(page, "back after restart")).to_have_count(1)


def test_reconnect_to_same_server_skips_history_already_shown(site, page):
    viewers = []  # the server side of each /ws/log connection, to hang one up
    subscribe = site.server.log_hub.subscribe
    site.server.log_hub.subscribe = lambda connection: viewers.append(connection) or subscribe(connection)
    open_page(page, site)
    log.warning("before the hang-up")
    expect(log_line(page, "before the hang-up")).to_be_visible()
    viewers[0].close(1012, "restarting")
    expect(page.locator("#state")).to_have_text(re.compile(r"^reconnecting in \d+ s$"))
    expect(page.locator("#state")).to_have_text("live")
    log.warning("after the hang-up")
    expect(log_line(page, "after the hang-up")).to_be_visible()
    assert len(viewers) == 2
    expect(log_line(page, "before the hang-up")).to_have_count(1)


def test_upload_over_the_limit_shows_the_reason(start_site, page):
    site = start_site(max_upload=1000)
    open_page(page, site)
    upload_by_input(page, "big.bin", b"x" * 5000)
    expect(page.locator("#queue li", has_text="big.bin").locator(".st")).to_have_text(
        re.compile(r"^failed: 413 .*over the limit of 1000$"))
    expect(page.locator("#files-msg")).to_have_text("No files yet.")
    assert not (site.uploads / "big.bin").exists()


def test_phone_width(site, browser):
    (site.uploads / "a rather long file name from a phone camera 2024-06-01.jpg").write_bytes(b"j" * 5000)
    context = browser(width=390, height=844, mobile=True)
    page = context.pages[0] if context.pages else context.new_page()
    open_page(page, site)
    log.warning("seen on a phone")
    expect(log_line(page, "seen on a phone")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "page-phone.png")
