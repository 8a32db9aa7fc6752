"""Desk processes that start together on one PostgreSQL database migrate one after the other
(an advisory lock in the migration environment), so none fails on a half-made schema."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import text

from baken_core.paths import PROJECT_ROOT
from handoff.store.db import create_engine
from handoff.store.migrate import MIGRATIONS
from tests.databases import temporary_postgres_database


def test_four_desks_migrating_one_new_database_at_once_all_succeed() -> None:
    with temporary_postgres_database() as url:
        command = [sys.executable, "-m", "handoff.store.migrate", url]
        procs = [
            subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            for _ in range(4)
        ]
        outputs = [proc.communicate(timeout=120)[0].decode(errors="replace") for proc in procs]
        assert [proc.returncode for proc in procs] == [0, 0, 0, 0], outputs
        engine = create_engine(url)
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        engine.dispose()
        newest = sorted(p.stem.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("*.py"))[-1]
        assert versions == [newest]
