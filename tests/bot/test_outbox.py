"""The Telegram outbox against a local fake Bot API, with the real python-telegram-bot
client, on SQLite and PostgreSQL: 5xx, 429 with retry_after, timeouts and a blocked bot;
every message delivered once, in order; a long message's parts never twice."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.outbox import Outbox
from bot.telegram_channel import TelegramChannel, build_application, split_text
from handoff.store import conversations as convs
from handoff.store.attachments import AttachmentStore
from handoff.store.db import create_engine, session_factory
from handoff.store.events import EventBus
from handoff.store.models import Author, Channel, Delivery, Message
from stack.processes import free_port
from tests.bot.fake_telegram import FakeBotApi

TOKEN = "123456:OUTBOX-token"
CHAT = "555002"


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    api = FakeBotApi(TOKEN, free_port())
    api.start()
    yield api
    api.stop()


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = create_engine(database_url)
    yield session_factory(engine)
    engine.dispose()


def store(sessions: sessionmaker[Session], *texts: str, chat: str = CHAT) -> list[int]:
    with sessions.begin() as session:
        conversation = convs.active_conversation(session, convs.citizen_for(session, Channel.telegram, chat))
        return [convs.record_message(session, conversation, Author.bot, text)[0].id for text in texts]


def drain(outbox: Outbox, sessions: sessionmaker[Session], timeout: float = 30.0) -> None:
    async def run() -> None:
        application = outbox_app[0]
        await application.initialize()
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                await outbox.deliver_due()
                with sessions() as session:
                    if session.scalar(select(Message.id).where(Message.delivery == Delivery.pending)) is None:
                        return
                await asyncio.sleep(0.1)
            raise AssertionError("messages still pending")
        finally:
            await application.shutdown()

    asyncio.run(run())


outbox_app: list = []


def make_outbox(fake: FakeBotApi, sessions: sessionmaker[Session], tmp_path) -> Outbox:
    application = build_application(TOKEN, fake.url, polling=False)
    channel = TelegramChannel(application, dispatcher=None, attachments=AttachmentStore(tmp_path))  # type: ignore[arg-type]
    outbox_app[:] = [application]
    return Outbox(sessions, EventBus(), split_text, channel.send_part)


def states(sessions: sessionmaker[Session], ids: list[int]) -> list[Delivery | None]:
    with sessions() as session:
        return [session.get(Message, i).delivery for i in ids]  # type: ignore[union-attr]


def test_5xx_and_429_are_retried_in_order_and_each_message_arrives_once(fake, sessions, tmp_path) -> None:
    ids = store(sessions, "een", "twee", "drie")
    fake.fail("sendMessage", 500)
    fake.fail("sendMessage", 429, retry_after=2)
    started = time.monotonic()
    drain(make_outbox(fake, sessions, tmp_path), sessions)
    assert [m["text"] for m in fake.sent()] == ["een", "twee", "drie"]
    assert time.monotonic() - started >= 3.0, "1 s backoff after the 500, then Telegram's retry_after of 2 s"
    assert states(sessions, ids) == [Delivery.sent] * 3
    refused = [name for name, _ in fake.calls if name == "refused:sendMessage"]
    assert len(refused) == 2


def test_a_timeout_is_retried(fake, sessions, tmp_path) -> None:
    ids = store(sessions, "na een time-out")
    fake.stall("sendMessage", 6.0)  # longer than python-telegram-bot's 5 s read timeout
    drain(make_outbox(fake, sessions, tmp_path), sessions, timeout=40)
    assert [m["text"] for m in fake.sent()] == ["na een time-out"]
    assert states(sessions, ids) == [Delivery.sent]


def test_a_blocked_bot_fails_that_message_and_holds_up_nothing_else(fake, sessions, tmp_path) -> None:
    blocked = store(sessions, "aan iemand die de bot blokkeerde", chat="777")
    other = store(sessions, "aan iemand anders", chat="778")
    fake.fail("sendMessage", 403)
    drain(make_outbox(fake, sessions, tmp_path), sessions)
    assert states(sessions, blocked + other) == [Delivery.failed, Delivery.sent]
    with sessions() as session:
        assert session.get(Message, blocked[0]).delivery_error == "Forbidden"


def test_a_long_message_is_sent_in_parts_and_a_retry_sends_only_the_rest(fake, sessions, tmp_path) -> None:
    text = ("Een zin over schulden en toeslagen. " * 300).strip()
    ids = store(sessions, text)
    outbox = make_outbox(fake, sessions, tmp_path)
    parts = split_text(text)
    assert len(parts) == 3
    fake.fail("sendMessage", 502, after=1)  # the second part meets a 502 once
    drain(outbox, sessions)
    assert [m["text"] for m in fake.sent()] == parts, "each part once, in order"
    assert states(sessions, ids) == [Delivery.sent]
