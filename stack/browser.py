"""Debian's Chromium driven by Playwright, and the admin page logged in.

Chromium comes from the system (`apt-get install chromium`, which `make test` does when it
is missing); Playwright's own browser download is never used. Without the browser the tests
fail, they do not skip.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, Page, Playwright, sync_playwright

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
]


def chromium_path() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "Chromium is not installed: `apt-get install chromium` (make test does this)"
    return found


@contextmanager
def chromium() -> Iterator[tuple[Playwright, Browser]]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield playwright, browser
        finally:
            browser.close()


def open_admin_page(page: Page, base: str, name: str, password: str) -> Page:
    """Log in at /inbox and go to the admin page."""
    page.goto(f"{base}/inbox")
    page.get_by_label("Naam").fill(name)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Inloggen").click()
    page.get_by_role("link", name="Beheer").click()
    return page
