"""Annotations as training examples in the database, not in git (issue 14), on SQLite and
PostgreSQL: stored with their provenance, every guard kept, merged into a copy of data/ at
training time (examples and entity ruler phrases), data/ itself never written, erased with
the citizen, unlinked by retention; and the training job trains on the merged copy."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import stat
from pathlib import Path

import pytest
import yaml
from alembic.script import ScriptDirectory
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from baken_core.paths import PROJECT_ROOT, data_dir
from baken_core.training_lines import plain, training_lines
from handoff.learning import nlu_inbox, training_data, training_export, training_job
from handoff.store import conversations as convs
from handoff.store.erasure import erase_citizen
from handoff.store.forget import forget
from handoff.store.migrate import alembic_config
from handoff.store.models import (
    Channel,
    Conversation,
    InboxStatus,
    Message,
    ModelStatus,
    ModelVersion,
    NluInboxItem,
    TrainingExample,
    Worker,
    utcnow,
)
from tests.handoff.learning.test_nlu_inbox import VALID_BSN, T, citizen_message, examples_of

WSNP = "wat is dat wsnp traject nou precies voor iemand als ik"
VESTEDA = "[NAAM]Vesteda stuurt steeds  brieven over de huur"


@pytest.fixture(autouse=True)
def data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of data/ as the data folder (BAKEN_DATA_DIR), as a deployment has one: the
    checks that nothing in it changes do not race other work on the repository's data/."""
    folder = tmp_path / "data-folder"
    shutil.copytree(PROJECT_ROOT / "data", folder)
    monkeypatch.setenv("BAKEN_DATA_DIR", str(folder))
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def annotate(session: Session, text: str, intent: str, who: str, entities: list[dict[str, str]] | None = None) -> int:
    """A citizen message in the NLU inbox, annotated by an admin; returns the item's id."""
    admin = session.scalar(select(Worker).where(Worker.name == "bram"))
    if admin is None:
        admin = Worker(name="bram", password_hash="x")
        session.add(admin)
        session.flush()
    item = nlu_inbox.add(session, citizen_message(session, text, who=who), "fallback", T)
    assert item is not None
    item.status, item.annotated_intent = InboxStatus.annotated, intent
    item.annotated_entities = entities
    item.annotated_by, item.annotated_at = admin.id, utcnow()
    session.flush()
    return item.id


def test_an_annotation_is_stored_with_its_provenance_and_data_stays_as_it_is(sessions: sessionmaker[Session]) -> None:
    before = snapshot(data_dir())
    with sessions.begin() as session:
        first = annotate(session, WSNP, "ask_schuldsanering", "a")
        second = annotate(session, "hoe kom ik bij de voedselbank in de buurt dan", "ask_voedselbank", "b")
        report = training_export.export_annotated(session)
    assert report.written == {"schulden": 1, "inkomen": 1} and report.refused == []
    assert snapshot(data_dir()) == before  # not one byte under data/ changed
    with sessions() as session:
        examples = session.scalars(select(TrainingExample).order_by(TrainingExample.id)).all()
        assert [(e.inbox_item_id, e.intent) for e in examples] == [
            (first, "ask_schuldsanering"),
            (second, "ask_voedselbank"),
        ]
        item = session.get(NluInboxItem, first)
        assert item is not None and item.message_id is not None and item.exported_at is not None
        example = examples[0]
        message = session.get(Message, item.message_id)
        assert message is not None and message.conversation_id is not None
        assert example.text == WSNP and example.message_id == message.id
        assert example.conversation_id == message.conversation_id
        bram = session.scalar(select(Worker.id).where(Worker.name == "bram"))
        assert example.annotated_by == bram and example.annotated_at is not None
    with sessions.begin() as session:
        assert training_export.export_annotated(session).total == 0  # taken once


