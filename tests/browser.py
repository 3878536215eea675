"""A real headless Chromium for the browser tests: Debian's ``chromium`` driven through its
``chromedriver`` by Selenium.

Both paths are given explicitly so Selenium Manager never looks for (or downloads) a browser or
a driver; the flags keep Chromium from reaching the network (no component updates, sync or
background requests) and from needing a GPU or a large /dev/shm. Each test gets a fresh
profile directory. Install the browser with ``apt-get install -y chromium chromium-driver``
(``.ci/run`` does).
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
         "--disable-default-apps", "--window-size=1400,1000")


def start_chromium(user_data_dir: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={user_data_dir}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)


def console_errors(driver) -> list[dict]:
    """Browser console entries at level SEVERE (JS errors, CSP violations, failed loads)."""
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


@pytest.fixture(scope="session")
def chromium_session():
    if not os.path.exists(CHROMIUM) or not os.path.exists(CHROMEDRIVER):
        pytest.skip(f"no Chromium at {CHROMIUM} / {CHROMEDRIVER}: apt-get install -y chromium chromium-driver")
    pytest.importorskip("selenium", reason="selenium is in the dev extra: pip install -e '.[dev]'")
    profile = tempfile.mkdtemp(prefix="jk-chromium-")
    driver = start_chromium(profile)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def chromium(chromium_session):
    """A running headless Chromium (one per test session, for speed), its console log drained
    before each test so a test sees only its own messages."""
    chromium_session.get_log("browser")
    yield chromium_session
