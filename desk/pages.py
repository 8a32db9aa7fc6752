"""The desk's pages: the widget demo page, the worker inbox, and their static files.

Pages are plain HTML + JavaScript from `desk/static/` (no build step). Every page gets a
strict Content-Security-Policy: scripts and styles only from the desk itself, so even a
message that slipped past escaping could not run a script.

The widget's chat runs in a frame served here (`/widget/frame`), so its visitor id lives in
the desk origin's storage, not the host site's. The frame's own CSP allows it to be embedded
only by the sites in WIDGET_ORIGINS (a municipality's or a huisarts' site) and the desk's own
pages (`frame-ancestors`). Since every widget API call now comes from that frame, on the
desk's own origin, no API answers another site (no CORS): a host page's script gets no
readable answer from the widget API, just as from the inbox API.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATIC = Path(__file__).parent / "static"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
FRAME_PATH = "/widget/frame"
ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def frame_ancestors(widget_origins: Sequence[str]) -> list[str]:
    """The sites that may embed the chat's frame: the desk's own pages and WIDGET_ORIGINS
    (only well-formed origins: anything else could widen or break the policy)."""
    return [origin for origin in widget_origins if ORIGIN.match(origin)]


def frame_csp(widget_origins: Sequence[str]) -> str:
    ancestors = " ".join(["'self'", *frame_ancestors(widget_origins)])
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        f"connect-src 'self'; frame-ancestors {ancestors}; base-uri 'none'; form-action 'none'; object-src 'none'"
    )


router = APIRouter(include_in_schema=False)


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/demo")


@router.get("/demo")
async def demo() -> FileResponse:
    return FileResponse(STATIC / "demo.html", media_type="text/html")


@router.get("/inbox")
async def inbox() -> FileResponse:
    return FileResponse(STATIC / "inbox.html", media_type="text/html")


@router.get("/admin")
async def admin() -> FileResponse:
    return FileResponse(STATIC / "admin.html", media_type="text/html")


class SecurityHeaders:
    """CSP and friends on every response (a page that sets its own CSP keeps it: the widget's
    frame). No CORS: every API, the widget's too, answers the desk's own pages only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                extra = {
                    b"x-content-type-options": b"nosniff",
                    b"referrer-policy": b"no-referrer",
                    b"content-security-policy": CSP.encode(),
                }
                if not str(scope["path"]).startswith(("/static/widget", FRAME_PATH)):
                    extra[b"x-frame-options"] = b"DENY"
                headers.extend((k, v) for k, v in extra.items() if k not in names)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def install(app: FastAPI, widget_origins: Sequence[str] = ()) -> None:
    app.include_router(router)
    page = (STATIC / "widget_frame.html").read_text(encoding="utf-8")
    page = page.replace("{{ORIGINS}}", html.escape(" ".join(frame_ancestors(widget_origins))))
    csp = frame_csp(widget_origins)

    async def widget_frame() -> HTMLResponse:
        """The chat itself, in a frame on the host site (widget.js draws it there)."""
        return HTMLResponse(page, headers={"Content-Security-Policy": csp, "Cache-Control": "no-cache"})

    app.add_api_route(FRAME_PATH, widget_frame, methods=["GET"], include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(SecurityHeaders)
