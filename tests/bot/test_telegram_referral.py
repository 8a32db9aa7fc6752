"""The warm referral note on Telegram (issue 15), with the real python-telegram-bot against the
local fake Bot API and the real assistant: /samenvatting asks first; 'Nee' makes nothing; the
note comes as a message or as a .txt document, without the BSN; the answer is never stored
as a citizen message; the audit log notes it without text."""

from __future__ import annotations

import time

from sqlalchemy import select

from handoff.store.models import AuditLog, Message
from tests.bot.test_telegram import CHAT, Telegram, press, telegram, texts

__all__ = ["telegram"]

BSN = "111222333"


def test_samenvatting_asks_first_then_sends_text_or_a_file(telegram: Telegram) -> None:
    nothing = telegram.say("/samenvatting")
    press(telegram, "baken:samenvatting:tekst", "cb-empty")
    assert "Wil je een korte samenvatting" in texts(nothing)
    telegram.fake.wait_for(lambda sent: "nog geen gesprek" in sent[-1].get("text", ""))

    telegram.say(f"ik heb schulden bij de woningcorporatie, mijn bsn is {BSN}")
    asked = telegram.say("/samenvatting")
    payloads = [row[0]["callback_data"] for row in asked[-1]["reply_markup"]["inline_keyboard"]]
    assert payloads == ["baken:samenvatting:tekst", "baken:samenvatting:bestand", "baken:samenvatting:nee"]
    assert "geen samenvatting gemaakt" in texts(press(telegram, "baken:samenvatting:nee", "cb-no"))

    note = texts(press(telegram, "baken:samenvatting:tekst", "cb-text"))
    assert note.startswith("Samenvatting van je gesprek met Baken") and "schulden bij de woningcorporatie" in note
    assert BSN not in note and "[BSN]" in note and "Financiën" in note

    before = len(telegram.fake.sent("sendDocument"))
    callback = {"id": "cb-file", "from": {"id": CHAT, "is_bot": False, "first_name": "Sam"}, "chat_instance": "ci"}
    message = {"message_id": 1, "date": int(time.time()), "chat": {"id": CHAT, "type": "private"}, "text": "?"}
    telegram.push(callback_query={**callback, "data": "baken:samenvatting:bestand", "message": message})
    telegram.fake.wait_for(lambda _sent: len(telegram.fake.sent("sendDocument")) > before)
    document = telegram.fake.sent("sendDocument")[-1]
    assert document["document"]["filename"] == "samenvatting-baken.txt"
    content = document["document"]["content"].decode("utf-8")
    assert content.startswith("Samenvatting van je gesprek met Baken") and BSN not in content
    assert "bewaren" in document["caption"]

    with telegram.router.sessions() as session:
        assert not session.scalars(select(Message).where(Message.text.like("%samenvatting%"))).all()
        logged = session.scalars(select(AuditLog).where(AuditLog.action == "referral_note")).all()
        assert [entry.detail for entry in logged] == [
            {"channel": "telegram", "as": "text"},
            {"channel": "telegram", "as": "file"},
        ]
