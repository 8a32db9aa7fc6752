"""The admin page's training examples in Chromium (issue 14): the annotated examples kept in
the database are listed as text (never as HTML), with who annotated them, and one is deleted
after a confirmation. The assistant is scripted (tests/rasa_stub.py): this page needs none."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Dialog, expect
from sqlalchemy import select

from handoff import auth
from handoff.store.db import create_engine, session_factory
from handoff.store.models import AuditLog, Role, TrainingExample, utcnow
from stack.browser import chromium, open_admin_page
from stack.desk import desk_server
from tests.handoff.inbox.test_api import PASSWORD
from tests.rasa_stub import StubRasa

pytestmark = [pytest.mark.browser]

TRICK = '<img src=x onerror="window.hacked=1"> beslag op mijn loon'


def test_the_admin_sees_the_examples_as_text_and_deletes_one(tmp_path: Path, stub_rasa: StubRasa) -> None:
    with desk_server(tmp_path, "http://127.0.0.1:9", rasa_client=stub_rasa.client) as (base, url):
        with session_factory(create_engine(url)).begin() as session:
            bram = auth.create_worker(session, "bram", PASSWORD, Role.admin)
            session.flush()
            session.add_all(
                [
                    TrainingExample(intent="ask_beslag", text=TRICK, annotated_by=bram.id, annotated_at=utcnow()),
                    TrainingExample(
                        intent="ask_deurwaarder",
                        text="de deurwaarder van vesteda komt morgen",
                        entities=[{"text": "vesteda", "entity": "creditor", "value": "woningcorporatie"}],
                    ),
                ]
            )
        with chromium() as (_playwright, browser):
            page = open_admin_page(browser.new_page(), base, "bram", PASSWORD)
            rows = page.locator("#examples tr")
            expect(rows).to_have_count(2)
            expect(page.locator("#examples-count")).to_have_text("2")
            expect(rows.first).to_contain_text("de deurwaarder van vesteda komt morgen")  # the newest first
            expect(rows.first).to_contain_text("creditor: vesteda")
            trick = rows.filter(has_text="beslag op mijn loon")
            expect(trick).to_contain_text(TRICK)  # shown as text, not run as HTML
            expect(trick).to_contain_text("bram")
            assert page.evaluate("window.hacked") is None
            assert page.locator("#examples img").count() == 0

            dialogs: list[str] = []

            def accept(dialog: Dialog) -> None:
                dialogs.append(dialog.message)
                dialog.accept()

            page.once("dialog", accept)
            trick.get_by_role("button", name="Verwijderen").click()
            expect(rows).to_have_count(1)
            expect(page.locator("#examples-status")).to_have_text("Het voorbeeld is verwijderd.")
            expect(page.locator("#examples-count")).to_have_text("1")
            assert dialogs and "zonder dit voorbeeld" in dialogs[0]
        with session_factory(create_engine(url))() as session:
            assert [e.intent for e in session.scalars(select(TrainingExample))] == ["ask_deurwaarder"]
            assert session.scalars(select(AuditLog.action).where(AuditLog.action == "delete_training_example")).one()
