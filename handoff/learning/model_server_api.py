"""The desk's internal model server: Rasa servers download models from here.

Rasa 3.6 pulls a model over HTTP in two ways (rasa/core/agent.py `_pull_model_and_fingerprint`):
the `models:` section of its endpoints.yml (at start and every `wait_time_between_pulls`
seconds) and `PUT /model` with `{"model_server": {...}}`. Either way it sends
`If-None-Match: <the ETag of the model it has>`, takes 204/304 as "nothing new", reads the
body of a 200 and keeps the response's `ETag` as the model's fingerprint; the `filename`
header names the file (Rasa's /status shows it as `model_file`).

- `GET /internal/models/live.tar.gz`: the live model (what a Rasa server that starts loads);
- `GET /internal/models/<name>.tar.gz`: one registry version (what promotion names).

Only with `Authorization: Bearer <MODEL_SERVER_TOKEN>` (401 without, 403 with another
token, compared in constant time; the token goes in a header, never in the URL); without a
configured token the model server is off (404). The ETag is the file's SHA-256; the body is
streamed a chunk at a time from the model store.
"""

from __future__ import annotations

import hmac
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from handoff.deps import Desk, DeskState
from handoff.learning import model_registry
from handoff.learning.model_store import SUFFIX, ModelMissing, StoredModel, is_model_name

log = logging.getLogger(__name__)
router = APIRouter(prefix="/internal/models", tags=["internal"], include_in_schema=False)
LIVE = "live"


def model_server_token(desk: Desk, authorization: Annotated[str | None, Header()] = None) -> None:
    """401 without a bearer token, 403 with a wrong one; 404 when the model server is off."""
    expected = desk.learning.server_token
    if not expected:
        raise HTTPException(404, "Not Found")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise HTTPException(401, "Bearer token required", headers={"WWW-Authenticate": "Bearer"})
    if not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise HTTPException(403, "Wrong token")


def etag(stored: StoredModel) -> str:
    return f'"{stored.sha256}"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """RFC 9110 weak comparison over a list of tags (Rasa sends back the ETag it got)."""
    if not if_none_match:
        return False
    candidates = [part.strip() for part in if_none_match.split(",")]
    return "*" in candidates or tag in [c.removeprefix("W/") for c in candidates]


def _live_name(desk: DeskState) -> str | None:
    """The live version's name; the model Rasa started with is registered first, as the
    admin page does, so a new deployment's Rasa servers have something to pull."""
    learning = desk.learning
    for _attempt in range(2):
        try:
            with desk.sessions.begin() as session:
                live = model_registry.ensure_live_registered(
                    session, learning.live_model_path, learning.models_dir, learning.store
                )
                return live.name if live is not None else None
        except IntegrityError:  # another desk process registered it at the same moment
            continue
    return None


@router.get("/{file_name}", dependencies=[Depends(model_server_token)], response_class=Response)
async def model_file(file_name: str, desk: Desk, if_none_match: Annotated[str | None, Header()] = None) -> Response:
    name = file_name.removesuffix(SUFFIX)
    if not file_name.endswith(SUFFIX) or not is_model_name(name):
        raise HTTPException(404, "Not Found")
    if name == LIVE:
        live = await run_in_threadpool(_live_name, desk)
        if live is None:
            raise HTTPException(404, "No live model")
        name = live
    store = desk.learning.store
    stored = await run_in_threadpool(store.info, name)
    if stored is None:
        raise HTTPException(404, "Not Found")
    headers = {"ETag": etag(stored), "Cache-Control": "no-store", "filename": f"{name}{SUFFIX}"}
    if matches(if_none_match, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    try:
        chunks = await run_in_threadpool(store.chunks, name)
    except ModelMissing:
        raise HTTPException(404, "Not Found") from None
    log.info("serving model %s (%d bytes)", name, stored.size)
    return StreamingResponse(
        iterate_in_threadpool(chunks),
        media_type="application/gzip",
        headers={**headers, "Content-Length": str(stored.size)},
    )
