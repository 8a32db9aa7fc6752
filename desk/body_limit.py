"""Request bodies bigger than MAX_REQUEST_BYTES are refused (413) before anything parses them
(issue 14): JSON, forms and webhooks are read into memory by the framework, so a huge body
would cost memory and CPU before any validation said no. A declared Content-Length is
checked at once; a body without one (chunked) is counted while it arrives and refused as
soon as it is too big."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOO_BIG = "Dit verzoek is te groot. Een bericht mag ongeveer 10.000 tekens lang zijn."


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _refuse(send)
            return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)  # no body: live streams pass untouched
            return
        chunks: list[bytes] = []
        received = 0
        while True:  # the body is read in full here (the framework would do the same)
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            received += len(chunks[-1])
            if received > self.max_bytes:
                await _refuse(send)
                return
            if not message.get("more_body", False):
                break
        whole: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([whole], receive), send)


def _replay(first: list[Message], receive: Receive) -> Receive:
    """The messages already read, then the client's own (a disconnect, later)."""
    pending = list(first)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


async def _refuse(send: Send) -> None:
    body = json.dumps({"detail": TOO_BIG}, ensure_ascii=False).encode()
    headers: list[Any] = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
