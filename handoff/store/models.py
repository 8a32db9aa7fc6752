"""The conversation store: citizens, conversations, messages, handoffs, workers, audit log."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from handoff.store.db import Base


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """A stored time with its zone: SQLite gives naive UTC back, PostgreSQL an aware one."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.timezone.utc)


class Channel(str, enum.Enum):
    telegram = "telegram"
    widget = "widget"


class ConversationStatus(str, enum.Enum):
    bot = "bot"
    queued = "queued"
    with_worker = "with_worker"
    closed = "closed"


class Author(str, enum.Enum):
    citizen = "citizen"
    bot = "bot"
    worker = "worker"
    system = "system"


class Urgency(str, enum.Enum):
    normal = "normal"
    urgent = "urgent"
    crisis = "crisis"


class Processing(str, enum.Enum):
    """A citizen message: stored (`pending`), being worked on under a lease, answered or handed off."""

    pending = "pending"
    working = "working"
    done = "done"


class Delivery(str, enum.Enum):
    """An outgoing message: waiting to be pushed to the channel, pushed, given up, or read
    by the channel from the store (the widget reads its history and stream)."""

    pending = "pending"
    sent = "sent"
    failed = "failed"
    stored = "stored"


class Outcome(str, enum.Enum):
    resolved = "resolved"
    referred = "referred"
    no_response = "no_response"


class Role(str, enum.Enum):
    worker = "worker"
    admin = "admin"


class Presence(str, enum.Enum):
    online = "online"
    away = "away"


def _enum(kind: type[enum.Enum], name: str) -> Enum:
    """A portable enum column: VARCHAR with a CHECK constraint on both databases."""
    return Enum(kind, name=name, native_enum=False, create_constraint=True, length=16, validate_strings=True)


class Citizen(Base):
    """One channel identity (a Telegram chat, a widget visitor)."""

    __tablename__ = "citizens"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"))
    external_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    conversations: Mapped[list[Conversation]] = relationship(back_populates="citizen")


class Worker(Base):
    """A social worker or admin who logs in to the inbox."""

    __tablename__ = "workers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), default=Role.worker)
    presence: Mapped[Presence] = mapped_column(_enum(Presence, "presence"), default=Presence.away)
    max_concurrent: Mapped[int] = mapped_column(Integer, default=5)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Conversation(Base):
    """A conversation; its status changes only in handoff.store.conversations."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"))
    source: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[ConversationStatus] = mapped_column(
        _enum(ConversationStatus, "conversation_status"), default=ConversationStatus.bot, index=True
    )
    rasa_sender_id: Mapped[str] = mapped_column(String(64), unique=True)
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    """The team that answers it (handoff/store/teams.py routes; a transfer changes it). A
    follow-up later routes back here. None: the shared queue (no team fits, no teams set)."""
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    tracker_deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    """When the desk deleted Rasa's tracker of this closed conversation (bounded tracker growth)."""
    attachments_deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    """When retention deleted this closed conversation's attachments (handoff/store/retention.py)."""

    citizen: Mapped[Citizen] = relationship(back_populates="conversations")
    worker: Mapped[Worker | None] = relationship()
    messages: Mapped[list[Message]] = relationship(back_populates="conversation", order_by="Message.id")
    handoffs: Mapped[list[Handoff]] = relationship(back_populates="conversation", order_by="Handoff.id")


