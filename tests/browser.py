"""A real headless browser for the browser tests: Debian's ``chromium`` driven through its
``chromium-driver`` by selenium (nothing is downloaded; .ci/run installs both packages).

``browser`` is a factory fixture: ``browser()`` starts one Chromium with a fresh profile (a
separate rater has separate storage), and every one started is closed after the test.
``console_errors(driver)`` returns the page's console errors since the last call.
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
    "--disable-default-apps", "--disable-extensions", "--window-size=1400,950", "--force-device-scale-factor=1",
)


def have_browser() -> bool:
    return os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)


def new_driver(profile_dir: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for f in FLAGS:
        opts.add_argument(f)
    opts.add_argument(f"--user-data-dir={profile_dir}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(30)
    return driver


def console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


@pytest.fixture
def browser():
    if not have_browser():
        pytest.skip(f"needs {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver)")
    pytest.importorskip("selenium")
    started = []

    def start():
        profile = tempfile.mkdtemp(prefix="jk-chromium-")
        d = new_driver(profile)
        started.append((d, profile))
        return d

    yield start
    for d, profile in started:
        try:
            d.quit()
        finally:
            shutil.rmtree(profile, ignore_errors=True)
