"""The event bus across desk processes: PostgreSQL LISTEN/NOTIFY (issue 13).

Every desk process on one PostgreSQL database listens on one channel. `publish` delivers
to this process's subscribers at once (as the in-process bus does) and sends the event
with NOTIFY, so the other processes' live streams (widget, inbox) and Telegram outboxes hear
it within milliseconds; a process skips its own notifications by their origin.

Why PostgreSQL and not Redis: the desk's database is PostgreSQL as soon as there is more
than one process, so the bus needs no service of its own, and NOTIFY is delivered only after
the notifying transaction committed. Events carry ids only (a stream re-reads what it shows
from the database), far under NOTIFY's 8000-byte limit. What NOTIFY does not do is keep
events for a listener that is away: when the listening connection breaks, the bus
reconnects and then tells its subscribers `{"type": "resync"}`, so every stream re-reads
(the inbox page reloads its lists; a widget stream sends what it has not sent yet).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from contextlib import suppress
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from handoff.store.events import EventBus

log = logging.getLogger(__name__)

CHANNEL = "baken_events"
RECONNECT_S = (0.2, 0.5, 1.0, 2.0, 5.0)
RESYNC: dict[str, Any] = {"type": "resync"}


def conninfo(database_url: str) -> str:
    """A libpq URL for psycopg from the desk's SQLAlchemy URL (postgresql+psycopg://…)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class PgEventBus(EventBus):
    def __init__(self, database_url: str, channel: str = CHANNEL) -> None:
        super().__init__()
        self._conninfo = conninfo(database_url)
        self._channel = channel
        self.origin = uuid.uuid4().hex
        self._outgoing: asyncio.Queue[str] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self.listening = asyncio.Event()
        """Set while the listening connection is up (tests and /healthz wait for it)."""

    def publish(self, event: dict[str, Any]) -> None:
        super().publish(event)
        if self._tasks:
            self._outgoing.put_nowait(json.dumps({"o": self.origin, "e": event}, separators=(",", ":")))

    async def start(self) -> None:
        """Listen and send in the background; returns once the listener is up (or after 10 s)."""
        self._tasks = [
            asyncio.create_task(self._listen(), name="event-bus-listen"),
            asyncio.create_task(self._send(), name="event-bus-send"),
        ]
        with suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.listening.wait(), 10.0)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _listen(self) -> None:
        failures = 0
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True) as conn:
                    await conn.execute(f'LISTEN "{self._channel}"')
                    if failures:  # events sent while we were away are gone: re-read
                        super().publish(RESYNC)
                    failures = 0
                    self.listening.set()
                    async for notify in conn.notifies():
                        self._receive(notify.payload)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database went away: try again, and re-read after
                self.listening.clear()
                log.warning("event bus: listening failed (%s); reconnecting", type(error).__name__)
                await asyncio.sleep(RECONNECT_S[min(failures, len(RECONNECT_S) - 1)])
                failures += 1

    def _receive(self, payload: str) -> None:
        try:
            message = json.loads(payload)
            origin, event = message["o"], message["e"]
        except (ValueError, KeyError, TypeError):
            log.warning("event bus: ignored a notification that is not ours")
            return
        if origin != self.origin and isinstance(event, dict):
            super().publish(event)

    async def _send(self) -> None:
        failures = 0
        payload: str | None = None  # kept across a reconnect: an event is sent late, not lost
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True) as conn:
                    failures = 0
                    while True:
                        if payload is None:
                            payload = await self._outgoing.get()
                        await conn.execute("SELECT pg_notify(%s, %s)", (self._channel, payload))
                        payload = None
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("event bus: sending failed (%s); reconnecting", type(error).__name__)
                await asyncio.sleep(RECONNECT_S[min(failures, len(RECONNECT_S) - 1)])
                failures += 1
