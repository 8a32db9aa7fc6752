"""Results of `make bench-scale` and its Markdown report (docs/benchmarks/scale.md)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from benchmarks.desk_report import Facts, LossReport, Relay, mark, merge_cpu, ms, percentile
from benchmarks.desk_stack import CpuUse
from stack.scaled import Topology

TARGET_OVERHEAD_P50 = 1.10
TARGET_RELAY_P95_MS = 50.0
BAKEN = ("desk", "rasa", "actions", "balancer", "postgres")
"""The processes that do Baken's work; `bench` is the load generator, `other` the rest."""
CPU_COLUMNS = (*BAKEN, "bench", "other")
PROJECTED_CORES = (2, 4, 8, 16)
IDLE_RASA_P50_S = 0.110
"""Rasa's p50 for one message at a time on this machine (docs/benchmarks/desk.md, 2026-12-03, N=1)."""


@dataclass
class Pass:
    latencies: list[float] = field(default_factory=list)
    """Round trips of messages the assistant answered (through Rasa)."""
    skipped: int = 0
    """Answered by the desk without Rasa (the conversation had gone to the queue): not timed."""
    failed: int = 0
    wall_s: float = 0.0
    cpu: CpuUse | None = None
    citizens: int = 0


SATURATED, CARRIED = "saturated", "carried"
LOADS = (SATURATED, CARRIED)


@dataclass
class TopologyRun:
    topology: Topology
    rasa_path: str
    desk: list[Pass]
    rasa: list[Pass]
    relay: Relay
    loss: LossReport
    requests: int
    errors: dict[str, int]
    duration_s: float
    startup_s: float = math.nan
    measured_again: str = ""
    """When this topology was measured again after the others (`--again`), with why in the report."""
    carried_desk: list[Pass] = field(default_factory=list)
    carried_rasa: list[Pass] = field(default_factory=list)
    """The same passes at a load the stack carries (about half the saturated rate)."""

    @staticmethod
    def _latencies(passes: Sequence[Pass]) -> list[float]:
        return [value for p in passes for value in p.latencies]

    @staticmethod
    def _rate(passes: Sequence[Pass]) -> float:
        answered = sum(len(p.latencies) + p.skipped for p in passes)
        wall = sum(p.wall_s for p in passes)
        return answered / wall if wall else math.nan

    def side(self, name: str, load: str = SATURATED) -> list[Pass]:
        if load == CARRIED:
            return getattr(self, "carried_desk" if name == "desk" else "carried_rasa", [])
        return self.desk if name == "desk" else self.rasa

    def latencies(self, name: str, load: str = SATURATED) -> list[float]:
        return self._latencies(self.side(name, load))

    def rate(self, name: str, load: str = SATURATED) -> float:
        return self._rate(self.side(name, load))

    def cpu(self, name: str, load: str = SATURATED) -> CpuUse:
        return merge_cpu([p.cpu for p in self.side(name, load)])

    def ratio(self, q: float, load: str = SATURATED) -> float:
        return percentile(self.latencies("desk", load), q) / percentile(self.latencies("rasa", load), q)

    def citizens(self, load: str) -> int:
        passes = self.side("desk", load)
        return passes[0].citizens if passes else 0

    def unqueued_rasa_s(self) -> tuple[float, str]:
        """Rasa's round trip without queueing, and where it comes from: the carried passes'
        p50 straight to Rasa in this run, else the constant of an earlier measurement."""
        if self.measured(CARRIED):
            return percentile(self.latencies("rasa", CARRIED), 50), "its p50 at the carried load in this run"
        return IDLE_RASA_P50_S, "the 110 ms of docs/benchmarks/desk.md, N=1"

    def measured(self, load: str) -> bool:
        return bool(self.latencies("desk", load)) and bool(self.latencies("rasa", load))

    def cpu_ms_per_message(self, name: str = "desk", load: str = SATURATED) -> float:
        """Core-milliseconds of Baken's processes per message answered."""
        use = self.cpu(name, load)
        messages = sum(len(p.latencies) + p.skipped for p in self.side(name, load))
        busy = sum(use.cores.get(kind, 0.0) for kind in BAKEN) * use.seconds
        return busy / messages * 1000 if messages else math.nan

    def desk_cpu_ms(self, load: str = SATURATED) -> float:
        """Core-milliseconds of the desk processes alone per message through the desk."""
        use = self.cpu("desk", load)
        messages = sum(len(p.latencies) + p.skipped for p in self.side("desk", load))
        return use.cores.get("desk", 0.0) * use.seconds / messages * 1000 if messages else math.nan

    def relay_p95_ms(self) -> float:
        target = self.relay.target_round()
        return percentile(target.latencies, 95) * 1000 if target else math.nan

    def lost(self) -> int:
        loss, relay = self.loss, self.relay
        return (
            loss.citizen_missing
            + loss.replies_missing
            + relay.stream_missing
            + loss.db_citizen_missing
            + loss.db_replies_missing
            + loss.unanswered
        )

    def doubled(self) -> int:
        return (
            self.loss.citizen_duplicated
            + self.loss.replies_duplicated
            + self.relay.stream_duplicated
            + self.relay.wrong_stream
        )

    def line(self) -> str:
        return (
            f"{self.rate('desk'):.1f} msg/s through the desk, {self.rate('rasa'):.1f} straight to Rasa; "
            f"p50 ratio {self.ratio(50):.2f}; relay p95 {self.relay_p95_ms():.1f} ms; "
            f"lost {self.lost()}, doubled {self.doubled()}"
        )


