"""Follow-up on Telegram (issue 15), with the real python-telegram-bot Application polling the
local fake Bot API: the offer and the check-in arrive as messages with an inline keyboard,
through the outbox; the buttons come back as callback queries and the desk answers them.
SQLite and PostgreSQL; a scripted assistant (tests/bot/test_followups.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.outbox import Outbox
from bot.routing import Dispatcher
from bot.telegram_channel import CALLBACK_MAX_BYTES, TelegramChannel, build_application, split_text
from handoff.store import followups
from handoff.store.attachments import AttachmentStore
from handoff.store.db import create_engine, session_factory
from handoff.store.events import EventBus
from handoff.store.migrate import upgrade
from handoff.store.models import FollowUp, FollowUpState
from stack.processes import free_port
from tests.bot.fake_telegram import FakeBotApi
from tests.bot.test_followups import ANSWER_WITH_STEP, HOURS, ScriptedAssistant
from tests.moments import TUESDAY_MORNING

TOKEN = "123456:TEST-token"
CHAT = 555002
A_WEEK_LATER = TUESDAY_MORNING + dt.timedelta(days=7, hours=1)


@dataclass
class Telegram:
    fake: FakeBotApi
    channel: TelegramChannel
    router: Dispatcher
    loop: asyncio.AbstractEventLoop
    next_update: int = 1

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def _push(self, **update: Any) -> None:
        self.fake.push({"update_id": self.next_update, **update})
        self.next_update += 1

    def _wait(self, before: int) -> list[dict[str, Any]]:
        def settled(sent: list[dict[str, Any]]) -> bool:
            if len(sent) <= before:
                return False
            time.sleep(0.6)  # replies come in a burst
            return len(self.fake.sent()) == len(sent)

        return self.fake.wait_for(settled)[before:]

    def say(self, text: str) -> list[dict[str, Any]]:
        before = len(self.fake.sent())
        self._push(
            message={
                "message_id": self.next_update,
                "date": int(time.time()),
                "chat": {"id": CHAT, "type": "private", "first_name": "Sam"},
                "from": {"id": CHAT, "is_bot": False, "first_name": "Sam"},
                "text": text,
            }
        )
        return self._wait(before)

    def press(self, data: str) -> list[dict[str, Any]]:
        before = len(self.fake.sent())
        self._push(
            callback_query={
                "id": f"cb-{self.next_update}",
                "from": {"id": CHAT, "is_bot": False, "first_name": "Sam"},
                "chat_instance": "ci",
                "data": data,
                "message": {
                    "message_id": 1,
                    "date": int(time.time()),
                    "chat": {"id": CHAT, "type": "private"},
                    "text": "?",
                },
            }
        )
        return self._wait(before)

    def deliver_due(self, now: dt.datetime) -> list[dict[str, Any]]:
        """One round of the desk's follow-up job, then the outbox delivers what it stored."""
        before = len(self.fake.sent())
        with self.router.sessions.begin() as session:
            assert followups.deliver_due(session, now)
        assert self.channel.outbox is not None
        self.loop.call_soon_threadsafe(self.channel.outbox.kick)
        return self._wait(before)

    def followup(self) -> FollowUp:
        with self.router.sessions() as session:
            row = session.query(FollowUp).one()
            return row


@pytest.fixture
def telegram(tmp_path: Path, database_url: str) -> Iterator[Telegram]:
    fake = FakeBotApi(TOKEN, free_port())
    fake.start()
    upgrade(database_url)
    engine = create_engine(database_url)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    router = Dispatcher(session_factory(engine), ScriptedAssistant(), HOURS, EventBus(), clock=lambda: TUESDAY_MORNING)
    application = build_application(TOKEN, fake.url, polling=True)
    channel = TelegramChannel(application, router, AttachmentStore(tmp_path / "attachments"))
    channel.outbox = Outbox(router.sessions, router.bus, split_text, channel.send_part)
    harness = Telegram(fake, channel, router, loop)

    async def start() -> None:
        await application.initialize()
        await application.start()
        assert channel.outbox is not None and application.updater is not None
        channel.outbox.start()
        await application.updater.start_polling(poll_interval=0.0, timeout=1)

    async def stop() -> None:
        assert application.updater is not None and channel.outbox is not None
        await channel.outbox.stop()
        await application.updater.stop()
        await application.stop()
        await application.shutdown()

    harness.run(start())
    yield harness
    harness.run(stop())
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    fake.stop()
    engine.dispose()


def keyboard(message: dict[str, Any]) -> list[tuple[str, str]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [(row[0]["text"], row[0]["callback_data"]) for row in rows]


def test_offer_yes_check_in_and_gelukt_on_telegram(telegram: Telegram) -> None:
    telegram.say(ANSWER_WITH_STEP)
    offer = telegram.say("nee")[-1]
    assert offer["text"] == followups.OFFER
    buttons = keyboard(offer)
    assert [title for title, _ in buttons] == ["Ja, vraag het me over een week", "Nee, dank je"]
    assert all(len(data.encode()) <= CALLBACK_MAX_BYTES for _, data in buttons)

    said = telegram.press(buttons[0][1])
    assert "Over een week stuur ik je hier een bericht" in said[-1]["text"]
    assert telegram.followup().state is FollowUpState.scheduled

    checkin = telegram.deliver_due(A_WEEK_LATER)
    assert [m["text"] for m in checkin] == [followups.CHECKIN]
    choices = keyboard(checkin[0])
    assert [title for title, _ in choices] == ["Gelukt", "Het lukt niet", "Stop met vragen"]

    assert telegram.press(choices[0][1])[-1]["text"] == followups.DONE
    done = telegram.followup()
    assert (done.state, done.outcome) == (FollowUpState.answered, "gelukt")
    time.sleep(0.5)
    assert [m["text"] for m in telegram.fake.sent()].count(followups.CHECKIN) == 1  # delivered once


def test_stop_met_vragen_on_telegram_cancels_it(telegram: Telegram) -> None:
    telegram.say(ANSWER_WITH_STEP)
    offer = telegram.say("nee")[-1]
    telegram.press(keyboard(offer)[0][1])
    checkin = telegram.deliver_due(A_WEEK_LATER)
    stop = keyboard(checkin[0])[2][1]
    assert telegram.press(stop)[-1]["text"] == followups.STOPPED
    assert telegram.followup().outcome == "gestopt"
