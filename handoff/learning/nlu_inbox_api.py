"""Admin API: the NLU inbox (masked messages the assistant was unsure about), annotation,
the annotated examples kept as training data (list, delete), and the worker's "de assistent
begreep dit verkeerd" flag."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from baken_core import entity_patterns
from handoff.deps import CurrentAdmin, CurrentWorker, Desk, MessageId
from handoff.learning import intent_catalog, nlu_inbox, training_export
from handoff.store import conversations as convs
from handoff.store.db import MAX_ID
from handoff.store.models import Author, InboxStatus, Message, NluInboxItem, TrainingExample, Worker, utcnow

router = APIRouter(prefix="/api", tags=["admin"])
ExampleId = Annotated[int, Path(ge=1, le=MAX_ID)]
EXAMPLES_SHOWN = 500


class IntentOut(BaseModel):
    name: str
    topic: str
    meaning: str


class GroupOut(BaseModel):
    group_key: str
    text: str
    count: int
    item_ids: list[int]
    predicted_intents: list[str]
    reasons: list[str]
    latest: str


class EntityTypeOut(BaseModel):
    name: str
    meaning: str
    values: list[str]


class NluInbox(BaseModel):
    open: int
    groups: list[GroupOut]
    intents: list[IntentOut]
    entity_types: list[EntityTypeOut]


class EntityMark(BaseModel):
    """A word or a few words in the message, the kind of thing it is, and its fixed name."""

    text: Annotated[str, Field(min_length=1, max_length=entity_patterns.MAX_PHRASE)]
    entity: Annotated[str, Field(min_length=1, max_length=32)]
    value: Annotated[str | None, Field(max_length=40)] = None


class Annotate(BaseModel):
    item_ids: Annotated[list[Annotated[int, Field(ge=1, le=MAX_ID)]], Field(min_length=1, max_length=500)]
    action: Literal["intent", "out_of_scope", "discard"]
    intent: Annotated[str | None, Field(max_length=64)] = None
    entities: Annotated[list[EntityMark], Field(max_length=10)] = []


class AnnotateResult(BaseModel):
    updated: int


@router.get("/admin/nlu-inbox", response_model=NluInbox, summary="Open NLU inbox items, grouped")
async def nlu_inbox_view(admin: CurrentAdmin, desk: Desk) -> Any:
    with desk.sessions.begin() as session:
        nlu_inbox.purge_expired(session)
        groups = nlu_inbox.open_groups(session)
        total = nlu_inbox.open_count(session)
    return NluInbox(
        open=total,
        groups=[
            GroupOut(
                group_key=g.group_key,
                text=g.text,
                count=g.count,
                item_ids=g.item_ids,
                predicted_intents=g.predicted_intents,
                reasons=g.reasons,
                latest=g.latest.isoformat(),
            )
            for g in groups
        ],
        intents=[IntentOut(name=i.name, topic=i.topic, meaning=i.meaning) for i in intent_catalog.intents()],
        entity_types=[
            EntityTypeOut(name=t.name, meaning=t.meaning, values=list(t.values)) for t in entity_patterns.entity_types()
        ],
    )


def _checked_marks(body: Annotate, items: list[NluInboxItem]) -> list[dict[str, str]]:
    """The marks as stored, or 422 with a message the admin can act on."""
    if body.entities and body.action != "intent":
        raise HTTPException(422, "Woorden markeren kan alleen samen met een intentie.")
    marks: list[dict[str, str]] = []
    for mark in body.entities:
        phrase = entity_patterns.normalise_phrase(mark.text)
        known = entity_patterns.known_phrases(mark.entity) if mark.entity in entity_patterns.MEANINGS else {}
        value = (mark.value or "").strip() or known.get(phrase) or entity_patterns.slug(phrase)
        try:
            entity_patterns.check(mark.entity, phrase, value)
        except entity_patterns.PatternError as exc:
            raise HTTPException(422, str(exc)) from exc
        if training_export.personal(phrase):
            raise HTTPException(422, "Dit lijken persoonlijke gegevens; die worden geen patroon.")
        missing = [i.id for i in items if training_export.find_phrase(i.masked_text, phrase) is None]
        if missing:
            raise HTTPException(422, f"'{phrase}' staat niet in elk gekozen bericht.")
        marks.append({"text": phrase, "entity": mark.entity, "value": value})
    return marks


@router.post("/admin/nlu-inbox/annotate", response_model=AnnotateResult, summary="Annotate items (one or a group)")
async def annotate(body: Annotate, admin: CurrentAdmin, desk: Desk) -> Any:
    if body.action == "intent" and (body.intent is None or intent_catalog.by_name(body.intent) is None):
        raise HTTPException(422, "Kies een bestaande intentie uit de lijst.")
    status = {
        "intent": InboxStatus.annotated,
        "out_of_scope": InboxStatus.annotated,
        "discard": InboxStatus.discarded,
    }[body.action]
    intent = body.intent if body.action == "intent" else ("out_of_scope" if body.action == "out_of_scope" else None)
    now = utcnow()
    with desk.sessions.begin() as session:
        items = session.scalars(
            select(NluInboxItem).where(NluInboxItem.id.in_(body.item_ids), NluInboxItem.status == InboxStatus.open)
        ).all()
        marks = _checked_marks(body, list(items))
        for item in items:
            item.status = status
            item.annotated_intent = intent
            item.annotated_entities = marks or None
            item.annotated_by = admin.id
            item.annotated_at = now
        convs.audit(
            session,
            "annotate",
            worker=admin,
            detail={"count": len(items), "action": body.action, "intent": intent, "entities": len(marks)},
        )
    return AnnotateResult(updated=len(items))


class Flagged(BaseModel):
    item_id: int | None


@router.post(
    "/inbox/messages/{message_id}/flag",
    response_model=Flagged,
    status_code=201,
    summary="Flag a citizen message: the assistant misunderstood it",
)
async def flag(message_id: MessageId, worker: CurrentWorker, desk: Desk) -> Any:
    with desk.sessions.begin() as session:
        message = session.get(Message, message_id)
        if message is None or message.author is not Author.citizen:
            raise HTTPException(404, "Dit bericht van een inwoner bestaat niet.")
        stored = session.get(Worker, worker.id)
        assert stored is not None
        item = nlu_inbox.flag(session, message, stored, desk.thresholds)
        convs.audit(session, "flag_message", worker=stored, conversation=message.conversation)
        return Flagged(item_id=item.id if item else None)


class Refused(BaseModel):
    item_id: int
    reason: str


class ExportResult(BaseModel):
    written: dict[str, int]
    refused: list[Refused]
    patterns_added: list[str]


@router.post(
    "/admin/nlu-inbox/export",
    response_model=ExportResult,
    summary="Keep annotations as training examples in the database (used from the next training on)",
)
async def export(admin: CurrentAdmin, desk: Desk) -> Any:
    with desk.sessions.begin() as session:
        report = training_export.export_annotated(session)
        convs.audit(session, "export_training_data", worker=admin, detail={"written": report.written})
    return ExportResult(
        written=report.written,
        refused=[Refused(item_id=i, reason=reason) for i, reason in report.refused],
        patterns_added=report.patterns_added,
    )


class ExampleOut(BaseModel):
    id: int
    intent: str
    text: str
    entities: list[str]
    """"label: phrase" for each marked word."""
    annotated_by: str | None
    annotated_at: str | None
    created_at: str
    linked: bool
    """Still linked to its conversation: the citizen's erasure deletes it."""


