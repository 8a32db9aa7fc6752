"""`make bench-scale`: how Baken scales out (issue 13), three topologies in one run.

Each topology is started fresh on a new PostgreSQL database with Redis as Rasa's lock store
(stack/scaled.py, the balancer configuration of `make run-scaled`):

    A  1 desk process, 1 Rasa server, 1 action server
    B  1 desk process, 2 Rasa servers, 2 action servers
    C  2 desk processes, 2 Rasa servers, 2 action servers (the `make run-scaled` topology)

and measured the same way:

1. Throughput. Simulated citizens (default 60) run five-message conversations with think
   time (1-3 s between a reply and the next message), through the balancer; in the same run
   the same conversations go straight to Rasa (each sender to the replica the desk would
   pick), so desk overhead = desk / Rasa at the same load. Passes alternate desk, Rasa, Rasa,
   desk. Messages answered per second, round trip p50/p95, CPU per process kind.
   60 citizens offer more than this machine can answer (saturated: the rate is the
   capacity); then the same passes again at a load the stack carries: as many citizens as
   offer about half the capacity just measured through the desk (`carried_share`), so the
   round trips are the work of one message, not queueing. The overhead target is judged there.
2. Relay across processes. 100 conversations in handoff, each citizen's live stream open on
   desk process 1 while 20 workers reply through desk process 2 (in A and B both are the one
   desk); per reply the time from the worker's POST to its arrival on the stream.
3. Messages lost or doubled: every accepted message and reply found again, exactly once, in
   the history API and in the database.

Usage: python -m benchmarks.scale [--quick] [--out docs/benchmarks/scale.md]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pickle
import random
import secrets
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg

from baken_core.paths import PROJECT_ROOT
from baken_core.rasa_endpoints import tracker_database
from benchmarks import desk as bench
from benchmarks.desk_report import Memory, machine_facts
from benchmarks.desk_stack import CpuMeter, postgres_pids, rss_mib, wait_for_quiet
from benchmarks.scale_report import Pass, TopologyRun, render
from bot.rasa_pool import rendezvous_order
from stack.scaled import ScaledStack, Topology, scaled_stack

POSTGRES_SERVER = os.environ.get("BAKEN_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
TOPOLOGIES = (Topology(1, 1, 1), Topology(1, 2, 2), Topology(2, 2, 2))
REPORT = PROJECT_ROOT / "docs" / "benchmarks" / "scale.md"


RELAY = bench.Plan(handoff_conversations=100, workers=20, relay_rounds=(5.0, 5.0, 20.0, None))


@dataclass(frozen=True)
class Plan:
    citizens: int = 60
    """More than the stack can answer (this is the saturated pass): since the model of
    2026-12-06 Rasa answers a message in half the CPU, and 40 no longer saturated two Rasa servers."""
    think_s: tuple[float, float] = (1.0, 3.0)
    conversations_per_pass: int = 60
    """Per pass; each side gets two passes."""
    warmup_conversations: int = 10
    carried_share: float = 0.5
    """The carried passes offer this share of the capacity measured in the saturated passes."""
    carried_conversations_per_pass: int = 30
    relay: bench.Plan = RELAY

    def note(self) -> str:
        low, high = self.think_s
        rounds = ", ".join("burst" if r is None else f"{r:g}/s" for r in self.relay.relay_rounds)
        return (
            f"saturated: {self.citizens} citizens with {low:g}-{high:g} s think time, 2 × "
            f"{self.conversations_per_pass} conversations of 5 messages per side, {self.warmup_conversations} "
            f"warm-up conversations; carried: as many citizens as offer {self.carried_share:.0%} of the "
            f"saturated rate through the desk, same think time, 2 × {self.carried_conversations_per_pass} "
            f"conversations per side; relay: {self.relay.handoff_conversations} conversations in handoff, "
            f"{self.relay.workers} workers, rounds at {rounds}"
        )

    def carried_citizens(self, capacity: float) -> int:
        """Citizens who offer `carried_share` of `capacity` (messages/s): each sends one message
        per think time plus one unqueued round trip."""
        low, high = self.think_s
        cycle_s = (low + high) / 2 + IDLE_ROUND_TRIP_S
        return max(2, round(self.carried_share * capacity * cycle_s))


IDLE_ROUND_TRIP_S = 0.15
"""A message's round trip through the desk without queueing on this machine (docs/benchmarks/desk.md, N=1)."""


QUICK = Plan(
    citizens=8,
    conversations_per_pass=4,
    warmup_conversations=2,
    carried_conversations_per_pass=3,
    relay=bench.Plan(handoff_conversations=10, workers=2, relay_rounds=(10.0, None)),
)


