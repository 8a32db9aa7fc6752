"""The desk's tests run on both databases: SQLite (embedded default) and PostgreSQL.

PostgreSQL is the machine's local server (127.0.0.1:5432, trust auth); tests create their
own database and drop it afterwards. `BAKEN_TEST_POSTGRES` overrides the server URL.

Shared by tests/handoff and tests/bot: their conftests import the fixtures from here (a
fixture imported into a conftest is registered there), so neither depends on the other.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, close_all_sessions, sessionmaker

from handoff.store.db import Base, create_engine, session_factory
from handoff.store.migrate import upgrade

POSTGRES_SERVER = os.environ.get("BAKEN_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASES = ["sqlite", "postgresql"]


@contextmanager
def temporary_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database (its SQLAlchemy URL), dropped afterwards."""
    name = f"baken_test_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_SERVER, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_SERVER.rsplit("/", 1)[0]
    try:
        yield f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
    finally:
        with psycopg.connect(POSTGRES_SERVER, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'baken.db'}"


def empty_tables(engine: Engine) -> None:
    """Delete every row, so the next test on a shared PostgreSQL database starts empty."""
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One PostgreSQL database per test session; tests empty its tables when they are done."""
    with temporary_postgres_database() as url:
        yield url


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database URL: a fresh SQLite file, or the session's PostgreSQL database
    (emptied again after the test)."""
    url = sqlite_url(tmp_path) if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    upgrade(url)
    yield url
    if request.param == "postgresql":
        engine = create_engine(url)
        try:
            empty_tables(engine)
        finally:
            engine.dispose()


Processes = Callable[[int], list[sessionmaker[Session]]]


@pytest.fixture
def postgres_processes(postgres_url: str) -> Iterator[Processes]:
    """`processes(n)`: the sessions of n desk processes (each its own engine and connections)
    on the session's migrated PostgreSQL database. Afterwards every session still open is
    closed (a failed assertion must not leave a transaction holding its locks), every engine
    disposed and every row deleted."""
    upgrade(postgres_url)
    engines: list[Engine] = []

    def processes(count: int) -> list[sessionmaker[Session]]:
        started = [create_engine(postgres_url) for _ in range(count)]
        engines.extend(started)
        return [session_factory(engine) for engine in started]

    try:
        yield processes
    finally:
        close_all_sessions()
        for engine in engines:
            engine.dispose()
        cleanup = create_engine(postgres_url)
        try:
            empty_tables(cleanup)
        finally:
            cleanup.dispose()
