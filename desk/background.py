"""The desk's periodic work inside one process: the recovery sweep, tracker retention.

Each job runs once at start and then every `interval_s`; a failing round is logged and the
next round tries again, so a database that is away for a moment stops nothing for good.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

log = logging.getLogger(__name__)


class Periodic:
    def __init__(self) -> None:
        self._tasks: list[asyncio.Task[None]] = []

    def every(self, name: str, interval_s: float, job: Callable[[], Awaitable[Any]]) -> None:
        async def loop() -> None:
            while True:
                try:
                    await job()
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
