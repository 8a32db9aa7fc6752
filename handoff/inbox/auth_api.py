"""Logging in and out, and presence: the door to the inbox and the admin pages.

The session is a signed cookie (HttpOnly, SameSite=Strict; handoff/auth.py) and every change
needs the CSRF token the login returns (checked in handoff/deps.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from handoff import auth, worker_sessions
from handoff.deps import CurrentWorker, Desk, DeskState
from handoff.inbox.api import NO_NUL
from handoff.store import conversations as convs
from handoff.store.models import Presence, Worker

router = APIRouter(prefix="/api", tags=["inbox"])


class Login(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=64, pattern=NO_NUL)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class WorkerOut(BaseModel):
    id: int
    name: str
    role: str
    presence: str


class LoginResult(BaseModel):
    worker: WorkerOut
    csrf_token: str


class PresenceIn(BaseModel):
    presence: Literal["online", "away"]


def _worker_out(worker: Worker) -> WorkerOut:
    return WorkerOut(id=worker.id, name=worker.name, role=worker.role.value, presence=worker.presence.value)


LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def secure_cookie(request: Request) -> bool:
    """Secure whenever the desk is not reached on this machine itself (behind a proxy that
    ends TLS the request still says http, so the host decides, not the scheme)."""
    return request.url.scheme == "https" or (request.url.hostname or "") not in LOOPBACK


def _log_in(desk: DeskState, name: str, password: str) -> tuple[WorkerOut, str, str]:
    """In a worker thread: argon2 takes a tenth of a second of CPU, not the event loop's.
    Raises auth.AuthError."""
    with desk.sessions.begin() as session:
        worker = auth.authenticate(session, name, password)
        worker.presence = Presence.online
        convs.audit(session, "login", worker=worker)
        out = _worker_out(worker)
        cookie, csrf = auth.issue(desk.secret_key, out.id)
        token = auth.read(desk.secret_key, cookie)
        assert token is not None
        expires = dt.datetime.fromtimestamp(token.expires, dt.timezone.utc)
        worker_sessions.start(session, out.id, token.nonce, expires)
    return out, cookie, csrf


def _audit_failure(desk: DeskState, name: str) -> None:
    """A failed login in the audit log: the name tried, and whose account it is if any."""
    with desk.sessions.begin() as session:
        worker = session.scalar(select(Worker).where(Worker.name == name.strip()))
        convs.audit(session, "login_failed", worker=worker, detail={"name": name.strip()[:64]})


@router.post(
    "/auth/login",
    response_model=LoginResult,
    summary="Log in as a worker or admin",
    responses={429: {"description": "Too many failed attempts for this name or address"}},
)
async def login(body: Login, request: Request, response: Response, desk: Desk) -> Any:
    ip = request.client.host if request.client else None
    refused = desk.limits.login_allowed(body.name, ip) if desk.limits else None
    if refused is not None:
        raise HTTPException(429, refused.text, headers={"Retry-After": str(refused.retry_after_s)})
    try:
        out, cookie, csrf = await asyncio.to_thread(_log_in, desk, body.name, body.password)
    except auth.AuthError as exc:
        if desk.limits is not None:
            desk.limits.login_failed(body.name, ip)
        await asyncio.to_thread(_audit_failure, desk, body.name)
        raise HTTPException(401, str(exc)) from None
    response.set_cookie(
        auth.COOKIE,
        cookie,
        max_age=auth.SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=secure_cookie(request),
        path="/",
    )
    return LoginResult(worker=out, csrf_token=csrf)


@router.get("/auth/me", response_model=LoginResult, summary="Who is logged in (and the CSRF token, after a reload)")
async def me(worker: CurrentWorker, request: Request, desk: Desk) -> Any:
    token = auth.read(desk.secret_key, request.cookies.get(auth.COOKIE))
    assert token is not None  # current_worker checked it
    return LoginResult(worker=_worker_out(worker), csrf_token=auth.csrf_for(desk.secret_key, token))


@router.post("/auth/logout", status_code=204, summary="Log out (this session ends on the server too)")
async def logout(worker: CurrentWorker, request: Request, response: Response, desk: Desk) -> None:
    token = auth.read(desk.secret_key, request.cookies.get(auth.COOKIE))
    assert token is not None  # current_worker checked it
    with desk.sessions.begin() as session:
        stored = session.get(Worker, worker.id)
        if stored is not None:
            stored.presence = Presence.away
        worker_sessions.revoke(session, nonce=token.nonce, because="logout")
    desk.bus.publish({"type": "session_revoked", "worker_id": worker.id})
    response.delete_cookie(auth.COOKIE, path="/")


@router.post("/inbox/presence", response_model=WorkerOut, summary="Set presence (online/away)")
async def presence(body: PresenceIn, worker: CurrentWorker, desk: Desk) -> Any:
    with desk.sessions.begin() as session:
        stored = session.get(Worker, worker.id)
        assert stored is not None
        stored.presence = Presence(body.presence)
        return _worker_out(stored)
