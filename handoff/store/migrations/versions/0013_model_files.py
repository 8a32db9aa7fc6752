"""model_files, model_chunks: trained models in the database, for Rasa servers on other machines

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 07:00:00

With MODELS_STORE=database a trained model's bytes live in the desk database, in chunks of a
few MB, so every desk process can serve it to every Rasa server (GET /internal/models/...),
wherever it was trained. The folder store (the embedded default) does not use these tables.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_files",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "model_chunks",
        sa.Column("name", sa.String(64), sa.ForeignKey("model_files.name", ondelete="CASCADE"), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("model_chunks")
    op.drop_table("model_files")
