"""Results per life domain (issue 15) in real headless Chromium against the real desk: a
worker closes a conversation with a result for its triage domain (referred to SchuldHulpMaatje)
and one they add (improved); the admin page's Results section shows the figures, the first
contact table against the Wgs terms and the charts, for all teams and for one team."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from handoff import auth
from handoff.store import conversations as convs
from handoff.store import teams
from handoff.store.db import create_engine, session_factory
from handoff.store.models import Author, Channel, DomainOutcome, Role, Team, Worker
from tests.desk.test_browser import WAIT_MS, NewPage, browser, desk, log_in, new_page

__all__ = ["browser", "desk", "new_page"]

pytestmark = [pytest.mark.browser, pytest.mark.rasa]


def test_close_with_results_and_see_them_on_the_dashboard(new_page: NewPage, desk: tuple[str, str]) -> None:
    base, url = desk
    with session_factory(create_engine(url)).begin() as session:
        auth.create_worker(session, "carla", "een lang wachtwoord", Role.admin)
        anna = session.scalar(select(Worker).where(Worker.name == "anna"))
        assert anna is not None
        schuld, other = Team(name="Schuldhulp", fallback=True), Team(name="Jongerenwerk <i>")
        session.add_all([schuld, other])
        session.flush()
        teams.set_members(session, schuld, [anna.id])
        schuld_id, other_id = schuld.id, other.id
        conversation = convs.active_conversation(session, convs.citizen_for(session, Channel.widget, "1"))
        convs.record_message(session, conversation, Author.citizen, "ik wil een medewerker")
        convs.queue(session, conversation, reason="request_human", domains=["financien"])

    worker = new_page()
    log_in(worker, base, "anna")
    worker.locator("#waiting .item-button").first.click()
    worker.get_by_role("button", name="Oppakken").click()
    expect(worker.locator("#mine .item-button")).to_have_count(1, timeout=WAIT_MS)
    worker.locator("#manage summary", has_text="Afsluiten").click()
    rows = worker.locator("#domain-outcomes .domain-outcome")
    expect(rows).to_have_count(1, timeout=WAIT_MS)
    expect(rows.first).to_contain_text("Financiën")
    worker.get_by_label("Levensgebied toevoegen").select_option("sociaal_netwerk")
    expect(rows).to_have_count(2)
    worker.locator("#result-financien").select_option("referred")
    worker.get_by_role("button", name="Gesprek afsluiten").click()
    expect(worker.locator("#action-error")).to_contain_text("waarheen je hebt doorverwezen", timeout=WAIT_MS)
    place = worker.get_by_label("Waarheen doorverwezen bij Financiën")
    examples = place.locator("optgroup[label='Informele en groepshulp'] option", has_text="(voorbeeld)")
    expect(examples).not_to_have_count(0)
    place.select_option("schuldhulpmaatje")
    worker.locator("#result-sociaal_netwerk").select_option("improved")
    worker.get_by_role("button", name="Gesprek afsluiten").click()
    expect(worker.locator("#conv-meta")).to_contain_text("afgesloten", timeout=WAIT_MS)
    with session_factory(create_engine(url))() as session:
        stored = session.scalars(select(DomainOutcome).order_by(DomainOutcome.id)).all()
        assert [(o.domain, o.result.value, o.referral_key, o.team_id) for o in stored] == [
            ("financien", "referred", "schuldhulpmaatje", schuld_id),
            ("sociaal_netwerk", "improved", None, schuld_id),
        ]

    admin = new_page()
    log_in(admin, base, "carla")
    admin.goto(f"{base}/admin")
    figures = admin.locator("#results-figures")
    expect(figures).to_contain_text("Doorverwezen naar informele hulp1", timeout=WAIT_MS)
    expect(figures).to_contain_text("Vervolgvragen verstuurd0")
    urgent = admin.locator("#results-contact-table tr[data-urgency='urgent']")
    expect(urgent).to_contain_text("binnen 3 werkdagen")
    expect(admin.locator("#results-contact-table tr[data-urgency='crisis']")).to_contain_text("Geen wettelijke termijn")
    expect(admin.locator("#results-contact-table tr[data-urgency='normal']")).to_contain_text("1")  # claimed at once
    expect(admin.locator("#results-source")).to_contain_text("[ONZEKER]")
    for chart in ("results-domains", "results-teams", "results-referrals", "results-contact"):
        # no wait_for_function: its string predicate is evaluated with eval, which the page's CSP refuses
        image = admin.locator(f"#{chart}")
        expect(image).to_have_js_property("complete", True)
        assert image.evaluate("img => img.naturalWidth") > 0, chart
    expect(admin.locator("#results-team option", has_text="Jongerenwerk <i>")).to_have_count(1)
    assert admin.locator("#results-team i").count() == 0
    admin.get_by_label("Team", exact=True).select_option(str(other_id))
    admin.get_by_role("button", name="Toon resultaten").click()
    expect(figures).to_contain_text("Doorverwezen naar informele hulp0", timeout=WAIT_MS)
    assert f"team_id={other_id}" in (admin.locator("#results-domains").get_attribute("src") or "")
