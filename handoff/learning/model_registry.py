"""The model registry: every trained model, its scores, and which one is live.

Rules that keep the live assistant safe:
- one training at a time (a second request gets TrainingBusy);
- a model goes live only after it was evaluated on the held-out set, and only if its crisis
  recall is 1.0 and its accuracy is not more than `margin` below the live model's; anything
  else needs an explicit override with a reason, which goes to the audit log;
- a model that was live before can go live again (rollback) without the gate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from baken_core.paths import PROJECT_ROOT
from handoff.learning.model_store import ModelStore
from handoff.store import conversations as convs
from handoff.store.db import is_postgresql
from handoff.store.models import ModelStatus, ModelVersion, Worker, utcnow

DATA_INPUTS = ("data", "domain", "config.yml")


class TrainingBusy(RuntimeError):
    """A training is already running."""


class PromotionRefused(RuntimeError):
    """The model does not meet the bar; the reasons say why (in Dutch, for the admin)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def data_hash(root: Path = PROJECT_ROOT) -> str:
    """SHA-256 over the training inputs (data/, domain/, config.yml), file names included."""
    digest = hashlib.sha256()
    for name in DATA_INPUTS:
        path = root / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.exists():
                digest.update(str(file.relative_to(root)).encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()


def live(session: Session) -> ModelVersion | None:
    return session.scalar(select(ModelVersion).where(ModelVersion.status == ModelStatus.live))


def running(session: Session) -> ModelVersion | None:
    return session.scalar(select(ModelVersion).where(ModelVersion.status == ModelStatus.training))


def ensure_live_registered(
    session: Session, live_path: Path, models_dir: Path, store: ModelStore | None = None
) -> ModelVersion | None:
    """The model `make train` built counts as the first live version, once. It gets its own
    copy in the registry folder (or, with the database store, in the database), so a rollback
    to it still works after later promotions."""
    current = live(session)
    if current is not None or not live_path.exists():
        return current
    name = f"start-{dt.datetime.fromtimestamp(live_path.stat().st_mtime, dt.timezone.utc):%Y%m%d-%H%M%S}"
    own_copy = models_dir / f"{name}.tar.gz"
    if store is not None and store.kind == "database":
        store.put(name, live_path, session)  # in this transaction (SQLite has one writer)
    else:
        models_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(live_path, own_copy)
    version = ModelVersion(
        name=name,
        path=str(own_copy),
        status=ModelStatus.live,
        stage="live",
        progress=100,
        data_hash="",
        config="config.yml",
        promoted_at=utcnow(),
    )
    session.add(version)
    session.flush()
    return version


TRAINING_LOCK = 0x42414B454E5452  # "BAKENTR"


def start_training(session: Session, admin: Worker, config: str, models_dir: Path) -> ModelVersion:
    """Reserve a registry row for a new training; TrainingBusy if one is running.

    On PostgreSQL two desk processes asked at the same moment take turns (a transaction
    lock), so the second sees the first one's row."""
    if is_postgresql(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": TRAINING_LOCK})
    if running(session) is not None:
        raise TrainingBusy("er loopt al een training")
    name = f"baken-{utcnow():%Y%m%d-%H%M%S-%f}"
    version = ModelVersion(
        name=name,
        path=str(models_dir / f"{name}.tar.gz"),
        status=ModelStatus.training,
        stage="wachten",
        progress=0,
        data_hash=data_hash(),
        config=config,
        trained_by=admin.id,
    )
    session.add(version)
    session.flush()
    convs.audit(session, "train_model", worker=admin, detail={"model": name})
    return version


STALE_AFTER = dt.timedelta(minutes=2)
"""A training whose heartbeat (training_job.HEARTBEAT_S) is this old has lost its process."""


def fail_stale(session: Session, now: dt.datetime | None = None) -> int:
    """A training whose desk process is gone (no heartbeat for STALE_AFTER): mark it failed.

    Trainings that another desk process is still running keep their heartbeat fresh and are
    left alone (several desk processes on one database, issue 13)."""
    cutoff = (now or utcnow()) - STALE_AFTER
    last_sign = func.coalesce(ModelVersion.heartbeat_at, ModelVersion.created_at)
    stale = session.scalars(
        select(ModelVersion).where(ModelVersion.status == ModelStatus.training, last_sign < cutoff)
    ).all()
    for version in stale:
        version.status = ModelStatus.failed
        version.error = "De training is onderbroken (de desk is herstart)."
        version.finished_at = utcnow()
    return len(stale)


@dataclass(frozen=True)
class Gate:
    margin: float = 0.02
    """How much lower than the live model's accuracy a new model may score."""


def check(candidate: ModelVersion, current: ModelVersion | None, gate: Gate) -> list[str]:
    """Why `candidate` may not go live (empty list: it may)."""
    if candidate.status not in (ModelStatus.ready, ModelStatus.retired):
        return ["Dit model is nog niet klaar of is mislukt."]
    metrics: dict[str, Any] = candidate.metrics or {}
    if not metrics:
        return ["Dit model is nog niet beoordeeld op de testset."]
    reasons = []
    if float(metrics.get("crisis_recall", 0.0)) < 1.0:
        reasons.append(
            f"Het model mist crisisberichten (crisisherkenning {metrics.get('crisis_recall', 0):.3f}, moet 1,000 zijn)."
        )
    live_metrics = (current.metrics or {}) if current else {}
    if live_metrics and float(metrics.get("accuracy", 0.0)) < float(live_metrics.get("accuracy", 0.0)) - gate.margin:
        reasons.append(
            f"De nauwkeurigheid daalt van {live_metrics['accuracy']:.3f} naar {metrics['accuracy']:.3f} "
            f"(meer dan {gate.margin:.3f})."
        )
    return reasons


@dataclass(frozen=True)
class Switch:
    """What `mark_live` changed, so `undo_live` can put it back."""

    version_id: int
    previous_id: int | None
    status: ModelStatus
    promoted_by: int | None
    promoted_at: dt.datetime | None
    override_reason: str | None


def mark_live(session: Session, version: ModelVersion, admin: Worker, override_reason: str | None) -> Switch:
    """Record the switch (the caller loads the model into Rasa before, or, when Rasa pulls
    the live model from the desk, right after and undoes it if no Rasa server could)."""
    previous = live(session)
    switch = Switch(
        version.id,
        previous.id if previous is not None and previous.id != version.id else None,
        version.status,
        version.promoted_by,
        version.promoted_at,
        version.override_reason,
    )
    if previous is not None and previous.id != version.id:
        previous.status = ModelStatus.retired
    version.status = ModelStatus.live
    version.promoted_by = admin.id
    version.promoted_at = utcnow()
    version.override_reason = override_reason
    convs.audit(
        session,
        "promote_model",
        worker=admin,
        detail={
            "model": version.name,
            "previous": previous.name if previous else None,
            "override": override_reason,
        },
    )
    return switch


def undo_live(session: Session, switch: Switch, admin: Worker) -> None:
    """No Rasa server could load the model `mark_live` put live: the previous one is live
    again and the version is as it was; the audit log keeps both steps."""
    version = session.get(ModelVersion, switch.version_id)
    if version is None:
        return
    version.status = switch.status
    version.promoted_by, version.promoted_at = switch.promoted_by, switch.promoted_at
    version.override_reason = switch.override_reason
    previous = session.get(ModelVersion, switch.previous_id) if switch.previous_id is not None else None
    if previous is not None:
        previous.status = ModelStatus.live
    convs.audit(
        session,
        "promote_model_undone",
        worker=admin,
        detail={"model": version.name, "live": previous.name if previous else None},
    )
