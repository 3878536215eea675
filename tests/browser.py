"""A real headless Chromium for the browser tests (the report and the label app): Debian's
``chromium`` driven through its ``chromium-driver`` by Selenium.

Both paths are given explicitly so Selenium Manager never looks for (or downloads) a browser or
a driver; the flags keep Chromium off the network (no component updates, sync or background
requests) and independent of a GPU or a large /dev/shm. Every browser gets a fresh profile.
``.ci/run`` installs the two packages (``apt-get install -y chromium chromium-driver``).

- ``chromium``: one browser for the whole session (fast), its console drained before each test;
- ``browser``: a factory, ``browser()`` starts another browser with its own profile (two raters
  must not share storage); all are closed after the test;
- ``console_errors(driver)``: the page's SEVERE console messages since the last call.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
    "--disable-default-apps", "--disable-extensions", "--window-size=1400,1000", "--force-device-scale-factor=1",
)


def _require_browser() -> None:
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip(f"needs {CHROMIUM} and {CHROMEDRIVER} (apt-get install -y chromium chromium-driver)")
    pytest.importorskip("selenium", reason="selenium is in the dev extra: pip install -e '.[dev]'")


def start_chromium(user_data_dir: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={user_data_dir}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(30)
    return driver


def console_errors(driver) -> list[str]:
    """Console messages at level SEVERE (JS errors, CSP violations, failed loads)."""
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


@pytest.fixture(scope="session")
def chromium_session():
    _require_browser()
    profile = tempfile.mkdtemp(prefix="jk-chromium-")
    driver = start_chromium(profile)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def chromium(chromium_session):
    chromium_session.get_log("browser")
    yield chromium_session


@pytest.fixture
def browser():
    _require_browser()
    started = []

    def start():
        profile = tempfile.mkdtemp(prefix="jk-chromium-")
        driver = start_chromium(profile)
        started.append((driver, profile))
        return driver

    yield start
    for driver, profile in started:
        try:
            driver.quit()
        finally:
            shutil.rmtree(profile, ignore_errors=True)