class Message(Base):
    """One message in a conversation. `dedupe_key` makes a redelivery recognisable."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    author: Mapped[Author] = mapped_column(_enum(Author, "author"))
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    buttons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(none_as_null=True))
    attachments: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(none_as_null=True))
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    """An internal note between workers; never delivered to the citizen."""
    dedupe_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    nlu: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    """For a citizen message the assistant handled: intent, confidence, runner-up, triage."""
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    processing: Mapped[Processing | None] = mapped_column(_enum(Processing, "processing_state"), index=True)
    """Citizen messages only: not done until the answer or the handoff is stored."""
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    """While `working`: the desk process that claimed it holds it until then (renewed while it works)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    crisis: Mapped[bool] = mapped_column(Boolean, default=False)
    """The safety net's rules saw a crisis in it (the recovery sweep takes these first)."""
    reply_to: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    """For a reply: the citizen message it answers."""
    delivery: Mapped[Delivery | None] = mapped_column(_enum(Delivery, "delivery_state"), index=True)
    delivery_attempts: Mapped[int] = mapped_column(Integer, default=0)
    parts_sent: Mapped[int] = mapped_column(Integer, default=0)
    """A long message goes out in parts (Telegram: 4096 characters); a retry sends only the rest."""
    next_delivery_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    delivery_error: Mapped[str | None] = mapped_column(String(200))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class Handoff(Base):
    """A conversation's stay in the worker queue, from queued to closed."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    urgency: Mapped[Urgency] = mapped_column(_enum(Urgency, "urgency"), default=Urgency.normal)
    domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    summary: Mapped[str] = mapped_column(Text, default="")
    queued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id"))
    outcome: Mapped[Outcome | None] = mapped_column(_enum(Outcome, "outcome"))
    case_note: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    """The last transfer's note from one worker to the next (the receiving side reads it with
    the summary, before claiming); deleted with the handoff."""

    conversation: Mapped[Conversation] = relationship(back_populates="handoffs")


class AuditLog(Base):
    """Who viewed, claimed, transferred or closed what, and when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id"))
    action: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class InboxStatus(str, enum.Enum):
    open = "open"
    annotated = "annotated"
    out_of_scope = "out_of_scope"
    discarded = "discarded"


