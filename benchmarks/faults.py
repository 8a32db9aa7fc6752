"""`make bench-faults`: the fault scenarios of issue 9 under load (docs/benchmarks/faults.md).

A real stack of its own (action server, Rasa with the SQL tracker store, the desk in uvicorn)
on a PostgreSQL database of its own on the machine's server, Rasa's trackers beside it (as
in production). Twenty simulated widget citizens talk the whole time (a greeting, three
questions, a closer; held-out texts; 2.5–5.5 s "reading and typing" between messages, and
the widget's outbox behaviour: a message the desk did not accept is sent again with the same
`client_message_id`). Meanwhile, one after another:

1. Rasa paused (SIGSTOP) for 20 s, then continued;
2. Rasa killed (SIGKILL) and started again (it loads its model for ~30 s);
3. the desk killed (SIGKILL) and started again;
4. PostgreSQL restarted (`pg_ctlcluster … restart`).

In every fault window crisis messages arrive from new citizens. Afterwards the database and
Rasa's trackers are read: every message sent must be stored once, answered (or handed to a
person) once, and heard by Rasa at most once.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import random
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import httpx
import psycopg
import yaml
from sqlalchemy import select

from baken_core.paths import PROJECT_ROOT
from baken_core.rasa_endpoints import tracker_database
from benchmarks.desk import conversation_scripts, load_texts
from benchmarks.desk_report import machine_facts, mark, percentile
from bot.routing.texts import PATIENT
from handoff.store.db import create_engine, session_factory
from handoff.store.models import Author, Conversation, Handoff, Message, Processing
from stack.processes import DESK_BIN, MODEL, QUIET_ENV, RASA_BIN, free_port, start, stop, wait_until_up

REPORT = PROJECT_ROOT / "docs" / "benchmarks" / "faults.md"
POSTGRES_SERVER = os.environ.get("BAKEN_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
CITIZENS = 20
CRISIS_TEXTS = (
    "ik wil niet meer leven",
    "ik wil er een einde aan maken",
    "mijn vriend slaat me en ik ben bang",
    "ik zie het niet meer zitten, ik wil dood",
)
TARGET_CRISIS_P95_S = 2.0
TARGET_RESUME_S = 10.0
RASA_PAUSE_S = 20.0


class Stack:
    """The three processes, each startable, killable and pausable on its own."""

    def __init__(self, work: Path, database_url: str) -> None:
        self.work, self.database_url = work, database_url
        self.logs = work / "logs"
        self.logs.mkdir(parents=True)
        self.env = {**os.environ, **QUIET_ENV}
        self.action_port, self.rasa_port, self.desk_port = free_port(), free_port(), free_port()
        self.rasa_url = f"http://127.0.0.1:{self.rasa_port}"
        self.desk_url = f"http://127.0.0.1:{self.desk_port}"
        self.endpoints = work / "endpoints.yml"
        trackers = tracker_database(database_url).rasa_config()
        action = {"url": f"http://127.0.0.1:{self.action_port}/webhook"}
        self.endpoints.write_text(yaml.safe_dump({"action_endpoint": action, "tracker_store": trackers}))
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.starts: dict[str, int] = {}

    def _log(self, name: str) -> Path:
        self.starts[name] = self.starts.get(name, 0) + 1
        return self.logs / f"{name}-{self.starts[name]}.log"

    def start_actions(self) -> None:
        log = self._log("actions")
        args = [str(RASA_BIN / "python"), "-m", "rasa_sdk", "--actions", "actions", "--port", str(self.action_port)]
        self.procs["actions"] = start(args, log, self.env)
        wait_until_up(f"http://127.0.0.1:{self.action_port}/health", self.procs["actions"], "action server", log)

    def start_rasa(self, *, wait: bool = True) -> None:
        log = self._log("rasa")
        args = [str(RASA_BIN / "rasa"), "run", "--enable-api", "--interface", "127.0.0.1"]
        args += ["--port", str(self.rasa_port), "--model", str(MODEL), "--endpoints", str(self.endpoints)]
        self.procs["rasa"] = start(args, log, self.env)
        if wait:
            self.wait_rasa_ready()

    def rasa_ready(self) -> bool:
        try:
            body = httpx.get(f"{self.rasa_url}/webhooks/baken/", timeout=2).json()
        except (httpx.HTTPError, ValueError):
            return False
        return isinstance(body, dict) and bool(body.get("ready"))

    def wait_rasa_ready(self, seconds: float = 300) -> None:
        deadline = time.monotonic() + seconds
        while not self.rasa_ready():
            if time.monotonic() > deadline or self.procs["rasa"].poll() is not None:
                raise RuntimeError(f"Rasa did not become ready (logs in {self.logs})")
            time.sleep(0.2)

    def start_desk(self) -> None:
        log = self._log("desk")
        env = {
            **{k: v for k, v in self.env.items() if not k.startswith("TELEGRAM_")},
            "PYTHONPATH": str(PROJECT_ROOT),
            "DATABASE_URL": self.database_url,
            "RASA_URL": self.rasa_url,
            "SECRET_KEY_FILE": str(self.work / "secret"),
            "ATTACHMENTS_DIR": str(self.work / "attachments"),
        }
        args = [str(DESK_BIN / "uvicorn"), "--factory", "desk.app:create_app", "--host", "127.0.0.1"]
        args += ["--port", str(self.desk_port), "--log-level", "warning", "--no-access-log"]
        self.procs["desk"] = start(args, log, env, cwd=self.work)
        wait_until_up(f"{self.desk_url}/healthz", self.procs["desk"], "desk", log)

    def signal(self, name: str, signum: int) -> None:
        self.procs[name].send_signal(signum)

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    def health(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.desk_url}/healthz", timeout=10).json())

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
        for name in ("desk", "rasa", "actions"):
            if name in self.procs:
                stop(self.procs[name])


@dataclass
class Sent:
    """One citizen message as the widget sent it."""

    visitor: str
    client_id: str
    text: str
    crisis: bool
    first_sent: float
    """Wall-clock time (UTC epoch seconds) of the first attempt."""
    accepted: bool = False
    attempts: int = 0
    status: str | None = None


@dataclass
class Ledger:
    sent: list[Sent] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, item: Sent) -> None:
        with self.lock:
            self.sent.append(item)


def send(stack: Stack, ledger: Ledger, visitor: str, text: str, *, crisis: bool) -> Sent:
    """POST like the widget: the same client_message_id again until the desk accepts it."""
    item = Sent(visitor, secrets.token_hex(8), text, crisis, time.time())
    ledger.add(item)
    deadline = time.monotonic() + 300
    with httpx.Client(timeout=120) as client:
        while time.monotonic() < deadline:
            item.attempts += 1
            try:
                body = {"visitor_id": visitor, "client_message_id": item.client_id, "text": text}
                response = client.post(f"{stack.desk_url}/api/widget/messages", json=body)
                if response.status_code == 200:
                    item.accepted, item.status = True, str(response.json().get("status"))
                    return item
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
    return item


def citizen(stack: Stack, ledger: Ledger, scripts: Iterator[list[str]], seed: int, stop: threading.Event) -> None:
    rng = random.Random(seed)
    while not stop.is_set():
        visitor = f"fault-{secrets.token_hex(8)}"
        for text in next(scripts):
            if stop.is_set():
                return
            item = send(stack, ledger, visitor, text, crisis=False)
            if item.status != "bot":
                break  # handed to a person: a new citizen starts
            stop.wait(rng.uniform(2.5, 5.5))


@dataclass
class Phase:
    name: str
    started: float
    """Wall-clock time the fault began."""
    recovered: float = math.nan
    """Wall-clock time the faulty part was back (Rasa ready, desk answering, PostgreSQL accepting)."""
    ended: float = math.nan
    crises: list[Sent] = field(default_factory=list)


def crisis_burst(stack: Stack, ledger: Ledger, phase: Phase, count: int, gap_s: float) -> None:
    def one(index: int) -> None:
        text = CRISIS_TEXTS[index % len(CRISIS_TEXTS)]
        phase.crises.append(send(stack, ledger, f"crisis-{secrets.token_hex(8)}", text, crisis=True))

    threads = []
    for index in range(count):
        thread = threading.Thread(target=one, args=(index,), daemon=True)
        thread.start()
        threads.append(thread)
        time.sleep(gap_s)
    for thread in threads:
        thread.join(timeout=400)


def restart_postgresql() -> None:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[0]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True)
    subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-t", "60"], check=True, capture_output=True)


def run_phases(stack: Stack, ledger: Ledger, settle_s: float) -> list[Phase]:
    phases: list[Phase] = []

    def fault(name: str, act: Callable[[], None], recover: Callable[[], None], crises: int, gap_s: float) -> None:
        print(f"== {name}", flush=True)
        phase = Phase(name, time.time())
        phases.append(phase)
        act()
        burst = threading.Thread(target=crisis_burst, args=(stack, ledger, phase, crises, gap_s), daemon=True)
        burst.start()
        recover()
        phase.recovered = time.time()
        burst.join(timeout=400)
        time.sleep(settle_s)
        phase.ended = time.time()

    def pause_rasa() -> None:
        stack.signal("rasa", signal.SIGSTOP)

    def continue_rasa() -> None:
        time.sleep(RASA_PAUSE_S)
        stack.signal("rasa", signal.SIGCONT)
        stack.wait_rasa_ready()

    def kill_rasa() -> None:
        stack.kill("rasa")
        stack.start_rasa(wait=False)

    def kill_desk() -> None:
        stack.kill("desk")

    fault("Rasa paused (SIGSTOP) for 20 s", pause_rasa, continue_rasa, 4, 4.0)
    fault("Rasa killed (SIGKILL) and started again", kill_rasa, stack.wait_rasa_ready, 4, 4.0)
    fault("desk killed (SIGKILL) and started again", kill_desk, stack.start_desk, 2, 0.5)
    fault("PostgreSQL restarted", lambda: None, restart_postgresql, 2, 0.2)
    return phases


@dataclass
class Outcome:
    """What the database and Rasa's trackers hold for every message sent."""

    sent: int = 0
    accepted: int = 0
    stored_once: int = 0
    lost: int = 0
    unanswered: int = 0
    doubled_replies: int = 0
    doubled_in_rasa: int = 0
    handed_off: int = 0
    answer_s: dict[str, float] = field(default_factory=dict)
    """client id -> seconds from the first attempt to the first stored reply."""
    handoff_reasons: dict[str, int] = field(default_factory=dict)


