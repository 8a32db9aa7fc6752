"""Apply the desk's Alembic migrations: `python -m handoff.store.migrate [DATABASE_URL]`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

from handoff.store.db import ensure_sqlite_dir

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade(url: str, revision: str = "head") -> None:
    ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), revision)


def main(argv: list[str]) -> int:
    url = argv[1] if len(argv) > 1 else os.environ.get("DATABASE_URL", "sqlite:///var/baken.db")
    upgrade(url)
    print("database is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
