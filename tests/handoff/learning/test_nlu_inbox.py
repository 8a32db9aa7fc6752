"""The NLU inbox on both databases: what counts as unsure, masking before storage, grouping,
flags, retention. Annotations as training examples: test_training_examples.py."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from baken_core.paths import PROJECT_ROOT
from handoff.learning import nlu_inbox, training_export
from handoff.store import conversations as convs
from handoff.store.models import Author, Channel, InboxStatus, Message, NluInboxItem, Worker, utcnow

SURE = {
    "intent": "ask_huurtoeslag",
    "confidence": 0.97,
    "ranking": [{"name": "ask_huurtoeslag", "confidence": 0.97}, {"name": "ask_zorgtoeslag", "confidence": 0.02}],
    "input": "ok",
}
T = nlu_inbox.Thresholds(confidence=0.6, margin=0.15, retention_days=30)
VALID_BSN = "111222333"  # passes the 11-proef


def citizen_message(session: Session, text: str, who: str = "v1") -> Message:
    citizen = convs.citizen_for(session, Channel.widget, who)
    conversation = convs.active_conversation(session, citizen)
    message, _ = convs.record_message(session, conversation, Author.citizen, text)
    return message


def parse(intent: str, confidence: float, second: float = 0.0, kind: str = "ok") -> dict:
    return {
        "intent": intent,
        "confidence": confidence,
        "ranking": [{"name": intent, "confidence": confidence}, {"name": "ask_bijstand", "confidence": second}],
        "input": kind,
    }


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        (SURE, None),
        (parse("nlu_fallback", 0.3), "fallback"),
        (parse("ask_beslag", 0.45), "low_confidence"),
        (parse("ask_beslag", 0.62, second=0.55), "close_second"),
        (parse("ask_beslag", 0.9, second=0.05), None),
        (parse("report_crisis", 0.3), None),  # crisis is decided by recall, not learned here
        (parse("nlu_fallback", 0.3, kind="foreign_language"), None),
        (None, None),
    ],
)
def test_what_counts_as_unsure(given: dict | None, reason: str | None) -> None:
    assert nlu_inbox.unsure_reason(given, T) == reason


def test_unsure_messages_are_stored_masked_and_sure_ones_not(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        unsure = citizen_message(session, f"mijn bsn is {VALID_BSN} en bel me op 06-12345678, wat nu")
        sure = citizen_message(session, "hoe vraag ik huurtoeslag aan", who="v2")
        item = nlu_inbox.record_parse(session, unsure, parse("nlu_fallback", 0.2), T)
        assert nlu_inbox.record_parse(session, sure, SURE, T) is None
        assert sure.nlu == SURE  # the parse is kept on every handled message
    with sessions() as session:
        stored = session.scalars(select(NluInboxItem)).one()
        assert item is not None and stored.id == item.id
        assert VALID_BSN not in stored.masked_text and "06-12345678" not in stored.masked_text
        assert "[BSN]" in stored.masked_text
        assert stored.reason == "fallback" and stored.status is InboxStatus.open
        assert stored.second_intent == "ask_bijstand"


def test_near_identical_messages_form_one_group(sessions: sessionmaker[Session]) -> None:
    texts = ["Wat is een WSNP???", "wat is een wsnp", "wat  is een wsnp!", "ik snap de brief van het cjib niet"]
    with sessions.begin() as session:
        for n, text in enumerate(texts):
            nlu_inbox.record_parse(session, citizen_message(session, text, who=f"v{n}"), parse("nlu_fallback", 0.2), T)
    with sessions() as session:
        groups = nlu_inbox.open_groups(session)
    assert [g.count for g in groups] == [3, 1]
    assert groups[0].group_key == "wat is een wsnp" and len(groups[0].item_ids) == 3


def test_a_worker_flag_adds_a_sure_message_once(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        worker = Worker(name="anna", password_hash="x")
        session.add(worker)
        message = citizen_message(session, "mijn uitkering is gestopt")
        nlu_inbox.record_parse(session, message, SURE, T)
        first = nlu_inbox.flag(session, message, worker, T)
        again = nlu_inbox.flag(session, message, worker, T)
        assert first is not None and again is not None and first.id == again.id
    with sessions() as session:
        assert [i.reason for i in session.scalars(select(NluInboxItem))] == ["flagged"]


def test_items_expire_after_the_retention(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        nlu_inbox.add(
            session, citizen_message(session, "oud bericht"), "fallback", T, now=utcnow() - dt.timedelta(days=31)
        )
        nlu_inbox.add(session, citizen_message(session, "nieuw bericht", who="v2"), "fallback", T)
        assert nlu_inbox.purge_expired(session) == 1
    with sessions() as session:
        assert [i.masked_text for i in session.scalars(select(NluInboxItem))] == ["nieuw bericht"]


def examples_of(path: Path, intent: str) -> list[str]:
    blocks = yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]
    block = next(b for b in blocks if b.get("intent") == intent)
    return [line[2:].strip() for line in block["examples"].splitlines() if line.startswith("- ")]


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """data/nlu and data/nlp side by side, as in the training job's merged copy."""
    for part in ("nlu", "nlp"):
        shutil.copytree(PROJECT_ROOT / "data" / part, tmp_path / "data" / part)
    return tmp_path / "data"


def test_an_example_already_there_is_not_added_again_with_markup(data_copy: Path) -> None:
    path = data_copy / "nlu" / "schulden.yml"
    assert training_export.append_examples(path, "ask_deurwaarder", ["de deurwaarder van het cjib belt steeds"]) == 1
    again = ["de deurwaarder van het [cjib](creditor) belt steeds"]
    assert training_export.append_examples(path, "ask_deurwaarder", again) == 0
