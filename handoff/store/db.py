"""Engine and session factory for SQLite (embedded default) and PostgreSQL.

Functions elsewhere take a Session; the caller owns the transaction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# Every id column is INTEGER: 32-bit signed on PostgreSQL (64-bit on SQLite). A bigger
# number from a request would make the driver raise, so the APIs refuse it up front.
MAX_ID = 2**31 - 1

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, begin transactions (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # Take the write lock at the start: two workers claiming at once then queue up behind
    # SQLite's busy timeout instead of one failing with "database is locked" halfway.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; SQLite gets WAL mode, foreign keys and a busy timeout. Errors
    never show their SQL parameters (citizen text, more often than not)."""
    kwargs.setdefault("hide_parameters", True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 5})
        engine = sa_create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return sa_create_engine(url, **kwargs)


def ensure_sqlite_dir(url: str) -> None:
    """Create the folder of a file-based SQLite database (the embedded default var/baken.db)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def is_postgresql_url(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"
