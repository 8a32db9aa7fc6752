"""The desk's periodic work: the recovery sweep, retention, stale trainings.

Each job runs at start and then every `interval_s`; a failing round is logged and the next
round tries again, so a database that is away for a moment stops nothing for good. With
`leases` (handoff/store/job_leases.py) a round runs in one desk process only, however many
share the database, and a restart does not repeat a round that is not due yet.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

from handoff.store.job_leases import Leases

log = logging.getLogger(__name__)


class Periodic:
    def __init__(self, leases: Leases | None = None) -> None:
        self._tasks: list[asyncio.Task[None]] = []
        self.leases = leases

    def every(self, name: str, interval_s: float, job: Callable[[], Awaitable[Any]]) -> None:
        interval = dt.timedelta(seconds=interval_s)

        async def round_() -> None:
            leases = self.leases
            if leases is not None and not await asyncio.to_thread(leases.take, name, interval):
                return  # another process runs this round
            await job()
            if leases is not None:
                await asyncio.to_thread(leases.finish, name)

        async def loop() -> None:
            while True:
                try:
                    await round_()
                except Exception:
                    log.exception("%s failed; trying again in %.0f s", name, interval_s)
                await asyncio.sleep(interval_s)

        self._tasks.append(asyncio.create_task(loop(), name=name))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
