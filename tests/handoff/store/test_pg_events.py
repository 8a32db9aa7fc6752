"""The event bus across desk processes (issue 13): PostgreSQL LISTEN/NOTIFY between two buses
on one real database, as two desk processes have them."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg

from handoff.store.pg_events import RESYNC, PgEventBus, conninfo
from tests.databases import temporary_postgres_database


async def _next(queue: asyncio.Queue[dict[str, Any]], timeout: float = 5.0) -> dict[str, Any]:
    return await asyncio.wait_for(queue.get(), timeout)


def test_an_event_reaches_the_other_process_once_and_this_one_once() -> None:
    with temporary_postgres_database() as url:

        async def main() -> None:
            a, b = PgEventBus(url), PgEventBus(url)
            await a.start()
            await b.start()
            try:
                async with a.subscribe() as on_a, b.subscribe() as on_b:
                    event = {"type": "message", "conversation_id": 7, "citizen_id": 3, "author": "worker"}
                    a.publish(event)
                    assert await _next(on_a) == event  # at once, in this process
                    assert await _next(on_b) == event  # through PostgreSQL
                    b.publish({"type": "crisis", "conversation_id": 8})
                    assert (await _next(on_a))["type"] == "crisis"
                    assert (await _next(on_b))["type"] == "crisis"
                    await asyncio.sleep(0.3)
                    assert on_a.empty() and on_b.empty(), "no echo: nothing arrives twice"
            finally:
                await a.stop()
                await b.stop()

        asyncio.run(main())


def test_a_broken_listening_connection_comes_back_and_says_resync() -> None:
    with temporary_postgres_database() as url:

        async def main() -> None:
            a, b = PgEventBus(url), PgEventBus(url)
            await a.start()
            await b.start()
            try:
                async with b.subscribe() as on_b:
                    with psycopg.connect(conninfo(url), autocommit=True) as admin:  # the database drops b's listener
                        admin.execute(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                            " WHERE query LIKE 'LISTEN%%' AND datname = current_database()"
                        )
                    assert await _next(on_b, 10.0) == RESYNC  # streams re-read what they missed
                    await asyncio.wait_for(b.listening.wait(), 10.0)
                    a.publish({"type": "queued", "conversation_id": 9})
                    assert (await _next(on_b))["conversation_id"] == 9
            finally:
                await a.stop()
                await b.stop()

        asyncio.run(main())
