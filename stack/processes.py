"""Free ports, and processes that are started, waited for and stopped the same way everywhere."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from baken_core.paths import PROJECT_ROOT

RASA_BIN = PROJECT_ROOT / ".venv-rasa" / "bin"
DESK_BIN = PROJECT_ROOT / ".venv-desk" / "bin"
MODEL = PROJECT_ROOT / "models" / "baken.tar.gz"
QUIET_ENV = {"PYTHONWARNINGS": "ignore", "TF_CPP_MIN_LOG_LEVEL": "3", "RASA_TELEMETRY_ENABLED": "false"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(
    args: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path = PROJECT_ROOT
) -> subprocess.Popen[bytes]:
    """Start a process in a session of its own (Ctrl-C reaches the caller, which stops it),
    its output in `log`; its environment is `env` (default: this process's), kept quiet."""
    with log.open("wb") as out:
        return subprocess.Popen(
            args,
            cwd=cwd,
            env={**(os.environ if env is None else env), **QUIET_ENV},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_until_up(url: str, proc: subprocess.Popen[bytes], name: str, log: Path, seconds: float = 240) -> None:
    """Until `url` answers; fails with the log's tail when the process exits first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{name} did not come up at {url} within {seconds:.0f} s (log: {log})")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a process started here (and its process group): SIGCONT (it may be paused), SIGTERM,
    then SIGKILL after 10 s."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGCONT)
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def wait_until(predicate: Callable[[], object], timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")