def meter(stack: ScaledStack) -> CpuMeter:
    return CpuMeter({**stack.pids, "postgres": postgres_pids, "bench": os.getpid()})


# --- 1. throughput with think time ----------------------------------------------------


Send = Callable[[str, int, str], Awaitable[bool | None]]
"""(sender, index in the conversation, text) -> answered by the assistant (True), answered by
the desk without Rasa (None: not timed), or failed (False)."""


async def think_pass(
    send: Send,
    prefix: str,
    scripts: Sequence[list[str]],
    plan: Plan,
    rng: random.Random,
    stack: ScaledStack,
    citizens: int | None = None,
) -> Pass:
    result = Pass(citizens=citizens or plan.citizens)
    todo = list(enumerate(scripts))
    cpu = meter(stack)

    async def citizen() -> None:
        while todo:
            index, script = todo.pop(0)
            sender = bench._visitor(f"{prefix}-{index:03d}")
            for number, text in enumerate(script):
                started = time.perf_counter()
                answered = await send(sender, number, text)
                elapsed = time.perf_counter() - started
                if answered:
                    result.latencies.append(elapsed)
                elif answered is None:
                    result.skipped += 1
                else:
                    result.failed += 1
                await asyncio.sleep(rng.uniform(*plan.think_s))

    started = time.perf_counter()
    await asyncio.gather(*(citizen() for _ in range(result.citizens)))
    result.wall_s = time.perf_counter() - started
    result.cpu = cpu.read()
    return result


@dataclass
class Throughput:
    desk: list[Pass]
    rasa: list[Pass]
    carried_desk: list[Pass]
    carried_rasa: list[Pass]
    path: str


async def throughput(
    stack: ScaledStack, plan: Plan, texts: dict[str, list[str]], ledger: bench.Ledger, rng: random.Random
) -> Throughput:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=100, keepalive_expiry=bench.KEEPALIVE_S)
    async with httpx.AsyncClient(timeout=bench.HTTP_TIMEOUT, limits=limits) as client:
        path = await bench.rasa_channel(client, stack.rasa_urls[0])
        status: dict[str, str] = {}

        async def via_desk(sender: str, number: int, text: str) -> bool | None:
            ledger.bot_visitors.add(sender)
            through_rasa = status.get(sender, "bot") == "bot"
            body = await bench.send_citizen(client, stack.balancer_url, ledger, sender, f"m{number}", text)
            if body is None:
                return False
            status[sender] = str(body["status"])
            return True if through_rasa else None

        async def via_rasa(sender: str, _number: int, text: str) -> bool | None:
            replica = rendezvous_order(sender, stack.rasa_urls)[0]  # where the desk sends it
            ledger.requests += 1
            try:
                response = await client.post(f"{replica}{path}", json={"sender": sender, "message": text})
            except httpx.HTTPError as exc:
                ledger.error(f"POST rasa {path}: {type(exc).__name__}")
                return False
            if response.status_code != 200:
                ledger.error(f"POST rasa {path}: HTTP {response.status_code}")
                return False
            return True

        warmup = bench.conversation_scripts(texts, plan.warmup_conversations, rng)
        await think_pass(via_desk, "scale-warmup-desk", warmup, plan, rng, stack)
        await think_pass(via_rasa, "scale-warmup-rasa", warmup, plan, rng, stack)
        first, second = (bench.conversation_scripts(texts, plan.conversations_per_pass, rng) for _ in range(2))
        desk_a = await think_pass(via_desk, "scale-a-desk", first, plan, rng, stack)
        rasa_a = await think_pass(via_rasa, "scale-a-rasa", first, plan, rng, stack)
        rasa_b = await think_pass(via_rasa, "scale-b-rasa", second, plan, rng, stack)
        desk_b = await think_pass(via_desk, "scale-b-desk", second, plan, rng, stack)
        answered = sum(len(p.latencies) + p.skipped for p in (desk_a, desk_b))
        citizens = plan.carried_citizens(answered / (desk_a.wall_s + desk_b.wall_s))
        print(f"  carried load: {citizens} citizens ...", flush=True)
        third, fourth = (bench.conversation_scripts(texts, plan.carried_conversations_per_pass, rng) for _ in range(2))
        desk_c = await think_pass(via_desk, "scale-c-desk", third, plan, rng, stack, citizens)
        rasa_c = await think_pass(via_rasa, "scale-c-rasa", third, plan, rng, stack, citizens)
        rasa_d = await think_pass(via_rasa, "scale-d-rasa", fourth, plan, rng, stack, citizens)
        desk_d = await think_pass(via_desk, "scale-d-desk", fourth, plan, rng, stack, citizens)
        return Throughput([desk_a, desk_b], [rasa_a, rasa_b], [desk_c, desk_d], [rasa_c, rasa_d], path)


