"""A Rasa server and the action server of a test's or benchmark's own, on free ports."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from baken_core.rasa_endpoints import TrackerDatabase
from stack.processes import RASA_BIN, free_port, start, stop, wait_until_up


class RasaServer:
    """A Rasa server with its HTTP API and the project's fenced SQL tracker store (a file in
    `folder`, or the given tracker section): it can be paused, killed and started again."""

    def __init__(
        self,
        model: Path,
        folder: Path,
        action_url: str,
        tracker: dict | None = None,
        lock_store: dict | None = None,
    ) -> None:
        self.model, self.folder = model, folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        tracker = tracker or TrackerDatabase("sqlite", str(folder / "trackers.db")).rasa_config()
        folder.mkdir(parents=True, exist_ok=True)
        self.endpoints = folder / "endpoints.yml"
        endpoints = {"action_endpoint": {"url": action_url}, "tracker_store": tracker}
        if lock_store is not None:
            endpoints["lock_store"] = lock_store
        self.endpoints.write_text(yaml.safe_dump(endpoints), encoding="utf-8")
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def configure(self, section: str, config: dict | None) -> None:
        """Set (or, with None, remove) one section of endpoints.yml; the next start reads it."""
        endpoints = yaml.safe_load(self.endpoints.read_text(encoding="utf-8")) or {}
        if config is None:
            endpoints.pop(section, None)
        else:
            endpoints[section] = config
        self.endpoints.write_text(yaml.safe_dump(endpoints), encoding="utf-8")

    @property
    def log(self) -> Path:
        return self.folder / f"rasa-{self.starts}.log"

    def start(self, *, wait: bool = True) -> None:
        self.starts += 1
        command = [str(RASA_BIN / "rasa"), "run", "--enable-api", "--interface", "127.0.0.1", "--port", str(self.port)]
        command += ["--model", str(self.model), "--endpoints", str(self.endpoints)]
        self.proc = start(command, self.log)
        if wait:
            self.wait_ready()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def wait_ready(self, seconds: int = 240) -> None:
        assert self.proc is not None
        wait_until_up(f"{self.url}/status", self.proc, "Rasa server", self.log, seconds)

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def kill(self) -> None:
        """SIGKILL, at once (a crash, not a shutdown)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(timeout=30)


@contextmanager
def action_server(folder: Path) -> Iterator[str]:
    """The action server on a free port; yields its webhook URL."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "actions.log"
    proc = start([str(RASA_BIN / "python"), "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)], log)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health", proc, "action server", log)
        yield f"http://127.0.0.1:{port}/webhook"
    finally:
        stop(proc)


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
