"""Photos and documents over Telegram, end to end: the whole desk app in webhook mode, the real
python-telegram-bot download path against the fake Bot API server, the real Rasa server, and
the worker's download through the inbox API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.routing.texts import ATTACHMENT_WITH_BOT, QUEUED_ATTACHMENT
from bot.telegram_channel import NOT_FETCHED, NOT_FETCHED_NOTE, too_big_text
from desk.app import create_app
from handoff import auth
from handoff.config import DeskSettings
from handoff.store import conversations as convs
from handoff.store.db import create_engine, session_factory
from handoff.store.models import AuditLog, Conversation, ConversationStatus, Delivery, Message, Worker
from stack.processes import free_port
from tests.bot.fake_telegram import FakeBotApi

TOKEN = "123456:TEST-token"
SECRET = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
CHAT = 555002
MAX_BYTES = 1024 * 1024  # the desk's cap in these tests: 1 MB
PASSWORD = "een lang wachtwoord"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"brief van de deurwaarder " * 80
PDF = b"%PDF-1.7\n" + b"aanmaning " * 100
HTML = b"<html><script>fetch('/api/inbox')</script></html>"


@dataclass
class Desk:
    client: TestClient
    fake: FakeBotApi
    sessions: sessionmaker[Session]
    files: Path
    rasa_url: str
    next_update: int = 1
    posted: dict[int, dict[str, Any]] = field(default_factory=dict)

    def send(self, **fields: Any) -> list[str]:
        """A citizen's message through the webhook; returns the texts the bot sent back."""
        update_id = self.next_update
        self.next_update += 1
        message = {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": CHAT, "type": "private", "first_name": "Sam"},
            "from": {"id": CHAT, "is_bot": False, "first_name": "Sam"},
            **fields,
        }
        if str(fields.get("text", "")).startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(fields["text"])}]
        self.posted[update_id] = {"update_id": update_id, "message": message}
        return self.redeliver(update_id)

    def redeliver(self, update_id: int) -> list[str]:
        before = len(self.fake.sent())
        response = self.client.post("/telegram/webhook", json=self.posted[update_id], headers=SECRET)
        assert response.status_code == 200, response.text
        self.wait_delivered()
        return [m["text"] for m in self.fake.sent()[before:]]

    def wait_delivered(self, timeout: float = 30.0) -> None:
        """Until the outbox has sent everything that was stored for the citizen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.sessions() as session:
                if session.scalar(select(Message.id).where(Message.delivery == Delivery.pending).limit(1)) is None:
                    return
            time.sleep(0.05)
        raise AssertionError("the outbox did not deliver everything")

    def conversation(self) -> Conversation:
        with self.sessions() as session:
            return session.scalars(select(Conversation)).one()

    def user_turns_in_rasa(self) -> list[str]:
        sender = self.conversation().rasa_sender_id
        tracker = httpx.get(f"{self.rasa_url}/conversations/{sender}/tracker", timeout=30).json()
        return [e.get("text") or "" for e in tracker["events"] if e["event"] == "user"]

    def stored_files(self) -> list[Path]:
        return sorted(self.files.iterdir()) if self.files.exists() else []

    def citizen_messages_with_files(self) -> list[Message]:
        with self.sessions() as session:
            rows = session.scalars(select(Message).where(Message.attachments.is_not(None)).order_by(Message.id))
            return list(rows)


@pytest.fixture
def desk(tmp_path: Path, rasa_url: str) -> Iterator[Desk]:
    fake = FakeBotApi(TOKEN, free_port())
    fake.start()
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    settings = DeskSettings(
        database_url=url,
        rasa_url=rasa_url,
        telegram_token=SecretStr(TOKEN),
        telegram_api_url=fake.url,
        telegram_webhook_url="https://baken.example",
        telegram_webhook_secret=SecretStr(SECRET["X-Telegram-Bot-Api-Secret-Token"]),
        secret_key_file=str(tmp_path / "secret"),
        attachments_dir=str(tmp_path / "attachments"),
        attachments_max_bytes=MAX_BYTES,
    )
    try:
        # on localhost: the session cookie is not Secure there, so the client sends it over http
        with TestClient(create_app(settings), base_url="http://localhost") as client:
            sessions = session_factory(create_engine(url))
            with sessions.begin() as session:
                auth.create_worker(session, "anna", PASSWORD)
            yield Desk(client, fake, sessions, tmp_path / "attachments", rasa_url)
    finally:
        fake.stop()


def test_a_photo_with_the_assistant_gets_a_kind_reply_and_rasa_never_sees_it(desk: Desk) -> None:
    assert "digitale assistent" in " ".join(desk.send(text="/start"))
    assert desk.user_turns_in_rasa() == ["/greet"]

    replies = desk.send(photo=desk.fake.photo(JPEG))
    assert replies == [ATTACHMENT_WITH_BOT]
    assert desk.user_turns_in_rasa() == ["/greet"], "a photo without a caption is not sent to Rasa"
    [message] = desk.citizen_messages_with_files()
    assert message.text == "" and message.attachments is not None
    assert message.attachments[0]["kind"] == "photo" and message.attachments[0]["size"] == len(JPEG)
    assert [p.name for p in desk.stored_files()] == [message.attachments[0]["id"]]

    # with a caption the assistant answers the words, and still says it cannot read the file
    replies = desk.send(photo=desk.fake.photo(JPEG), caption="hoe vraag ik zorgtoeslag aan")
    assert desk.user_turns_in_rasa() == ["/greet", "hoe vraag ik zorgtoeslag aan"]
    assert "toeslagen.nl" in " ".join(replies)
    assert replies[-1] == ATTACHMENT_WITH_BOT


def test_a_letter_sent_to_a_worker_is_stored_and_downloadable(desk: Desk) -> None:
    desk.send(text="ik wil een medewerker spreken")
    conversation = desk.conversation()
    assert conversation.status is ConversationStatus.queued
    with desk.sessions.begin() as session:
        anna = session.scalars(select(Worker).where(Worker.name == "anna")).one()
        convs.claim(session, conversation.id, anna)
        anna_id = anna.id

    assert desk.send(photo=desk.fake.photo(JPEG), caption="brief van de deurwaarder") == [QUEUED_ATTACHMENT]
    assert desk.send(document=desk.fake.document(PDF, "Aanmaning maart.pdf", "application/pdf")) == [QUEUED_ATTACHMENT]
    assert desk.send(document=desk.fake.document(HTML, "brief.html", "text/html")) == [QUEUED_ATTACHMENT]
    assert desk.user_turns_in_rasa() == ["ik wil een medewerker spreken"], "with a worker, nothing goes to Rasa"
    assert len(desk.stored_files()) == 3
    assert not any(p.name.endswith((".pdf", ".html", ".jpg")) for p in desk.stored_files())

    client = desk.client
    assert client.get(f"/api/inbox/conversations/{conversation.id}").status_code == 401
    first = desk.citizen_messages_with_files()[0].attachments or []
    photo_id = first[0]["id"]
    assert client.get(f"/api/inbox/attachments/{photo_id}").status_code == 401, "not logged in"

    login = client.post("/api/auth/login", json={"name": "anna", "password": PASSWORD})
    assert login.status_code == 200
    transcript = client.get(f"/api/inbox/conversations/{conversation.id}").json()
    with_files = [m for m in transcript["messages"] if m["attachments"]]
    assert [m["text"] for m in with_files] == ["brief van de deurwaarder", "", ""]
    photo, pdf, html = (m["attachments"][0] for m in with_files)
    assert photo == {"id": photo_id, "kind": "photo", "mime": "image/jpeg", "name": "foto.jpg", "size": len(JPEG)}
    assert pdf["kind"] == "document" and pdf["name"] == "Aanmaning maart.pdf" and pdf["size"] == len(PDF)

    shown = client.get(f"/api/inbox/attachments/{photo['id']}")
    assert shown.status_code == 200 and shown.content == JPEG
    assert shown.headers["content-type"] == "image/jpeg"
    assert shown.headers["content-disposition"].startswith("inline;")
    assert shown.headers["x-content-type-options"] == "nosniff"
    assert shown.headers["cache-control"] == "no-store"

    downloaded = client.get(f"/api/inbox/attachments/{pdf['id']}")
    assert downloaded.content == PDF and downloaded.headers["content-type"] == "application/pdf"
    disposition = downloaded.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''Aanmaning%20maart.pdf" in disposition

    harmless = client.get(f"/api/inbox/attachments/{html['id']}")
    assert harmless.content == HTML
    assert harmless.headers["content-type"] == "application/octet-stream"
    assert harmless.headers["content-disposition"].startswith("attachment;")

    with desk.sessions() as session:
        views = session.scalars(select(AuditLog).where(AuditLog.action == "view_attachment")).all()
    assert [(v.worker_id, v.conversation_id, (v.detail or {}).get("attachment_id")) for v in views] == [
        (anna_id, conversation.id, photo["id"]),
        (anna_id, conversation.id, pdf["id"]),
        (anna_id, conversation.id, html["id"]),
    ]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("A" * 32, 404),  # a token's shape, but no message has it
        ("..%2F..%2Fetc%2Fpasswd", 404),  # decoded to slashes: no route
        ("%2E%2E%2F" + "a" * 29, 404),
        ("." * 32, 422),  # the token's length, but dots
        ("%2E" * 32, 422),
        ("x" * 31 + "%00", 422),
        ("not-a-token", 422),
    ],
)
def test_unknown_or_malformed_ids_are_refused_without_a_server_error(desk: Desk, path: str, expected: int) -> None:
    assert desk.client.post("/api/auth/login", json={"name": "anna", "password": PASSWORD}).status_code == 200
    response = desk.client.get(f"/api/inbox/attachments/{path}")
    assert response.status_code == expected, response.text


def test_a_file_gone_from_disk_is_a_404(desk: Desk) -> None:
    desk.send(photo=desk.fake.photo(JPEG))
    [stored] = desk.stored_files()
    stored.unlink()
    login = desk.client.post("/api/auth/login", json={"name": "anna", "password": PASSWORD})
    assert login.status_code == 200
    opened = desk.client.post(  # not her conversation (it is with the assistant): she gives a reason
        f"/api/inbox/conversations/{desk.conversation().id}/read",
        json={"reason": "de inwoner belde over een foto"},
        headers={"X-CSRF-Token": login.json()["csrf_token"]},
    )
    assert opened.status_code == 200, opened.text
    response = desk.client.get(f"/api/inbox/attachments/{stored.name}")
    assert response.status_code == 404 and "bestaat niet" in response.json()["detail"]


def test_too_big_files_get_a_kind_message_and_are_marked_for_the_worker(desk: Desk) -> None:
    # Telegram says how big it is: refused before any download
    claimed = desk.fake.document(b"%PDF-", "scan.pdf", "application/pdf", file_size=15 * 1024 * 1024)
    replies = desk.send(document=claimed)
    assert replies == [too_big_text(MAX_BYTES), ATTACHMENT_WITH_BOT]
    assert "niet groter zijn dan 1 MB" in replies[0]
    assert desk.fake.sent("getFile") == [] and desk.stored_files() == []

    # with a worker: no "bewaard" when nothing was stored; size unknown up front, known after getFile
    desk.send(text="ik wil een medewerker spreken")
    conversation_id = desk.conversation().id
    with desk.sessions.begin() as session:
        anna = session.scalars(select(Worker).where(Worker.name == "anna")).one()
        convs.claim(session, conversation_id, anna)
    unsized = {**desk.fake.document(b"x" * (MAX_BYTES + 1), "groot.zip", "application/zip"), "file_size": None}
    assert desk.send(document=unsized) == [too_big_text(MAX_BYTES)]
    assert len(desk.fake.sent("getFile")) == 1 and desk.fake.sent("download") == []
    assert desk.stored_files() == []

    entries = [m.attachments[0] for m in desk.citizen_messages_with_files() if m.attachments]
    assert [(e.get("id"), e["name"], e["size"], e["too_big"]) for e in entries] == [
        (None, "scan.pdf", 15 * 1024 * 1024, True),
        (None, "groot.zip", MAX_BYTES + 1, True),
    ]
    assert all(e["note"].startswith("te groot") for e in entries)


def test_a_redelivered_photo_is_stored_once(desk: Desk) -> None:
    desk.send(photo=desk.fake.photo(JPEG))
    assert desk.redeliver(1) == []
    assert len(desk.stored_files()) == 1 and len(desk.citizen_messages_with_files()) == 1


def test_a_file_telegram_will_not_give_is_asked_again(desk: Desk) -> None:
    lost = {"file_id": "gone", "file_unique_id": "gone", "file_name": "brief.pdf", "mime_type": "application/pdf"}
    replies = desk.send(document=lost, caption="deze brief kreeg ik")
    assert replies[0] == NOT_FETCHED
    assert desk.stored_files() == []
    [message] = desk.citizen_messages_with_files()
    assert message.text == "deze brief kreeg ik"
    assert message.attachments == [
        {"kind": "document", "mime": "application/pdf", "name": "brief.pdf", "size": None, "note": NOT_FETCHED_NOTE}
    ]
