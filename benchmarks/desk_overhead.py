"""Where the desk's time and CPU go per widget message, on PostgreSQL (issue 13's overhead miss).

One Rasa server and one action server (PostgreSQL trackers, Redis locks, as in
`make bench-scale`), and the desk of one or two code trees in turn, each on a new desk
database, under the same modest load: a few citizens with think time, far below what the
machine can carry, so the numbers are the desk's own work and not queueing.

The desk runs with benchmarks/desk_probe.py (SQLAlchemy hooks per request), which reports
per widget message: SQL statements, commits, connection checkouts (each one a `pool_pre_ping`
round trip on PostgreSQL), the event loop's time inside the database calls, the time waiting
for Rasa, and the desk process's CPU time.

Usage:
    python -m benchmarks.desk_overhead                      # this tree
    python -m benchmarks.desk_overhead --before REV         # REV (git archive) and this tree, one run
    python -m benchmarks.desk_overhead --profile build/desk-profile.html
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from baken_core.paths import PROJECT_ROOT
from baken_core.rasa_endpoints import lock_store, tracker_database
from benchmarks import desk as bench
from benchmarks.desk_report import percentile
from benchmarks.desk_stack import TICKS, _cpu_ticks
from stack.processes import DESK_BIN, MODEL, RASA_BIN, free_port, start, stop, wait_until_up
from stack.rasa import RasaServer
from stack.scaled import REDIS_URL

POSTGRES_SERVER = os.environ.get("BAKEN_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
PROBE = Path(__file__).with_name("desk_probe.py")
PROBE_LIBS = os.environ.get("BAKEN_PROBE_LIBS", "")
"""A folder with pyinstrument (pip install --target …) for --profile; not in the locked venv."""
SEND = "POST /api/widget/messages"


@dataclass
class Result:
    label: str
    messages: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    latencies: list[float] = field(default_factory=list)
    paths: dict[str, Any] = field(default_factory=dict)

    def per_message(self, kind: str, path: str = SEND) -> float:
        counts = self.paths.get(path, {}).get("counts", {})
        return float(counts.get(kind, 0.0)) / self.messages if self.messages else float("nan")

    def background(self, kind: str) -> float:
        counts = self.paths.get("background", {}).get("counts", {})
        return float(counts.get(kind, 0.0)) / self.messages if self.messages else float("nan")

    def lines(self) -> list[str]:
        p50 = percentile(self.latencies, 50) * 1000
        p95 = percentile(self.latencies, 95) * 1000
        request_ms = self.per_message("request_s") * 1000
        rasa_ms = self.per_message("rasa_s") * 1000
        db_ms = self.per_message("db_s") * 1000
        out = [
            f"## {self.label}",
            f"- messages: {self.messages} in {self.wall_s:.0f} s ({self.messages / self.wall_s:.2f} msg/s offered)",
            f"- desk CPU: {self.cpu_s / self.messages * 1000:.1f} core-ms per message (whole process, "
            "background jobs included)",
            f"- round trip at the client: p50 {p50:.0f} ms, p95 {p95:.0f} ms",
            f"- per message in the desk: {request_ms:.1f} ms request, of which {rasa_ms:.1f} ms waiting for Rasa "
            f"and {db_ms:.1f} ms in database calls (event loop blocked); rest {request_ms - rasa_ms - db_ms:.1f} ms",
            f"- per message: {self.per_message('statements'):.1f} SQL statements, "
            f"{self.per_message('commits'):.1f} commits, {self.per_message('rollbacks'):.1f} rollbacks, "
            f"{self.per_message('checkouts'):.1f} connection checkouts (pre-ping round trips)",
            f"- background (outside requests) per message: {self.background('statements'):.2f} statements, "
            f"{self.background('checkouts'):.2f} checkouts",
            "",
            "| statements per message | shape |",
            "|---|---|",
        ]
        shapes: Counter[str] = Counter(self.paths.get(SEND, {}).get("shapes", {}))
        for shape, count in shapes.most_common():
            out.append(f"| {count / self.messages:.2f} | `{shape[:140]}` |")
        return out


@contextmanager
def database(name: str) -> Any:
    with psycopg.connect(POSTGRES_SERVER, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"
    finally:
        with psycopg.connect(POSTGRES_SERVER, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def desk(code: Path, database_url: str, rasa_url: str, folder: Path, profile: Path | None) -> Any:
    folder.mkdir(parents=True, exist_ok=True)
    probe_dir = folder / "probe"
    probe_dir.mkdir(exist_ok=True)
    shutil.copy(PROBE, probe_dir / "desk_probe.py")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env.update(
        PYTHONPATH=os.pathsep.join(p for p in (str(code), str(probe_dir), PROBE_LIBS) if p),
        DATABASE_URL=database_url,
        RASA_URL=rasa_url,
        SECRET_KEY=secrets.token_urlsafe(48),
        SECRET_KEY_FILE=str(folder / "secret"),
        ATTACHMENTS_DIR=str(folder / "attachments"),
        SWEEP_INTERVAL_S="30",
    )
    if profile is not None:
        env["BAKEN_PROBE_PROFILE"] = str(profile.with_name(f"{profile.stem}-{folder.name}{profile.suffix}"))
    command = [str(DESK_BIN / "uvicorn"), "--factory", "desk_probe:create_app", "--app-dir", str(code)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]
    proc = start(command, folder / "desk.log", env=env, cwd=code)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(f"{url}/healthz", proc, "desk", folder / "desk.log", 120)
        yield url, proc.pid
    finally:
        stop(proc)


async def load(url: str, citizens: int, scripts: list[list[str]], think: tuple[float, float], seed: int) -> Result:
    rng = random.Random(seed)
    result = Result("")
    todo = list(enumerate(scripts))
    ledger = bench.Ledger()
    async with httpx.AsyncClient(timeout=120) as client:

        async def citizen() -> None:
            while todo:
                index, script = todo.pop(0)
                visitor = bench._visitor(f"probe-{index:03d}")
                for number, text in enumerate(script):
                    started = time.perf_counter()
                    body = await bench.send_citizen(client, url, ledger, visitor, f"m{number}", text)
                    if body is None:
                        raise RuntimeError(f"the desk refused a message: {dict(ledger.errors)}")
                    result.latencies.append(time.perf_counter() - started)
                    result.messages += 1
                    await asyncio.sleep(rng.uniform(*think))

        started = time.perf_counter()
        await asyncio.gather(*(citizen() for _ in range(citizens)))
        result.wall_s = time.perf_counter() - started
    return result


def merge(results: list[Result]) -> Result:
    total = Result(results[0].label)
    for result in results:
        total.messages += result.messages
        total.wall_s += result.wall_s
        total.cpu_s += result.cpu_s
        total.latencies += result.latencies
        for path, tally in result.paths.items():
            into = total.paths.setdefault(path, {"counts": {}, "shapes": {}})
            for part in ("counts", "shapes"):
                for key, value in tally[part].items():
                    into[part][key] = into[part].get(key, 0) + value
    return total


def measure(trees: list[tuple[str, Path]], rasa_url: str, folder: Path, args: argparse.Namespace) -> list[Result]:
    """Every tree's desk runs from the start, each on its own database; the passes alternate
    between them (ABBA…), so a machine that gets busier meanwhile weighs on both alike."""
    texts = bench.load_texts()
    rng = random.Random(args.seed)
    passes: dict[str, list[Result]] = {label: [] for label, _ in trees}
    with ExitStack() as running:
        desks = []
        for label, code in trees:
            name = f"baken_probe_{label.replace('-', '_').replace('^', '_')}_{secrets.token_hex(3)}"
            url = running.enter_context(database(name))
            desk_url, pid = running.enter_context(desk(code, url, rasa_url, folder / label, args.profile))
            asyncio.run(load(desk_url, 2, bench.conversation_scripts(texts, 2, rng), (0.2, 0.4), args.seed))
            desks.append((label, desk_url, pid))
        for round_number in range(args.rounds):
            scripts = bench.conversation_scripts(texts, args.conversations, rng)
            order = desks if round_number % 2 == 0 else list(reversed(desks))
            for label, desk_url, pid in order:
                print(f"  round {round_number + 1}: {label} ...", flush=True)
                httpx.post(f"{desk_url}/__probe/reset", timeout=30)
                ticks = _cpu_ticks(pid)
                think = (args.think_low, args.think_high)
                result = asyncio.run(load(desk_url, args.citizens, scripts, think, args.seed + round_number))
                result.cpu_s = (_cpu_ticks(pid) - ticks) / TICKS
                result.paths = httpx.get(f"{desk_url}/__probe", timeout=30).json()["paths"]
                result.label = label
                passes[label].append(result)
        if args.profile is not None:
            for _label, desk_url, _pid in desks:
                httpx.post(f"{desk_url}/__probe/profile", timeout=120)
    return [merge(passes[label]) for label, _ in trees]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", help="a git revision to measure first (git archive into a temporary folder)")
    parser.add_argument("--citizens", type=int, default=4)
    parser.add_argument("--conversations", type=int, default=10, help="per pass")
    parser.add_argument("--rounds", type=int, default=4, help="passes per tree, alternating")
    parser.add_argument("--think-low", type=float, default=0.5)
    parser.add_argument("--think-high", type=float, default=1.5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--profile", type=Path, help="pyinstrument HTML report of the desk's event loop")
    parser.add_argument("--json", type=Path, default=PROJECT_ROOT / "build" / "desk-overhead.json")
    args = parser.parse_args(argv)
    if not MODEL.exists():
        raise SystemExit("no model: make train")
    with tempfile.TemporaryDirectory(prefix="baken-desk-overhead-") as tmp:
        folder = Path(tmp)
        trees: list[tuple[str, Path]] = []
        if args.before:
            before = folder / "before"
            before.mkdir()
            archive = subprocess.run(["git", "archive", args.before], cwd=PROJECT_ROOT, capture_output=True, check=True)
            subprocess.run(["tar", "-x", "-C", str(before)], input=archive.stdout, check=True)
            trees.append((f"before-{args.before}", before))
        trees.append(("this-tree", PROJECT_ROOT))
        tracker_name = f"baken_probe_rasa_{secrets.token_hex(3)}"
        with database(tracker_name) as tracker_url:
            action_port = free_port()
            actions = start(
                [str(RASA_BIN / "python"), "-m", "rasa_sdk", "--actions", "actions", "--port", str(action_port)],
                folder / "actions.log",
            )
            rasa = RasaServer(
                MODEL,
                folder / "rasa",
                f"http://127.0.0.1:{action_port}/webhook",
                tracker=tracker_database(None, tracker_url).rasa_config(),
                lock_store=lock_store(REDIS_URL),
            )
            try:
                rasa.start()
                wait_until_up(f"http://127.0.0.1:{action_port}/health", actions, "actions", folder / "actions.log")
                results = measure(trees, rasa.url, folder, args)
            finally:
                rasa.kill()
                stop(actions)
    for result in results:
        print("\n".join(result.lines()) + "\n", flush=True)
    args.json.parent.mkdir(exist_ok=True)
    args.json.write_text(json.dumps([r.__dict__ for r in results], indent=1), encoding="utf-8")
    print(f"written: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
