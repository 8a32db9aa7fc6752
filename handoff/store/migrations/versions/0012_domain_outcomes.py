"""domain_outcomes: a result per life domain when a worker closes a conversation

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 03:30:00

Issue 15 ("niet vrijblijvend maar resultaatgericht"): per life domain improved / same /
referred, and where to (an offer of data/knowledge/informal_help.yml, formal or informal).
No free text: the rows stay, unlinked, when retention or an erasure deletes the conversation.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "domain_outcomes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.Integer(), sa.ForeignKey("conversations.id"), nullable=True, index=True),
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("teams.id"), nullable=True, index=True),
        sa.Column("urgency", sa.String(16), nullable=False),
        sa.Column("domain", sa.String(32), nullable=False),
        sa.Column(
            "result",
            sa.Enum(
                "improved",
                "same",
                "referred",
                name="domain_result",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("referral_key", sa.String(64), nullable=True),
        sa.Column("referral_kind", sa.String(16), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("domain_outcomes")
