"""The widget and the inbox end to end in real headless Chromium, against the real desk,
the real Rasa server and action server, on SQLite.

A citizen asks, is handed off, a worker logs in, claims, replies; the citizen sees it
live, reloads, and the history is intact. Plus: XSS stays text, a double-clicked claim,
a network drop while sending, keyboard use, a phone-size screen, contrast, crisis alerts.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Frame, FrameLocator, Page, expect
from sqlalchemy import func, select

from handoff import auth
from handoff.store.db import create_engine, session_factory
from handoff.store.models import AuditLog, Conversation, Message, Role
from stack.browser import chromium
from stack.desk import desk_server

pytestmark = [pytest.mark.browser, pytest.mark.rasa]

PASSWORD = "een lang wachtwoord"
WAIT_MS = 30_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as (_playwright, launched):
        yield launched


@pytest.fixture
def desk(tmp_path: Path, rasa_url: str) -> Iterator[tuple[str, str]]:
    with desk_server(tmp_path, rasa_url) as (base, url):
        with session_factory(create_engine(url)).begin() as session:
            auth.create_worker(session, "anna", PASSWORD)
            auth.create_worker(session, "bram", PASSWORD)
        yield base, url


NewPage = Callable[..., Page]


@pytest.fixture
def new_page(browser: Browser, desk: tuple[str, str]) -> Iterator[NewPage]:
    """A page in its own browser context (its own cookies and storage: another person).
    Closed before the desk stops, so no live stream is cut off mid-test."""
    contexts: list[BrowserContext] = []

    def make(**options: Any) -> Page:
        context = browser.new_context(**options)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def chat(page: Page) -> FrameLocator:
    """The chat: in its frame on the desk's origin, drawn on the host page by widget.js."""
    return page.frame_locator("#baken-widget iframe")


def chat_frame(page: Page) -> Frame:
    """The same frame, for running a script in it (its storage is the desk origin's)."""
    frame = page.frame(url=re.compile(r"/widget/frame"))
    assert frame is not None
    return frame


def open_widget(page: Page, base: str) -> None:
    page.goto(f"{base}/demo")
    page.get_by_role("button", name=re.compile("Chat met ons")).click()
    expect(chat(page).get_by_role("dialog")).to_be_visible()


def citizen_types(page: Page, text: str) -> None:
    box = chat(page).get_by_label("Typ je bericht")
    box.fill(text)
    box.press("Enter")


def messages(page: Page, author: str) -> Any:
    return chat(page).locator(f".msg-{author}")


def log_in(page: Page, base: str, name: str) -> None:
    page.goto(f"{base}/inbox")
    page.get_by_label("Naam").fill(name)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_text(f"Ingelogd als {name}")).to_be_visible()


def count_messages(url: str) -> int:
    with session_factory(create_engine(url))() as session:
        return int(session.scalar(select(func.count()).select_from(Message)) or 0)


