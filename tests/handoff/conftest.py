"""The desk's tests run on both databases: SQLite (embedded default) and PostgreSQL.

PostgreSQL is the machine's local server (127.0.0.1:5432, trust auth); each test session
creates its own database and drops it afterwards. `BAKEN_TEST_POSTGRES` overrides the
server URL.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from handoff.db import create_engine, session_factory
from handoff.migrate import upgrade

POSTGRES_SERVER = os.environ.get("BAKEN_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    name = f"baken_test_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_SERVER, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_SERVER.rsplit("/", 1)[0]
    yield f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
    with psycopg.connect(POSTGRES_SERVER, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    sqlite_url = f"sqlite:///{tmp_path / 'baken.db'}"
    url = sqlite_url if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    upgrade(url)
    engine = create_engine(url)
    yield engine
    if request.param == "postgresql":
        from handoff.db import Base

        with engine.begin() as conn:  # leave an empty schema for the next test
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)
