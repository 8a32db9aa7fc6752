"""The model registry's guard rails on both databases: one training at a time, the
promotion gate (crisis recall 1.0, accuracy margin), rollback bookkeeping; and the charts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from handoff.admin import charts
from handoff.learning import model_registry
from handoff.store.models import AuditLog, ModelStatus, ModelVersion, Worker, utcnow

GATE = model_registry.Gate(margin=0.02)


def admin(session: Session) -> Worker:
    worker = Worker(name="bram", password_hash="x")
    session.add(worker)
    session.flush()
    return worker


def version(status: ModelStatus, **metrics: float) -> ModelVersion:
    return ModelVersion(
        name=f"m-{status.value}-{len(metrics)}", path="/nowhere", status=status, metrics=metrics or None
    )


@pytest.mark.parametrize(
    ("candidate", "live", "refused"),
    [
        ({"accuracy": 0.90, "crisis_recall": 1.0}, {"accuracy": 0.91}, []),
        ({"accuracy": 0.90, "crisis_recall": 1.0}, {"accuracy": 0.95}, ["nauwkeurigheid"]),
        ({"accuracy": 0.99, "crisis_recall": 0.98}, {"accuracy": 0.90}, ["crisis"]),
        ({"accuracy": 0.80, "crisis_recall": 0.5}, {"accuracy": 0.90}, ["crisis", "nauwkeurigheid"]),
        ({"accuracy": 0.90, "crisis_recall": 1.0}, {}, []),  # the first live model has no scores yet
    ],
)
def test_the_gate(candidate: dict[str, float], live: dict[str, float], refused: list[str]) -> None:
    reasons = model_registry.check(version(ModelStatus.ready, **candidate), version(ModelStatus.live, **live), GATE)
    assert len(reasons) == len(refused)
    for reason, word in zip(reasons, refused, strict=True):
        assert word in reason.lower()


def test_a_model_without_scores_or_a_failed_one_cannot_go_live() -> None:
    assert model_registry.check(version(ModelStatus.ready), None, GATE)
    assert model_registry.check(version(ModelStatus.failed, accuracy=1.0, crisis_recall=1.0), None, GATE)


def test_one_training_at_a_time_and_a_silent_one_fails(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    with sessions.begin() as session:
        first = model_registry.start_training(session, admin(session), "config.yml", tmp_path)
        with pytest.raises(model_registry.TrainingBusy):
            model_registry.start_training(session, session.scalars(select(Worker)).one(), "config.yml", tmp_path)
        assert len(first.data_hash) == 64
    later = utcnow() + model_registry.STALE_AFTER + dt.timedelta(seconds=5)
    with sessions.begin() as session:  # another desk process runs it and its heartbeat is fresh
        assert model_registry.fail_stale(session) == 0
        session.get(ModelVersion, first.id).heartbeat_at = later - dt.timedelta(seconds=30)  # type: ignore[union-attr]
    with sessions.begin() as session:
        assert model_registry.fail_stale(session, now=later) == 0
    with sessions.begin() as session:  # no heartbeat for longer than STALE_AFTER: its process is gone
        assert model_registry.fail_stale(session, now=later + model_registry.STALE_AFTER) == 1
    with sessions() as session:
        stored = session.scalars(select(ModelVersion)).one()
        assert stored.status is ModelStatus.failed and "onderbroken" in (stored.error or "")


def test_the_start_model_is_registered_once_with_its_own_copy(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    live_file = tmp_path / "live.tar.gz"
    live_file.write_bytes(b"model bytes")
    with sessions.begin() as session:
        first = model_registry.ensure_live_registered(session, live_file, tmp_path / "registry")
        again = model_registry.ensure_live_registered(session, live_file, tmp_path / "registry")
        assert first is not None and again is not None and first.id == again.id
        assert Path(first.path).read_bytes() == b"model bytes" and Path(first.path) != live_file


def test_going_live_retires_the_previous_model_and_is_audited(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        bram = admin(session)
        old = version(ModelStatus.live, accuracy=0.9)
        new = version(ModelStatus.ready, accuracy=0.95, crisis_recall=1.0)
        session.add_all([old, new])
        session.flush()
        model_registry.mark_live(session, new, bram, None)
    with sessions() as session:
        statuses = {v.name: v.status for v in session.scalars(select(ModelVersion))}
        audit = session.scalars(select(AuditLog).where(AuditLog.action == "promote_model")).one()
    assert sorted(statuses.values()) == [ModelStatus.live, ModelStatus.retired]
    assert audit.detail is not None and audit.detail["previous"] == old.name


def test_charts_escape_their_labels() -> None:
    evil = "<script>alert(1)</script>"
    matrix = charts.confusion_matrix([evil, "greet"], [[1, 2], [0, 3]])
    bars = charts.f1_bars({evil: 0.5, "greet": 1.0}, {"greet": 0.9})
    for svg in (matrix, bars):
        assert svg.startswith("<svg") and "<script>" not in svg and "&lt;script&gt;" in svg
