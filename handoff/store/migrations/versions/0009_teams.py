"""teams, team_members, conversations.team_id, handoffs.note: teams and routing

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 02:50:00

Issue 15: admins define teams with their own hours and the life domains, urgencies and
sources they take; a handoff goes to the team that fits (handoff/store/teams.py); a
transfer to a team or a colleague carries a note for the receiving side. No rows are
seeded here: `scripts/desk ensure-demo` adds the fictional default teams of Gemeente
Voorbeeld (data/gemeente.yml), and without teams there is one shared queue, as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("description", sa.String(500), nullable=False, server_default=""),
        sa.Column("hours", sa.JSON(), nullable=True),
        sa.Column("domains", sa.JSON(), nullable=False),
        sa.Column("urgencies", sa.JSON(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("fallback", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
        sa.Column(
            "worker_id", sa.Integer(), sa.ForeignKey("workers.id", ondelete="CASCADE"), primary_key=True, index=True
        ),
    )
    # Not a batch: on SQLite a batch copies and DROPs the conversations table, which the foreign
    # keys of its messages forbid once it has rows. SQLite takes the REFERENCES in ADD COLUMN.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE conversations ADD COLUMN team_id INTEGER "
            "CONSTRAINT fk_conversations_team_id_teams REFERENCES teams (id)"
        )
    else:
        op.add_column("conversations", sa.Column("team_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_conversations_team_id_teams", "conversations", "teams", ["team_id"], ["id"])
    op.create_index("ix_conversations_team_id", "conversations", ["team_id"])
    op.add_column("handoffs", sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_column("note")
    op.drop_index("ix_conversations_team_id", "conversations")
    with op.batch_alter_table("conversations") as batch:  # SQLite recreates it (an empty desk only)
        batch.drop_constraint("fk_conversations_team_id_teams", type_="foreignkey")
        batch.drop_column("team_id")
    op.drop_table("team_members")
    op.drop_table("teams")