# --- the run ----------------------------------------------------------------------------


async def measure(stack: ScaledStack, plan: Plan, seed: int) -> TopologyRun:
    rng = random.Random(seed)
    texts = bench.load_texts()
    ledger = bench.Ledger()
    started = time.perf_counter()
    print(f"  throughput ({plan.citizens} citizens with think time) ...", flush=True)
    passes = await throughput(stack, plan, texts, ledger, rng)
    first, last = stack.desks[0], stack.desks[-1]
    memory = Memory(idle=sum(rss_mib(d.pid) for d in stack.desks))
    relay_target = bench.DeskTarget(
        citizen_url=first.url,
        worker_url=last.url,
        database_url=stack.database_url,
        secret_key_file=stack.secret_key_file,
        work=stack.folder,
        meter=lambda: meter(stack),
        desk_rss=lambda: sum(rss_mib(d.pid) for d in stack.desks),
    )
    print(f"  relay: streams on {first.url}, workers on {last.url} ...", flush=True)
    relay = await bench.relay_latency(relay_target, plan.relay, ledger, rng, memory)
    print("  checking that nothing was lost or doubled ...", flush=True)
    loss_target = bench.DeskTarget(**{**relay_target.__dict__, "citizen_url": stack.balancer_url})
    loss = await bench.verify(loss_target, ledger)
    return TopologyRun(
        topology=stack.topology,
        rasa_path=passes.path,
        desk=passes.desk,
        rasa=passes.rasa,
        carried_desk=passes.carried_desk,
        carried_rasa=passes.carried_rasa,
        relay=relay,
        loss=loss,
        requests=ledger.requests,
        errors=dict(ledger.errors),
        duration_s=time.perf_counter() - started,
    )


@contextmanager
def bench_database() -> Iterator[str]:
    name = f"baken_bench_scale_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_SERVER, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES_SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"
    tracker = tracker_database(url).database
    with psycopg.connect(POSTGRES_SERVER, autocommit=True) as admin:  # before two Rasa servers race to make it
        admin.execute(f'CREATE DATABASE "{tracker}"')
    try:
        yield url
    finally:
        with psycopg.connect(POSTGRES_SERVER, autocommit=True) as admin:
            for database in (name, tracker):
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def run_topology(topology: Topology, plan: Plan, seed: int) -> TopologyRun:
    with tempfile.TemporaryDirectory(prefix="baken-bench-scale-") as tmp, bench_database() as url:
        started = time.perf_counter()
        with scaled_stack(topology, Path(tmp), url, secrets.token_urlsafe(48)) as stack:
            startup = time.perf_counter() - started
            print(f"  started in {startup:.0f} s", flush=True)
            run = asyncio.run(measure(stack, plan, seed))
            run.startup_s = startup
            return run


def _interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a small run to try the benchmark (no report)")
    parser.add_argument("--out", default=str(REPORT))
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--quiet-wait", type=float, default=180.0, help="seconds to wait for a quiet machine")
    parser.add_argument("--render-again", action="store_true", help="the last run's measurements, rendered again")
    parser.add_argument("--again", choices=("A", "B", "C"), help="measure one topology again, keep the others")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else Plan()
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    facts = machine_facts()
    if args.quiet_wait > 0 and not args.render_again:  # also before --again
        print("checking that the machine is quiet ...", flush=True)
        facts.others_at_start = wait_for_quiet(args.quiet_wait, 0.3)
    saved = PROJECT_ROOT / "build" / "bench-scale-runs.pickle"
    if args.render_again:  # the measurements of the last run, rendered again (after a change to the report)
        runs, facts, note = pickle.loads(saved.read_bytes())
    elif args.again is not None:  # one topology measured again, the others kept from the last run
        runs, facts, note = pickle.loads(saved.read_bytes())
        index = "ABC".index(args.again)
        print(f"{TOPOLOGIES[index].name}: starting again ...", flush=True)
        runs[index] = run_topology(TOPOLOGIES[index], plan, args.seed)
        runs[index].measured_again = machine_facts().date
        saved.write_bytes(pickle.dumps((runs, facts, note)))
    else:
        runs, note = [], plan.note()
        for topology in TOPOLOGIES:
            print(f"{topology.name}: starting ...", flush=True)
            runs.append(run_topology(topology, plan, args.seed))
            print("  " + runs[-1].line(), flush=True)
        saved.parent.mkdir(exist_ok=True)
        saved.write_bytes(pickle.dumps((runs, facts, note)))
    report = render(runs, facts, note)
    print(report)
    if args.quick:
        print("(--quick: report not written)")
        return 0
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report, encoding="utf-8")
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
