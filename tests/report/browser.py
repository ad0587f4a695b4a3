"""Open an HTML file in headless Chromium (Debian's chromium + chromium-driver) and check it rendered.

Returns the page's console errors and the images that failed to decode, so a test can assert both
are empty. Skips (with the reason) when Chromium or its driver is not installed.
"""

import os
import shutil

import pytest

CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
    "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def require_chromium() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        pytest.skip("headless Chromium is not installed (apt-get install chromium chromium-driver; .ci/run does this)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("selenium is not installed (pip install -e '.[dev]')")
    return browser, driver


def render(path: str, tmp_dir: str) -> dict:
    browser, driver_path = require_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={os.path.join(tmp_dir, 'chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.get("file://" + os.path.abspath(path))
        state = driver.execute_script(
            "return {ready: document.readyState, title: document.title,"
            " images: Array.from(document.images).map(i => ({alt: i.alt, ok: i.complete && i.naturalWidth > 0,"
            " w: i.naturalWidth, h: i.naturalHeight}))}"
        )
        logs = driver.get_log("browser")
    finally:
        driver.quit()
    state["errors"] = [entry["message"] for entry in logs if entry["level"] == "SEVERE"]
    state["broken_images"] = [img["alt"] for img in state["images"] if not img["ok"]]
    return state
