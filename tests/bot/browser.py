"""A real desk server (uvicorn in a thread) and Debian's Chromium driven by Playwright.

Chromium comes from the system (`apt-get install chromium`, done by .ci/run); Playwright's
own browser download is never used. Without the browser the tests fail, they do not skip.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from playwright.sync_api import Browser, Playwright, sync_playwright

from desk.app import create_app
from handoff.config import DeskSettings
from tests.bot.conftest import free_port

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
    assert found, "Chromium is not installed: `apt-get install chromium` (.ci/run does this)"
    return found


@contextmanager
def chromium() -> Iterator[tuple[Playwright, Browser]]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield playwright, browser
        finally:
            browser.close()


@contextmanager
def desk_server(tmp_path: Path, rasa_url: str, database_url: str | None = None) -> Iterator[tuple[str, str]]:
    """Serve the whole desk on a free port; yields (base URL, database URL)."""
    url = database_url or f"sqlite:///{tmp_path / 'desk.db'}"
    settings = DeskSettings(database_url=url, rasa_url=rasa_url, secret_key_file=str(tmp_path / "secret"))
    port = free_port()
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the desk server stopped while starting"
        assert time.monotonic() < deadline, "the desk server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
