"""A real Rasa server and action server (from .venv-rasa) for the desk's routing tests."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from baken_core.paths import PROJECT_ROOT

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


@pytest.fixture(scope="session")
def rasa_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    assert MODEL.exists(), "no trained model: run `make train`"
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "TF_CPP_MIN_LOG_LEVEL": "3", "RASA_TELEMETRY_ENABLED": "false"}
    action_port, rasa_port = free_port(), free_port()
    endpoints: Path = tmp_path_factory.mktemp("rasa") / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n')
    log_dir = tmp_path_factory.mktemp("logs")
    actions = subprocess.Popen(
        [str(RASA_BIN / "python"), "-m", "rasa_sdk", "--actions", "actions", "--port", str(action_port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=(log_dir / "actions.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    rasa = subprocess.Popen(
        [
            str(RASA_BIN / "rasa"),
            "run",
            "--enable-api",
            "--interface",
            "127.0.0.1",
            "--port",
            str(rasa_port),
            "--model",
            str(MODEL),
            "--endpoints",
            str(endpoints),
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=(log_dir / "rasa.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        _wait(f"http://127.0.0.1:{action_port}/health", actions)
        _wait(f"http://127.0.0.1:{rasa_port}/status", rasa)
        yield f"http://127.0.0.1:{rasa_port}"
    finally:
        for proc in (rasa, actions):
            proc.terminate()
        for proc in (rasa, actions):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