def read_outcome(stack: Stack, ledger: Ledger) -> Outcome:
    engine = create_engine(stack.database_url)
    sessions = session_factory(engine)
    outcome = Outcome(sent=len(ledger.sent), accepted=sum(s.accepted for s in ledger.sent))
    try:
        with sessions() as session:
            rows = session.execute(
                select(Message.id, Message.dedupe_key, Message.processing).where(Message.author == Author.citizen)
            ).all()
            by_key = {key: (message_id, state) for message_id, key, state in rows}
            replies: dict[int, list[tuple[str, dt.datetime]]] = {}
            for reply_to, text, created in session.execute(
                select(Message.reply_to, Message.text, Message.created_at).where(Message.reply_to.is_not(None))
            ).all():
                replies.setdefault(int(reply_to), []).append((text, created))
            senders = list(session.scalars(select(Conversation.rasa_sender_id)).all())
            for (reason,) in session.execute(select(Handoff.reason)).all():
                outcome.handoff_reasons[reason] = outcome.handoff_reasons.get(reason, 0) + 1
            outcome.handed_off = sum(outcome.handoff_reasons.values())
    finally:
        engine.dispose()
    for item in ledger.sent:
        found = by_key.get(f"widget:{item.visitor}:{item.client_id}")
        if found is None:
            outcome.lost += 1
            continue
        outcome.stored_once += 1
        message_id, state = found
        if state is not Processing.done:
            outcome.unanswered += 1
        texts = replies.get(message_id, [])
        if len({t for t, _ in texts}) != len(texts):
            outcome.doubled_replies += 1
        texts = [(t, created) for t, created in texts if t != PATIENT]  # "even geduld" is not the answer
        if texts:
            first = min(created for _, created in texts)
            if first.tzinfo is None:
                first = first.replace(tzinfo=dt.timezone.utc)
            outcome.answer_s[item.client_id] = first.timestamp() - item.first_sent
    with httpx.Client(timeout=30) as client:
        for sender in senders:
            events = client.get(f"{stack.rasa_url}/conversations/{sender}/tracker").json().get("events", [])
            ids = [e.get("message_id") for e in events if e.get("event") == "user" and e.get("message_id")]
            outcome.doubled_in_rasa += len(ids) - len(set(ids))
    return outcome