def test_citizen_to_worker_and_back_with_reload(new_page: NewPage, desk: tuple[str, str]) -> None:
    base, url = desk
    citizen = new_page()
    open_widget(citizen, base)
    citizen_types(citizen, "hoe vraag ik huurtoeslag aan")
    expect(chat(citizen).locator(".msg-bot a[href*='toeslagen.nl']").first).to_be_visible(timeout=WAIT_MS)

    citizen_types(citizen, "ik wil met een medewerker praten")
    status = chat(citizen).locator(".status")
    expect(status).to_contain_text("Je gesprek wacht op een medewerker", timeout=WAIT_MS)

    worker = new_page()
    log_in(worker, base, "anna")
    queued = worker.locator("#waiting .item-button").first
    expect(queued).to_contain_text("Website · demo")
    queued.click()
    # need-to-know: a waiting conversation shows its summary, the transcript after claiming
    expect(worker.locator("#conv-summary")).not_to_be_empty()
    expect(worker.locator("#transcript-closed")).to_contain_text("Pak het gesprek op om alles te lezen")
    expect(worker.locator("#transcript li")).to_have_count(0)
    worker.get_by_role("button", name="Oppakken").click()
    expect(worker.locator("#mine .item-button")).to_have_count(1)
    expect(worker.locator("#transcript")).to_contain_text("hoe vraag ik huurtoeslag aan")  # the bot part too
    expect(worker.locator("#read-form")).to_be_hidden()

    # the citizen hears it live, without a reload
    expect(chat(citizen).locator(".status")).to_contain_text("Je praat nu met een medewerker", timeout=WAIT_MS)
    expect(messages(citizen, "system").last).to_contain_text("anna (medewerker) neemt het gesprek nu over")

    worker.get_by_label("Antwoord aan de inwoner").fill("Hoi, ik ben Anna. Ik help je verder met de huur.")
    worker.get_by_role("button", name="Verstuur").click()
    expect(messages(citizen, "worker")).to_have_text(re.compile("Hoi, ik ben Anna"), timeout=WAIT_MS)

    citizen_types(citizen, "Fijn, dank je wel")
    expect(worker.locator("#transcript")).to_contain_text("Fijn, dank je wel", timeout=WAIT_MS)

    ids_before = chat(citizen).locator(".msg[data-id]").evaluate_all("els => els.map(e => e.dataset.id)")
    citizen.reload()
    expect(chat(citizen).get_by_role("dialog")).to_be_visible()  # it stays open over a reload
    expect(chat(citizen).locator(".msg[data-id]")).to_have_count(len(ids_before))
    ids_after = chat(citizen).locator(".msg[data-id]").evaluate_all("els => els.map(e => e.dataset.id)")
    assert ids_after == ids_before and len(set(ids_after)) == len(ids_after)
    expect(messages(citizen, "worker")).to_have_text(re.compile("Hoi, ik ben Anna"))

    worker.locator("#manage summary", has_text="Afsluiten").click()
    worker.get_by_label("Uitkomst").select_option("resolved")
    worker.get_by_label("Korte notitie voor het dossier").fill("Uitgelegd hoe huurtoeslag werkt.")
    worker.get_by_role("button", name="Gesprek afsluiten").click()
    expect(chat(citizen).locator(".status")).to_contain_text("afgesloten", timeout=WAIT_MS)
    expect(worker.locator("#mine .item-button")).to_have_count(0)

    with session_factory(create_engine(url))() as session:
        actions = set(session.scalars(select(AuditLog.action)))
    assert {"login", "view", "claim", "close"} <= actions


def test_without_a_live_stream_the_widget_polls_and_the_workers_reply_still_arrives(
    new_page: NewPage, desk: tuple[str, str]
) -> None:
    """A proxy that refuses server-sent events, or a desk process that cannot open the stream:
    the widget asks for new messages every few seconds instead (widget_chat.js), so the
    worker's answer and the status reach the citizen without a reload."""
    base, _ = desk
    citizen = new_page()
    refused: list[str] = []

    def refuse(route: Any) -> None:
        refused.append(route.request.url)
        route.fulfill(status=503, body="")

    citizen.context.route(re.compile(r"/api/widget/stream\?"), refuse)
    open_widget(citizen, base)
    citizen_types(citizen, "ik wil met een medewerker praten")
    expect(chat(citizen).locator(".status")).to_contain_text("Je gesprek wacht op een medewerker", timeout=WAIT_MS)

    worker = new_page()
    log_in(worker, base, "anna")
    worker.locator("#waiting .item-button").first.click()
    worker.get_by_role("button", name="Oppakken").click()
    worker.get_by_label("Antwoord aan de inwoner").fill("Hoi, ik ben Anna. Waar kan ik je mee helpen?")
    worker.get_by_role("button", name="Verstuur").click()

    expect(messages(citizen, "worker")).to_have_text(re.compile("Hoi, ik ben Anna"), timeout=WAIT_MS)
    expect(chat(citizen).locator(".status")).to_contain_text("Je praat nu met een medewerker", timeout=WAIT_MS)
    assert refused, "the stream was never tried, so this did not test the fallback"
    ids = chat(citizen).locator(".msg[data-id]").evaluate_all("els => els.map(e => e.dataset.id)")
    assert len(set(ids)) == len(ids), "a polled message was shown twice"


def test_citizen_text_is_never_html(new_page: NewPage, desk: tuple[str, str]) -> None:
    base, _ = desk
    payload = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    citizen = new_page()
    open_widget(citizen, base)
    citizen_types(citizen, "ik wil een medewerker " + payload)
    expect(chat(citizen).locator(".status")).to_contain_text("medewerker", timeout=WAIT_MS)
    expect(messages(citizen, "citizen").first).to_contain_text("<img src=x")
    worker = new_page()
    log_in(worker, base, "anna")
    worker.locator("#waiting .item-button").first.click()
    expect(worker.locator("#conv-summary")).to_contain_text('<img src=x onerror="window.__xss=1">')
    worker.get_by_label("Waarom lees je dit gesprek? (komt in het logboek)").fill("controle op een melding")
    worker.get_by_role("button", name="Gesprek lezen").click()
    expect(worker.locator("#transcript")).to_contain_text('<img src=x onerror="window.__xss=1">')
    assert worker.locator("#transcript img, #waiting img, #conv-summary img").count() == 0
    assert chat(citizen).locator("img").count() == 0
    assert worker.evaluate("window.__xss") is None and citizen.evaluate("window.__xss") is None
    assert chat_frame(citizen).evaluate("window.__xss") is None
    assert "script-src 'self'" in _csp(worker, base)


