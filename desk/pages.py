"""The desk's pages: the widget demo page, the worker inbox, and their static files.

Pages are plain HTML + JavaScript from `desk/static/` (no build step). Every page gets a
strict Content-Security-Policy: scripts and styles only from the desk itself, so even a
message that slipped past escaping could not run a script. The widget API answers the
host sites configured in WIDGET_ORIGINS (a municipality's or a huisarts' site that embeds
the widget), no others; the inbox API answers no other site at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATIC = Path(__file__).parent / "static"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
WIDGET_PREFIXES = ("/api/widget/",)

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
    """CSP and friends on every response; the widget API also answers other origins."""

    def __init__(self, app: ASGIApp, widget_origins: Sequence[str] = ()) -> None:
        self.app = app
        self.widget_cors = CORSMiddleware(
            app,
            allow_origins=list(widget_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Last-Event-ID", "X-Baken-Visitor"],
            max_age=600,
        )

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
                if not str(scope["path"]).startswith("/static/widget"):
                    extra[b"x-frame-options"] = b"DENY"
                headers.extend((k, v) for k, v in extra.items() if k not in names)
                message["headers"] = headers
            await send(message)

        inner = self.widget_cors if str(scope["path"]).startswith(WIDGET_PREFIXES) else self.app
        await inner(scope, receive, with_headers)


def install(app: FastAPI, widget_origins: Sequence[str] = ()) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(SecurityHeaders, widget_origins=widget_origins)