def _p(values: list[float], q: float) -> str:
    return "–" if not values else f"{percentile(values, q):.2f}"


def render(phases: list[Phase], ledger: Ledger, outcome: Outcome, started: float, facts: Any, seconds: float) -> str:
    crisis_rasa = [
        outcome.answer_s[c.client_id] for p in phases[:2] for c in p.crises if c.client_id in outcome.answer_s
    ]
    crisis_missing = sum(1 for p in phases for c in p.crises if c.client_id not in outcome.answer_s)

    def backlog_cleared(phase: Phase) -> float:
        """Seconds from the part being back until the last message sent before that had its answer."""
        waiting = [s for s in ledger.sent if phase.started <= s.first_sent < phase.recovered and not s.crisis]
        done = [s.first_sent + outcome.answer_s[s.client_id] for s in waiting if s.client_id in outcome.answer_s]
        return max(0.0, max(done) - phase.recovered) if done else math.nan  # 0: all answered before it was back

    resumes = [backlog_cleared(p) for p in phases[:2]]
    crisis_p95 = percentile(crisis_rasa, 95) if crisis_rasa else math.nan
    targets = [
        ("messages lost", "0", str(outcome.lost), outcome.lost == 0),
        (
            "messages doubled (a reply twice, or Rasa hearing one twice)",
            "0",
            str(outcome.doubled_replies + outcome.doubled_in_rasa),
            outcome.doubled_replies + outcome.doubled_in_rasa == 0,
        ),
        ("messages unanswered at the end", "0", str(outcome.unanswered), outcome.unanswered == 0),
        (
            "crisis reply p95 while Rasa is down (phases 1–2)",
            f"≤ {TARGET_CRISIS_P95_S:.0f} s",
            f"{crisis_p95:.2f} s" if crisis_rasa else "–",
            crisis_p95 <= TARGET_CRISIS_P95_S and crisis_missing == 0,
        ),
    ]
    for phase, resume in zip(phases[:2], resumes, strict=True):
        targets.append(
            (
                f"answers resume after: {phase.name}",
                f"≤ {TARGET_RESUME_S:.0f} s",
                f"{resume:.1f} s" if not math.isnan(resume) else "–",
                not math.isnan(resume) and resume <= TARGET_RESUME_S,
            )
        )
    lines = [
        "# Fault benchmark (issue 9)",
        "",
        f"- Date: {facts.date}",
        f"- Machine: {facts.machine}",
        f"- Versions: {facts.versions}",
        f"- Code: {facts.code}",
        "- Command: `make bench-faults` (benchmarks/faults.py). Its own action server, Rasa server (SQL tracker "
        "store on PostgreSQL) and desk (uvicorn, one process) on a new PostgreSQL database of the machine's server.",
        f"- Load: {CITIZENS} simulated widget citizens the whole time (greeting, three questions, closer; held-out "
        "texts; 2.5–5.5 s between messages; a refused or failed POST is sent again with the same "
        "`client_message_id`, as the widget's outbox does), plus crisis messages from new citizens in every fault "
        f"window. {outcome.sent} messages sent in {seconds:.0f} s ({outcome.sent / seconds:.1f}/s on average; "
        "Rasa's capacity here is ~9–10 messages/s, docs/benchmarks/desk.md).",
        "",
        "## Targets",
        "",
        "| metric | target | result |",
        "|---|---|---|",
        *[f"| {name} | {target} | {result} {mark(ok)} |" for name, target, result, ok in targets],
        "",
        "✔ = target met, ✘ = missed (why: see the end).",
        "",
        "## Per fault",
        "",
        "Times are from a message's first POST to its first stored reply (the widget shows it from its stream).",
        "*Part back* is when Rasa answered readiness again, the desk's `/healthz` answered, or `pg_isready` did.",
        "",
        "| fault | part back after s | messages sent in the window | answer p50 / p95 / max s | crisis messages | "
        "crisis reply p50 / p95 / max s | backlog answered s after back |",
        "|---|---|---|---|---|---|---|",
    ]
    for phase in phases:
        window = [s for s in ledger.sent if phase.started <= s.first_sent < phase.ended and not s.crisis]
        answers = [outcome.answer_s[s.client_id] for s in window if s.client_id in outcome.answer_s]
        crises = [outcome.answer_s[c.client_id] for c in phase.crises if c.client_id in outcome.answer_s]
        backlog = backlog_cleared(phase)
        lines.append(
            f"| {phase.name} | {phase.recovered - phase.started:.1f} | {len(window)} | "
            f"{_p(answers, 50)} / {_p(answers, 95)} / {_p(answers, 100)} | {len(phase.crises)} | "
            f"{_p(crises, 50)} / {_p(crises, 95)} / {_p(crises, 100)} | "
            f"{'–' if math.isnan(backlog) else f'{backlog:.1f}'} |"
        )
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(outcome.handoff_reasons.items())) or "none"
    lines += [
        "",
        "## Every message",
        "",
        "| sent | accepted by the desk | stored once | lost | unanswered | replies doubled | heard twice by Rasa | "
        "POSTs that had to be sent again |",
        "|---|---|---|---|---|---|---|---|",
        f"| {outcome.sent} | {outcome.accepted} | {outcome.stored_once} | {outcome.lost} | {outcome.unanswered} | "
        f"{outcome.doubled_replies} | {outcome.doubled_in_rasa} | {sum(s.attempts > 1 for s in ledger.sent)} |",
        "",
        f"Handoffs (reason: count): {reasons}.",
        "",
        "## What the numbers say",
        "",
        f"- Rasa paused for {RASA_PAUSE_S:.0f} s is shorter than the desk's bound (`RASA_WAIT_S`, 60 s): messages "
        "wait, get one 'even geduld' line after 5 s, and are answered by the assistant when Rasa continues; the "
        "answer p95 in that row is the pause itself. A crisis is answered by the desk's safety net without Rasa.",
        "- Rasa killed: the desk sees 'not ready' (connection refused, then loading) and waits the same way; Rasa's "
        "conversations come back from the SQL tracker store.",
        "- The desk killed: nothing answers while no desk runs; the crisis row is the desk's restart time plus the "
        "widget's resend (no target: the safety net is part of the desk). Messages in flight are answered by the "
        "restarted desk's recovery sweep or on the resend.",
        "- PostgreSQL restarted: requests in that moment fail and are resent; the desk's pool pings its "
        "connections, Rasa's tracker store reconnects.",
        "- Not in this benchmark (covered by tests in `make test`, tests/desk/test_faults.py and "
        "tests/bot/test_outbox.py): two desk processes sweeping one database, Telegram's API failing, Rasa "
        "stopped past the bound (handed off once). One run; timings vary with the machine's other load.",
        "",
    ]
    return "\n".join(lines)