def _csp(page: Page, base: str) -> str:
    response = page.request.get(f"{base}/inbox")
    return response.headers.get("content-security-policy", "")


def test_double_click_claim_and_a_colleague_too_late(new_page: NewPage, desk: tuple[str, str]) -> None:
    base, url = desk
    citizen = new_page()
    open_widget(citizen, base)
    citizen_types(citizen, "ik wil een medewerker spreken")
    expect(chat(citizen).locator(".status")).to_contain_text("medewerker", timeout=WAIT_MS)

    anna, bram = new_page(), new_page()
    log_in(anna, base, "anna")
    log_in(bram, base, "bram")
    for page in (anna, bram):
        page.locator("#waiting .item-button").first.click()
        expect(page.get_by_role("button", name="Oppakken")).to_be_visible()
    anna.get_by_role("button", name="Oppakken").dblclick()
    expect(anna.locator("#mine .item-button")).to_have_count(1)
    expect(anna.locator("#action-error")).to_be_hidden()
    # Bram's page hears it live: the conversation left the queue and cannot be claimed
    expect(bram.get_by_role("button", name="Oppakken")).to_be_hidden(timeout=WAIT_MS)
    expect(bram.locator("#waiting .item-button")).to_have_count(0)
    expect(bram.locator("#conv-meta")).to_contain_text("bij een medewerker")
    with session_factory(create_engine(url))() as session:
        claims = session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "claim"))
    assert claims == 1


def test_network_drop_while_sending_loses_and_doubles_nothing(new_page: NewPage, desk: tuple[str, str]) -> None:
    base, url = desk
    citizen = new_page()
    context = citizen.context
    open_widget(citizen, base)
    citizen_types(citizen, "hallo")
    expect(messages(citizen, "bot").first).to_be_visible(timeout=WAIT_MS)
    stored = count_messages(url)

    context.set_offline(True)
    citizen_types(citizen, "wat is kwijtschelding van gemeentelijke belastingen")
    expect(chat(citizen).locator(".msg-pending")).to_contain_text("wordt verstuurd")
    expect(chat(citizen).locator(".connection")).to_be_visible(timeout=WAIT_MS)
    assert count_messages(url) == stored  # nothing arrived yet

    # a reload while offline keeps the unsent message (it waits in the browser)
    context.set_offline(False)
    citizen.reload()
    expect(chat(citizen).locator(".msg-citizen", has_text="kwijtschelding")).to_have_count(1, timeout=WAIT_MS)
    expect(chat(citizen).locator(".msg-pending")).to_have_count(0, timeout=WAIT_MS)
    expect(messages(citizen, "bot").filter(has_text="wijtschelding").first).to_be_visible(timeout=WAIT_MS)
    with session_factory(create_engine(url))() as session:
        texts = list(session.scalars(select(Message.text).where(Message.text.like("%kwijtschelding van%"))))
    assert texts == ["wat is kwijtschelding van gemeentelijke belastingen"]


def test_keyboard_only_and_phone_screen(new_page: NewPage, desk: tuple[str, str]) -> None:
    base, _ = desk
    page = new_page(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True)
    page.goto(f"{base}/demo")
    launcher = page.get_by_role("button", name=re.compile("Chat met ons"))
    launcher.focus()
    page.keyboard.press("Enter")
    dialog = chat(page).get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(chat(page).get_by_label("Typ je bericht")).to_be_focused()
    box = dialog.bounding_box()
    assert box is not None and box["width"] >= 370 and box["height"] >= 600  # the whole phone screen
    page.keyboard.type("wat is de zorgtoeslag")
    page.keyboard.press("Enter")
    expect(messages(page, "bot").filter(has_text="zorgtoeslag").first).to_be_visible(timeout=WAIT_MS)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(launcher).to_be_focused()
    assert chat(page).locator("[role=log][aria-live=polite]").count() == 1

    # an empty message is not sent; the citizen is told kindly
    launcher.click()
    chat(page).get_by_role("button", name="Verstuur").click()
    expect(chat(page).locator(".hint")).to_have_text("Typ eerst een bericht.")


