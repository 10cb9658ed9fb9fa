"""Browser fixtures: the app on a live local server and headless Debian Chromium.

The server runs the session's app (same database, CSRF on, as in production) in a thread.
Without chromium/chromedriver the tests skip, unless FEEDBACK_REQUIRE_BROWSER=1 (CI) makes
a missing browser a failure.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def _unavailable(reason: str):
    if os.environ.get("FEEDBACK_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required (FEEDBACK_REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def live_server(app):
    """Base URL of the app served on a free port of 127.0.0.1 for this test session."""
    assert app.config.get("WTF_CSRF_ENABLED", True), "browser tests must run with CSRF on"
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium driven by Selenium, shared by the session's browser tests."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("selenium is not installed")
    if not CHROMEDRIVER.exists() or not CHROMIUM.exists():
        _unavailable(f"{CHROMEDRIVER} or {CHROMIUM} is missing")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        # WebGL in software for the scatter (scattergl): Chromium still falls back to it
        # on its own, with a warning that it will stop; this page is our own local server
        "--enable-unsafe-swiftshader",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


@pytest.fixture
def page(browser):
    """The shared browser with no cookies left from an earlier test."""
    browser.delete_all_cookies()
    return browser
