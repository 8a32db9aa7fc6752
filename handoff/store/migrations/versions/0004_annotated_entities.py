"""nlu inbox: words the admin marked as entities

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 19:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("nlu_inbox_items") as batch:
        batch.add_column(sa.Column("annotated_entities", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("nlu_inbox_items") as batch:
        batch.drop_column("annotated_entities")