CONTRAST_JS = """
(selectors) => {
  const host = document.querySelector('#baken-widget');
  const root = host ? host.shadowRoot : document;
  const rgb = (c) => c.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
  const channel = (x) => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
  const lum = (c) => { const v = rgb(c).map(channel); return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  const bg = (el) => {
    while (el) {
      const c = getComputedStyle(el).backgroundColor;
      if (c && !c.endsWith(', 0)') && c !== 'transparent') return c;
      el = el.parentElement || el.getRootNode().host;
    }
    return 'rgb(255, 255, 255)';
  };
  return selectors.map(s => { const el = root.querySelector(s); if (!el) return [s, 0];
    const a = lum(getComputedStyle(el).color), b = lum(bg(el));
    return [s, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)]; });
}
"""


def test_widget_text_contrast_meets_wcag_aa(new_page: NewPage, desk: tuple[str, str]) -> None:
    base, _ = desk
    page = new_page()
    open_widget(page, base)
    citizen_types(page, "hoi")
    expect(messages(page, "bot").first).to_be_visible(timeout=WAIT_MS)
    selectors = [".header h2", ".subtitle", ".intro", ".msg-citizen .text", ".msg-bot .text", ".send"]
    ratios = dict(chat_frame(page).evaluate(CONTRAST_JS, selectors))
    ratios.update(dict(page.evaluate(CONTRAST_JS, [".launcher"])))  # on the host page
    assert all(ratio >= 4.5 for ratio in ratios.values()), ratios


def test_crisis_while_queued_alerts_the_inbox_live(new_page: NewPage, desk: tuple[str, str]) -> None:
    base, _ = desk
    worker = new_page()
    log_in(worker, base, "anna")
    expect(worker.locator("#crisis-alert")).to_be_hidden()
    citizen = new_page()
    open_widget(citizen, base)
    citizen_types(citizen, "ik wil een medewerker")
    expect(worker.locator("#waiting .item-button")).to_have_count(1, timeout=WAIT_MS)  # live, no reload
    citizen_types(citizen, "ik wil er niet meer zijn, ik maak er een eind aan")
    expect(messages(citizen, "system").filter(has_text="113")).not_to_have_count(0, timeout=WAIT_MS)
    expect(worker.locator("#crisis-alert")).to_contain_text("Crisis in de wachtrij", timeout=WAIT_MS)
    expect(worker.locator("#waiting .item-button").first).to_contain_text("Crisis")
    assert worker.title().startswith("(!)")


VISITOR_JS = "() => JSON.parse(localStorage.getItem('baken.chat.v2') || '{}').visitor || null"


def test_wis_mijn_gesprek_erases_on_the_server_and_the_worker_sees_it(new_page: NewPage, desk: tuple[str, str]) -> None:
    base, url = desk
    citizen = new_page()
    open_widget(citizen, base)
    citizen_types(citizen, "ik wil met een medewerker praten over mijn huurschuld")
    expect(chat(citizen).locator(".status")).to_contain_text("wacht op een medewerker", timeout=WAIT_MS)
    visitor = chat_frame(citizen).evaluate(VISITOR_JS)
    assert visitor
    worker = new_page()
    log_in(worker, base, "anna")
    worker.locator("#waiting .item-button").first.click()
    expect(worker.locator("#conv-summary")).to_contain_text("huurschuld")

    # it asks first, in the chat itself; "nee" does nothing
    chat(citizen).get_by_role("button", name="Wis mijn gesprek").click()
    ask = chat(citizen).get_by_role("alertdialog")
    expect(ask).to_contain_text("niet ongedaan maken")
    expect(ask.get_by_role("button", name="Nee, niet wissen")).to_be_focused()
    ask.get_by_role("button", name="Nee, niet wissen").click()
    expect(ask).to_be_hidden()
    expect(messages(citizen, "citizen")).to_have_count(1)

    chat(citizen).get_by_role("button", name="Wis mijn gesprek").click()
    chat(citizen).get_by_role("button", name="Ja, wis alles").click()
    expect(chat(citizen).locator(".hint")).to_contain_text("gewist", timeout=WAIT_MS)
    expect(chat(citizen).locator(".msg")).to_have_count(0)
    expect(worker.locator("#detail-empty")).to_contain_text("De inwoner heeft het gesprek gewist", timeout=WAIT_MS)
    expect(worker.locator("#waiting .item-button")).to_have_count(0)
    with session_factory(create_engine(url))() as session:
        texts = session.scalars(select(Message.text)).all()
    assert not any("huurschuld" in t for t in texts)
    assert chat_frame(citizen).evaluate(VISITOR_JS) != visitor

    citizen.reload()  # a new start: the old conversation is not there
    expect(chat(citizen).get_by_role("dialog")).to_be_visible()
    expect(chat(citizen).locator(".msg")).to_have_count(0)


