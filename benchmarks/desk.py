"""`make bench-desk`: the desk under load, with simulated citizens and workers on the real stack.

Starts its own action server, Rasa server and desk (SQLite in a temporary folder, free
ports), then measures, and writes docs/benchmarks/desk.md (with date and machine):

1. Bot round trip. N simulated citizens (N = 1, 10, 50) each run conversations of five
   messages one after another, without think time (closed loop: N messages are always in
   flight). Per message the time from the widget POST to its response, which carries the
   assistant's replies. In the same run, level by level, the same conversations go straight
   to Rasa's REST webhook with the same concurrency; the passes alternate desk, Rasa, Rasa,
   desk so that drift on the machine falls on both sides. Overhead = desk / Rasa.
2. Relay latency. 100 widget conversations go to the worker queue and are claimed by 20
   workers (5 each, the default limit); every citizen has the widget's live stream (SSE)
   open. Workers then reply, in rounds paced at a given rate and in one burst; per reply the
   time from just before the worker's POST until the reply arrives on that citizen's stream.
   Citizens answer each reply.
3. Messages lost: every citizen message and every worker reply is looked up afterwards in
   the history API and in the database, and every reply must have arrived exactly once on
   the right stream.

Usage: python -m benchmarks.desk [--quick] [--out docs/benchmarks/desk.md]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy
import yaml

from baken_core.paths import PROJECT_ROOT
from baken_core.triage import assess, crisis_signals
from benchmarks.desk_report import (
    BotLevel,
    LossReport,
    Memory,
    Relay,
    RelayRound,
    Run,
    machine_facts,
    merge_cpu,
    render,
)
from benchmarks.desk_stack import CpuMeter, CpuUse, Stack, cpu_meter, rss_mib, running_stack, wait_for_quiet
from handoff.store.db import create_engine

HELDOUT = PROJECT_ROOT / "data" / "evaluation" / "heldout.jsonl"
# Questions about benefits and debts that the assistant answers itself; crisis and
# "I want a person" stay out, so the conversations stay with the bot.
QUESTION_INTENTS = frozenset(
    {
        "ask_bijstand",
        "ask_toeslag_terugbetalen",
        "ask_schuldhulpverlening",
        "ask_deurwaarder",
        "ask_huurtoeslag",
        "ask_betalingsregeling",
        "ask_beslag",
        "ask_zorgtoeslag",
        "ask_inkomenstoeslag",
        "ask_kwijtschelding",
        "ask_voedselbank",
        "ask_energie_hulp",
        "ask_budgetbeheer_bewind",
        "ask_kinderopvangtoeslag",
        "ask_kindgebonden_budget",
        "ask_bijzondere_bijstand",
    }
)
HANDOFF_TEXT = "ik wil met een medewerker praten"
WORKER_PASSWORD = "bench-wachtwoord-2026"
MARKER = re.compile(r"\(ref (r\d+-c\d+)\)")
HTTP_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
KEEPALIVE_S = 2.0
"""Idle connections are dropped before uvicorn's 5 s keep-alive timeout closes them, as a
browser does; otherwise a POST can race the server's close and fail with ReadError."""


@dataclass(frozen=True)
class Plan:
    """How much load; `--quick` is for trying the benchmark itself, not for the report."""

    levels: tuple[int, ...] = (1, 10, 50)
    conversations_per_pass: tuple[int, ...] = (10, 20, 50)
    """Per level and pass (each side gets two passes)."""
    warmup_conversations: int = 10
    handoff_conversations: int = 100
    workers: int = 20
    relay_rounds: tuple[float | None, ...] = (5.0, 5.0, 5.0, 20.0, 20.0, None)
    """One reply to every conversation per round, at this many replies per second over all
    workers; None = all at the same moment. The first rate is the one the target is for."""


