"""Periodic work shared by desk processes (issue 13): each round runs in one process only,
on SQLite and PostgreSQL, also when several processes ask at the same moment."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import threading
import time

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from desk.background import Periodic
from handoff.store.job_leases import Leases
from handoff.store.models import JobLease, utcnow

MINUTE = dt.timedelta(minutes=1)


def test_a_round_is_taken_once_and_not_again_before_it_is_due(sessions: sessionmaker[Session]) -> None:
    now = utcnow()
    clock = {"now": now}
    a = Leases(sessions, holder="a", clock=lambda: clock["now"])
    b = Leases(sessions, holder="b", clock=lambda: clock["now"])
    assert a.take("sweep", MINUTE)
    assert not b.take("sweep", MINUTE) and not a.take("sweep", MINUTE)
    a.finish("sweep")
    clock["now"] = now + dt.timedelta(seconds=59)
    assert not b.take("sweep", MINUTE)
    clock["now"] = now + MINUTE  # due again: whoever asks first (a restarted process too)
    assert b.take("sweep", MINUTE)
    assert a.take("other job", MINUTE), "each job has its own rounds"
    with sessions() as session:
        row = session.get(JobLease, "sweep")
        assert row is not None and (row.holder, row.runs) == ("b", 2)


def test_processes_asking_at_once_run_the_round_once(sessions: sessionmaker[Session]) -> None:
    holders = [Leases(sessions, holder=f"process-{n}") for n in range(8)]
    taken: list[str] = []
    start = threading.Barrier(len(holders))

    def ask(leases: Leases) -> None:
        start.wait()
        for _ in range(20):
            try:
                if leases.take("retention", dt.timedelta(hours=1)):
                    taken.append(leases.holder)
                return
            except Exception:  # SQLite: "database is locked" under eight writers; ask again
                time.sleep(0.05)

    threads = [threading.Thread(target=ask, args=(h,)) for h in holders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 1, taken
    with sessions() as session:
        assert session.scalars(select(JobLease.runs)).all() == [1]


def test_two_schedulers_on_one_database_run_a_job_once_per_interval(sessions: sessionmaker[Session]) -> None:
    """Two desk processes' schedulers, each running the job every 0.3 s: together the job
    still starts only once per 0.3 s (without leases both would run every round)."""
    starts: list[float] = []
    interval = 0.3

    async def job() -> None:
        starts.append(time.monotonic())

    async def main() -> None:
        first, second = Periodic(Leases(sessions)), Periodic(Leases(sessions))
        first.every("sweep", interval, job)
        await asyncio.sleep(interval / 2)  # out of phase, as two processes are
        second.every("sweep", interval, job)
        await asyncio.sleep(3.0)
        await first.stop()
        await second.stop()

    asyncio.run(main())
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(starts) >= 4, starts
    assert min(gaps) >= interval * 0.9, gaps
