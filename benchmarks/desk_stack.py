"""The running stack for `make bench-desk`: action server, Rasa server and desk, each in its
own process on a free port, with logs in a temporary folder, stopped again on exit.

The desk runs in its own process (not in the benchmark's) so that the simulated citizens
and workers do not share its event loop.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
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

    def meter(self) -> CpuMeter:
        return CpuMeter(
            {"desk": self.desk_pid, "rasa": self.rasa_pid, "actions": self.actions_pid, "bench": os.getpid()}
        )


def rss_mib(pid: int) -> float:
    """Resident memory of a process (VmRSS), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_ticks(pid: int) -> int:
    """User + system CPU time of one process, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _machine_busy_ticks() -> int:
    """CPU time all cores spent not idle (user, nice, system, irq, softirq, steal)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return user + nice + system + irq + softirq + steal


@dataclass
class CpuUse:
    """Average cores busy over an interval, per process of the stack, and everything else."""

    seconds: float
    cores: dict[str, float]


class CpuMeter:
    """Where the machine's CPU went between two moments: the stack's processes and the rest
    (the machine is shared; other people's test runs show up as `other`)."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self._start = self._snapshot()

    def _snapshot(self) -> tuple[float, int, dict[str, int]]:
        ours = {}
        for name, pid in self.pids.items():
            try:
                ours[name] = _cpu_ticks(pid)
            except OSError:
                ours[name] = 0
        return time.monotonic(), _machine_busy_ticks(), ours

    def read(self) -> CpuUse:
        """Since the meter was made."""
        (t0, busy0, ours0), (t1, busy1, ours1) = self._start, self._snapshot()
        seconds = max(t1 - t0, 1e-9)
        cores = {name: (ours1[name] - ours0[name]) / TICKS / seconds for name in self.pids}
        cores["other"] = max(0.0, (busy1 - busy0) / TICKS / seconds - sum(cores.values()))
        return CpuUse(seconds, cores)


def wait_for_quiet(max_wait_s: float, threshold: float, window_s: float = 5.0) -> float:
    """Wait (at most `max_wait_s`) until other processes use less than `threshold` cores over
    `window_s`; return what they used in the last window. The machine is shared: someone else's
    test run would otherwise be measured as the desk's slowness."""
    deadline = time.monotonic() + max_wait_s
    while True:
        meter = CpuMeter({"bench": os.getpid()})
        time.sleep(window_s)
        others = meter.read().cores["other"]
        if others < threshold or time.monotonic() >= deadline:
            return others
        print(f"  other processes use {others:.2f} cores; waiting for a quieter moment ...", flush=True)


def _wait(url: str, proc: subprocess.Popen[bytes], name: str, log: Path, seconds: float = 240) -> None:
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


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a process this module started (and its own process group), politely first."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _start(args: list[str], env: dict[str, str], log: Path, cwd: Path = PROJECT_ROOT) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        # A new session: Ctrl-C in the terminal reaches the benchmark, which then stops these.
        return subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


@contextmanager
def running_stack(work: Path) -> Iterator[Stack]:
    """Start action server, Rasa and desk; yield their URLs; stop all three afterwards."""
    if not MODEL.exists():
        raise SystemExit("Geen getraind model (models/baken.tar.gz): draai eerst `make train`.")
    env = {**os.environ, **QUIET_ENV}
    action_port, rasa_port, desk_port = free_port(), free_port(), free_port()
    endpoints = work / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n')
    logs = work / "logs"
    logs.mkdir()
    database_path = work / "bench.db"
    database_url = f"sqlite:///{database_path}"
    secret_key_file = work / "secret"
    rasa_url = f"http://127.0.0.1:{rasa_port}"
    desk_url = f"http://127.0.0.1:{desk_port}"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        actions = _start(
            [str(RASA_BIN / "python"), "-m", "rasa_sdk", "--actions", "actions", "--port", str(action_port)],
            env,
            logs / "actions.log",
        )
        procs.append(actions)
        rasa = _start(
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
            env,
            logs / "rasa.log",
        )
        procs.append(rasa)
        # The desk runs in the temporary folder, so a developer's .env (a Telegram token, another
        # database) is not read; everything it needs comes from these variables.
        desk_env = {
            **{k: v for k, v in env.items() if not k.startswith("TELEGRAM_")},
            "PYTHONPATH": str(PROJECT_ROOT),
            "DATABASE_URL": database_url,
            "RASA_URL": rasa_url,
            "SECRET_KEY_FILE": str(secret_key_file),
            "ATTACHMENTS_DIR": str(work / "attachments"),
        }
        desk = _start(
            [
                str(DESK_BIN / "uvicorn"),
                "--factory",
                "desk.app:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(desk_port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            desk_env,
            logs / "desk.log",
            cwd=work,
        )
        procs.append(desk)
        _wait(f"http://127.0.0.1:{action_port}/health", actions, "action server", logs / "actions.log")
        _wait(f"{rasa_url}/status", rasa, "Rasa server", logs / "rasa.log")
        _wait(f"{desk_url}/healthz", desk, "desk", logs / "desk.log")
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
            _stop(proc)
