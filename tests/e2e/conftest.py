"""Browser tests: Debian's Chromium driven by Playwright against the app served by a
real HTTP server (Werkzeug's, the one `make run` uses) in a thread."""

from __future__ import annotations

import shutil
import threading

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
# The probe's flags: no sandbox as root, and no background calls to Google's hosts
# (this machine's network is closed; a privacy product should not make them anyway).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
QUICK_EXIT_PAGE = "<!doctype html><title>Weather</title><h1>Weather</h1>"


def pytest_collection_modifyitems(config, items):
    """The browser journeys run once, in the SQLite suite: what they prove is what a
    visitor sees and does, and every rule beneath them runs on both databases in the
    other packages' tests. Running them twice side by side doubled CI's longest part."""
    from tests.conftest import on_postgres

    if on_postgres():
        skip = pytest.mark.skip(reason="browser journeys run once, in the SQLite suite")
        for item in items:
            if "/tests/e2e/" in str(item.fspath):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    if not shutil.which("chromium") and not shutil.which(CHROMIUM):
        pytest.fail("Browser tests need Debian's chromium at /usr/bin/chromium (apt-get install chromium).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class LiveServer:
    def __init__(self, app) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def live_server(seeded):
    server = LiveServer(seeded)
    yield server
    server.stop()


def new_context(browser, live_server, *, javascript: bool, locale: str = "en"):
    """A fresh browser profile. The quick-exit site is answered locally: this machine
    has no Internet, and the test only needs to see the browser leave for it."""
    context = browser.new_context(java_script_enabled=javascript, locale=locale,
                                  extra_http_headers={"Accept-Language": locale})
    context.set_default_timeout(10_000)
    exit_url = live_server.app.config["PAUSE"].quick_exit_url
    context.route(exit_url.rstrip("/") + "*", lambda route: route.fulfill(
        status=200, content_type="text/html", body=QUICK_EXIT_PAGE))
    return context


@pytest.fixture
def open_context(browser, live_server):
    contexts = []

    def make(javascript: bool = True, locale: str = "en"):
        context = new_context(browser, live_server, javascript=javascript, locale=locale)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
