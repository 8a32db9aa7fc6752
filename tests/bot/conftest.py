"""A real Rasa server and action server (from .venv-rasa) for the desk's routing tests, and
the two databases (SQLite, PostgreSQL) from tests/databases.py."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from baken_core.paths import PROJECT_ROOT
from tests.databases import database_url, postgres_url
from tests.rasa_stub import StubRasa

__all__ = ["database_url", "free_port", "postgres_url", "rasa_url", "stub_rasa"]

RASA_BIN = PROJECT_ROOT / ".venv-rasa" / "bin"
MODEL = PROJECT_ROOT / "models" / "baken.tar.gz"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
TUESDAY_MORNING = dt.datetime(2026, 12, 1, 10, 0, tzinfo=AMSTERDAM)
SATURDAY_NIGHT = dt.datetime(2026, 12, 5, 23, 0, tzinfo=AMSTERDAM)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], seconds: int = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up")


class RasaServer:
    """A Rasa server of a test's own, with the project's SQL tracker store (a file in
    `folder`, or the given tracker section): it can be paused, killed and started again."""

    def __init__(self, model: Path, folder: Path, action_url: str, tracker: dict | None = None) -> None:
        self.model, self.folder = model, folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        tracker = tracker or {"type": "SQL", "dialect": "sqlite", "db": str(folder / "trackers.db")}
        folder.mkdir(parents=True, exist_ok=True)
        self.endpoints = folder / "endpoints.yml"
        self.endpoints.write_text(
            yaml.safe_dump({"action_endpoint": {"url": action_url}, "tracker_store": tracker}), encoding="utf-8"
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, *, wait: bool = True) -> None:
        self.starts += 1
        env = {**os.environ, "PYTHONWARNINGS": "ignore", "TF_CPP_MIN_LOG_LEVEL": "3", "RASA_TELEMETRY_ENABLED": "false"}
        command = [str(RASA_BIN / "rasa"), "run", "--enable-api", "--interface", "127.0.0.1", "--port", str(self.port)]
        command += ["--model", str(self.model), "--endpoints", str(self.endpoints)]
        log = (self.folder / f"rasa-{self.starts}.log").open("wb")
        self.proc = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        if wait:
            self.wait_ready()

    def wait_ready(self, seconds: int = 240) -> None:
        assert self.proc is not None
        _wait(f"{self.url}/status", self.proc, seconds)

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(timeout=30)


@contextmanager
def action_server(folder: Path) -> Iterator[str]:
    """The action server on a free port; yields its webhook URL."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "TF_CPP_MIN_LOG_LEVEL": "3"}
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [str(RASA_BIN / "python"), "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=(folder / "actions.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        _wait(f"http://127.0.0.1:{port}/health", proc)
        yield f"http://127.0.0.1:{port}/webhook"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def rasa_stack(model: Path, folder: Path) -> Iterator[str]:
    """A Rasa server (with its HTTP API, the SQL tracker store) and an action server on free
    ports; yields Rasa's URL."""
    with action_server(folder / "actions") as actions:
        server = RasaServer(model, folder / "rasa", actions)
        try:
            server.start()
            yield server.url
        finally:
            server.kill()


@pytest.fixture(scope="session")
def rasa_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    assert MODEL.exists(), "no trained model: run `make train`"
    with rasa_stack(MODEL, tmp_path_factory.mktemp("rasa")) as url:
        yield url


@pytest.fixture
def stub_rasa() -> StubRasa:
    """A scripted Rasa server behind the real RasaClient (tests/rasa_stub.py): for API tests
    where what the assistant understands is not what is tested."""
    return StubRasa()