QUICK = Plan(
    levels=(1, 10),
    conversations_per_pass=(2, 10),
    warmup_conversations=4,
    handoff_conversations=20,
    workers=4,
    relay_rounds=(10.0, 20.0, None),
)


# --- the citizens' messages ------------------------------------------------------------


def load_texts() -> dict[str, list[str]]:
    """Held-out citizen messages by role in a conversation: opener, question, closer."""
    groups: dict[str, list[str]] = {"opener": [], "question": [], "closer": []}
    for line in HELDOUT.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        text, intent = str(item["text"]), str(item["intent"])
        if item.get("urgency") != "normal" or crisis_signals(text) or assess(text).urgency != "normal":
            continue  # the desk's safety net would queue it: not a bot conversation
        if intent == "greet":
            groups["opener"].append(text)
        elif intent in QUESTION_INTENTS:
            groups["question"].append(text)
        elif intent in ("thank", "goodbye"):
            groups["closer"].append(text)
    return groups


def conversation_scripts(texts: dict[str, list[str]], count: int, rng: random.Random) -> list[list[str]]:
    """`count` conversations: a greeting, three questions, thanks or goodbye."""
    return [
        [rng.choice(texts["opener"]), *rng.sample(texts["question"], 3), rng.choice(texts["closer"])]
        for _ in range(count)
    ]


# --- bookkeeping ------------------------------------------------------------------------


@dataclass
class Ledger:
    """Everything sent that must be found again, and every unexpected answer."""

    citizen_sent: dict[str, list[str]] = field(default_factory=dict)
    """visitor id -> client_message_ids the desk accepted (200)."""
    bot_visitors: set[str] = field(default_factory=set)
    replies_sent: dict[str, str] = field(default_factory=dict)
    """marker -> visitor id, for worker replies the desk accepted (201)."""
    errors: Counter[str] = field(default_factory=Counter)
    requests: int = 0

    def error(self, what: str) -> None:
        self.errors[what] += 1


def _visitor(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(8)}"  # at least 16 characters, as the widget API wants


async def send_citizen(
    client: httpx.AsyncClient, desk: str, ledger: Ledger, visitor: str, client_id: str, text: str
) -> dict[str, Any] | None:
    ledger.requests += 1
    try:
        response = await client.post(
            f"{desk}/api/widget/messages",
            json={"visitor_id": visitor, "client_message_id": client_id, "text": text, "source": "bench"},
        )
    except httpx.HTTPError as exc:
        ledger.error(f"POST /api/widget/messages: {type(exc).__name__}")
        return None
    if response.status_code != 200:
        ledger.error(f"POST /api/widget/messages: HTTP {response.status_code}")
        return None
    ledger.citizen_sent.setdefault(visitor, []).append(client_id)
    body: dict[str, Any] = response.json()
    return body


# --- 1. bot round trip ------------------------------------------------------------------


@dataclass
class PassResult:
    latencies: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    skipped: int = 0
    """Desk messages not timed because the conversation had already left the bot."""
    handed_off: int = 0
    cpu: CpuUse | None = None


async def desk_conversation(
    client: httpx.AsyncClient, desk: str, ledger: Ledger, visitor: str, script: Sequence[str], result: PassResult
) -> None:
    ledger.bot_visitors.add(visitor)
    status = "bot"
    for index, text in enumerate(script):
        via_rasa = status == "bot"
        started = time.perf_counter()
        body = await send_citizen(client, desk, ledger, visitor, f"m{index}", text)
        elapsed = time.perf_counter() - started
        if body is None:
            continue
        if via_rasa:
            result.latencies.append(elapsed)
        else:
            result.skipped += 1
        if status == "bot" and body["status"] != "bot":
            result.handed_off += 1
        status = body["status"]


RASA_CHANNELS = ("/webhooks/baken/webhook", "/webhooks/rest/webhook")
"""Rasa's input channels the desk may use, in the desk's order of preference: the `baken`
channel (REST plus the parse, baken_nlu/channel.py) when credentials.yml has it, else REST."""


