"""Terminal equivalents of the admin page's learning loop (for CI and for admins who prefer
a terminal): export annotations, list models, train (with a progress bar), promote."""

from __future__ import annotations

import asyncio
import sys

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from baken_core.paths import PROJECT_ROOT
from bot.rasa_client import RasaUnavailable
from bot.rasa_pool import connect_rasa
from handoff.config import DeskSettings
from handoff.learning import model_registry, model_store, promotion, training_export, training_job
from handoff.store.models import ModelStatus, ModelVersion, Worker

BAR = 30


def admin_named(session: Session, name: str) -> Worker:
    worker = session.scalar(select(Worker).where(Worker.name == name))
    if worker is None or worker.role.value != "admin" or worker.disabled:
        raise SystemExit(f"Geen actieve beheerder met de naam {name!r}.")
    return worker


def export(sessions: sessionmaker[Session]) -> int:
    with sessions.begin() as session:
        report = training_export.export_annotated(session)
    for file, count in sorted(report.written.items()):
        print(f"{file}: {count} nieuw")
    for item_id, reason in report.refused:
        print(f"geweigerd: bericht {item_id} ({reason})")
    print(f"Klaar: {report.total} voorbeelden toegevoegd.")
    return 0


def list_models(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        for v in session.scalars(select(ModelVersion).order_by(ModelVersion.id)):
            scores = v.metrics or {}
            numbers = " ".join(
                f"{k}={scores[k]:.3f}" for k in ("accuracy", "macro_f1", "crisis_recall", "false_crisis") if k in scores
            )
            print(f"{v.id:>4}  {v.name:<32} {v.status.value:<9} {numbers}")
    return 0


def _bar(percent: int, stage: str) -> str:
    done = BAR * percent // 100
    return f"\r[{'#' * done}{'.' * (BAR - done)}] {percent:3d}% {stage:<32}"


async def _train(sessions: sessionmaker[Session], desk: DeskSettings, admin_name: str) -> int:
    models_dir = (PROJECT_ROOT / desk.models_dir).resolve()
    store = model_store.from_settings(desk, sessions, models_dir)
    with sessions.begin() as session:
        model_registry.ensure_live_registered(
            session, (PROJECT_ROOT / desk.live_model_path).resolve(), models_dir, store
        )
        admin = admin_named(session, admin_name)
        try:
            version = model_registry.start_training(session, admin, desk.training_config, models_dir)
        except model_registry.TrainingBusy:
            print("Er loopt al een training.", file=sys.stderr)
            return 1
        version_id = version.id
    job = asyncio.create_task(
        training_job.run(sessions, version_id, training_job.JobSettings(heldout=desk.evaluation_set), store)
    )
    while not job.done():
        with sessions() as session:
            row = session.get(ModelVersion, version_id)
            if row is not None:
                print(_bar(row.progress, row.stage), end="", flush=True)
        await asyncio.sleep(1)
    with sessions() as session:
        row = session.get(ModelVersion, version_id)
        assert row is not None
        print(_bar(row.progress, row.stage))
        if row.status is not ModelStatus.ready:
            print(f"Mislukt: {row.error}", file=sys.stderr)
            return 1
        print(f"Model {row.id} ({row.name}) is klaar.")
    return list_models(sessions)


def train(sessions: sessionmaker[Session], desk: DeskSettings, admin_name: str) -> int:
    return asyncio.run(_train(sessions, desk, admin_name))


async def _promote(
    sessions: sessionmaker[Session], desk: DeskSettings, version_id: int, admin_name: str, override: str | None
) -> int:
    with sessions() as session:
        admin_id = admin_named(session, admin_name).id
    server_url = desk.model_server_base()
    token = desk.model_server_token.get_secret_value() if desk.model_server_token and server_url else None
    rasa = connect_rasa(desk.rasa_url, timeout_s=desk.rasa_timeout_s, model_token=token)
    try:
        await promotion.promote(
            sessions,
            rasa,
            version_id,
            admin_id,
            override,
            model_registry.Gate(margin=desk.promote_margin),
            (PROJECT_ROOT / desk.live_model_path).resolve(),
            model_store.from_settings(desk, sessions, (PROJECT_ROOT / desk.models_dir).resolve()),
            server_url,
        )
    except LookupError:
        print(f"Model {version_id} bestaat niet.", file=sys.stderr)
        return 1
    except promotion.NotPromotable as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except model_registry.PromotionRefused as exc:
        print("Dit model haalt de lat niet:", file=sys.stderr)
        for reason in exc.reasons:
            print(f"- {reason}", file=sys.stderr)
        print("Alleen met --override 'reden' (komt in het logboek).", file=sys.stderr)
        return 2
    except RasaUnavailable:
        print("De assistent kon het model niet laden. Er is niets veranderd.", file=sys.stderr)
        return 1
    finally:
        await rasa.close()
    print(f"Model {version_id} is live.")
    return 0


def promote(
    sessions: sessionmaker[Session], desk: DeskSettings, version_id: int, admin_name: str, override: str | None
) -> int:
    return asyncio.run(_promote(sessions, desk, version_id, admin_name, override))
