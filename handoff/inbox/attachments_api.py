"""A citizen's photo or document, for a logged-in worker. Every view goes to the audit log.

Safe to open in the browser that runs the inbox: only JPEG, PNG and WebP images are shown
inline, a PDF is served as a download, everything else as application/octet-stream, always
with `nosniff`, a sandboxing Content-Security-Policy and `no-store`.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Path, Response

from handoff.deps import CurrentWorker, Desk
from handoff.inbox import access
from handoff.store import conversations as convs
from handoff.store.attachments import (
    EXTENSIONS,
    OCTET_STREAM,
    TOKEN_PATTERN,
    AttachmentMissing,
    AttachmentStore,
    find_attachment,
    served_type,
)

router = APIRouter(prefix="/api/inbox", tags=["inbox"])

AttachmentId = Annotated[str, Path(pattern=TOKEN_PATTERN, description="The attachment's id from the transcript")]
NOT_FOUND = "Deze bijlage bestaat niet (meer)."


def content_disposition(disposition: str, name: str) -> str:
    """RFC 6266: a plain ASCII fallback plus the UTF-8 name; no quotes or newlines get through."""
    fallback = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._- ") else "_" for ch in name) or "bijlage"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _download_name(entry: dict[str, Any], content_type: str) -> str:
    name = entry.get("name")
    if isinstance(name, str) and name:
        return name
    return f"bijlage.{EXTENSIONS.get(content_type, 'bin')}"


@router.get(
    "/attachments/{attachment_id}",
    summary="A citizen's photo or document (audited)",
    response_class=Response,
    responses={
        200: {
            "content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}, "application/pdf": {}, OCTET_STREAM: {}}
        },
        404: {"description": "No message has this attachment, or its file is gone"},
    },
)
async def attachment(attachment_id: AttachmentId, worker: CurrentWorker, desk: Desk) -> Response:
    store: AttachmentStore = desk.attachments
    with desk.sessions.begin() as session:
        found = find_attachment(session, attachment_id)
        if found is None:
            raise HTTPException(404, NOT_FOUND)
        message, entry = found
        if not access.may_read(session, message.conversation, worker):
            raise HTTPException(
                403, "Dit bestand hoort bij een gesprek dat niet van jou is. Open eerst het gesprek, met een reden."
            )
        try:
            data = store.read(attachment_id)
        except AttachmentMissing:
            raise HTTPException(404, NOT_FOUND) from None
        convs.audit(
            session,
            "view_attachment",
            worker=worker,
            conversation=message.conversation,
            detail={"attachment_id": attachment_id, "message_id": message.id},
        )
    content_type = served_type(entry.get("mime"), data[:16])
    disposition = "inline" if content_type.startswith("image/") else "attachment"
    headers = {
        "Content-Disposition": content_disposition(disposition, _download_name(entry, content_type)),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    return Response(content=data, media_type=content_type, headers=headers)