async def rasa_channel(client: httpx.AsyncClient, rasa: str) -> str:
    """The webhook the desk talks to, so that both sides ask Rasa for the same work."""
    for path in RASA_CHANNELS:
        response = await client.post(f"{rasa}{path}", json={"sender": _visitor("bench-probe"), "message": "hallo"})
        if response.status_code == 200:
            return path
    raise RuntimeError(f"Rasa answers on none of {RASA_CHANNELS}")


async def rasa_conversation(
    client: httpx.AsyncClient,
    rasa: str,
    path: str,
    ledger: Ledger,
    sender: str,
    script: Sequence[str],
    result: PassResult,
) -> None:
    for text in script:
        started = time.perf_counter()
        ledger.requests += 1
        try:
            response = await client.post(f"{rasa}{path}", json={"sender": sender, "message": text})
        except httpx.HTTPError as exc:
            ledger.error(f"POST rasa {path}: {type(exc).__name__}")
            continue
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            ledger.error(f"POST rasa {path}: HTTP {response.status_code}")
            continue
        result.latencies.append(elapsed)


Conversation = Callable[[str, Sequence[str], PassResult], Awaitable[None]]


async def run_pass(
    conversation: Conversation, prefix: str, scripts: Sequence[list[str]], concurrency: int, stack: Stack
) -> PassResult:
    """`concurrency` citizens, each taking the next conversation when theirs is done."""
    result = PassResult()
    meter = cpu_meter(stack)
    todo = list(enumerate(scripts))

    async def citizen() -> None:
        while todo:
            index, script = todo.pop(0)
            await conversation(_visitor(f"{prefix}-{index:03d}"), script, result)

    started = time.perf_counter()
    await asyncio.gather(*(citizen() for _ in range(concurrency)))
    result.wall_s = time.perf_counter() - started
    result.cpu = meter.read()
    return result


async def bot_round_trip(
    stack: Stack, plan: Plan, texts: dict[str, list[str]], ledger: Ledger, rng: random.Random
) -> list[BotLevel]:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=100, keepalive_expiry=KEEPALIVE_S)
    async with (
        httpx.AsyncClient(timeout=HTTP_TIMEOUT, limits=limits) as desk_client,
        httpx.AsyncClient(timeout=HTTP_TIMEOUT, limits=limits) as rasa_client,
    ):

        async def via_desk(visitor: str, script: Sequence[str], result: PassResult) -> None:
            await desk_conversation(desk_client, stack.desk_url, ledger, visitor, script, result)

        path = await rasa_channel(rasa_client, stack.rasa_url)

        async def via_rasa(sender: str, script: Sequence[str], result: PassResult) -> None:
            await rasa_conversation(rasa_client, stack.rasa_url, path, ledger, sender, script, result)

        print(f"warming up ({plan.warmup_conversations} conversations per side) ...", flush=True)
        warmup = conversation_scripts(texts, plan.warmup_conversations, rng)
        await run_pass(via_desk, "bench-warmup-desk", warmup, 5, stack)
        await run_pass(via_rasa, "bench-warmup-rasa", warmup, 5, stack)

        levels: list[BotLevel] = []
        for level, per_pass in zip(plan.levels, plan.conversations_per_pass, strict=True):
            first, second = (conversation_scripts(texts, per_pass, rng) for _ in range(2))
            desk_a = await run_pass(via_desk, f"bench-n{level}-a-desk", first, level, stack)
            rasa_a = await run_pass(via_rasa, f"bench-n{level}-a-rasa", first, level, stack)
            rasa_b = await run_pass(via_rasa, f"bench-n{level}-b-rasa", second, level, stack)
            desk_b = await run_pass(via_desk, f"bench-n{level}-b-desk", second, level, stack)
            result = BotLevel(
                concurrency=level,
                rasa_path=path,
                conversations=2 * per_pass,
                desk=desk_a.latencies + desk_b.latencies,
                rasa=rasa_a.latencies + rasa_b.latencies,
                desk_wall_s=desk_a.wall_s + desk_b.wall_s,
                rasa_wall_s=rasa_a.wall_s + rasa_b.wall_s,
                skipped=desk_a.skipped + desk_b.skipped,
                handed_off=desk_a.handed_off + desk_b.handed_off,
                desk_cpu=merge_cpu([desk_a.cpu, desk_b.cpu]),
                rasa_cpu=merge_cpu([rasa_a.cpu, rasa_b.cpu]),
            )
            print("  " + result.line(), flush=True)
            levels.append(result)
        return levels


