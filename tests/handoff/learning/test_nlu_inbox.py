"""The NLU inbox on both databases: what counts as unsure, masking before storage, grouping,
flags, retention; and writing annotations to the Rasa training files with its guards."""

from __future__ import annotations

import datetime as dt
import json
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


@pytest.fixture
def nlu_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "nlu"
    shutil.copytree(PROJECT_ROOT / "data" / "nlu", folder)
    return folder


def examples_of(path: Path, intent: str) -> list[str]:
    blocks = yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]
    block = next(b for b in blocks if b.get("intent") == intent)
    return [line[2:].strip() for line in block["examples"].splitlines() if line.startswith("- ")]


def annotate(session: Session, text: str, intent: str, who: str) -> NluInboxItem:
    item = nlu_inbox.add(session, citizen_message(session, text, who=who), "fallback", T)
    assert item is not None
    item.status, item.annotated_intent = InboxStatus.annotated, intent
    return item


def test_export_appends_to_the_topic_file_and_keeps_valid_yaml(sessions: sessionmaker[Session], nlu_dir: Path) -> None:
    before = examples_of(nlu_dir / "schulden.yml", "ask_deurwaarder")
    with sessions.begin() as session:
        annotate(session, "die man van de deurwaarder stond [NAAM](x) gewoon voor de deur", "ask_deurwaarder", "a")
        annotate(session, "hoe kom ik bij de voedselbank in de buurt", "ask_voedselbank", "b")
        report = training_export.export_annotated(session, nlu_dir)
    assert report.written == {"schulden.yml": 1, "inkomen.yml": 1} and report.refused == []
    after = examples_of(nlu_dir / "schulden.yml", "ask_deurwaarder")
    assert after[: len(before)] == before
    assert after[-1] == "die man van de deurwaarder stond [NAAM] (x) gewoon voor de deur"  # no entity syntax
    assert "hoe kom ik bij de voedselbank in de buurt" in examples_of(nlu_dir / "inkomen.yml", "ask_voedselbank")
    with sessions.begin() as session:
        assert training_export.export_annotated(session, nlu_dir).total == 0  # exported once


def test_export_refuses_a_bsn_and_held_out_texts(sessions: sessionmaker[Session], nlu_dir: Path) -> None:
    heldout = json.loads((PROJECT_ROOT / "data" / "evaluation" / "heldout.jsonl").read_text().splitlines()[0])["text"]
    with sessions.begin() as session:
        leaky = annotate(session, "ik heb schulden", "report_schulden", "a")
        leaky.masked_text = f"ik heb schulden, bsn {VALID_BSN}"  # as if masking had failed
        annotate(session, heldout, "greet", "b")
        report = training_export.export_annotated(session, nlu_dir)
    assert report.total == 0
    assert sorted(reason for _, reason in report.refused) == ["bevat een BSN", "staat in een testset"]
    for path in nlu_dir.glob("*.yml"):
        assert VALID_BSN not in path.read_text(encoding="utf-8")


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """data/nlu and data/nlp side by side, as the export expects them."""
    for part in ("nlu", "nlp"):
        shutil.copytree(PROJECT_ROOT / "data" / part, tmp_path / "data" / part)
    return tmp_path / "data"


def test_marked_words_become_markup_and_ruler_patterns(sessions: sessionmaker[Session], data_copy: Path) -> None:
    with sessions.begin() as session:
        item = annotate(session, "[NAAM]Vesteda stuurt steeds  brieven over de huur", "report_huurachterstand", "a")
        item.annotated_entities = [
            {"text": "vesteda", "entity": "creditor", "value": "woningcorporatie"},
            {"text": "brieven", "entity": "creditor", "value": "x"},  # nonsense, but allowed: the admin decides
            {"text": "twee maanden", "entity": "period", "value": "twee_maanden"},  # not in this text
        ]
        report = training_export.export_annotated(session, data_copy / "nlu")
    assert report.refused == []
    assert report.patterns_added == ["creditor: vesteda", "creditor: brieven", "period: twee maanden"]
    example = examples_of(data_copy / "nlu" / "schulden.yml", "report_huurachterstand")[-1]
    # a space after the placeholder, or Rasa would read "[NAAM][Vesteda]" as a list of entities
    assert example == "[NAAM] [Vesteda](creditor) stuurt steeds [brieven](creditor) over de huur"
    patterns = yaml.safe_load((data_copy / "nlp" / "entity_patterns.yml").read_text(encoding="utf-8"))["phrases"]
    assert "vesteda" in patterns["creditor"]["woningcorporatie"]
    assert patterns["period"]["twee_maanden"] == ["twee maanden"]


def test_personal_data_never_becomes_a_pattern(sessions: sessionmaker[Session], data_copy: Path) -> None:
    patterns_before = (data_copy / "nlp" / "entity_patterns.yml").read_text(encoding="utf-8")
    with sessions.begin() as session:
        item = annotate(session, "schuld bij incasso 0612345678 en cjib", "report_schulden", "a")
        item.masked_text = f"schuld bij incasso {VALID_BSN} en cjib"  # as if masking had failed
        item.annotated_entities = [{"text": VALID_BSN, "entity": "creditor", "value": "x"}]
        other = annotate(session, "schuld bij de jansen incasso", "report_schulden", "b")
        other.annotated_entities = [{"text": "0612345678", "entity": "creditor", "value": "telefoon"}]
        report = training_export.export_annotated(session, data_copy / "nlu")
    assert (data_copy / "nlp" / "entity_patterns.yml").read_text(encoding="utf-8") == patterns_before
    assert report.patterns_added == [] and [r for _, r in report.refused] == ["bevat een BSN"]
    assert all(VALID_BSN not in p.read_text(encoding="utf-8") for p in (data_copy / "nlu").glob("*.yml"))


def test_an_example_already_there_is_not_added_again_with_markup(data_copy: Path) -> None:
    path = data_copy / "nlu" / "schulden.yml"
    assert training_export.append_examples(path, "ask_deurwaarder", ["de deurwaarder van het cjib belt steeds"]) == 1
    again = ["de deurwaarder van het [cjib](creditor) belt steeds"]
    assert training_export.append_examples(path, "ask_deurwaarder", again) == 0
