"""job_leases, attachment_blobs, model_versions.heartbeat_at: work shared by desk processes

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 12:20:00

Several desk processes on one database (issue 13): a periodic job runs once per interval
in one of them (`job_leases`: the next time it is due, who took it); attachments can live
in the database so every process serves them (`attachment_blobs`); a running training
shows it is alive (`heartbeat_at`), so another process's start no longer fails it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("holder", sa.String(64), nullable=False, server_default=""),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "attachment_blobs",
        sa.Column("token", sa.String(32), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("model_versions") as batch:
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("model_versions") as batch:
        batch.drop_column("heartbeat_at")
    op.drop_table("attachment_blobs")
    op.drop_table("job_leases")