class Examples(BaseModel):
    total: int
    examples: list[ExampleOut]
    """The newest first, at most 500."""


@router.get("/admin/training-examples", response_model=Examples, summary="Annotated examples kept as training data")
async def training_examples(admin: CurrentAdmin, desk: Desk) -> Any:
    with desk.sessions() as session:
        total = int(session.scalar(select(func.count()).select_from(TrainingExample)) or 0)
        rows = session.execute(
            select(TrainingExample, Worker.name)
            .outerjoin(Worker, Worker.id == TrainingExample.annotated_by)
            .order_by(TrainingExample.id.desc())
            .limit(EXAMPLES_SHOWN)
        ).all()
    return Examples(
        total=total,
        examples=[
            ExampleOut(
                id=example.id,
                intent=example.intent,
                text=example.text,
                entities=[f"{m.get('entity')}: {m.get('text')}" for m in example.entities or []],
                annotated_by=name,
                annotated_at=example.annotated_at.isoformat() if example.annotated_at else None,
                created_at=example.created_at.isoformat(),
                linked=example.conversation_id is not None or example.message_id is not None,
            )
            for example, name in rows
        ],
    )


@router.delete(
    "/admin/training-examples/{example_id}",
    status_code=204,
    summary="Delete a training example (the next training goes without it)",
)
async def delete_training_example(example_id: ExampleId, admin: CurrentAdmin, desk: Desk) -> None:
    with desk.sessions.begin() as session:
        example = session.get(TrainingExample, example_id)
        if example is None:
            raise HTTPException(404, "Dit voorbeeld bestaat niet (meer).")
        session.delete(example)
        convs.audit(session, "delete_training_example", worker=admin, detail={"example": example_id})
