"""Telegram end to end: the real python-telegram-bot Application, polling a local fake Bot
API server over HTTP, routed through the desk to the real Rasa server."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select, text
from telegram import Update

from baken_core.paths import PROJECT_ROOT
from bot.outbox import Outbox
from bot.rasa_client import RasaClient
from bot.routing import Dispatcher
from bot.telegram_channel import TelegramChannel, build_application, split_text
from handoff.config import DeskSettings
from handoff.inbox import replies
from handoff.rate_limits import RateLimits
from handoff.store import conversations as convs
from handoff.store.attachments import AttachmentMissing, AttachmentStore
from handoff.store.db import create_engine, session_factory
from handoff.store.events import EventBus
from handoff.store.forget import run_purge_tasks
from handoff.store.migrate import upgrade
from handoff.store.models import Channel, Conversation, ConversationStatus, Message, Worker
from handoff.store.office_hours import OfficeHours
from stack.processes import free_port
from tests.bot.fake_telegram import FakeBotApi
from tests.moments import TUESDAY_MORNING

TOKEN = "123456:TEST-token"
CHAT = 555001
HOURS = OfficeHours.from_settings(yaml.safe_load((PROJECT_ROOT / "data" / "gemeente.yml").read_text())["opening_hours"])


@dataclass
class Telegram:
    fake: FakeBotApi
    channel: TelegramChannel
    router: Dispatcher
    loop: asyncio.AbstractEventLoop
    next_update: int = 1

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=120)

    def _message(self, text: str, **extra: Any) -> dict[str, Any]:
        message = {
            "message_id": self.next_update,
            "date": int(time.time()),
            "chat": {"id": CHAT, "type": "private", "first_name": "Sam"},
            "from": {"id": CHAT, "is_bot": False, "first_name": "Sam"},
            "text": text,
            **extra,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return message

    def push(self, **update: Any) -> int:
        update_id = self.next_update
        self.next_update += 1
        self.fake.push({"update_id": update_id, **update})
        return update_id

    def say(self, text: str) -> list[dict[str, Any]]:
        before = len(self.fake.sent())
        self.push(message=self._message(text))
        return self.fake.wait_for(lambda sent: len(sent) > before and self._settled(len(sent)))[before:]

    def _settled(self, count: int) -> bool:
        time.sleep(0.6)  # replies come in a burst; wait until the burst is over
        return len(self.fake.sent()) == count


@pytest.fixture
def telegram(tmp_path: Path, rasa_url: str) -> Iterator[Telegram]:
    fake = FakeBotApi(TOKEN, free_port())
    fake.start()
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    upgrade(url)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    rasa = RasaClient(rasa_url, timeout_s=30)
    router = Dispatcher(session_factory(create_engine(url)), rasa, HOURS, EventBus(), clock=lambda: TUESDAY_MORNING)
    application = build_application(TOKEN, fake.url, polling=True)
    channel = TelegramChannel(application, router, AttachmentStore(tmp_path / "attachments"))
    channel.outbox = Outbox(router.sessions, router.bus, split_text, channel.send_part)
    harness = Telegram(fake, channel, router, loop)

    async def start() -> None:
        await application.initialize()
        await application.start()
        assert channel.outbox is not None
        channel.outbox.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=1)

    async def stop() -> None:
        assert application.updater is not None and channel.outbox is not None
        await channel.outbox.stop()
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
        await rasa.close()

    harness.run(start())
    yield harness
    harness.run(stop())
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    fake.stop()


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def test_a_whole_conversation_over_telegram(telegram: Telegram) -> None:
    greeting = telegram.say("/start huisarts")
    assert "digitale assistent" in texts(greeting)
    assert telegram.fake.sent("sendChatAction"), "a typing indicator is shown"
    with telegram.router.sessions() as session:
        assert session.scalars(select(Conversation.source)).one() == "huisarts"

    answer = telegram.say("hoe vraag ik zorgtoeslag aan")
    assert "toeslagen.nl" in texts(answer)
    markup = answer[-1]["reply_markup"]
    payloads = [row[0]["callback_data"] for row in markup["inline_keyboard"]]
    assert payloads == ["/affirm", "/deny"]

    # a button press: the callback query is answered and routed
    before = len(telegram.fake.sent())
    telegram.push(
        callback_query={
            "id": "cb-1",
            "from": {"id": CHAT, "is_bot": False, "first_name": "Sam"},
            "chat_instance": "ci",
            "data": "/deny",
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": CHAT, "type": "private"},
                "text": "?",
            },
        }
    )
    after_button = telegram.fake.wait_for(lambda sent: len(sent) > before)[before:]
    assert "Je kunt me altijd nog iets anders vragen" in texts(after_button)
    assert telegram.fake.sent("answerCallbackQuery")[0]["callback_query_id"] == "cb-1"

    # a redelivered update (same update_id) is recognised and not processed twice
    update_id = telegram.next_update
    telegram.say("wat is kwijtschelding")
    sent_before = len(telegram.fake.sent())
    redelivered = {"update_id": update_id, "message": telegram._message("wat is kwijtschelding")}
    telegram.run(
        telegram.channel.application.process_update(Update.de_json(redelivered, telegram.channel.application.bot))
    )
    time.sleep(1)
    assert len(telegram.fake.sent()) == sent_before
    with telegram.router.sessions() as session:
        asked = session.scalars(select(Message).where(Message.text == "wat is kwijtschelding")).all()
    assert len(asked) == 1

    # handoff, then a photo of a letter while waiting
    handed = telegram.say("ik wil graag met een medewerker praten")
    assert "medewerker" in texts(handed)
    with telegram.router.sessions() as session:
        conversation = session.scalars(select(Conversation)).one()
        assert conversation.status is ConversationStatus.queued
    before = len(telegram.fake.sent())
    letter = b"\xff\xd8\xff\xe0" + b"brief van de deurwaarder " * 40
    telegram.push(
        message={
            **telegram._message(""),
            "text": None,
            "photo": telegram.fake.photo(letter),
            "caption": "brief deurwaarder",
        }
    )
    stored = telegram.fake.wait_for(lambda sent: len(sent) > before)[before:]
    assert "bewaard" in texts(stored)
    with telegram.router.sessions() as session:
        photo = session.scalars(select(Message).where(Message.attachments.is_not(None))).one()
        assert photo.text == "brief deurwaarder" and photo.attachments is not None
        entry = photo.attachments[0]
    assert entry["kind"] == "photo" and entry["mime"] == "image/jpeg" and entry["size"] == len(letter)
    assert telegram.channel.attachments.read(entry["id"]) == letter, "the full size, not the thumbnail"

    # a worker claims and replies: the reply arrives on Telegram
    with telegram.router.sessions.begin() as session:
        worker = Worker(name="anna", password_hash="x")
        session.add(worker)
        session.flush()
        worker_id = worker.id
        convs.claim(session, conversation.id, worker)
    hello = "Hoi Sam, ik ben Anna. Ik kijk mee."
    for _double_click in range(2):
        replies.worker_reply(
            telegram.router.sessions, telegram.router.bus, conversation.id, worker_id, hello, client_id="r1"
        )
    telegram.fake.wait_for(lambda sent: sent[-1]["text"] == "Hoi Sam, ik ben Anna. Ik kijk mee.")
    time.sleep(1.5)  # the outbox's next rounds: a double click is still sent once
    assert [m["text"] for m in telegram.fake.sent()].count("Hoi Sam, ik ben Anna. Ik kijk mee.") == 1

    # hand back to the assistant: Rasa resumes and answers again
    router = telegram.router
    telegram.run(replies.hand_back(router.sessions, router.bus, router.rasa, conversation.id, worker_id))
    telegram.fake.wait_for(lambda sent: "teruggegeven" in sent[-1]["text"])
    again = telegram.say("hoe vraag ik huurtoeslag aan")
    assert "toeslagen.nl" in texts(again)


def test_long_messages_are_split_at_4096_characters() -> None:
    text = ("Een zin over schulden en toeslagen. " * 300).strip()
    parts = split_text(text)
    assert all(len(p) <= 4096 for p in parts) and len(parts) == 3
    assert " ".join(parts) == text


def test_webhook_mode_checks_the_secret_token(tmp_path: Path, rasa_url: str) -> None:
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from desk.app import create_app
    from handoff.config import DeskSettings

    fake = FakeBotApi(TOKEN, free_port())
    fake.start()
    try:
        settings = DeskSettings(
            database_url=f"sqlite:///{tmp_path / 'desk.db'}",
            rasa_url=rasa_url,
            telegram_token=SecretStr(TOKEN),
            telegram_api_url=fake.url,
            telegram_webhook_url="https://baken.example",
            telegram_webhook_secret=SecretStr("s3cret-token"),
            secret_key_file=str(tmp_path / "secret"),
        )
        with TestClient(create_app(settings)) as client:
            registered = fake.sent("setWebhook")[0]
            assert registered["url"] == "https://baken.example/telegram/webhook"
            assert registered["secret_token"] == "s3cret-token"
            update = {
                "update_id": 77,
                "message": {
                    "message_id": 1,
                    "date": int(time.time()),
                    "text": "hallo",
                    "chat": {"id": CHAT, "type": "private"},
                    "from": {"id": CHAT, "is_bot": False, "first_name": "Sam"},
                },
            }
            assert client.post("/telegram/webhook", json=update).status_code == 403
            wrong = {"X-Telegram-Bot-Api-Secret-Token": "guess"}
            assert client.post("/telegram/webhook", json=update, headers=wrong).status_code == 403
            right = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
            assert client.post("/telegram/webhook", content=b"{bad", headers=right).status_code == 400
            assert client.post("/telegram/webhook", json=update, headers=right).status_code == 200
            fake.wait_for(lambda sent: bool(sent) and "digitale assistent" in sent[-1]["text"], timeout=30)
            # Telegram retries a webhook it thinks failed: the same update is not processed twice
            count = len(fake.sent())
            assert client.post("/telegram/webhook", json=update, headers=right).status_code == 200
            time.sleep(2.5)  # two rounds of the outbox
            assert len(fake.sent()) == count
    finally:
        fake.stop()


def press(telegram: Telegram, data: str, query_id: str) -> list[dict[str, Any]]:
    before = len(telegram.fake.sent())
    telegram.push(
        callback_query={
            "id": query_id,
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
    return telegram.fake.wait_for(lambda sent: len(sent) > before)[before:]


def test_vergeet_asks_first_then_erases_everything(telegram: Telegram, rasa_folder: Path, rasa_url: str) -> None:
    trackers = create_engine(f"sqlite:///{rasa_folder / 'rasa' / 'trackers.db'}")
    router, store = telegram.router, telegram.channel.attachments
    router.purge = lambda: asyncio.to_thread(run_purge_tasks, router.sessions, store, trackers)
    telegram.say("ik heb een vraag over mijn schulden bij de woningcorporatie")
    telegram.say("ik wil graag met een medewerker praten")
    before = len(telegram.fake.sent())
    telegram.push(
        message={**telegram._message(""), "text": None, "photo": telegram.fake.photo(b"\xff\xd8\xff" + b"x" * 300)}
    )
    telegram.fake.wait_for(lambda sent: len(sent) > before)
    with router.sessions() as session:
        conversation = session.scalars(select(Conversation)).one()
        sender = conversation.rasa_sender_id
        token = session.scalars(select(Message.attachments).where(Message.attachments.is_not(None))).one()[0]["id"]

    def tracker_events() -> int:
        with trackers.connect() as conn:
            return int(
                conn.execute(text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender}).scalar() or 0
            )

    assert tracker_events() > 0 and store.read(token)

    asked = telegram.say("/vergeet")
    assert "niet ongedaan maken" in texts(asked)
    payloads = [row[0]["callback_data"] for row in asked[-1]["reply_markup"]["inline_keyboard"]]
    assert payloads == ["baken:vergeet:ja", "baken:vergeet:nee"]
    assert "niets gewist" in texts(press(telegram, "baken:vergeet:nee", "cb-no"))
    with router.sessions() as session:
        assert session.scalars(select(Conversation)).one().status is ConversationStatus.queued
        assert not session.scalars(select(Message).where(Message.text.like("%vergeet%"))).all()  # never stored

    done = press(telegram, "baken:vergeet:ja", "cb-yes")
    assert "Alles is gewist" in texts(done) and "Geschiedenis wissen" in texts(done)
    with router.sessions() as session:
        assert session.scalars(select(Conversation)).all() == []
        assert session.scalars(select(Message)).all() == []
        assert convs.find_citizen(session, Channel.telegram, str(CHAT)) is None
    assert tracker_events() == 0
    with pytest.raises(AttachmentMissing):
        store.read(token)
    assert "niets van je bewaard" in texts(press(telegram, "baken:vergeet:ja", "cb-again"))
    trackers.dispose()


def test_a_group_chat_gets_one_kind_refusal_and_nothing_is_stored(telegram: Telegram) -> None:
    group = {"id": -100777, "type": "supergroup", "title": "Buurtgroep"}
    for n in range(2):
        telegram.push(message={**telegram._message(f"ik heb schulden {n}"), "chat": group})
    refusals = telegram.fake.wait_for(lambda sent: any(str(m["chat_id"]) == "-100777" for m in sent))
    time.sleep(1.5)  # the second message: no second refusal
    to_group = [m for m in telegram.fake.sent() if str(m["chat_id"]) == "-100777"]
    assert len(to_group) == 1 and "privégesprek" in to_group[0]["text"], refusals
    with telegram.router.sessions() as session:
        assert session.scalars(select(Message)).all() == []
    assert "digitale assistent" in texts(telegram.say("/start"))  # a private chat works as before


def test_too_many_messages_get_one_notice_a_minute_and_a_crisis_still_gets_through(telegram: Telegram) -> None:
    telegram.router.limits = RateLimits(DeskSettings(limit_messages_per_citizen="2/minute"))
    telegram.say("hoi")
    telegram.say("hoe vraag ik zorgtoeslag aan")
    told = telegram.say("en huurtoeslag?")
    assert "Je stuurt veel berichten kort na elkaar" in texts(told)
    before = len(telegram.fake.sent())
    telegram.push(message=telegram._message("en kwijtschelding?"))
    time.sleep(1.5)
    assert len(telegram.fake.sent()) == before, "the notice comes once a minute, not once per message"
    crisis = telegram.say("ik wil niet meer leven")
    assert "113" in texts(crisis)
    with telegram.router.sessions() as session:
        kept = session.scalars(select(Message.text).where(Message.author == "citizen")).all()
    assert "en huurtoeslag?" not in kept and "en kwijtschelding?" not in kept and "ik wil niet meer leven" in kept
