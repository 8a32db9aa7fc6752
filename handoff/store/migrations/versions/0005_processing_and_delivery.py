"""messages: processing state of citizen messages, delivery state of outgoing ones

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 19:10:00

A citizen message is `pending` until its answer or handoff is stored (`done`); while a
desk process works on it, it is `working` with a lease. Outgoing messages carry a
delivery state: `pending` / `sent` / `failed` for a channel the desk pushes to
(Telegram), `stored` for one that reads from the store (the widget). Messages stored
before this revision are taken as done and delivered.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

PROCESSING = ("pending", "working", "done")
DELIVERY = ("pending", "sent", "failed", "stored")


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(
            sa.Column(
                "processing",
                sa.Enum(*PROCESSING, name="processing_state", native_enum=False, create_constraint=True, length=16),
                nullable=True,
            )
        )
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("crisis", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("reply_to", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column(
                "delivery",
                sa.Enum(*DELIVERY, name="delivery_state", native_enum=False, create_constraint=True, length=16),
                nullable=True,
            )
        )
        batch.add_column(sa.Column("delivery_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("parts_sent", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_delivery_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("delivery_error", sa.String(200), nullable=True))
        batch.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_messages_processing", ["processing"])
        batch.create_index("ix_messages_delivery", ["delivery"])
        batch.create_index("ix_messages_reply_to", ["reply_to"])
        batch.create_foreign_key("fk_messages_reply_to_messages", "messages", ["reply_to"], ["id"])
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("tracker_deleted_at", sa.DateTime(timezone=True), nullable=True))
    messages = sa.table(
        "messages",
        sa.column("author", sa.String),
        sa.column("internal", sa.Boolean),
        sa.column("processing", sa.String),
        sa.column("delivery", sa.String),
    )
    op.execute(messages.update().where(messages.c.author == "citizen").values(processing="done"))
    op.execute(
        messages.update()
        .where(messages.c.author != "citizen", messages.c.internal == sa.false())
        .values(delivery="sent")
    )


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("tracker_deleted_at")
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint("fk_messages_reply_to_messages", type_="foreignkey")
        batch.drop_index("ix_messages_reply_to")
        batch.drop_index("ix_messages_delivery")
        batch.drop_index("ix_messages_processing")
        for column in (
            "delivered_at",
            "delivery_error",
            "next_delivery_at",
            "parts_sent",
            "delivery_attempts",
            "delivery",
            "reply_to",
            "crisis",
            "attempts",
            "lease_until",
            "processing",
        ):
            batch.drop_column(column)
