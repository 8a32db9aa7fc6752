"""Put a model live: the gate, Rasa's model swap, the file Rasa starts with, the record.

Shared by the admin page (handoff/learning/registry_api.py) and the terminal (scripts/desk).

Two ways to get the model to Rasa:
- by path (the embedded default): Rasa loads the registry file from the desk's disk, then
  the record says it is live;
- by download (MODEL_SERVER_URL set: Rasa servers on other machines): the record says it is
  live first, then each Rasa server is asked to download it from the desk's model server.
  A Rasa whose endpoints.yml has a `models:` section pulls the *live* model whatever the
  request says (rasa/core/agent.py `load_agent`), so the record must already name it; when
  no Rasa server can load it, the switch is undone (model_registry.undo_live).
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from handoff.learning import model_registry, model_store
from handoff.learning.model_store import SUFFIX, ModelStore
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
    store: ModelStore | None = None,
    server_url: str | None = None,
) -> None:
    """Raises NotPromotable, model_registry.PromotionRefused (no override), AssistantUnavailable.

    With `server_url` (the desk's model server as Rasa reaches it) Rasa downloads the model
    from `store` instead of reading a path."""
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
        path, name = Path(version.path), version.name
    if reasons and override is None:
        raise model_registry.PromotionRefused(reasons)
    if server_url is not None and store is not None:
        await _promote_by_download(
            sessions, rasa, version_id, admin_id, override if reasons else None, store, server_url
        )
        await asyncio.to_thread(_keep_live_file, path, live_model_path)
        return
    if not path.exists() and store is not None and await asyncio.to_thread(store.info, name) is not None:
        await asyncio.to_thread(model_store.export, store, name, path)  # stored by another desk process
    if not path.exists():
        raise NotPromotable("Het modelbestand ontbreekt.")
    await rasa.replace_model(str(path))  # Rasa keeps serving the old model until the new one is loaded
    _keep_live_file(path, live_model_path)
    with sessions.begin() as session:
        version = session.get(ModelVersion, version_id)
        admin = session.get(Worker, admin_id)
        assert version is not None and admin is not None
        model_registry.mark_live(session, version, admin, override if reasons else None)


def _keep_live_file(path: Path, live_model_path: Path) -> None:
    """A restart of a Rasa that loads LIVE_MODEL_PATH keeps the promoted model (when this
    desk has the file; Rasa servers that pull from the model server need no file)."""
    if not path.exists() or path.resolve() == live_model_path.resolve():
        return
    live_model_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = live_model_path.with_suffix(".tmp")
    shutil.copyfile(path, temporary)
    temporary.replace(live_model_path)


async def _promote_by_download(
    sessions: sessionmaker[Session],
    rasa: Assistant,
    version_id: int,
    admin_id: int,
    override: str | None,
    store: ModelStore,
    server_url: str,
) -> None:
    with sessions() as session:
        version = session.get(ModelVersion, version_id)
        assert version is not None
        name, path = version.name, Path(version.path)
    if await asyncio.to_thread(store.info, name) is None:
        if not path.exists():
            raise NotPromotable("Het modelbestand ontbreekt.")
        await asyncio.to_thread(store.put, name, path)  # trained before the database store was on
    with sessions.begin() as session:
        version = session.get(ModelVersion, version_id)
        admin = session.get(Worker, admin_id)
        assert version is not None and admin is not None
        switch = model_registry.mark_live(session, version, admin, override)
    try:
        await rasa.replace_model(f"{server_url}/internal/models/{name}{SUFFIX}")
    except Exception:
        with sessions.begin() as session:
            admin = session.get(Worker, admin_id)
            assert admin is not None
            model_registry.undo_live(session, switch, admin)
        raise
