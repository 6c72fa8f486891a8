"""The page behind --auth, in real headless Chromium: the browser authenticates once
(HTTP Basic), and the live log's WebSocket, which cannot send Authorization, carries the
token the page fetched from /ws/token."""
import logging
import os
from urllib.parse import parse_qs, urlsplit

from test_page import expect, expect_uploaded, file_row, log_line, open_page, upload_by_input

USER, PASSWORD = "admin", "pa:ss wörd"
log = logging.getLogger("sensor")


def test_page_upload_and_live_log_with_credentials(start_site, browser):
    site = start_site(auth=USER + ":" + PASSWORD)
    context = browser(http_credentials={"username": USER, "password": PASSWORD})
    page = context.pages[0] if context.pages else context.new_page()
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    open_page(page, site)  # the live log says "live": its WebSocket was accepted
    data = os.urandom(200 * 1024)
    upload_by_input(page, "behind auth.bin", data)
    expect_uploaded(page, "behind auth.bin")
    expect(file_row(page, "behind auth.bin")).to_be_visible()
    assert (site.uploads / "behind auth.bin").read_bytes() == data
    expect(log_line(page, 'stored "behind auth.bin"')).to_be_visible()
    log.warning("seen through the authenticated WebSocket")
    expect(log_line(page, "seen through the authenticated WebSocket")).to_be_visible()

    token = site.server.ws_token.decode()
    assert [urlsplit(url).path for url in sockets] == ["/ws/log"]
    assert parse_qs(urlsplit(sockets[0]).query) == {"token": [token]}
    # The token is not written to the log the page shows.
    expect(log_line(page, "/ws/log?token=(hidden)")).not_to_have_count(0)
    expect(page.locator("#log")).not_to_contain_text(token)
    assert errors == []

