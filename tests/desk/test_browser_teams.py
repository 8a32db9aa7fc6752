"""Teams (issue 15) in real headless Chromium against the real desk: the admin makes a team
on the admin page (a name that looks like HTML stays text); a worker sees the queue per
team, their own team first, the other team still there, and transfers a conversation to a
team with a note that the other team's worker sees live."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from handoff import auth
from handoff.store import conversations as convs
from handoff.store import teams
from handoff.store.db import create_engine, session_factory
from handoff.store.models import Author, Channel, Role, Team, Worker
from tests.desk.test_browser import WAIT_MS, NewPage, browser, desk, log_in, new_page

__all__ = ["browser", "desk", "new_page"]

pytestmark = [pytest.mark.browser, pytest.mark.rasa]


def test_the_admin_makes_a_team_on_the_page(new_page: NewPage, desk: tuple[str, str]) -> None:
    base, url = desk
    with session_factory(create_engine(url)).begin() as session:
        auth.create_worker(session, "carla", "een lang wachtwoord", Role.admin)
    admin = new_page()
    log_in(admin, base, "carla")
    admin.goto(f"{base}/admin")
    name = '<img src=x onerror="window.__xss=1">'
    expect(admin.locator("#teams-domains input")).to_have_count(13, timeout=WAIT_MS)  # the choices are there
    admin.locator("#teams-name").fill(name)
    admin.locator("#teams-domains").get_by_label("Financiën").check()
    admin.locator("#teams-members").get_by_label("anna").check()
    admin.get_by_label("Eigen openingstijden (anders die van de gemeente)").check()
    admin.locator("#teams-hours-monday").fill("13:00-21:00")
    admin.get_by_role("button", name="Team opslaan").click()
    row = admin.locator("#teams tr[data-team]")
    expect(admin.locator("#teams-status")).to_contain_text("is opgeslagen", timeout=WAIT_MS)
    expect(row).to_have_count(1, timeout=WAIT_MS)
    expect(row).to_contain_text(name)
    expect(row).to_contain_text("Financiën")
    expect(row).to_contain_text("ma 13:00-21:00")
    expect(row).to_contain_text("anna")
    assert admin.locator("#teams img").count() == 0 and admin.evaluate("window.__xss") is None

    admin.locator("#teams").get_by_role("button", name="Wijzigen").click()
    admin.locator("#teams-hours-tuesday").fill("21:00-09:00")
    admin.get_by_role("button", name="Team opslaan").click()
    expect(admin.locator("#teams-status")).to_contain_text("de tijden voor dinsdag kloppen niet", timeout=WAIT_MS)
    admin.locator("#teams").get_by_role("button", name="Uitzetten").click()
    expect(row).to_contain_text("(uit)", timeout=WAIT_MS)


def test_the_queue_per_team_and_a_transfer_to_a_team(new_page: NewPage, desk: tuple[str, str]) -> None:
    base, url = desk
    with session_factory(create_engine(url)).begin() as session:
        anna = session.scalar(select(Worker).where(Worker.name == "anna"))
        bram = session.scalar(select(Worker).where(Worker.name == "bram"))
        assert anna is not None and bram is not None
        wijk, schuld = Team(name="Wijkteam", fallback=True), Team(name="Schuldhulp", domains=["financien"])
        session.add_all([wijk, schuld])
        session.flush()
        teams.set_members(session, wijk, [anna.id])
        teams.set_members(session, schuld, [bram.id])
        schuld_id = schuld.id
        for who, domains in (("1", ["financien"]), ("2", ["huisvesting"])):
            conversation = convs.active_conversation(session, convs.citizen_for(session, Channel.widget, who))
            convs.record_message(session, conversation, Author.citizen, "ik wil een medewerker")
            convs.queue(session, conversation, reason="request_human", domains=domains)

    worker = new_page()
    log_in(worker, base, "anna")
    heads = worker.locator("#waiting .group-head")
    expect(heads).to_have_count(2)
    expect(heads.nth(0)).to_contain_text("Wijkteam (mijn team)")
    expect(heads.nth(1)).to_contain_text("Ander team: je kunt hier ook helpen.")
    expect(worker.locator("#waiting .item-button")).to_have_count(2)
    worker.get_by_label("Welke wachtrij").select_option(str(schuld_id))
    expect(worker.locator("#waiting .item-button")).to_have_count(1)
    worker.get_by_label("Welke wachtrij").select_option("")

    colleague = new_page()
    log_in(colleague, base, "bram")
    expect(colleague.locator("#waiting .group-head").first).to_contain_text("Schuldhulp (mijn team)")

    worker.locator("#waiting .item-button", has_text="Huisvesting").click()
    worker.get_by_role("button", name="Oppakken").click()
    expect(worker.locator("#mine .item-button")).to_have_count(1)
    worker.locator("#manage summary", has_text="Overdragen").click()
    worker.get_by_label("Aan wie").select_option(f"team:{schuld_id}")
    worker.get_by_label("Notitie voor wie het overneemt (de inwoner ziet dit niet)").fill(
        "Ook huurschuld, <b>dringend</b>"
    )
    worker.get_by_role("button", name="Overdragen").click()
    expect(worker.locator("#mine .item-button")).to_have_count(0, timeout=WAIT_MS)

    # bram's page hears it live: now two for his team, one with the note (as text)
    mine = colleague.locator("#waiting .item-button", has_text="Notitie: Ook huurschuld, <b>dringend</b>")
    expect(mine).to_have_count(1, timeout=WAIT_MS)
    mine.click()
    expect(colleague.locator("#conv-note")).to_have_text("Ook huurschuld, <b>dringend</b>")
    expect(colleague.locator("#conv-meta")).to_contain_text("team Schuldhulp")
    assert colleague.locator("#conv-note b").count() == 0
