"""worker_sessions: workers' logins kept on the server, so they can be revoked

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 21:40:00

Issue 14: logout, a password reset, disabling an account or changing its role ends its
sessions at once (a signed cookie alone stays valid until it expires); a session idle for
too long ends too.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worker_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("worker_id", sa.Integer(), sa.ForeignKey("workers.id"), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_because", sa.String(32), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("worker_sessions")
