"""Admin API: retrain in the background, see progress and scores, promote or roll back."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.admin import charts
from handoff.deps import CurrentAdmin, Desk, DeskState, ModelId
from handoff.learning import model_registry, promotion, training_job
from handoff.ports import AssistantUnavailable
from handoff.store.models import ModelStatus, ModelVersion, Worker

router = APIRouter(prefix="/api/admin/models", tags=["admin"])
SUMMARY_KEYS = ("accuracy", "macro_f1", "crisis_recall", "false_crisis", "domain_micro_f1", "n")


class ModelOut(BaseModel):
    id: int
    name: str
    status: str
    stage: str
    progress: int
    config: str
    data_hash: str
    trained_by: str | None
    created_at: str
    finished_at: str | None
    promoted_at: str | None
    override_reason: str | None
    error: str | None
    scores: dict[str, float]
    gate: list[str]
    """Why it may not go live without an override (empty: it may)."""
    was_live: bool


class Registry(BaseModel):
    live_id: int | None
    running_id: int | None
    versions: list[ModelOut]


class ModelDetail(ModelOut):
    per_intent_f1: dict[str, float]
    live_per_intent_f1: dict[str, float]
    live_scores: dict[str, float]


class Promote(BaseModel):
    override_reason: Annotated[str | None, Field(max_length=500)] = None


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _out(session: Session, version: ModelVersion, live: ModelVersion | None, gate: model_registry.Gate) -> ModelOut:
    metrics = version.metrics or {}
    trainer = session.get(Worker, version.trained_by) if version.trained_by else None
    return ModelOut(
        id=version.id,
        name=version.name,
        status=version.status.value,
        stage=version.stage,
        progress=version.progress,
        config=version.config,
        data_hash=version.data_hash[:12],
        trained_by=trainer.name if trainer else None,
        created_at=version.created_at.isoformat(),
        finished_at=_iso(version.finished_at),
        promoted_at=_iso(version.promoted_at),
        override_reason=version.override_reason,
        error=version.error,
        scores={k: float(metrics[k]) for k in SUMMARY_KEYS if k in metrics},
        gate=[] if version.status is ModelStatus.live else model_registry.check(version, live, gate),
        was_live=version.promoted_at is not None,
    )


def _version(session: Session, model_id: int) -> ModelVersion:
    version = session.get(ModelVersion, model_id)
    if version is None:
        raise HTTPException(404, "Dit model bestaat niet.")
    return version


@router.get("", response_model=Registry, summary="All models, the live one, a running training")
async def registry(admin: CurrentAdmin, desk: Desk) -> Any:
    gate = desk.learning.gate
    await asyncio.to_thread(_register_start_model, desk)  # a first copy of ~110 MB
    with desk.sessions() as session:
        live = model_registry.live(session)
        running = model_registry.running(session)
        versions = session.scalars(select(ModelVersion).order_by(ModelVersion.id.desc()).limit(50)).all()
        return Registry(
            live_id=live.id if live else None,
            running_id=running.id if running else None,
            versions=[_out(session, v, live, gate) for v in versions],
        )


@router.get("/{model_id}", response_model=ModelDetail, summary="One model: scores side by side with the live one")
async def detail(model_id: ModelId, admin: CurrentAdmin, desk: Desk) -> Any:
    with desk.sessions() as session:
        version = _version(session, model_id)
        live = model_registry.live(session)
        base = _out(session, version, live, desk.learning.gate)
        live_metrics = (live.metrics or {}) if live else {}
        return ModelDetail(
            **base.model_dump(),
            per_intent_f1=(version.metrics or {}).get("per_intent_f1", {}),
            live_per_intent_f1=live_metrics.get("per_intent_f1", {}),
            live_scores={k: float(live_metrics[k]) for k in SUMMARY_KEYS if k in live_metrics},
        )


def _register_start_model(desk: DeskState) -> None:
    """On first use, the model Rasa started with becomes the first (live) registry entry."""
    with desk.sessions.begin() as session:
        model_registry.ensure_live_registered(
            session, desk.learning.live_model_path, desk.learning.models_dir, desk.learning.store
        )


def _svg(body: str) -> Response:
    return Response(body, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.get("/{model_id}/confusion.svg", summary="Confusion matrix (SVG)", response_class=Response)
async def confusion(model_id: ModelId, admin: CurrentAdmin, desk: Desk) -> Response:
    with desk.sessions() as session:
        metrics = _version(session, model_id).metrics or {}
    if not metrics.get("labels"):
        raise HTTPException(404, "Dit model is nog niet beoordeeld.")
    return _svg(charts.confusion_matrix(metrics["labels"], metrics["matrix"]))


@router.get("/{model_id}/f1.svg", summary="F1 per intent (SVG), with the live model as ticks", response_class=Response)
async def f1(model_id: ModelId, admin: CurrentAdmin, desk: Desk) -> Response:
    with desk.sessions() as session:
        metrics = _version(session, model_id).metrics or {}
        live = model_registry.live(session)
        live_f1 = (live.metrics or {}).get("per_intent_f1") if live and live.id != model_id else None
    if not metrics.get("per_intent_f1"):
        raise HTTPException(404, "Dit model is nog niet beoordeeld.")
    return _svg(charts.f1_bars(metrics["per_intent_f1"], live_f1))


@router.post("/train", response_model=ModelOut, status_code=202, summary="Retrain in the background")
async def train(admin: CurrentAdmin, desk: Desk) -> Any:
    state = desk.learning
    await asyncio.to_thread(_register_start_model, desk)  # a first copy of ~110 MB
    with desk.sessions.begin() as session:
        stored = session.get(Worker, admin.id)
        assert stored is not None
        try:
            version = model_registry.start_training(session, stored, state.training_config, state.models_dir)
        except model_registry.TrainingBusy:
            raise HTTPException(409, "Er loopt al een training. Wacht tot die klaar is.") from None
        out = _out(session, version, model_registry.live(session), state.gate)
    state.training_task = asyncio.create_task(
        training_job.run(desk.sessions, version.id, state.job_settings, state.store)
    )
    return out


@router.post("/{model_id}/promote", response_model=ModelOut, summary="Put a model live (or roll back to it)")
async def promote(model_id: ModelId, body: Promote, admin: CurrentAdmin, desk: Desk) -> Any:
    state = desk.learning
    try:
        await promotion.promote(
            desk.sessions,
            desk.assistant,
            model_id,
            admin.id,
            body.override_reason,
            state.gate,
            state.live_model_path,
            state.store,
            state.server_url,
        )
    except LookupError:
        raise HTTPException(404, "Dit model bestaat niet.") from None
    except promotion.NotPromotable as exc:
        raise HTTPException(409, str(exc)) from None
    except model_registry.PromotionRefused as exc:
        return JSONResponse(
            status_code=409,
            content={
                "detail": "Dit model haalt de lat niet. Zet het alleen live met een reden.",
                "reasons": exc.reasons,
            },
        )
    except AssistantUnavailable:
        raise HTTPException(503, "De assistent kon het model niet laden. Er is niets veranderd.") from None
    with desk.sessions() as session:
        version = _version(session, model_id)
        return _out(session, version, version, state.gate)
