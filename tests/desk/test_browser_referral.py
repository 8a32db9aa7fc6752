"""The warm referral note (issue 15) in real headless Chromium: a worker offers it from the
inbox, the citizen sees how to ask, says yes in the widget, reads the note as text (a BSN
masked, HTML-looking words stay text), downloads it as a .txt file; "Nee" makes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.desk.test_browser import WAIT_MS, NewPage, browser, chat, citizen_types, desk, log_in, new_page, open_widget

__all__ = ["browser", "desk", "new_page"]

pytestmark = [pytest.mark.browser, pytest.mark.rasa]


def test_offer_consent_and_keep_the_summary(new_page: NewPage, desk: tuple[str, str]) -> None:
    base, _url = desk
    citizen = new_page(accept_downloads=True)
    open_widget(citizen, base)
    citizen_types(citizen, "ik heb schulden <b>hulp</b>, bsn 111222333, ik wil met een medewerker praten")
    widget = chat(citizen)
    expect(widget.locator(".status")).to_contain_text("Je gesprek wacht op een medewerker", timeout=WAIT_MS)

    worker = new_page()
    log_in(worker, base, "anna")
    worker.locator("#waiting .item-button").first.click()
    worker.get_by_role("button", name="Oppakken").click()
    expect(worker.locator("#mine .item-button")).to_have_count(1, timeout=WAIT_MS)
    worker.get_by_role("button", name="Samenvatting aanbieden aan de inwoner").click()
    expect(worker.get_by_role("button", name="Samenvatting aangeboden")).to_be_visible(timeout=WAIT_MS)
    expect(widget.locator(".msg-system").last).to_contain_text(
        "Kies dan bovenaan de chat 'Samenvatting'", timeout=WAIT_MS
    )

    widget.get_by_role("button", name="Samenvatting bewaren").click()
    widget.get_by_role("button", name="Nee, liever niet").click()
    expect(widget.locator(".summary-text")).to_be_hidden()
    widget.get_by_role("button", name="Samenvatting bewaren").click()
    widget.get_by_role("button", name="Ja, maak een samenvatting").click()
    note = widget.locator(".summary-text")
    expect(note).to_contain_text("Samenvatting van je gesprek met Baken", timeout=WAIT_MS)
    expect(note).to_contain_text("<b>hulp</b>")  # text, not HTML
    expect(note).not_to_contain_text("111222333")
    assert widget.locator(".summary-text b").count() == 0
    with citizen.expect_download() as download:
        widget.get_by_role("button", name="Downloaden (.txt)").click()
    saved = download.value
    assert saved.suggested_filename == "samenvatting-baken.txt"
    content = Path(saved.path()).read_text(encoding="utf-8")
    assert content.startswith("Samenvatting van je gesprek met Baken") and "111222333" not in content
