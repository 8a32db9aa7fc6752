"""Server-sent events: the format, and a loop that wakes on bus events or a heartbeat.

Both live views use it: the widget (a citizen's own messages and queue status) and the
inbox (queue changes, new messages, claims, crisis alerts). A browser's EventSource
reconnects by itself and sends the last `id:` it saw in `Last-Event-ID`, so a stream
resumes where it broke off.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from starlette.requests import Request
from starlette.responses import StreamingResponse

from handoff.store.db import MAX_ID
from handoff.store.events import EventBus

HEARTBEAT_S = 15.0
RETRY_MS = 2000
BUSY_RETRY_MS = 60_000
SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def event(kind: str, data: Any, event_id: int | None = None) -> str:
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append(f"event: {kind}")
    lines.append("data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    return "\n".join(lines) + "\n\n"


def last_event_id(request: Request, after: int) -> int:
    """The later of `after` (query) and the browser's Last-Event-ID header."""
    header = request.headers.get("last-event-id", "")
    if header.isascii() and header.isdigit() and len(header) < 19:  # "²" is a digit, but not for int()
        return max(after, min(int(header), MAX_ID))  # ids are INTEGER in the database
    return after


Render = Callable[[dict[str, Any] | None], Awaitable[list[str]]]


def stream(
    request: Request,
    bus: EventBus,
    render: Render,
    wants: Callable[[dict[str, Any]], bool],
    alive: Callable[[], Awaitable[bool]] | None = None,
    slot: Callable[[], AbstractContextManager[bool]] | None = None,
) -> StreamingResponse:
    """Send `render(None)` at once, then `render(event)` for every bus event that `wants`.

    A comment line every HEARTBEAT_S keeps proxies from closing an idle stream and lets the
    loop notice a client that went away. `alive` (a worker's session still valid?) is asked
    at every heartbeat and on every `session_revoked` event: when it says no, the stream ends.
    `slot` (handoff/rate_limits.py StreamSlots) says whether this client may open one more
    stream; if not, the stream says `busy` and asks the browser to come back in a minute.
    """

    async def body() -> AsyncIterator[str]:
        with slot() if slot is not None else nullcontext(True) as allowed:
            if not allowed:
                yield f"retry: {BUSY_RETRY_MS}\n\n"
                yield event("busy", {})
                return
            async for chunk in events():
                yield chunk

    async def events() -> AsyncIterator[str]:
        async with bus.subscribe() as queue:
            yield f"retry: {RETRY_MS}\n\n"
            for chunk in await render(None):
                yield chunk
            while True:  # Starlette cancels this generator when the client goes away
                try:
                    happened = await asyncio.wait_for(queue.get(), HEARTBEAT_S)
                except asyncio.TimeoutError:
                    if await request.is_disconnected() or (alive is not None and not await alive()):
                        return
                    yield ": ping\n\n"
                    continue
                if happened.get("type") == "session_revoked" and alive is not None and not await alive():
                    yield event("logged_out", {})
                    return
                if not wants(happened):
                    continue
                for chunk in await render(happened):
                    yield chunk

    return StreamingResponse(body(), media_type="text/event-stream", headers=SSE_HEADERS)
