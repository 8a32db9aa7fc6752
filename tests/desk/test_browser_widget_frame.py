"""The widget on another site, in real headless Chromium: the chat runs in a frame on the
desk's origin, so the host site's scripts cannot read the visitor id (issue 14).

The host page is served by a second little server on another origin (http://localhost:PORT,
the desk is on http://127.0.0.1:PORT), with the one embed tag municipalities use. The
assistant is scripted (tests/rasa_stub.py): what is tested is where the id lives.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from handoff.store.db import create_engine, session_factory
from handoff.store.models import Citizen, Conversation
from stack.browser import chromium
from stack.desk import desk_server
from tests.desk.test_browser import VISITOR_JS, chat, chat_frame
from tests.rasa_stub import StubRasa

pytestmark = [pytest.mark.browser]

WAIT_MS = 15_000
HOST_PAGE = """<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Huisarts Voorbeeld</title></head>
<body><h1>Huisartsenpraktijk Voorbeeld</h1>
<script src="{desk}/static/widget.js" data-source="huisarts" defer></script></body></html>"""

# What any script of the host site could try: its own storage, cookies, and the frame's storage.
SNOOP_JS = """() => {
  const mine = Object.keys(localStorage).map(k => k + '=' + localStorage.getItem(k)).join(' ')
    + ' ' + Object.keys(sessionStorage).map(k => k + '=' + sessionStorage.getItem(k)).join(' ')
    + ' ' + document.cookie;
  let frame;
  try {
    const iframe = document.querySelector('#baken-widget').shadowRoot.querySelector('iframe');
    frame = JSON.stringify(iframe.contentWindow.localStorage);
  } catch (e) { frame = 'blocked: ' + e.name; }
  return { mine, frame };
}"""


class HostSite:
    """A municipality's or huisarts' page on its own origin, embedding the widget."""

    def __init__(self) -> None:
        self.desk = ""
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                page = HOST_PAGE.format(desk=site.desk).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as (_playwright, launched):
        yield launched


def test_on_another_site_the_host_page_cannot_read_the_visitor_id(
    browser: Browser, tmp_path: Path, stub_rasa: StubRasa
) -> None:
    site = HostSite()
    host = f"http://localhost:{site.port}"  # another origin (and site) than the desk's 127.0.0.1
    try:
        with desk_server(tmp_path, "http://rasa.stub", rasa_client=stub_rasa.client, widget_origins=host) as (
            base,
            url,
        ):
            site.desk = base
            context = browser.new_context()
            page = context.new_page()
            with page.expect_response(re.compile(r"/widget/frame")) as framed:
                page.goto(host + "/")
            policy = framed.value.headers["content-security-policy"]
            assert re.search(r"frame-ancestors 'self' http://localhost:\d+;", policy), policy
            assert f"frame-ancestors 'self' {host};" in policy

            page.get_by_role("button", name=re.compile("Chat met ons")).click()
            expect(chat(page).get_by_role("dialog")).to_be_visible()
            expect(chat(page).get_by_label("Typ je bericht")).to_be_focused()
            box = chat(page).get_by_label("Typ je bericht")
            box.fill("hoe vraag ik huurtoeslag aan")
            box.press("Enter")
            expect(chat(page).locator(".msg-bot").first).to_be_visible(timeout=WAIT_MS)
            ids_before = chat(page).locator(".msg[data-id]").evaluate_all("els => els.map(e => e.dataset.id)")
            visitor = chat_frame(page).evaluate(VISITOR_JS)
            with session_factory(create_engine(url))() as session:
                stored = session.scalars(select(Citizen.external_id)).all()
                sources = session.scalars(select(Conversation.source)).all()
            assert stored == [visitor]  # the frame's id is the conversation's key
            assert sources == ["huisarts"]  # data-source passed along

            snooped = page.evaluate(SNOOP_JS)
            assert visitor not in snooped["mine"] and "baken" not in snooped["mine"]
            assert snooped["frame"].startswith("blocked: SecurityError"), snooped

            page.reload()  # the conversation is still there, and still not on the host's side
            expect(chat(page).get_by_role("dialog")).to_be_visible()  # it stays open over a reload
            expect(chat(page).locator(".msg[data-id]")).to_have_count(len(ids_before), timeout=WAIT_MS)
            assert chat(page).locator(".msg[data-id]").evaluate_all("els => els.map(e => e.dataset.id)") == ids_before
            assert visitor not in page.evaluate(SNOOP_JS)["mine"]
            assert chat_frame(page).evaluate(VISITOR_JS) == visitor

            # the frame's close button gives the focus back to the button on the host page
            chat(page).get_by_role("button", name="Chat sluiten").click()
            expect(page.get_by_role("button", name=re.compile("Chat met ons"))).to_be_focused()
            context.close()
    finally:
        site.close()


def test_a_site_not_in_widget_origins_gets_no_chat(browser: Browser, tmp_path: Path, stub_rasa: StubRasa) -> None:
    site = HostSite()
    try:
        with desk_server(
            tmp_path, "http://rasa.stub", rasa_client=stub_rasa.client, widget_origins="https://www.gemeente.example"
        ) as (base, _url):
            site.desk = base
            context = browser.new_context()
            page = context.new_page()
            page.goto(f"http://localhost:{site.port}/")
            page.get_by_role("button", name=re.compile("Chat met ons")).click()
            page.wait_for_timeout(1500)
            assert chat(page).get_by_label("Typ je bericht").count() == 0  # the browser refused the frame
            context.close()
    finally:
        site.close()
