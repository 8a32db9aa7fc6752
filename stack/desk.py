"""The desk for tests and benchmarks: in a thread of this process (`desk_server`), or the
whole stack (action server, Rasa, desk) as three processes (`running_stack`)."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from baken_core.paths import PROJECT_ROOT
from bot.rasa_client import RasaApi
from desk.app import create_app
from handoff.config import DeskSettings
from stack.processes import DESK_BIN, MODEL, RASA_BIN, free_port, start, stop, wait_until_up


@contextmanager
def desk_server(
    tmp_path: Path,
    rasa_url: str,
    database_url: str | None = None,
    rasa_client: Callable[[], RasaApi] | None = None,
    port: int | None = None,
    **overrides: Any,
) -> Iterator[tuple[str, str]]:
    """Serve the whole desk on a free port (or `port`; uvicorn in a thread); yields (base URL,
    database URL). `rasa_client` replaces the client for `rasa_url` (a scripted Rasa,
    tests/rasa_stub.py); `overrides` are DeskSettings fields."""
    url = database_url or f"sqlite:///{tmp_path / 'desk.db'}"
    settings = DeskSettings(database_url=url, rasa_url=rasa_url, secret_key_file=str(tmp_path / "secret"), **overrides)
    port = port or free_port()
    config = uvicorn.Config(
        create_app(settings, rasa_client=rasa_client),
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


@dataclass
class Stack:
    rasa_url: str
    desk_url: str
    database_url: str
    database_path: Path
    secret_key_file: Path
    desk_pid: int
    rasa_pid: int
    actions_pid: int
    logs: Path


def _rasa_command(port: int, endpoints: Path) -> list[str]:
    command = [str(RASA_BIN / "rasa"), "run", "--enable-api", "--interface", "127.0.0.1", "--port", str(port)]
    return [*command, "--model", str(MODEL), "--endpoints", str(endpoints)]


def _desk_command(port: int) -> list[str]:
    command = [str(DESK_BIN / "uvicorn"), "--factory", "desk.app:create_app", "--host", "127.0.0.1"]
    return [*command, "--port", str(port), "--log-level", "warning", "--no-access-log"]


@contextmanager
def running_stack(work: Path) -> Iterator[Stack]:
    """Start action server, Rasa and desk (each its own process); yield their URLs; stop all
    three afterwards. The desk runs in `work` without TELEGRAM_ variables, so a developer's
    .env (a Telegram token, another database) is not read."""
    if not MODEL.exists():
        raise SystemExit("Geen getraind model (models/baken.tar.gz): draai eerst `make train`.")
    action_port, rasa_port, desk_port = free_port(), free_port(), free_port()
    endpoints = work / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n')
    logs = work / "logs"
    logs.mkdir()
    database_path = work / "bench.db"
    database_url = f"sqlite:///{database_path}"
    secret_key_file = work / "secret"
    rasa_url, desk_url = f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{desk_port}"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        actions_command = [str(RASA_BIN / "python"), "-m", "rasa_sdk", "--actions", "actions", "--port"]
        actions = start([*actions_command, str(action_port)], logs / "actions.log")
        procs.append(actions)
        rasa = start(_rasa_command(rasa_port, endpoints), logs / "rasa.log")
        procs.append(rasa)
        desk_env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
        desk_env.update(
            PYTHONPATH=str(PROJECT_ROOT),
            DATABASE_URL=database_url,
            RASA_URL=rasa_url,
            SECRET_KEY_FILE=str(secret_key_file),
            ATTACHMENTS_DIR=str(work / "attachments"),
        )
        desk = start(_desk_command(desk_port), logs / "desk.log", env=desk_env, cwd=work)
        procs.append(desk)
        wait_until_up(f"http://127.0.0.1:{action_port}/health", actions, "action server", logs / "actions.log")
        wait_until_up(f"{rasa_url}/status", rasa, "Rasa server", logs / "rasa.log")
        wait_until_up(f"{desk_url}/healthz", desk, "desk", logs / "desk.log")
        yield Stack(
            rasa_url=rasa_url,
            desk_url=desk_url,
            database_url=database_url,
            database_path=database_path,
            secret_key_file=secret_key_file,
            desk_pid=desk.pid,
            rasa_pid=rasa.pid,
            actions_pid=actions.pid,
            logs=logs,
        )
    finally:
        for proc in reversed(procs):
            stop(proc)


class DeskProcess:
    """The desk as `make run` starts it (uvicorn), on a port of its own."""

    def __init__(self, database_url: str, rasa_url: str, folder: Path, **settings: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.folder = folder
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "RASA_URL": rasa_url,
            "SECRET_KEY_FILE": str(folder / "secret"),
            "ATTACHMENTS_DIR": str(folder / "attachments"),
            "SWEEP_INTERVAL_S": "1",
            **settings,
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = (self.folder / f"desk-{self.starts}.log").open("wb")
        command = [str(DESK_BIN / "uvicorn"), "--factory", "desk.app:create_app", "--host", "127.0.0.1"]
        self.proc = subprocess.Popen(
            [*command, "--port", str(self.port)], cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "the desk exited"
            try:
                if httpx.get(f"{self.url}/healthz", timeout=10).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("the desk did not start")

    def on_port(self, port: int) -> DeskProcess:
        """Listen on this port instead of a free one (before `start`)."""
        self.port, self.url = port, f"http://127.0.0.1:{port}"
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def say(self, visitor: str, client_id: str, text: str, timeout: float = 120.0) -> dict[str, Any]:
        body = {"visitor_id": visitor, "client_message_id": client_id, "text": text}
        response = httpx.post(f"{self.url}/api/widget/messages", json=body, timeout=timeout)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def health(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.url}/healthz", timeout=10).json())


def widget_stream_path(base: str, visitor: str, after: int = 0) -> str:
    """The widget's live-stream path for a visitor, with a fresh ticket (as widget.js gets one)."""
    response = httpx.post(f"{base}/api/widget/stream-ticket", headers={"X-Baken-Visitor": visitor}, timeout=30)
    assert response.status_code == 200, response.text
    return f"/api/widget/stream?ticket={response.json()['ticket']}&after={after}"