# --- 2. relay latency -------------------------------------------------------------------


@dataclass
class WorkerSession:
    name: str
    client: httpx.AsyncClient
    csrf: str
    conversations: list[int] = field(default_factory=list)


@dataclass
class StreamLog:
    """What one citizen's live stream delivered."""

    visitor: str
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    message_ids: Counter[int] = field(default_factory=Counter)
    markers: Counter[str] = field(default_factory=Counter)
    error: str | None = None


@dataclass
class DeskTarget:
    """Where the relay and the loss check talk to the desk: citizens' streams and workers'
    replies may go to different desk processes (benchmarks/scale.py)."""

    citizen_url: str
    worker_url: str
    database_url: str
    secret_key_file: Path
    work: Path
    """A folder outside the project (its .env is not read there)."""
    meter: Callable[[], CpuMeter]
    desk_rss: Callable[[], float]

    @classmethod
    def of(cls, stack: Stack) -> DeskTarget:
        return cls(
            stack.desk_url,
            stack.desk_url,
            stack.database_url,
            stack.secret_key_file,
            stack.logs.parent,
            lambda: cpu_meter(stack),
            lambda: rss_mib(stack.desk_pid),
        )


async def create_workers(target: DeskTarget, names: Sequence[str]) -> None:
    """Through `scripts/desk create-user`, as an administrator would (four at a time)."""
    env = {**os.environ, "DATABASE_URL": target.database_url, "SECRET_KEY_FILE": str(target.secret_key_file)}
    gate = asyncio.Semaphore(4)

    async def create(name: str) -> None:
        async with gate:
            proc = await asyncio.create_subprocess_exec(
                str(PROJECT_ROOT / "scripts" / "desk"),
                "create-user",
                "--role",
                "worker",
                "--name",
                name,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env=env,
                cwd=target.work,  # not the project: its .env is not read
            )
            out, _ = await proc.communicate(f"{WORKER_PASSWORD}\n".encode())
            if proc.returncode != 0:
                raise RuntimeError(f"create-user {name} failed: {out.decode(errors='replace')}")

    await asyncio.gather(*(create(name) for name in names))


async def login(desk: str, name: str) -> WorkerSession:
    client = httpx.AsyncClient(base_url=desk, timeout=HTTP_TIMEOUT, limits=httpx.Limits(keepalive_expiry=KEEPALIVE_S))
    response = await client.post("/api/auth/login", json={"name": name, "password": WORKER_PASSWORD})
    response.raise_for_status()
    return WorkerSession(name, client, str(response.json()["csrf_token"]))