def test_the_merged_copy_holds_the_examples_and_the_marked_words(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    before = snapshot(data_dir())
    marks = [
        {"text": "vesteda", "entity": "creditor", "value": "woningcorporatie"},
        {"text": "brieven", "entity": "creditor", "value": "x"},  # nonsense, but allowed: the admin decides
        {"text": "twee maanden", "entity": "period", "value": "twee_maanden"},  # not in this text
    ]
    with sessions.begin() as session:
        annotate(session, VESTEDA, "report_huurachterstand", "a", marks)
        annotate(session, WSNP, "ask_schuldsanering", "b")
        report = training_export.export_annotated(session)
        assert report.patterns_added == ["creditor: vesteda", "creditor: brieven", "period: twee maanden"]
        merged = training_data.merge(session, tmp_path / "data")
    assert merged.added == {"schulden.yml": 2} and merged.skipped == []
    assert merged.phrases == report.patterns_added
    # a space after the placeholder, or Rasa would read "[NAAM][Vesteda]" as a list of entities
    example = examples_of(tmp_path / "data" / "nlu" / "schulden.yml", "report_huurachterstand")[-1]
    assert example == "[NAAM] [Vesteda](creditor) stuurt steeds [brieven](creditor) over de huur"
    assert examples_of(tmp_path / "data" / "nlu" / "schulden.yml", "ask_schuldsanering")[-1] == WSNP
    patterns = yaml.safe_load((tmp_path / "data" / "nlp" / "entity_patterns.yml").read_text(encoding="utf-8"))
    assert "vesteda" in patterns["phrases"]["creditor"]["woningcorporatie"]
    assert patterns["phrases"]["period"]["twee_maanden"] == ["twee maanden"]
    copy = snapshot(tmp_path / "data")
    changed = {name for name in before if copy[name] != before[name]}
    assert changed == {"nlu/schulden.yml", "nlp/entity_patterns.yml"} and set(copy) == set(before)
    assert snapshot(data_dir()) == before
    assert training_data.merged_hash(tmp_path / "data") != training_data.merged_hash(data_dir())


def test_every_guard_holds_when_storing(sessions: sessionmaker[Session]) -> None:
    heldout = json.loads((PROJECT_ROOT / "data" / "evaluation" / "heldout.jsonl").read_text().splitlines()[0])["text"]
    trained = examples_of(data_dir() / "nlu" / "schulden.yml", "ask_deurwaarder")[0]
    with sessions.begin() as session:
        leaky = annotate(session, "ik heb schulden", "report_schulden", "a")
        item = session.get(NluInboxItem, leaky)
        assert item is not None
        item.masked_text = f"ik heb schulden, bsn {VALID_BSN}"  # as if masking had failed
        annotate(session, heldout, "greet", "b")
        annotate(session, trained.upper(), "ask_deurwaarder", "c")  # already a training line in git
        personal = annotate(session, "schuld bij incasso 0612345678 en cjib", "report_schulden", "d")
        item = session.get(NluInboxItem, personal)
        assert item is not None
        item.annotated_entities = [{"text": "0612345678", "entity": "creditor", "value": "telefoon"}]
        report = training_export.export_annotated(session)
        reasons = sorted(reason for _, reason in report.refused)
        assert reasons == ["bevat een BSN", "staat al in de trainingsdata", "staat in een testset"]
        assert report.patterns_added == [] and report.written == {"schulden": 1}
        stored = session.scalars(select(TrainingExample)).one()
        assert stored.entities is None  # the phone number is not even kept as a mark
        # refused for good (held out, already there) is not tried again; a BSN is, after a fix
        assert training_export.export_annotated(session).refused == [(leaky, "bevat een BSN")]


def test_the_merge_checks_again_and_takes_each_text_once(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    heldout = json.loads((PROJECT_ROOT / "data" / "evaluation" / "heldout.jsonl").read_text().splitlines()[0])["text"]
    with sessions.begin() as session:
        rows = [
            TrainingExample(intent="ask_schuldsanering", text=WSNP),
            TrainingExample(intent="ask_schuldsanering", text=WSNP.upper()),  # a second citizen, the same words
            TrainingExample(intent="ask_beslag", text=heldout),  # a held-out set written after it was stored
            TrainingExample(intent="ask_beslag", text=f"beslag op bsn {VALID_BSN}"),
            TrainingExample(intent="ask_oud_en_weg", text="een intentie die niet meer bestaat"),
            TrainingExample(
                intent="report_schulden",
                text="schuld bij 0612345678 en het cjib",
                entities=[{"text": "0612345678", "entity": "creditor", "value": "telefoon"}],
            ),
        ]
        session.add_all(rows)
        session.flush()
        merged = training_data.merge(session, tmp_path / "data")
        ids = [r.id for r in rows]
    assert merged.added == {"schulden.yml": 2}
    assert merged.skipped == [
        (ids[1], "staat al in de trainingsdata"),
        (ids[2], "staat in een testset"),
        (ids[3], "bevat een BSN"),
        (ids[4], "onbekende intentie"),
    ]
    text = "\n".join(p.read_text(encoding="utf-8") for p in (tmp_path / "data" / "nlu").glob("*.yml"))
    assert text.count(WSNP) == 1 and VALID_BSN not in text and "schuld bij 0612345678 en het cjib" in text
    patterns = (tmp_path / "data" / "nlp" / "entity_patterns.yml").read_text(encoding="utf-8")
    assert patterns == (data_dir() / "nlp" / "entity_patterns.yml").read_text(encoding="utf-8")


def test_erasure_takes_the_citizens_examples_and_retention_only_unlinks(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    mine, theirs = "de deurwaarder komt morgen en ik ben ziek", "de deurwaarder komt morgen en ik heb geen geld"
    with sessions.begin() as session:
        annotate(session, mine, "ask_deurwaarder", "visitor-mine", [{"text": "deurwaarder", "entity": "creditor"}])
        annotate(session, theirs, "ask_deurwaarder", "visitor-theirs")
        training_export.export_annotated(session)
        assert len(session.scalars(select(TrainingExample)).all()) == 2
    with sessions.begin() as session:
        citizen = convs.find_citizen(session, Channel.widget, "visitor-mine")
        assert citizen is not None
        erase_citizen(session, citizen)
    with sessions() as session:
        left = session.scalars(select(TrainingExample)).one()
        assert left.text == theirs and left.conversation_id is not None
    with sessions.begin() as session:
        merged = training_data.merge(session, tmp_path / "after-erasure")
    written = (tmp_path / "after-erasure" / "nlu" / "schulden.yml").read_text(encoding="utf-8")
    assert theirs in written and mine not in written and merged.added == {"schulden.yml": 1}

    with sessions.begin() as session:  # retention deletes the conversation: the example stays, unlinked
        citizen = convs.find_citizen(session, Channel.widget, "visitor-theirs")
        assert citizen is not None
        forget(
            session,
            session.scalars(select(Conversation).where(Conversation.citizen_id == citizen.id)).all(),
            erase_inbox=False,
        )
    with sessions() as session:
        left = session.scalars(select(TrainingExample)).one()
        assert left.text == theirs and (left.conversation_id, left.message_id) == (None, None)


def test_the_migrations_have_one_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, heads


FAKE_PYTHON = """#!/bin/bash
# A stand-in for .venv-rasa/bin/python: records what baken_nlu.train was given, writes a "model".
module="$2"; shift 2
while [ $# -gt 0 ]; do
  case "$1" in --out) out="$2"; shift 2;; --name) name="$2"; shift 2;; *) shift;; esac
done
case "$module" in
  baken_nlu.train)
    echo "$BAKEN_DATA_DIR" > "$FAKE_RECORD/data-dir"
    cp -r "$BAKEN_DATA_DIR" "$FAKE_RECORD/trained-on"
    mkdir -p "$out" && echo model > "$out/$name.tar.gz"
    echo "Finished training component 'DIETClassifier'";;
  baken_nlu.evaluate)
    echo '{"accuracy": 0.9, "crisis_recall": 1.0}' > "$out";;
esac
"""
FAKE_RASA = """#!/bin/bash
echo "$@" > "$FAKE_RECORD/validate-args"
echo "$BAKEN_DATA_DIR" > "$FAKE_RECORD/validate-data-dir"
"""


def test_the_training_job_trains_on_the_merged_copy_and_removes_it(
    sessions: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, record = tmp_path / "bin", tmp_path / "record"
    fake.mkdir()
    record.mkdir()
    for name, script in (("python", FAKE_PYTHON), ("rasa", FAKE_RASA)):
        (fake / name).write_text(script)
        (fake / name).chmod((fake / name).stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("FAKE_RECORD", str(record))
    before = snapshot(data_dir())
    leftover = tmp_path / "models" / training_job.TRAINING_DATA / "job-killed" / "data" / "nlu" / "schulden.yml"
    leftover.parent.mkdir(parents=True)
    leftover.write_text("- a citizen's words from a training that was killed halfway\n")
    with sessions.begin() as session:
        annotate(
            session,
            VESTEDA,
            "report_huurachterstand",
            "a",
            [{"text": "vesteda", "entity": "creditor", "value": "vesteda"}],
        )
        version = ModelVersion(
            name="test-model", path=str(tmp_path / "models" / "test-model.tar.gz"), status=ModelStatus.training
        )
        session.add(version)
        session.flush()
        version_id = version.id
    asyncio.run(training_job.run(sessions, version_id, training_job.JobSettings(rasa_bin=fake, timeout_s=60)))

    with sessions() as session:
        trained = session.get(ModelVersion, version_id)
        assert trained is not None
        assert trained.status is ModelStatus.ready, trained.error
        assert trained.data_hash and trained.metrics == {"accuracy": 0.9, "crisis_recall": 1.0}
    trained_on = record / "trained-on"
    example = examples_of(trained_on / "nlu" / "schulden.yml", "report_huurachterstand")[-1]
    assert example == "[NAAM] [Vesteda](creditor) stuurt steeds brieven over de huur"
    assert "vesteda" in (trained_on / "nlp" / "entity_patterns.yml").read_text(encoding="utf-8")
    folder = Path((record / "data-dir").read_text().strip())
    assert (record / "validate-data-dir").read_text().strip() == str(folder)
    assert f"--data {folder}" in (record / "validate-args").read_text()
    assert folder.is_relative_to(tmp_path / "models" / training_job.TRAINING_DATA)  # beside the models
    assert not folder.exists() and not leftover.exists()  # gone after the job, and what a killed one left
    assert snapshot(data_dir()) == before and folder != data_dir()
    assert os.environ.get("BAKEN_DATA_DIR") == str(data_dir())  # the job's own folder went to Rasa only


def test_a_folded_read_sets_text_is_refused_as_training_data_not_as_a_test_text(
    sessions: sessionmaker[Session],
) -> None:
    """The read sets folded into the training data (baken_core/training_lines.FOLDED_SETS) are
    training lines now: an admin's annotation equal to one is already there, not held out."""
    folded = [
        json.loads(line)["text"]
        for line in (PROJECT_ROOT / "data" / "evaluation" / "heldout_fresh7.jsonl").read_text().splitlines()
        if line.strip()
    ]
    trained = training_lines(data_dir())
    text = next(t for t in folded if plain(t) in trained)
    assert " ".join(text.split()).lower() not in training_export.heldout_texts()
    with sessions.begin() as session:
        annotate(session, text, "report_schulden", "a")
        report = training_export.export_annotated(session)
    assert [reason for _, reason in report.refused] == ["staat al in de trainingsdata"]
