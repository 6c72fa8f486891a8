"""Fixtures for the page tests: the real server serving the repository's static/ folder,
and headless Debian Chromium driven by Playwright for Python.

Chromium and Playwright are required: when either is missing the tests fail (they do not
skip) and say how to install it. Playwright's own browser download is not used.
"""
import logging
import os
import pathlib

import pytest

from wsserver.server import make_server

try:
    from playwright.sync_api import sync_playwright
except ImportError:
    sync_playwright = None

REPO = pathlib.Path(__file__).resolve().parents[2]
STATIC = REPO / "static"
CHROMIUM = os.environ.get("WSSERVER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 10000


class Site:
    """A running server: its URL, its uploads folder and the server object."""

    def __init__(self, server, uploads):
        self.server = server
        self.host, self.port = server.server_address[:2]
        self.url = "http://%s:%d" % (self.host, self.port)
        self.uploads = uploads

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def start_site(tmp_path):
    """start_site(port=0, **options): the server on 127.0.0.1 with the real static/ and a
    fresh uploads folder (the same one on every call of a test), live log attached."""
    sites = []
    uploads = tmp_path / "uploads"
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)  # every record reaches the live log, as the page shows it

    def start(port=0, **options):
        options.setdefault("log_history", 500)
        server = make_server(port=port, bind="127.0.0.1", directory=str(STATIC),
                             uploads=str(uploads), **options)
        server.start()
        sites.append(Site(server, uploads))
        return sites[-1]

    yield start
    for site in sites:
        site.stop()
    root.setLevel(level)


@pytest.fixture
def site(start_site):
    return start_site()


@pytest.fixture(scope="session")
def playwright_driver():
    if sync_playwright is None:
        pytest.fail("Playwright for Python is missing: pip install playwright "
                    "(no `playwright install` needed: the tests drive Debian's chromium)",
                    pytrace=False)
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail("Chromium is missing at %s: apt-get update && apt-get install -y chromium "
                    "(or set WSSERVER_CHROMIUM to a Chromium binary)" % CHROMIUM, pytrace=False)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def browser(playwright_driver, tmp_path):
    """A fresh headless Chromium (its own user data dir), phone or desktop per test."""
    contexts = []

    def open_browser(width=1280, height=800, mobile=False, **options):
        """options: more of launch_persistent_context's (http_credentials=...)."""
        context = playwright_driver.chromium.launch_persistent_context(
            str(tmp_path / ("profile%d" % len(contexts))), executable_path=CHROMIUM,
            headless=True, args=CHROMIUM_ARGS, viewport={"width": width, "height": height},
            is_mobile=mobile, has_touch=mobile, device_scale_factor=2 if mobile else 1,
            **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield open_browser
    for context in contexts:
        context.close()


@pytest.fixture
def page(browser):
    """A page of a fresh desktop-sized browser; `page.requested` lists every URL it asked
    for (HTTP and WebSocket), `page.errors` its uncaught script errors."""
    context = browser()
    page = context.pages[0] if context.pages else context.new_page()
    page.requested = []
    page.on("request", lambda request: page.requested.append(request.url))
    page.on("websocket", lambda ws: page.requested.append(ws.url))
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return page