class NluInboxItem(Base):
    """A citizen message the assistant was unsure about, masked, for an admin to annotate.

    Only the masked text is kept here (no link to the citizen beyond the message id, which
    is cleared when the message goes); items expire after the configured retention.
    """

    __tablename__ = "nlu_inbox_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"), index=True)
    masked_text: Mapped[str] = mapped_column(Text)
    group_key: Mapped[str] = mapped_column(String(200), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    predicted_intent: Mapped[str] = mapped_column(String(64), default="")
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    second_intent: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[InboxStatus] = mapped_column(
        _enum(InboxStatus, "inbox_status"), default=InboxStatus.open, index=True
    )
    annotated_intent: Mapped[str | None] = mapped_column(String(64))
    annotated_entities: Mapped[list[dict[str, str]] | None] = mapped_column(JSON(none_as_null=True))
    """Words the admin marked: [{"text", "entity", "value"}] (phrase, entity type, canonical value)."""
    annotated_by: Mapped[int | None] = mapped_column(ForeignKey("workers.id"))
    annotated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    exported_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    """When the annotation was taken into `training_examples` (or refused for good)."""
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class TrainingExample(Base):
    """An annotated citizen message as NLU training data: its masked text, intent and the words
    the admin marked. Kept here, not in data/ (git cannot forget), and merged into a copy of
    data/ when a model is trained (handoff/learning/training_data.py).

    Provenance, so that the citizen's erasure deletes it (handoff/store/forget.py): the inbox
    item, message and conversation it came from. Retention of the conversation only unlinks
    it; who annotated it and when stay for the admin.
    """

    __tablename__ = "training_examples"

    id: Mapped[int] = mapped_column(primary_key=True)
    intent: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text)
    """Masked, on one line, without entity markup."""
    entities: Mapped[list[dict[str, str]] | None] = mapped_column(JSON(none_as_null=True))
    """Words the admin marked: [{"text", "entity", "value"}], as on the inbox item."""
    inbox_item_id: Mapped[int | None] = mapped_column(ForeignKey("nlu_inbox_items.id", ondelete="SET NULL"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"), index=True)
    annotated_by: Mapped[int | None] = mapped_column(ForeignKey("workers.id"))
    annotated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ModelStatus(str, enum.Enum):
    training = "training"
    failed = "failed"
    ready = "ready"
    live = "live"
    retired = "retired"


class ModelVersion(Base):
    """One trained assistant model: who trained it on which data, its scores, when it went live."""

    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    path: Mapped[str] = mapped_column(String(500))
    status: Mapped[ModelStatus] = mapped_column(_enum(ModelStatus, "model_status"), index=True)
    stage: Mapped[str] = mapped_column(String(64), default="")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    data_hash: Mapped[str] = mapped_column(String(64), default="")
    config: Mapped[str] = mapped_column(String(200), default="config.yml")
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    error: Mapped[str | None] = mapped_column(Text)
    trained_by: Mapped[int | None] = mapped_column(ForeignKey("workers.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    promoted_by: Mapped[int | None] = mapped_column(ForeignKey("workers.id"))
    promoted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    override_reason: Mapped[str | None] = mapped_column(Text)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    """Touched while the training runs; a training silent for long is taken as gone."""


class JobLease(Base):
    """A periodic job shared by the desk processes: the next time it is due, who took it."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    due_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    holder: Mapped[str] = mapped_column(String(64), default="")
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    runs: Mapped[int] = mapped_column(Integer, default=0)


class AttachmentBlob(Base):
    """A citizen's file kept in the database (ATTACHMENTS_STORE=database)."""

    __tablename__ = "attachment_blobs"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ModelFile(Base):
    """A trained model's file kept in the database (MODELS_STORE=database): its name, size
    and SHA-256; the bytes are the `model_chunks` rows, a few MB each, so no process ever
    holds a whole model (about 110 MB) in memory to store or serve it."""

    __tablename__ = "model_files"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    chunks: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ModelChunk(Base):
    """One piece of a model file, in order (`seq` from 0)."""

    __tablename__ = "model_chunks"

    name: Mapped[str] = mapped_column(String(64), ForeignKey("model_files.name", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ConversationStats(Base):
    """What the dashboard still counts of a conversation that retention or erasure deleted:
    the day, the channel, counts and the handoffs' urgency, domains, waiting time and
    outcome. No text, no citizen, no conversation id."""

    __tablename__ = "conversation_stats"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_on: Mapped[dt.date] = mapped_column(Date, index=True)
    channel: Mapped[str] = mapped_column(String(16))
    citizen_messages: Mapped[int] = mapped_column(Integer, default=0)
    """Citizen messages the assistant handled (with a parse), as the dashboard counts them."""
    fallbacks: Mapped[int] = mapped_column(Integer, default=0)
    handoffs: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """[{"queued_on", "urgency", "domains", "wait_minutes" (None: never claimed), "outcome"}]"""


class PurgeTask(Base):
    """Something outside the desk's own tables to delete after a conversation went: an
    attachment file or a Rasa tracker. Stored in the same transaction as the deletion, done
    right after it and again by a periodic job until it succeeds (a crash loses nothing)."""

    __tablename__ = "purge_tasks"
    __table_args__ = (UniqueConstraint("kind", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    """"attachment" (ref: the file's token) or "tracker" (ref: the Rasa sender id)."""
    ref: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class WorkerSession(Base):
    """A worker's login, kept on the server so it can be revoked (logout, password reset,
    disable, role change) and expires after idling (handoff/worker_sessions.py). The id is
    the SHA-256 of the cookie's random nonce: the database never holds a usable cookie."""

    __tablename__ = "worker_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_because: Mapped[str | None] = mapped_column(String(32))


class Team(Base):
    """A team of workers (Wijkteam, Schuldhulp, Jongerenwerk …) with its own hours and what it
    takes: life domains, urgencies, sources. Empty lists mean "all"; `hours` None means the
    municipality's office hours. Routing: handoff/store/teams.py."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    hours: Mapped[dict[str, str] | None] = mapped_column(JSON(none_as_null=True))
    """{"monday": "09:00-17:00", …} like opening_hours in data/gemeente.yml; None: the municipality's."""
    domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    urgencies: Mapped[list[str]] = mapped_column(JSON, default=list)
    sources: Mapped[list[str]] = mapped_column(JSON, default=list)
    """"telegram", "widget" (any widget) or "widget:<tag>" (the widget on one partner's site)."""
    fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    """Takes what no other team fits, and what would wait too long for a closed team (one team)."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TeamMember(Base):
    """A worker in a team (a worker can be in several)."""

    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"), primary_key=True, index=True)


class FollowUpKind(str, enum.Enum):
    checkin = "checkin"
    """A check-in the citizen agreed to ("Zal ik over een week vragen hoe het ging?")."""
    reminder = "reminder"
    """A worker's own "ik kom er op <datum> op terug": a reminder in their inbox."""


class FollowUpState(str, enum.Enum):
    offered = "offered"
    """Asked, not answered: nothing is scheduled without a yes."""
    declined = "declined"
    scheduled = "scheduled"
    """Due at `due_at` (moved out of quiet hours when it comes)."""
    sent = "sent"
    """The check-in was stored for the citizen (the outbox delivers it); a reminder was shown."""
    answered = "answered"
    cancelled = "cancelled"
    """The citizen said stop, or the worker cancelled their reminder."""


class FollowUp(Base):
    """A consented check-in or a worker's reminder (handoff/store/followups.py).

    No citizen text: the citizen's answer is `outcome` ("gelukt", "lukt_niet", "gestopt"),
    which the dashboard can count; a worker's reminder has the worker's short `note`. Goes
    with the conversation (retention) and the citizen (erasure): ON DELETE CASCADE."""

    __tablename__ = "followups"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[FollowUpKind] = mapped_column(_enum(FollowUpKind, "followup_kind"), index=True)
    state: Mapped[FollowUpState] = mapped_column(_enum(FollowUpState, "followup_state"), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    """The conversation it was offered (or the reminder set) in."""
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    """The conversation's team when it was offered: "het lukt niet" goes back to its queue."""
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id", ondelete="SET NULL"), index=True)
    """Who offered it (a close) or whose reminder it is; None: the assistant offered it."""
    reason: Mapped[str] = mapped_column(String(16))
    """Where it came from: "next_step" (the assistant's answer), "closed" (a worker), "worker" (a reminder)."""
    due_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    note: Mapped[str | None] = mapped_column(String(300))
    """A worker's reminder: their own short note. Check-ins have none."""
    tell_citizen: Mapped[bool] = mapped_column(Boolean, default=False)
    """A worker's reminder: the citizen was told the date ("Je hoort uiterlijk … van ons")."""
    outcome: Mapped[str | None] = mapped_column(String(16))
    """The citizen's answer to the check-in: "gelukt", "lukt_niet" or "gestopt"."""
    checkin_conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    """Where the check-in was delivered (the citizen's open conversation, or a new one)."""
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    scheduled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    """When the citizen answered, declined or stopped (or the worker cancelled)."""


class DomainResult(str, enum.Enum):
    """A life domain's result when a worker closes a conversation (issue 15)."""

    improved = "improved"
    same = "same"
    referred = "referred"


class DomainOutcome(Base):
    """One life domain's result of a closed conversation, and where to when referred: an
    offer of data/knowledge/informal_help.yml (its key and kind, formal or informal). No free
    text, so it is kept as it is when retention or an erasure deletes the conversation (the
    link to it goes): handoff/store/outcomes.py, handoff/store/forget.py."""

    __tablename__ = "domain_outcomes"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    urgency: Mapped[str] = mapped_column(String(16), default="normal")
    domain: Mapped[str] = mapped_column(String(32))
    result: Mapped[DomainResult] = mapped_column(_enum(DomainResult, "domain_result"))
    referral_key: Mapped[str | None] = mapped_column(String(64))
    referral_kind: Mapped[str | None] = mapped_column(String(16))
    """"formal" or "informal" (kept even if the offer later leaves the data file)."""
    closed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
