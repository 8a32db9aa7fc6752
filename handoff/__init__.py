"""The desk's conversation store, handoff queue and worker side.

SQLAlchemy 2 typed models (`handoff.models`), Alembic migrations (`handoff/migrations`),
and the one service module that changes conversation and handoff status
(`handoff.conversations`). Runs on SQLite (embedded default, WAL mode) and PostgreSQL.
"""