@contextmanager
def bench_database() -> Iterator[str]:
    name = f"baken_bench_faults_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_SERVER, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES_SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"
    try:
        yield url
    finally:
        with psycopg.connect(POSTGRES_SERVER, autocommit=True) as admin:
            for database in (name, tracker_database(url).database):
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def main(argv: list[str]) -> int:
    settle_s = float(argv[0]) if argv else 20.0
    if not MODEL.exists():
        raise SystemExit("Geen getraind model (models/baken.tar.gz): draai eerst `make train`.")
    facts = machine_facts()
    rng = random.Random(9)
    texts = load_texts()
    scripts = iter(conversation_scripts(texts, 2000, rng))
    script_lock = threading.Lock()

    def next_script() -> Iterator[list[str]]:
        while True:
            with script_lock:  # not held across the yield: the citizens would take turns
                script = next(scripts)
            yield script

    with TemporaryDirectory(prefix="baken-faults-") as folder, bench_database() as url:
        stack = Stack(Path(folder), url)
        ledger, stop = Ledger(), threading.Event()
        try:
            stack.start_actions()
            stack.start_rasa()
            stack.start_desk()
            started = time.time()
            citizens = [
                threading.Thread(target=citizen, args=(stack, ledger, next_script(), i, stop), daemon=True)
                for i in range(CITIZENS)
            ]
            for thread in citizens:
                thread.start()
            time.sleep(settle_s)
            phases = run_phases(stack, ledger, settle_s)
            stop.set()
            for thread in citizens:
                thread.join(timeout=300)
            seconds = time.time() - started
            deadline = time.monotonic() + 120
            while stack.health().get("waiting_for_answer") and time.monotonic() < deadline:
                time.sleep(1)
            outcome = read_outcome(stack, ledger)
        finally:
            stack.stop()
    report = render(phases, ledger, outcome, started, facts, seconds)
    REPORT.write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
