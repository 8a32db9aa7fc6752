"""Put a model live: the gate, Rasa's model swap, the file Rasa starts with, the record.

Shared by the admin page (handoff/learning/registry_api.py) and the terminal (scripts/desk).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from handoff.learning import model_registry
from handoff.ports import Assistant
from handoff.store.models import ModelStatus, ModelVersion, Worker


class NotPromotable(RuntimeError):
    """Live already, not finished, failed, or its file is gone (Dutch message for the admin)."""


async def promote(
    sessions: sessionmaker[Session],
    rasa: Assistant,
    version_id: int,
    admin_id: int,
    override_reason: str | None,
    gate: model_registry.Gate,
    live_model_path: Path,
) -> None:
    """Raises NotPromotable, model_registry.PromotionRefused (no override), AssistantUnavailable."""
    override = (override_reason or "").strip() or None
    with sessions() as session:
        version = session.get(ModelVersion, version_id)
        if version is None:
            raise LookupError(version_id)
        if version.status is ModelStatus.live:
            raise NotPromotable("Dit model is al live.")
        if version.status in (ModelStatus.training, ModelStatus.failed):
            raise NotPromotable("Dit model is nog niet klaar of is mislukt.")
        rollback = version.promoted_at is not None
        reasons = [] if rollback else model_registry.check(version, model_registry.live(session), gate)
        path = Path(version.path)
    if reasons and override is None:
        raise model_registry.PromotionRefused(reasons)
    if not path.exists():
        raise NotPromotable("Het modelbestand ontbreekt.")
    await rasa.replace_model(str(path))  # Rasa keeps serving the old model until the new one is loaded
    if path.resolve() != live_model_path.resolve():
        live_model_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = live_model_path.with_suffix(".tmp")
        shutil.copyfile(path, temporary)
        temporary.replace(live_model_path)  # a restart of Rasa keeps the promoted model
    with sessions.begin() as session:
        version = session.get(ModelVersion, version_id)
        admin = session.get(Worker, admin_id)
        assert version is not None and admin is not None
        model_registry.mark_live(session, version, admin, override if reasons else None)
