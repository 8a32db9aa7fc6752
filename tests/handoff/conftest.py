"""The desk's tests run on both databases: SQLite (embedded default) and PostgreSQL.

The database helpers live in tests/databases.py, shared with tests/bot and tests/desk; the
API tests talk to a scripted assistant (tests/assistants.py, tests/rasa_stub.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from handoff.store.db import create_engine, session_factory
from tests.assistants import stub_rasa
from tests.databases import database_url, postgres_processes, postgres_url

__all__ = ["database_url", "engine", "postgres_processes", "postgres_url", "sessions", "stub_rasa"]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url)
    yield engine
    engine.dispose()  # then `database_url` empties PostgreSQL's tables for the next test


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)
