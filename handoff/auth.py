"""Worker authentication: argon2 password hashes, signed session cookies, CSRF tokens.

The session cookie is HttpOnly and SameSite=Strict and carries the worker id, an expiry
and a random nonce, signed with the desk's secret key (HMAC-SHA256). The CSRF token is
derived from the same nonce; state-changing requests must send it in `X-CSRF-Token`.
A disabled worker is refused on the next request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.store.models import Role, Worker

COOKIE = "baken_session"
CSRF_HEADER = "X-CSRF-Token"
SESSION_SECONDS = 10 * 60 * 60  # one working day
MIN_PASSWORD = 10

_hasher = PasswordHasher()


class AuthError(Exception):
    """Login or session refused; the message is safe to show."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"Een wachtwoord heeft minstens {MIN_PASSWORD} tekens.")
    return _hasher.hash(password)


def create_worker(session: Session, name: str, password: str, role: Role = Role.worker) -> Worker:
    name = name.strip()
    if not name or len(name) > 64:
        raise AuthError("Geef een naam van 1 tot 64 tekens.")
    if session.scalar(select(Worker).where(Worker.name == name)) is not None:
        raise AuthError(f"Er is al een medewerker met de naam {name!r}.")
    worker = Worker(name=name, password_hash=hash_password(password), role=role)
    session.add(worker)
    session.flush()
    return worker


def authenticate(session: Session, name: str, password: str) -> Worker:
    worker = session.scalar(select(Worker).where(Worker.name == name.strip()))
    try:
        if worker is None:
            _hasher.hash(password)  # same work for unknown names: no timing hint
            raise AuthError("Naam of wachtwoord klopt niet.")
        _hasher.verify(worker.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise AuthError("Naam of wachtwoord klopt niet.") from None
    if worker.disabled:
        raise AuthError("Dit account is uitgeschakeld.")
    return worker


@dataclass(frozen=True)
class SessionToken:
    worker_id: int
    expires: int
    nonce: str


def secret_key(configured: str | None, path: Path) -> bytes:
    """The configured secret, or one generated once and kept in `path` (mode 0600)."""
    if configured:
        return configured.encode()
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


def _sign(key: bytes, payload: str) -> str:
    return base64.urlsafe_b64encode(hmac.new(key, payload.encode(), hashlib.sha256).digest()).decode().rstrip("=")


def issue(key: bytes, worker_id: int, now: float | None = None) -> tuple[str, str]:
    """A new (cookie value, csrf token) pair."""
    expires = int((now or time.time()) + SESSION_SECONDS)
    nonce = secrets.token_urlsafe(16)
    payload = f"{worker_id}.{expires}.{nonce}"
    return f"{payload}.{_sign(key, payload)}", _sign(key, "csrf:" + nonce)


def read(key: bytes, cookie: str | None, now: float | None = None) -> SessionToken | None:
    """The session in a cookie, or None if it is missing, forged or expired."""
    if not cookie or cookie.count(".") != 3:
        return None
    worker_id, expires, nonce, signature = cookie.split(".")
    if not hmac.compare_digest(signature, _sign(key, f"{worker_id}.{expires}.{nonce}")):
        return None
    if not (worker_id.isdigit() and expires.isdigit()) or int(expires) < (now or time.time()):
        return None
    return SessionToken(int(worker_id), int(expires), nonce)


def csrf_for(key: bytes, token: SessionToken) -> str:
    """The CSRF token that belongs to a session (the page asks for it again after a reload)."""
    return _sign(key, "csrf:" + token.nonce)


def csrf_ok(key: bytes, token: SessionToken, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(str(given), csrf_for(key, token))
