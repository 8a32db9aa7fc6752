"""Delivery that survives failure: the Telegram outbox.

Every message for a Telegram citizen (the assistant's, the desk's, a worker's) is stored
first with delivery `pending` (handoff.store.conversations.record_message). This loop sends
pending messages per chat in the order they were stored, wakes on the event bus and
every second, and:
- takes a message with a guarded UPDATE (a lease of `LEASE_S`), so two desk processes
  never send the same message at the same time;
- marks it `sent` right after Telegram accepted it, and sends a long message's parts
  only once each (`parts_sent`);
- after a 429 waits exactly Telegram's `retry_after`; after a 5xx, a network error or a
  timeout retries with exponential backoff (up to `MAX_BACKOFF_S`), keeping the chat's
  order: nothing later in that chat overtakes it;
- gives up (`failed`, shown in /healthz) only on a permanent refusal (the citizen blocked
  the bot, the chat does not exist) or when a message is older than `GIVE_UP_AFTER`.
The only way to send twice: the desk dies in the milliseconds between Telegram's "ok" and
the UPDATE to `sent`; Telegram's Bot API has no idempotency key to close that gap.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker
from telegram.error import BadRequest, ChatMigrated, EndPointNotFound, Forbidden, InvalidToken, RetryAfter

from handoff.store.events import EventBus
from handoff.store.models import Channel, Citizen, Conversation, Delivery, Message, as_utc, utcnow

log = logging.getLogger(__name__)

LEASE_S = 30.0
POLL_S = 1.0
MAX_BACKOFF_S = 300.0
GIVE_UP_AFTER = dt.timedelta(hours=24)
BATCH = 200
PERMANENT = (BadRequest, Forbidden, ChatMigrated, EndPointNotFound, InvalidToken)


@dataclass(frozen=True)
class Due:
    """A pending message; `waiting` when its retry time has not come (its chat waits too)."""

    message_id: int
    chat_id: str
    text: str
    buttons: list[dict[str, str]] | None
    parts_sent: int
    attempts: int
    created_at: dt.datetime
    waiting: bool = False


class Outbox:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        bus: EventBus,
        parts: Callable[[str], list[str]],
        send_part: Callable[[str, str, bool, list[dict[str, str]] | None], Awaitable[None]],
        *,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.bus = bus
        self.parts = parts
        self.send_part = send_part
        self.clock = clock
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="telegram-outbox")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task

    def kick(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        async with self.bus.subscribe() as events:
            listener = asyncio.create_task(self._listen(events))
            try:
                while True:
                    try:
                        await self.deliver_due()
                    except Exception:
                        log.exception("telegram outbox: a round failed; trying again")
                    with suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), POLL_S)
                    self._wake.clear()
            finally:
                listener.cancel()

    async def _listen(self, events: asyncio.Queue[dict[str, Any]]) -> None:
        while True:
            event = await events.get()
            if event.get("type") == "message" and event.get("author") != "citizen":
                self._wake.set()

    def _due(self) -> list[Due]:
        now = self.clock()
        with self.sessions() as session:
            rows = session.execute(
                select(Message, Citizen.external_id)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .join(Citizen, Citizen.id == Conversation.citizen_id)
                .where(Conversation.channel == Channel.telegram, Message.delivery == Delivery.pending)
                .order_by(Message.id)
                .limit(BATCH)
            ).all()
            return [
                Due(
                    m.id,
                    external_id,
                    m.text,
                    m.buttons,
                    m.parts_sent,
                    m.delivery_attempts,
                    as_utc(m.created_at),
                    waiting=m.next_delivery_at is not None and as_utc(m.next_delivery_at) > now,
                )
                for m, external_id in rows
            ]

    async def deliver_due(self) -> int:
        """One round: every chat's due messages, in order. Returns how many were sent."""
        due = self._due()
        chats: dict[str, list[Due]] = {}
        for item in due:
            chats.setdefault(item.chat_id, []).append(item)
        results = await asyncio.gather(*(self._deliver_chat(items) for items in chats.values()))
        return sum(results)

    async def _deliver_chat(self, items: list[Due]) -> int:
        sent = 0
        for item in items:
            if item.waiting:  # an earlier message waits for its retry: later ones wait behind it
                return sent
            if not self._take(item):
                return sent  # another process has it: it keeps the order from here
            ok = await self._send(item)
            if not ok:
                return sent
            sent += 1
        return sent

    def _take(self, item: Due) -> bool:
        now = self.clock()
        with self.sessions.begin() as session:
            result = session.execute(
                update(Message)
                .where(
                    Message.id == item.message_id,
                    Message.delivery == Delivery.pending,
                    or_(Message.next_delivery_at.is_(None), Message.next_delivery_at <= now),
                )
                .values(
                    next_delivery_at=now + dt.timedelta(seconds=LEASE_S),
                    delivery_attempts=Message.delivery_attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def _send(self, item: Due) -> bool:
        parts = self.parts(item.text)
        index = item.parts_sent
        try:
            while index < len(parts):
                last = index == len(parts) - 1
                await self.send_part(item.chat_id, parts[index], last, item.buttons if last else None)
                index += 1
                self._mark(item.message_id, parts_sent=index)
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)
            self._retry(item, seconds, "429 retry_after")
            return False
        except PERMANENT as exc:
            log.warning("telegram outbox: message %s refused for good: %s", item.message_id, type(exc).__name__)
            self._mark(item.message_id, delivery=Delivery.failed, delivery_error=type(exc).__name__)
            return True  # a refused message does not hold up the rest of the chat
        except Exception as exc:  # network error, timeout, 5xx
            backoff = min(2.0 ** min(item.attempts, 10), MAX_BACKOFF_S)
            if self.clock() - item.created_at > GIVE_UP_AFTER:
                self._mark(item.message_id, delivery=Delivery.failed, delivery_error=type(exc).__name__)
                return True
            self._retry(item, backoff, type(exc).__name__)
            return False
        self._mark(item.message_id, delivery=Delivery.sent, delivered_at=self.clock(), next_delivery_at=None)
        return True

    def _retry(self, item: Due, seconds: float, why: str) -> None:
        log.info("telegram outbox: message %s again in %.1f s (%s)", item.message_id, seconds, why)
        self._mark(
            item.message_id,
            next_delivery_at=self.clock() + dt.timedelta(seconds=max(seconds, 0.0)),
            delivery_error=why[:200],
        )

    def _mark(self, message_id: int, **values: Any) -> None:
        with self.sessions.begin() as session:
            session.execute(
                update(Message)
                .where(Message.id == message_id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
