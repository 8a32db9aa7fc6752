"""Measuring the running stack for `make bench-desk`: memory and CPU per process, and a
quiet machine before the run. The stack itself is started by stack/desk.py (`running_stack`),
the same code the tests use.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from stack.desk import Stack, running_stack

__all__ = [
    "CpuMeter",
    "CpuUse",
    "Pids",
    "Stack",
    "cpu_meter",
    "postgres_pids",
    "rss_mib",
    "running_stack",
    "wait_for_quiet",
]


def cpu_meter(stack: Stack) -> CpuMeter:
    return CpuMeter(
        {"desk": stack.desk_pid, "rasa": stack.rasa_pid, "actions": stack.actions_pid, "bench": os.getpid()}
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


Pids = int | Sequence[int] | Callable[[], Sequence[int]]
"""One process, several, or a function that lists them when asked (e.g. PostgreSQL's backends)."""


def postgres_pids() -> list[int]:
    """PostgreSQL's processes on this machine (the server and every connection's backend)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


class CpuMeter:
    """Where the machine's CPU went between two moments: the stack's processes and the rest
    (the machine is shared; other people's test runs show up as `other`). A process that
    starts in between counts from zero; one that ends in between is not counted."""

    def __init__(self, pids: Mapping[str, Pids]) -> None:
        self.pids = dict(pids)
        self._start = self._snapshot()

    def _listed(self, name: str) -> Sequence[int]:
        pids = self.pids[name]
        if isinstance(pids, int):
            return [pids]
        return pids() if callable(pids) else pids

    def _snapshot(self) -> tuple[float, int, dict[str, dict[int, int]]]:
        ours: dict[str, dict[int, int]] = {}
        for name in self.pids:
            ours[name] = {}
            for pid in self._listed(name):
                try:
                    ours[name][pid] = _cpu_ticks(pid)
                except OSError:
                    continue
        return time.monotonic(), _machine_busy_ticks(), ours

    def read(self) -> CpuUse:
        """Since the meter was made."""
        (t0, busy0, ours0), (t1, busy1, ours1) = self._start, self._snapshot()
        seconds = max(t1 - t0, 1e-9)
        cores = {
            name: sum(ticks - ours0[name].get(pid, 0) for pid, ticks in ours1[name].items()) / TICKS / seconds
            for name in self.pids
        }
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
