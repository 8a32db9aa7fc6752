"""Follow-up in the inbox (issue 15) in real headless Chromium against the real desk (a
scripted assistant): a worker offers a check-in on her conversation, sets "ik kom erop
terug" for a day with a note (text, never HTML) and tells the citizen the date; on that day
the reminder comes in live at the top of her inbox, and "Klaar" takes it away."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from desk import lifespan
from handoff import auth
from handoff.store import conversations as convs
from handoff.store import followups
from handoff.store.db import create_engine, session_factory
from handoff.store.models import Author, Channel, Message, Worker, utcnow
from stack.desk import desk_server
from tests.desk.test_browser import PASSWORD, WAIT_MS, NewPage, browser, log_in, new_page
from tests.rasa_stub import StubRasa

__all__ = ["browser", "new_page"]

pytestmark = [pytest.mark.browser]


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moment = Clock()
    monkeypatch.setattr(followups, "utcnow", moment)
    monkeypatch.setattr(lifespan, "FOLLOWUP_INTERVAL_S", 0.5)  # the job looks twice a second
    return moment


@pytest.fixture
def desk(tmp_path: Path, stub_rasa: StubRasa, clock: Clock) -> Iterator[tuple[str, str]]:
    with desk_server(tmp_path, "http://rasa.stub", rasa_client=stub_rasa.client) as (base, url):
        with session_factory(create_engine(url)).begin() as session:
            auth.create_worker(session, "anna", PASSWORD)
        yield base, url


def test_offer_and_a_reminder_that_comes_in_live_on_its_day(
    new_page: NewPage, desk: tuple[str, str], clock: Clock
) -> None:
    base, url = desk
    sessions = session_factory(create_engine(url))
    with sessions.begin() as session:
        anna = session.scalar(select(Worker).where(Worker.name == "anna"))
        assert anna is not None
        conversation = convs.active_conversation(session, convs.citizen_for(session, Channel.widget, "v" * 32))
        convs.record_message(session, conversation, Author.citizen, "ik wil een medewerker")
        convs.queue(session, conversation, reason="request_human")
        convs.claim(session, conversation.id, anna)
        conversation_id = conversation.id

    page = new_page()
    log_in(page, base, "anna")
    expect(page.locator("#reminders-empty")).to_be_visible(timeout=WAIT_MS)
    page.locator("#mine .item-button").first.click()
    expect(page.locator("#followup-box")).to_be_visible(timeout=WAIT_MS)

    page.get_by_role("button", name="Vervolgvraag aanbieden").click()
    expect(page.locator("#followup-status")).to_contain_text("Alleen bij 'ja'", timeout=WAIT_MS)
    expect(page.locator("#transcript")).to_contain_text(followups.OFFER, timeout=WAIT_MS)
    page.get_by_role("button", name="Vervolgvraag aanbieden").click()  # asked once
    expect(page.locator("#followup-status")).to_contain_text("kreeg deze vraag in dit gesprek al", timeout=WAIT_MS)

    day = (utcnow() + dt.timedelta(days=2)).astimezone(followups.ZONE).date()
    page.locator("#followup-remind-box summary").click()
    page.get_by_label("Op welke dag").fill(day.isoformat())
    page.get_by_label("Korte notitie voor jezelf (de inwoner ziet dit niet)").fill("<b>uitslag</b> nagaan")
    page.get_by_label("Vertel de inwoner: 'Je hoort uiterlijk … van ons.'").check()
    page.get_by_role("button", name="Herinnering zetten").click()
    expect(page.locator("#followup-status")).to_contain_text("Herinnering gezet voor", timeout=WAIT_MS)
    planned = page.locator("#reminders li")
    expect(planned).to_have_count(1, timeout=WAIT_MS)
    expect(planned).to_contain_text("Gepland: gesprek")
    expect(planned).to_contain_text("<b>uitslag</b> nagaan")
    assert page.locator("#reminders b").count() == 0
    with sessions() as session:
        told = session.scalars(select(Message.text).where(Message.author == Author.worker)).all()
        assert [t for t in told if t.startswith("Je hoort uiterlijk ")], told

    clock.now = dt.datetime.combine(day, dt.time(9, 30), tzinfo=followups.ZONE).astimezone(dt.timezone.utc)
    due = page.locator("#reminders li.due")
    expect(due).to_have_count(1, timeout=10_000)  # live (the page itself re-reads only every 30 s)
    expect(due).to_contain_text(f"Vandaag terugkomen: gesprek {conversation_id}")
    due.get_by_role("button", name="Klaar").click()
    expect(page.locator("#reminders li")).to_have_count(0, timeout=WAIT_MS)
    expect(page.locator("#reminders-empty")).to_be_visible()
    sessions.kw["bind"].dispose()
