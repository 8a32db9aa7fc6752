"""Periodic work that runs once per round however many desk processes share the database.

Each job has a row in `job_leases` with the time it is next due. A process that finds it
due moves that time forward in one guarded UPDATE (`... WHERE due_at <= now`); only the
process whose UPDATE changed the row runs this round, the others see it is not due yet.
The row is the memory: a restarted process does not run a job again before it is due, and
when the process holding a round dies, the next process to look after `due_at` runs it.
No lock is held while the job runs, so a crash leaves nothing to clean up.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from handoff.store.models import JobLease, utcnow


@dataclass
class Leases:
    sessions: sessionmaker[Session]
    holder: str = field(default_factory=lambda: uuid.uuid4().hex)
    clock: Callable[[], dt.datetime] = utcnow

    def take(self, name: str, interval: dt.timedelta) -> bool:
        """True when this process runs this round of `name` (and it is not due again for `interval`)."""
        now = self.clock()
        with self.sessions.begin() as session:
            _ensure(session, name, now)
            taken = session.execute(
                update(JobLease)
                .where(JobLease.name == name, JobLease.due_at <= now)
                .values(due_at=now + interval, holder=self.holder, started_at=now, runs=JobLease.runs + 1)
                .execution_options(synchronize_session=False)
            )
            return bool(taken.rowcount == 1)  # type: ignore[attr-defined]

    def finish(self, name: str) -> None:
        with self.sessions.begin() as session:
            session.execute(
                update(JobLease)
                .where(JobLease.name == name, JobLease.holder == self.holder)
                .values(finished_at=self.clock())
                .execution_options(synchronize_session=False)
            )


def _ensure(session: Session, name: str, now: dt.datetime) -> None:
    """The job's row, due now, unless a process made it already (no error when two race)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(JobLease).values(name=name, due_at=now, holder="", runs=0).on_conflict_do_nothing())
