"""followups: consented check-ins and workers' reminders

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 03:20:00

Issue 15 (direct erop af): after a practical answer with a next step, or when a worker
offers it, the citizen may agree to one check-in a week later; a worker may set their own
"ik kom er op <datum> op terug". A row per follow-up, due in the database (a job delivers
it once across desk processes), without citizen text: the answer is a short outcome. The
rows go with their conversation and citizen (ON DELETE CASCADE: retention and erasure).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "followups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "kind",
            sa.Enum("checkin", "reminder", name="followup_kind", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum(
                "offered",
                "declined",
                "scheduled",
                "sent",
                "answered",
                "cancelled",
                name="followup_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "conversation_id", sa.Integer(), sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("citizen_id", sa.Integer(), sa.ForeignKey("citizens.id", ondelete="CASCADE"), nullable=False),
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("teams.id", ondelete="SET NULL"), nullable=True),
        sa.Column("worker_id", sa.Integer(), sa.ForeignKey("workers.id", ondelete="SET NULL"), nullable=True),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(300), nullable=True),
        sa.Column("tell_citizen", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column(
            "checkin_conversation_id",
            sa.Integer(),
            sa.ForeignKey("conversations.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
    )
    for column in ("kind", "state", "conversation_id", "citizen_id", "worker_id", "due_at"):
        op.create_index(f"ix_followups_{column}", "followups", [column])


def downgrade() -> None:
    op.drop_table("followups")
