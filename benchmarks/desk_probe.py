"""The desk with counters, for benchmarks/desk_overhead.py only (never in production).

`uvicorn --factory desk_probe:create_app` (the file copied next to the code under test, so
an older tree can be measured the same way): the normal desk, plus

- SQLAlchemy event hooks that count, per HTTP request (a context variable, so concurrent
  requests do not mix), the statements, commits, rollbacks and connection checkouts (each
  checkout on PostgreSQL also pings: `pool_pre_ping`), and the wall time the event loop spent
  inside them (the desk's database calls are synchronous);
- the time each request waited for Rasa (the Rasa client's `send`);
- `GET /__probe` (the totals and this process's CPU time), `POST /__probe/reset`;
- with BAKEN_PROBE_PROFILE=file.html, pyinstrument samples the event loop's thread from the
  start and `POST /__probe/profile` writes its report (text next to it) and starts again.

It imports nothing of the desk but `desk.app.create_app` and the Rasa client class, so the
same file measures the code before and after a change.
"""

from __future__ import annotations

import contextvars
import os
import re
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

KINDS = ("statements", "commits", "rollbacks", "checkouts", "db_s", "rasa_s", "requests", "request_s")


class Tally:
    def __init__(self) -> None:
        self.counts: defaultdict[str, float] = defaultdict(float)
        self.shapes: Counter[str] = Counter()

    def add(self, other: Tally) -> None:
        for kind, value in other.counts.items():
            self.counts[kind] += value
        self.shapes.update(other.shapes)


TOTAL: dict[str, Tally] = {}
"""Per request path (`background` for what ran outside any request)."""
CURRENT: contextvars.ContextVar[Tally | None] = contextvars.ContextVar("probe_tally", default=None)
_started_at: dict[int, float] = {}
_NUMBERS = re.compile(r"\b\d+\b")


def _tally() -> Tally:
    tally = CURRENT.get()
    if tally is None:
        tally = TOTAL.setdefault("background", Tally())
    return tally


def _shape(statement: str) -> str:
    words = " ".join(statement.split())
    table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", words)
    verb = words.split(" ", 1)[0].upper()
    where = ""
    if verb == "SELECT" and " WHERE " in words:
        where = " WHERE " + _NUMBERS.sub("?", words.split(" WHERE ", 1)[1])[:90]
    return f"{verb} {table.group(1) if table else ''}{where}"


def _install_hooks() -> None:
    @event.listens_for(Engine, "before_cursor_execute")
    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        _started_at[id(cursor)] = time.perf_counter()
        tally = _tally()
        tally.counts["statements"] += 1
        tally.shapes[_shape(statement)] += 1

    @event.listens_for(Engine, "after_cursor_execute")
    def after(conn: Any, cursor: Any, *_: Any) -> None:
        started = _started_at.pop(id(cursor), None)
        if started is not None:
            _tally().counts["db_s"] += time.perf_counter() - started

    @event.listens_for(Engine, "commit")
    def commit(conn: Any) -> None:
        _tally().counts["commits"] += 1

    @event.listens_for(Engine, "rollback")
    def rollback(conn: Any) -> None:
        _tally().counts["rollbacks"] += 1

    @event.listens_for(Pool, "checkout")
    def checkout(*_: Any) -> None:
        _tally().counts["checkouts"] += 1


def _wrap_rasa() -> None:
    from bot import rasa_client

    original = rasa_client.RasaClient.send

    async def send(self: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await original(self, *args, **kwargs)
        finally:
            _tally().counts["rasa_s"] += time.perf_counter() - started

    rasa_client.RasaClient.send = send  # type: ignore[method-assign]


def _timed_db(app: FastAPI) -> None:
    """Commits, rollbacks and pings are round trips too: time them with the statements."""
    from sqlalchemy.engine import Connection

    for name in ("_commit_impl", "_rollback_impl"):
        original = getattr(Connection, name)

        def timed(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return _original(self, *args, **kwargs)
            finally:
                _tally().counts["db_s"] += time.perf_counter() - started

        setattr(Connection, name, timed)


def create_app() -> FastAPI:
    from desk.app import create_app as desk_app

    _install_hooks()
    _wrap_rasa()
    app = desk_app()
    _timed_db(app)
    profiler = None
    profile_to = os.environ.get("BAKEN_PROBE_PROFILE")
    if profile_to:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005, async_mode="disabled")
        profiler.start()

    @app.middleware("http")
    async def count(request: Request, call_next: Any) -> Any:
        if request.url.path.startswith("/__probe"):
            return await call_next(request)
        tally = Tally()
        token = CURRENT.set(tally)
        started = time.perf_counter()
        try:
            return await call_next(request)
        finally:
            CURRENT.reset(token)
            tally.counts["requests"] += 1
            tally.counts["request_s"] += time.perf_counter() - started
            key = f"{request.method} {request.url.path}"
            TOTAL.setdefault(key, Tally()).add(tally)

    @app.get("/__probe")
    async def totals() -> dict[str, Any]:
        return {
            "cpu_s": time.process_time(),
            "paths": {
                path: {"counts": dict(t.counts), "shapes": dict(t.shapes.most_common())} for path, t in TOTAL.items()
            },
        }

    @app.post("/__probe/reset")
    async def reset() -> dict[str, Any]:
        TOTAL.clear()
        if profiler is not None:
            if profiler.is_running:
                profiler.stop()
            profiler.reset()
            profiler.start()
        return {"cpu_s": time.process_time()}

    @app.post("/__probe/profile")
    async def profile() -> dict[str, str]:
        if profiler is None or not profile_to:
            return {"written": ""}
        session = profiler.stop()
        Path(profile_to).write_text(profiler.output_html(), encoding="utf-8")
        text = profiler.output_text(unicode=True, color=False, show_all=False)
        Path(profile_to).with_suffix(".txt").write_text(text, encoding="utf-8")
        session.save(Path(profile_to).with_suffix(".pyisession"))
        profiler.start()
        return {"written": profile_to}

    return app