def _letter(index: int) -> str:
    return "ABCDEFGH"[index]


def render(runs: Sequence[TopologyRun], facts: Facts, plan_note: str) -> str:
    lines = [
        "# Scale benchmark",
        "",
        f"- Date: {facts.date}",
        f"- Machine: {facts.machine}",
        f"- Versions: {facts.versions}",
        f"- Code: {facts.code}",
        "- Command: `make bench-scale` (benchmarks/scale.py, stack/scaled.py). Each topology is started fresh on "
        "a new PostgreSQL database (this machine's server), with Redis as Rasa's lock store and the balancer "
        "configuration of `make run-scaled` (deploy/haproxy.cfg, HAProxy); the load comes from one more process "
        "(*bench*) over HTTP.",
        f"- Load per topology: {plan_note}.",
        f"- Other processes used {facts.others_at_start:.2f} cores just before the start.",
        "",
        "Topologies:",
        "",
    ]
    for index, run in enumerate(runs):
        again = (
            f"; measured again {run.measured_again}, after the first run's HAProxy health checks timed out under "
            "load and answered 503s (now `timeout check 5s`, unchecked backups)"
            if run.measured_again
            else ""
        )
        lines.append(f"- **{_letter(index)}**: {run.topology.name} (started in {run.startup_s:.0f} s{again})")
    lines += ["", "## Targets", "", "| metric | target | result |", "|---|---|---|"]
    for index, run in enumerate(runs):
        load = CARRIED if run.measured(CARRIED) else SATURATED
        ratio = run.ratio(50, load)
        where = (
            f", carried load ({run.citizens(CARRIED)} citizens, {run.rate('desk', CARRIED):.1f} msg/s)"
            if load == CARRIED
            else ""
        )
        lines.append(
            f"| {_letter(index)}: desk overhead at p50{where} | ≤ {TARGET_OVERHEAD_P50:.2f} × Rasa "
            f"| {ratio:.2f} {mark(ratio <= TARGET_OVERHEAD_P50)} |"
        )
    for index, run in enumerate(runs):
        if run.topology.desks < 2:
            continue
        p95 = run.relay_p95_ms()
        target = run.relay.target_round()
        lines.append(
            f"| {_letter(index)}: relay p95 across desk processes, {run.relay.claimed} live handoffs "
            f"({target.label() if target else '–'}) | ≤ {TARGET_RELAY_P95_MS:.0f} ms "
            f"| {p95:.1f} ms {mark(p95 <= TARGET_RELAY_P95_MS)} |"
        )
    for index, run in enumerate(runs):
        lost, doubled = run.lost(), run.doubled()
        ok = mark(not lost and not doubled)
        lines.append(f"| {_letter(index)}: messages lost / doubled | 0 / 0 | {lost} / {doubled} {ok} |")
    lines += ["", "✔ = target met, ✘ = missed; see *What the numbers say* for the why."]
    if any(run.measured(CARRIED) for run in runs):
        lines += [
            "",
            "The desk-overhead target is judged at the carried load (about half the capacity the saturated "
            "passes measured): there a round trip is one message's work, and desk / Rasa is what the desk adds "
            "to it. At saturation both round trips are mostly waiting in queues on the same 2 cores, so the ratio "
            "compares queue lengths, not the desk's work per message: it is reported in section 1, not judged.",
        ]
    lines += [
        "",
        "## 1. Throughput with think time: through the desk vs. straight to Rasa",
        "",
        "Citizens send a greeting, three benefit or debt questions and thanks or goodbye (texts from "
        "`data/evaluation/heldout.jsonl`, no crisis, no request for a person), each message after the previous "
        "answer plus the think time. *Desk* is the widget API through the balancer; *Rasa* is the same "
        "conversations sent straight to the Rasa server the desk would pick for that sender (the same hash), "
        f"on `{runs[0].rasa_path if runs else '?'}`. msg/s = messages answered per second of the passes' wall "
        "time; the offered load is at most citizens / mean think time, so when the round trip grows, the "
        "stack is saturated and msg/s is its capacity. *Saturated*: more citizens than the stack can answer; "
        "*carried*: as many citizens as offer about half the rate the saturated passes measured through the desk.",
        "",
        "| topology | load | citizens | side | messages | failed | msg/s | p50 ms | p95 ms | p99 ms "
        "| core-ms per message |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    loads = [load for load in LOADS if any(run.measured(load) for run in runs)]
    for load in loads:
        for index, run in enumerate(runs):
            for side in ("desk", "rasa"):
                values = run.latencies(side, load)
                failed = sum(p.failed for p in run.side(side, load))
                citizens = run.citizens(load) or "–"
                lines.append(
                    f"| {_letter(index)} | {load} | {citizens} | {'desk' if side == 'desk' else 'Rasa'} "
                    f"| {len(values)} | {failed} | {run.rate(side, load):.1f} | {ms(percentile(values, 50))} "
                    f"| {ms(percentile(values, 95))} | {ms(percentile(values, 99))} "
                    f"| {run.cpu_ms_per_message(side, load):.0f} |"
                )
    lines += [
        "",
        "Desk overhead (desk / Rasa round trip, same conversations, same load) at both loads; *desk core-ms* "
        "is the desk processes' own CPU per message through the desk:",
        "",
        "| topology | load | msg/s through the desk | desk p50 ms | Rasa p50 ms | p50 ratio | p95 ratio "
        "| desk core-ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for load in loads:
        for index, run in enumerate(runs):
            lines.append(
                f"| {_letter(index)} | {load} | {run.rate('desk', load):.1f} "
                f"| {ms(percentile(run.latencies('desk', load), 50))} "
                f"| {ms(percentile(run.latencies('rasa', load), 50))} | {run.ratio(50, load):.2f} "
                f"| {run.ratio(95, load):.2f} | {run.desk_cpu_ms(load):.0f} |"
            )
    lines += [
        "",
        "Where the CPU went (average cores busy while that side ran; the machine has "
        f"{facts.machine.split(' ', 1)[0]} cores):",
        "",
        "| topology | load | side | " + " | ".join(CPU_COLUMNS) + " |",
        "|---|---|---|" + "---|" * len(CPU_COLUMNS),
    ]
    for load in loads:
        for index, run in enumerate(runs):
            for side in ("desk", "rasa"):
                use = run.cpu(side, load)
                cells = " | ".join(f"{use.cores.get(name, 0.0):.2f}" for name in CPU_COLUMNS)
                lines.append(f"| {_letter(index)} | {load} | {'desk' if side == 'desk' else 'Rasa'} | {cells} |")
    lines += [
        "",
        "## 2. Relay: a worker's reply to the citizen's live stream",
        "",
        "Conversations handed off and claimed by workers; every citizen has the widget's live stream open on desk "
        "process 1 and every worker replies through the last desk process (in topologies with one desk process "
        "that is the same process; with two, each reply crosses from one process to the other through "
        "PostgreSQL LISTEN/NOTIFY). Per reply: from just before the worker's POST until it arrives on the stream.",
        "",
        "| topology | rate | replies | p50 ms | p95 ms | max ms | not arrived in 10 s |",
        "|---|---|---|---|---|---|---|",
    ]
    for index, run in enumerate(runs):
        for relay_round in run.relay.rounds.values():
            values = relay_round.latencies
            lines.append(
                f"| {_letter(index)} | {relay_round.label()} | {len(values)} | {ms(percentile(values, 50))} "
                f"| {ms(percentile(values, 95))} | {ms(max(values) if values else math.nan)} "
                f"| {relay_round.timed_out} |"
            )
    lines += [
        "",
        "## 3. Nothing lost, nothing doubled",
        "",
        "| topology | citizen messages accepted | worker replies accepted | lost | doubled | unanswered "
        "| HTTP errors | requests |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for index, run in enumerate(runs):
        errors = sum(run.errors.values())
        lines.append(
            f"| {_letter(index)} | {run.loss.citizen_sent} | {run.loss.replies_sent} | {run.lost()} | {run.doubled()} "
            f"| {run.loss.unanswered} | {errors} | {run.requests} |"
        )
    kinds = {f"{_letter(i)}: {k}": v for i, r in enumerate(runs) for k, v in r.errors.items()}
    if kinds:
        lines += [
            "",
            "HTTP errors: " + ", ".join(f"{k} × {v}" for k, v in kinds.items()) + ". A 409 from Rasa is its "
            "answer for a conversation that is paused after a handoff (baken_nlu/channel.py); through the desk "
            "those messages go to the queue instead (not timed)."
            + (
                " A 503 on the widget API comes from the balancer (no desk marked up), not from the desk; the "
                "widget resends those."
                if any("HTTP 503" in k for k in kinds)
                else ""
            ),
        ]
    lines += ["", *projection(runs, facts), "", *reading(runs), ""]
    return "\n".join(lines)


def projection(runs: Sequence[TopologyRun], facts: Facts) -> list[str]:
    """What N cores would give, from the CPU each message costs (the scaled topology)."""
    scaled = next((r for r in reversed(runs) if r.topology.desks > 1), runs[-1] if runs else None)
    if scaled is None:
        return []
    cost = scaled.cpu_ms_per_message()
    cores_here = float(facts.machine.split(" ", 1)[0]) if facts.machine[:1].isdigit() else 2.0
    measured = scaled.rate("desk")
    unqueued, source = scaled.unqueued_rasa_s()
    queued = percentile(scaled.latencies("rasa"), 50) / unqueued
    saturated = queued >= 3
    first = runs[0]
    one_rasa = first.cpu("rasa").cores.get("rasa", 0.0) if first.topology.rasas == 1 else math.nan
    lines = [
        "## Projection to more cores",
        "",
        f"In the scaled topology each answered message cost {cost:.0f} core-milliseconds of Baken's processes "
        f"(desk, Rasa, action servers, HAProxy, PostgreSQL), so one core can answer at most "
        f"{1000 / cost:.1f} messages/s. Measured on these {cores_here:g} cores: {measured:.1f} messages/s "
        f"through the desk, with Rasa's own p50 round trip at {queued:.1f} × its unqueued round trip "
        f"({ms(unqueued)} ms, {source}): "
        + (
            "messages queued, so the stack ran at its capacity and the measured rate is that capacity."
            if saturated
            else "little queueing, so the measured rate is the offered load, not the capacity."
        ),
        "",
        "Assuming one Rasa server per core (a Rasa server is one Python process: in A, saturated, the one "
        f"Rasa process used {one_rasa:.2f} cores), enough desk processes, a PostgreSQL server that is not the "
        "bottleneck and the load generator elsewhere:",
        "",
        "| cores | CPU bound, messages/s | linear from the measured capacity, messages/s |",
        "|---|---|---|",
    ]
    for cores in PROJECTED_CORES:
        linear = f"{measured * cores / cores_here:.0f}" if saturated else "–"
        lines.append(f"| {cores} | {cores * 1000 / cost:.0f} | {linear} |")
    lines += ["", "This is arithmetic on one measurement on this machine, not a measurement on N cores."]
    return lines


def reading(runs: Sequence[TopologyRun]) -> list[str]:
    """What the numbers say, from the numbers."""
    if not runs:
        return []
    base = runs[0]
    lines = ["## What the numbers say", ""]
    for index, run in enumerate(runs[1:], start=1):
        change = run.rate("desk") / base.rate("desk") if base.rate("desk") else math.nan
        use = run.cpu("desk")
        lines.append(
            f"- {_letter(index)} vs. A: {change:.2f} × the messages per second through the desk; Baken's "
            f"processes kept {sum(use.cores.get(k, 0.0) for k in BAKEN):.2f} cores busy "
            f"(A: {sum(base.cpu('desk').cores.get(k, 0.0) for k in BAKEN):.2f}), the load generator "
            f"{use.cores.get('bench', 0.0):.2f}."
        )
    for index, run in enumerate(runs):
        lines += _overhead_reading(_letter(index), run)
    return lines


DESK_WORK = (
    "What the desk does in that time: HAProxy, storing the message before Rasa and the replies after it "
    "(PostgreSQL), the crisis net, and choosing the Rasa server; its database calls are synchronous on the "
    "desk process's event loop (per message 4 connections and about 17 statements: docs/benchmarks/desk-overhead.md)."
)


def _overhead_reading(letter: str, run: TopologyRun) -> list[str]:
    """The desk overhead at each load: judged at the carried load, explained at saturation."""
    lines = []
    judged = CARRIED if run.measured(CARRIED) else SATURATED
    for load in LOADS:
        if not run.measured(load):
            continue
        ratio = run.ratio(50, load)
        desk_p50, rasa_p50 = (percentile(run.latencies(side, load), 50) for side in ("desk", "rasa"))
        gap = desk_p50 - rasa_p50
        where = (
            f"{ms(gap)} ms on top of Rasa's {ms(rasa_p50)} ms"
            if gap >= 0
            else f"{ms(-gap)} ms below Rasa's {ms(rasa_p50)} ms (the two sides ran apart, each with its own queue)"
        )
        head = (
            f"- {letter}, {load} ({run.citizens(load)} citizens, {run.rate('desk', load):.1f} msg/s): the desk "
            f"comes to {ratio:.2f} × Rasa's p50: {where}; "
            f"the desk processes used {run.desk_cpu_ms(load):.0f} core-ms per message."
        )
        if load == judged:
            if ratio <= TARGET_OVERHEAD_P50:
                lines.append(f"{head} Target met.")
            else:
                alone = (rasa_p50 + run.desk_cpu_ms(load) / 1000) / rasa_p50
                lines.append(
                    f"{head} Missed (target {TARGET_OVERHEAD_P50:.2f}): the desk's CPU per message alone, done "
                    f"before and after Rasa's {ms(rasa_p50)} ms, makes {alone:.2f} ×; the rest is the hop "
                    f"through HAProxy and waiting for PostgreSQL. {DESK_WORK}"
                )
            continue
        unqueued, source = run.unqueued_rasa_s()
        queued = rasa_p50 / unqueued
        busy = sum(run.cpu("desk", load).cores.get(k, 0.0) for k in BAKEN)
        if queued < 3:
            note = f"Rasa's own p50 is {queued:.1f} × its unqueued round trip ({source}): this pass did not saturate."
            lines.append(f"{head} {note}")
            continue
        waiting = (
            f"{head} Not judged: Rasa's own p50 is {queued:.1f} × its unqueued round trip and Baken's processes "
            f"kept {busy:.2f} cores busy, so both sides mostly wait."
        )
        if run.measured(CARRIED) and ratio <= run.ratio(50, CARRIED):
            lines.append(
                f"{waiting} The ratio is lower than at the carried load: the desk adds about the same milliseconds, "
                "and the queue in front of Rasa, which both sides wait in, makes them a smaller share."
            )
            continue
        lines.append(
            f"{waiting} The desk's wait grows faster than Rasa's: every database round trip it makes waits for a "
            "PostgreSQL backend to get a core, and while it waits no other request in that desk process moves "
            "(the calls block its event loop), so on a machine saturated by Rasa the desk's own queue grows too."
        )
    return lines
