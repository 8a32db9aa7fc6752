"""No citizen text in any log: a whole conversation through the desk as `make run` starts it
(uvicorn with its access log), the real Rasa server and action server; then every line the
desk, Rasa and the action server logged is searched for the citizen's words, the worker's
reply and the visitor id (a bearer token for the conversation)."""

from __future__ import annotations

import secrets
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from handoff import auth
from handoff.store.db import create_engine, session_factory
from handoff.store.models import Conversation
from stack.desk import DeskProcess, widget_stream_path

pytestmark = pytest.mark.rasa

PASSWORD = "een lang wachtwoord"


def all_log_lines(*folders: Path) -> list[str]:
    lines: list[str] = []
    for folder in folders:
        for log in folder.rglob("*.log"):
            lines += log.read_text(encoding="utf-8", errors="replace").splitlines()
    return lines


def test_a_whole_conversation_leaves_no_citizen_text_in_any_log(
    tmp_path: Path, rasa_url: str, rasa_folder: Path
) -> None:
    marker = secrets.token_hex(3)  # words no log line can hold by chance
    words = f"mijn buurman zwanenburg{marker} bedreigt me en ik heb schulden"
    reply = f"Ik bel je morgen, afspraak{marker}"
    visitor = uuid.uuid4().hex
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    desk = DeskProcess(url, rasa_url, tmp_path)
    desk.start()
    try:
        desk.say(visitor, "m1", words)
        desk.say(visitor, "m2", f"ik wil met een medewerker praten {marker}")
        assert (
            httpx.get(f"{desk.url}/api/widget/messages", headers={"X-Baken-Visitor": visitor}, timeout=30).status_code
            == 200
        )
        with httpx.stream("GET", desk.url + widget_stream_path(desk.url, visitor), timeout=30) as stream:
            next(stream.iter_lines())
        with session_factory(create_engine(url)).begin() as session:
            auth.create_worker(session, "anna", PASSWORD)
            conversation_id = session.scalars(select(Conversation.id)).one()
        with httpx.Client(base_url=desk.url, timeout=30) as worker:
            login = worker.post("/api/auth/login", json={"name": "anna", "password": PASSWORD})
            csrf = {auth.CSRF_HEADER: login.json()["csrf_token"]}
            assert worker.post(f"/api/inbox/conversations/{conversation_id}/claim", headers=csrf).status_code == 200
            transcript = worker.get(f"/api/inbox/conversations/{conversation_id}").json()
            assert any(marker in m["text"] for m in transcript["messages"])
            sent = worker.post(
                f"/api/inbox/conversations/{conversation_id}/messages", headers=csrf, json={"text": reply}
            )
            assert sent.status_code == 201
        # a request the desk refuses still logs nothing of what was in it
        bad = httpx.post(f"{desk.url}/api/widget/messages", json={"visitor_id": visitor, "text": words * 400})
        assert bad.status_code == 422
        assert httpx.post(f"{desk.url}/api/widget/erase", json={"visitor_id": visitor}).json()["erased"] is True
    finally:
        desk.kill()
    lines = all_log_lines(tmp_path, rasa_folder)
    assert any("POST /api/widget/messages" in line for line in lines), "the access log is on and was read"
    assert any("GET /api/widget/stream?…" in line for line in lines), "paths are logged, their queries are not"
    leaks = [line for line in lines if marker in line or visitor in line]
    assert leaks == [], leaks[:5]
