"""training_examples: annotated citizen messages as training data, in the database

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 02:55:00

Issue 14: no citizen text in git. Annotations used to be appended to data/nlu/<topic>.yml
and data/nlp/entity_patterns.yml; git cannot forget, so an erasure request could never
reach them. Now each annotated example is a row with its provenance (inbox item, message,
conversation), who annotated it and when; the training job merges the rows into a copy of
data/ (handoff/learning/training_data.py). What earlier exports wrote into data/ stays
there: it is in git's history anyway, and removing it is a decision for the repository.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_examples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("intent", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("entities", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("inbox_item_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("annotated_by", sa.Integer(), nullable=True),
        sa.Column("annotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["inbox_item_id"],
            ["nlu_inbox_items.id"],
            name=op.f("fk_training_examples_inbox_item_id_nlu_inbox_items"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_training_examples_message_id_messages"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_training_examples_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["annotated_by"], ["workers.id"], name=op.f("fk_training_examples_annotated_by_workers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_examples")),
    )
    with op.batch_alter_table("training_examples", schema=None) as batch_op:
        for column in ("intent", "inbox_item_id", "message_id", "conversation_id"):
            batch_op.create_index(batch_op.f(f"ix_training_examples_{column}"), [column], unique=False)


def downgrade() -> None:
    op.drop_table("training_examples")