def test_the_admin_sees_what_goes_when_and_erases_on_request(new_page: NewPage, desk: tuple[str, str]) -> None:
    base, url = desk
    with session_factory(create_engine(url)).begin() as session:
        auth.create_worker(session, "carla", PASSWORD, Role.admin)
    citizen = new_page()
    open_widget(citizen, base)
    citizen_types(citizen, "ik wil met een medewerker praten over <b>mijn</b> beslag")
    expect(chat(citizen).locator(".status")).to_contain_text("wacht op een medewerker", timeout=WAIT_MS)
    with session_factory(create_engine(url))() as session:
        conversation_id = session.scalars(select(Conversation.id)).one()

    admin = new_page()
    log_in(admin, base, "carla")
    admin.goto(f"{base}/admin")
    rows = admin.locator("#retention tr")
    expect(rows).to_have_count(9)
    expect(admin.locator("#retention tr[data-kind=training_examples]")).to_contain_text("niet vanzelf (0 bewaard)")
    expect(admin.locator("#retention tr[data-kind=conversations]")).to_contain_text("90 dagen na het sluiten")
    expect(admin.locator("#retention-note")).to_contain_text(
        "Wachten op of bij een medewerker (niet vanzelf gewist): 1"
    )

    admin.get_by_label("Nummer van een gesprek van deze inwoner").fill(str(conversation_id))
    admin.get_by_label("Reden (komt in het logboek)").fill("verzoek per brief van 2 december")
    admin.once("dialog", lambda dialog: dialog.accept())
    admin.get_by_role("button", name="Alles van deze inwoner wissen").click()
    expect(admin.locator("#privacy-status")).to_have_text("1 gesprek is gewist.", timeout=WAIT_MS)
    expect(admin.locator("#retention-note")).to_contain_text("(niet vanzelf gewist): 0")
    with session_factory(create_engine(url))() as session:
        assert not any("beslag" in t for t in session.scalars(select(Message.text)))
        reasons = [e.detail or {} for e in session.scalars(select(AuditLog).where(AuditLog.action == "erase"))]
    assert reasons and reasons[0]["reason"] == "verzoek per brief van 2 december"


def test_the_admin_finds_a_conversation_number_by_date_with_a_reason_and_erases_it(
    new_page: NewPage, desk: tuple[str, str]
) -> None:
    base, url = desk
    with session_factory(create_engine(url)).begin() as session:
        auth.create_worker(session, "carla", PASSWORD, Role.admin)
    citizen = new_page()
    open_widget(citizen, base)
    citizen_types(citizen, "ik wil met een medewerker praten over <b>mijn</b> beslag")
    expect(chat(citizen).locator(".status")).to_contain_text("wacht op een medewerker", timeout=WAIT_MS)
    with session_factory(create_engine(url))() as session:
        conversation_id = session.scalars(select(Conversation.id)).one()

    admin = new_page()
    log_in(admin, base, "carla")
    admin.goto(f"{base}/admin")
    today = dt.date.today()
    admin.get_by_label("Kanaal").select_option("widget")
    admin.get_by_label("Van (datum)").fill((today - dt.timedelta(days=1)).isoformat())
    admin.get_by_label("Tot en met (datum)").fill((today + dt.timedelta(days=1)).isoformat())
    admin.get_by_role("button", name="Zoek gesprekken").click()  # no reason: the browser asks for one
    expect(admin.locator("#lookup-results tr")).to_have_count(0)
    admin.get_by_label("Reden van het zoeken (komt in het logboek)").fill("verzoek per telefoon van 5 december")
    admin.get_by_role("button", name="Zoek gesprekken").click()
    row = admin.locator(f"#lookup-results tr[data-id='{conversation_id}']")
    expect(row).to_contain_text("wacht op een medewerker", timeout=WAIT_MS)
    expect(row).to_contain_text("<b>mijn</b>")  # the first words, as text
    assert admin.locator("#lookup-results b").count() == 0
    admin.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=f"Wis alles van de inwoner van gesprek {conversation_id}").click()
    expect(admin.locator("#lookup-status")).to_have_text("1 gesprek is gewist.", timeout=WAIT_MS)
    with session_factory(create_engine(url))() as session:
        assert not any("beslag" in t for t in session.scalars(select(Message.text)))
        actions = [e.action for e in session.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert actions.index("erase_lookup") < actions.index("erase")