def query(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    """Read the desk's database directly (SQLite or PostgreSQL), to check what the API says."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as db:
            return [tuple(row) for row in db.execute(sqlalchemy.text(sql)).all()]
    finally:
        engine.dispose()


def conversation_owners(database_url: str) -> dict[int, str]:
    """conversation id -> widget visitor id (the inbox shows ids and summaries, not visitors)."""
    rows = query(
        database_url,
        "SELECT conversations.id, citizens.external_id FROM conversations "
        "JOIN citizens ON citizens.id = conversations.citizen_id",
    )
    return {int(conversation_id): str(visitor) for conversation_id, visitor in rows}


async def read_stream(client: httpx.AsyncClient, desk: str, log: StreamLog, after: int, arrived: ArrivalBook) -> None:
    """Follow one citizen's stream until cancelled; note every message and when replies arrive."""
    try:
        ticket = await client.post(f"{desk}/api/widget/stream-ticket", headers={"X-Baken-Visitor": log.visitor})
        if ticket.status_code != 200:
            log.error = f"stream ticket: HTTP {ticket.status_code}"
            log.ready.set()
            return
        params: dict[str, str | int] = {"ticket": ticket.json()["ticket"], "after": after}
        async with client.stream("GET", f"{desk}/api/widget/stream", params=params) as response:
            if response.status_code != 200:
                log.error = f"HTTP {response.status_code}"
                log.ready.set()
                return
            kind, data = "", ""
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:"):
                    data += line[5:].strip()
                elif line == "":
                    if kind == "status":
                        log.ready.set()
                    elif kind == "message" and data:
                        arrived.message(log, json.loads(data))
                    kind, data = "", ""
    except asyncio.CancelledError:
        raise
    except httpx.HTTPError as exc:
        log.error = type(exc).__name__
        log.ready.set()


class ArrivalBook:
    """Pairs each worker reply with the moment it arrived on a citizen's stream."""

    def __init__(self) -> None:
        self.waiting: dict[str, asyncio.Future[float]] = {}
        self.owner: dict[str, str] = {}
        self.wrong_stream = 0
        self.on_reply: Callable[[str], None] | None = None

    def expect(self, marker: str, visitor: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[marker], self.owner[marker] = future, visitor
        return future

    def message(self, log: StreamLog, message: dict[str, Any]) -> None:
        now = time.perf_counter()
        log.message_ids[int(message["id"])] += 1
        if message.get("author") != "worker":
            return
        found = MARKER.search(str(message.get("text", "")))
        if found is None:
            return
        marker = found.group(1)
        log.markers[marker] += 1
        if self.owner.get(marker) != log.visitor:
            self.wrong_stream += 1
            return
        future = self.waiting.get(marker)
        if future is not None and not future.done():
            future.set_result(now)
            if self.on_reply is not None:
                self.on_reply(log.visitor)


def worker_texts() -> list[str]:
    raw = yaml.safe_load((PROJECT_ROOT / "data" / "canned_replies.yml").read_text(encoding="utf-8"))
    return [" ".join(str(item["text"]).split()) for item in raw["replies"]]


async def relay_latency(target: DeskTarget, plan: Plan, ledger: Ledger, rng: random.Random, memory: Memory) -> Relay:
    desk = target.citizen_url
    count = plan.handoff_conversations
    limits = httpx.Limits(
        max_connections=count + 50, max_keepalive_connections=count + 50, keepalive_expiry=KEEPALIVE_S
    )
    relay = Relay(conversations=count, workers=plan.workers)
    async with (
        httpx.AsyncClient(timeout=HTTP_TIMEOUT, limits=limits) as citizens,
        httpx.AsyncClient(timeout=httpx.Timeout(None, connect=10.0), limits=limits) as streams,
    ):
        # Citizens ask for a person; the assistant hands off and the conversation waits.
        print(f"queueing {count} conversations ...", flush=True)
        visitors = [_visitor(f"bench-handoff-{i:03d}") for i in range(count)]
        gate = asyncio.Semaphore(10)
        statuses: dict[str, str] = {}

        async def ask_for_person(visitor: str) -> None:
            async with gate:
                await send_citizen(citizens, desk, ledger, visitor, "h0", "hallo")
                body = await send_citizen(citizens, desk, ledger, visitor, "h1", HANDOFF_TEXT)
                statuses[visitor] = body["status"] if body else "error"

        await asyncio.gather(*(ask_for_person(v) for v in visitors))
        relay.not_queued = sum(1 for v in visitors if statuses.get(v) != "queued")

        names = [f"bench-medewerker-{i:02d}" for i in range(plan.workers)]
        await create_workers(target, names)
        workers = [await login(target.worker_url, name) for name in names]
        owners = conversation_owners(target.database_url)
        wanted = set(visitors)
        inbox = (await workers[0].client.get("/api/inbox")).json()
        queued = [item["conversation_id"] for item in inbox["waiting"] if owners.get(item["conversation_id"]) in wanted]

        async def claim_all(worker: WorkerSession, conversation_ids: Sequence[int]) -> None:
            for conversation_id in conversation_ids:
                response = await worker.client.post(
                    f"/api/inbox/conversations/{conversation_id}/claim", headers={"X-CSRF-Token": worker.csrf}
                )
                ledger.requests += 1
                if response.status_code == 200:
                    worker.conversations.append(conversation_id)
                else:
                    ledger.error(f"POST /api/inbox/conversations/{{id}}/claim: HTTP {response.status_code}")

        per_worker = [queued[i :: len(workers)] for i in range(len(workers))]
        await asyncio.gather(*(claim_all(w, ids) for w, ids in zip(workers, per_worker, strict=True)))
        assignments = [(w, cid, owners[cid]) for w in workers for cid in w.conversations]
        relay.claimed = len(assignments)
        print(f"  {relay.claimed} conversations claimed by {len(workers)} workers; opening streams ...", flush=True)

        # Every citizen opens the live stream after the last message they have already seen.
        book = ArrivalBook()
        logs: dict[str, StreamLog] = {}
        readers: list[asyncio.Task[None]] = []
        for _worker, _cid, visitor in assignments:
            history = (await citizens.get(f"{desk}/api/widget/messages", headers={"X-Baken-Visitor": visitor})).json()
            after = max((int(m["id"]) for m in history["messages"]), default=0)
            logs[visitor] = StreamLog(visitor)
            readers.append(asyncio.create_task(read_stream(streams, desk, logs[visitor], after, book)))
        await asyncio.wait_for(asyncio.gather(*(log.ready.wait() for log in logs.values())), 60)
        relay.stream_errors = sum(1 for log in logs.values() if log.error)
        memory.streams_open = target.desk_rss()

        # A citizen answers each reply after a moment of typing (not timed; it adds load).
        answers: list[asyncio.Task[None]] = []
        answered: Counter[str] = Counter()

        async def answer(visitor: str) -> None:
            await asyncio.sleep(rng.uniform(0.2, 1.0))
            answered[visitor] += 1
            await send_citizen(citizens, desk, ledger, visitor, f"a{answered[visitor]}", "Dank je, dat is duidelijk.")

        book.on_reply = lambda visitor: answers.append(asyncio.create_task(answer(visitor)))

        texts = worker_texts()

        async def reply(
            worker: WorkerSession, conversation_id: int, visitor: str, marker: str, out: RelayRound
        ) -> None:
            arrival = book.expect(marker, visitor)
            text = f"{rng.choice(texts)} (ref {marker})"
            started = time.perf_counter()
            ledger.requests += 1
            try:
                response = await worker.client.post(
                    f"/api/inbox/conversations/{conversation_id}/messages",
                    json={"text": text, "internal": False},
                    headers={"X-CSRF-Token": worker.csrf},
                )
            except httpx.HTTPError as exc:
                ledger.error(f"POST /api/inbox/conversations/{{id}}/messages: {type(exc).__name__}")
                return
            out.post.append(time.perf_counter() - started)
            if response.status_code != 201:
                ledger.error(f"POST /api/inbox/conversations/{{id}}/messages: HTTP {response.status_code}")
                return
            ledger.replies_sent[marker] = visitor
            try:
                out.latencies.append(await asyncio.wait_for(arrival, 10.0) - started)
            except asyncio.TimeoutError:
                out.timed_out += 1

        for number, rate in enumerate(plan.relay_rounds, start=1):
            order = list(assignments)
            rng.shuffle(order)
            out = relay.rounds.setdefault(rate, RelayRound(rate))
            tasks: list[asyncio.Task[None]] = []
            meter = target.meter()
            started = time.perf_counter()
            for index, (worker, cid, visitor) in enumerate(order):
                if rate is not None:
                    delay = started + index / rate - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                marker = f"r{number}-c{cid}"
                tasks.append(asyncio.create_task(reply(worker, cid, visitor, marker, out)))
            await asyncio.gather(*tasks)
            await asyncio.gather(*answers)  # the citizens' answers to this round
            answers.clear()
            out.cpu.append(meter.read())
            what = "all at once" if rate is None else f"{rate:g}/s"
            print(f"  round {number}: {len(order)} replies, {what}", flush=True)

        await asyncio.sleep(0.5)  # late duplicates would show up here
        memory.after_relay = target.desk_rss()
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        for worker in workers:
            await worker.client.aclose()

    relay.wrong_stream = book.wrong_stream
    relay.stream_missing = sum(1 for m, v in ledger.replies_sent.items() if logs[v].markers[m] == 0)
    relay.stream_duplicated = sum(1 for m, v in ledger.replies_sent.items() if logs[v].markers[m] > 1)
    relay.stream_repeated_ids = sum(1 for log in logs.values() for n in log.message_ids.values() if n > 1)
    relay.citizen_answers = sum(answered.values())
    return relay


# --- 3. messages lost -------------------------------------------------------------------


async def verify(target: DeskTarget, ledger: Ledger) -> LossReport:
    """Find every accepted message again: in the history API (exactly once) and in the database."""
    loss = LossReport(
        citizen_sent=sum(len(ids) for ids in ledger.citizen_sent.values()), replies_sent=len(ledger.replies_sent)
    )
    replies_by_visitor: dict[str, list[str]] = {}
    for marker, visitor in ledger.replies_sent.items():
        replies_by_visitor.setdefault(visitor, []).append(marker)
    gate = asyncio.Semaphore(20)
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, limits=httpx.Limits(keepalive_expiry=KEEPALIVE_S)) as client:

        async def check(visitor: str) -> None:
            async with gate:
                response = await client.get(
                    f"{target.citizen_url}/api/widget/messages", headers={"X-Baken-Visitor": visitor}
                )
            if response.status_code != 200:
                ledger.error(f"GET /api/widget/messages: HTTP {response.status_code}")
                loss.citizen_missing += len(ledger.citizen_sent.get(visitor, []))
                return
            messages = response.json()["messages"]
            seen = Counter(m["client_message_id"] for m in messages if m["author"] == "citizen")
            for client_id in ledger.citizen_sent.get(visitor, []):
                loss.citizen_missing += seen[client_id] == 0
                loss.citizen_duplicated += seen[client_id] > 1
            markers = Counter(
                found.group(1)
                for m in messages
                if m["author"] == "worker" and (found := MARKER.search(m["text"])) is not None
            )
            for marker in replies_by_visitor.get(visitor, []):
                loss.replies_missing += markers[marker] == 0
                loss.replies_duplicated += markers[marker] > 1
            if visitor in ledger.bot_visitors:
                # Every citizen message to the assistant gets at least one answer before the next.
                waiting_for_answer = False
                for m in messages:
                    if m["author"] == "citizen":
                        loss.unanswered += waiting_for_answer
                        waiting_for_answer = True
                    else:
                        waiting_for_answer = False
                loss.unanswered += waiting_for_answer

        await asyncio.gather(*(check(v) for v in ledger.citizen_sent))

    url = target.database_url
    counts = {str(a): int(n) for a, n in query(url, "SELECT author, COUNT(*) FROM messages GROUP BY author")}
    keys = {str(k) for (k,) in query(url, "SELECT dedupe_key FROM messages WHERE author = 'citizen'")}
    worker_texts_ = [str(t) for (t,) in query(url, "SELECT text FROM messages WHERE author = 'worker'")]
    handoffs = query(
        url,
        "SELECT citizens.external_id, handoffs.reason FROM handoffs "
        "JOIN conversations ON conversations.id = handoffs.conversation_id "
        "JOIN citizens ON citizens.id = conversations.citizen_id",
    )
    loss.bot_handoff_reasons = dict(
        Counter(str(reason) for visitor, reason in handoffs if visitor in ledger.bot_visitors)
    )
    loss.db_citizen = int(counts.get("citizen", 0))
    loss.db_worker = int(counts.get("worker", 0))
    expected_keys = {f"widget:{v}:{c}" for v, ids in ledger.citizen_sent.items() for c in ids}
    loss.db_citizen_missing = len(expected_keys - keys)
    db_markers = Counter(found.group(1) for t in worker_texts_ if (found := MARKER.search(t)) is not None)
    loss.db_replies_missing = sum(1 for m in ledger.replies_sent if db_markers[m] == 0)
    return loss


# --- the run ----------------------------------------------------------------------------


async def benchmark(stack: Stack, plan: Plan, seed: int) -> Run:
    rng = random.Random(seed)
    texts = load_texts()
    ledger = Ledger()
    memory = Memory(idle=rss_mib(stack.desk_pid))
    load_before = os.getloadavg()
    started = time.perf_counter()
    print("1. bot round trip: desk vs. Rasa direct", flush=True)
    levels = await bot_round_trip(stack, plan, texts, ledger, rng)
    memory.after_bot = rss_mib(stack.desk_pid)
    print("2. relay latency: worker -> citizen stream", flush=True)
    target = DeskTarget.of(stack)
    relay = await relay_latency(target, plan, ledger, rng, memory)
    print("3. messages lost: checking history and database ...", flush=True)
    loss = await verify(target, ledger)
    memory.end = rss_mib(stack.desk_pid)
    return Run(
        plan_note=plan_note(plan),
        levels=levels,
        relay=relay,
        loss=loss,
        memory=memory,
        requests=ledger.requests,
        errors=dict(ledger.errors),
        texts={k: len(v) for k, v in texts.items()},
        duration_s=time.perf_counter() - started,
        load_before=load_before,
        load_after=os.getloadavg(),
    )


def plan_note(plan: Plan) -> str:
    passes = ", ".join(f"N={n}: 2 x {c}" for n, c in zip(plan.levels, plan.conversations_per_pass, strict=True))
    rounds = ", ".join("burst" if rate is None else f"{rate:g}/s" for rate in plan.relay_rounds)
    return (
        f"conversations per side ({passes}), {plan.warmup_conversations} warm-up conversations per side; "
        f"relay: {plan.handoff_conversations} conversations, {plan.workers} workers, rounds at {rounds}"
    )


def _interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a small run to try the benchmark (no report)")
    parser.add_argument("--out", default=str(PROJECT_ROOT / "docs" / "benchmarks" / "desk.md"))
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=180.0,
        help="seconds to wait at most for other processes to use < 0.3 cores before starting (0: don't)",
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else Plan()
    signal.signal(signal.SIGTERM, _interrupt)  # stop the stack on `kill` too, not only on Ctrl-C
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started in the background
    facts = machine_facts()
    if args.quiet_wait > 0:
        print("checking that the machine is quiet ...", flush=True)
        facts.others_at_start = wait_for_quiet(args.quiet_wait, 0.3)
    with tempfile.TemporaryDirectory(prefix="baken-bench-desk-") as tmp:
        print("starting action server, Rasa and desk ...", flush=True)
        with running_stack(Path(tmp)) as stack:
            run = asyncio.run(benchmark(stack, plan, args.seed))
    report = render(run, facts)
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
