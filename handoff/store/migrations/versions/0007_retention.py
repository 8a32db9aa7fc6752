"""conversation_stats, purge_tasks, conversations.attachments_deleted_at: retention and erasure

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 21:10:00

Issue 14: closed conversations, summaries, attachments and audit entries are deleted after
their retention, and a citizen can erase everything. What the dashboard still counts goes
to `conversation_stats` (no text, no citizen); files and Rasa trackers to delete go to
`purge_tasks` in the same transaction, so a crash between the two loses nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_stats",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_on", sa.Date(), nullable=False, index=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("citizen_messages", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("fallbacks", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("handoffs", sa.JSON(), nullable=False),
    )
    op.create_table(
        "purge_tasks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.UniqueConstraint("kind", "ref"),
    )
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("attachments_deleted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("attachments_deleted_at")
    op.drop_table("purge_tasks")
    op.drop_table("conversation_stats")
