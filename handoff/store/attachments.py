"""Files a citizen sends (a photo of a letter, a PDF): stored under random tokens, listed on the message.

The bytes go to a folder (the embedded default) or, with several desk processes, to the
database (ATTACHMENTS_STORE=database), so whichever process a worker reaches serves them.
The citizen's own file name is kept only as display text in the message's `attachments`
JSON, never used as a path. Serving decides the content type from an allowlist *and* the
file's first bytes, so an uploaded HTML or SVG file can never run in a worker's browser.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Text, cast, delete, select
from sqlalchemy.orm import Session, sessionmaker

from handoff.config import DeskSettings
from handoff.store.models import AttachmentBlob, Message

MB = 1024 * 1024
DEFAULT_MAX_BYTES = 10 * MB
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{32}$"
_TOKEN = re.compile(TOKEN_PATTERN)
NAME_MAX = 128
MIME_MAX = 100
OCTET_STREAM = "application/octet-stream"
# The only types served as themselves; each must also start with its own signature.
_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "application/pdf": "pdf"}


class AttachmentTooBig(ValueError):
    """More bytes than the store accepts."""


class AttachmentMissing(LookupError):
    """No file for this token (never stored, removed, or not a token at all)."""


def is_token(value: str) -> bool:
    """True for the store's own tokens only: no dots, no slashes, so no path traversal."""
    return _TOKEN.fullmatch(value) is not None


def display_name(name: str | None) -> str | None:
    """The citizen's file name as harmless display text: no folders, no control characters."""
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    clean = "".join(ch for ch in base if ch.isprintable()).strip()
    return clean[:NAME_MAX] or None


def clean_mime(mime: str | None) -> str:
    """The sender's declared type, as short lowercase text (it is only a claim)."""
    kind = (mime or "").split(";", 1)[0].strip().lower()
    return kind[:MIME_MAX] if kind.isprintable() and "/" in kind else OCTET_STREAM


def served_type(mime: str | None, head: bytes) -> str:
    """The content type to serve: the stored type if allowlisted and the bytes agree, else octet-stream."""
    kind = clean_mime(mime)
    signatures = _SIGNATURES.get(kind, ())
    if not any(head.startswith(sig) for sig in signatures):
        return OCTET_STREAM
    if kind == "image/webp" and head[8:12] != b"WEBP":
        return OCTET_STREAM
    return kind


def size_text(limit: int) -> str:
    """A size limit in words a citizen reads: '10 MB', or kB below one megabyte."""
    return f"{limit // MB} MB" if limit >= MB else f"{max(1, limit // 1024)} kB"


def refused_record(kind: str, mime: str | None, name: str | None, size: int | None, note: str) -> dict[str, Any]:
    """What the worker sees for a file that was not stored: no id, and why (Dutch)."""
    return {"kind": kind, "mime": clean_mime(mime), "name": display_name(name), "size": size, "note": note}


def too_big_record(kind: str, mime: str | None, name: str | None, size: int | None, limit: int) -> dict[str, Any]:
    """A refused file marked 'te groot', so the worker knows the citizen tried to send it."""
    note = f"te groot (meer dan {size_text(limit)}), niet bewaard"
    return {**refused_record(kind, mime, name, size, note), "too_big": True}


@dataclass(frozen=True)
class AttachmentStore:
    """A folder of files named by random tokens."""

    root: Path
    max_bytes: int = DEFAULT_MAX_BYTES

    @classmethod
    def from_settings(cls, desk: DeskSettings, sessions: sessionmaker[Session] | None = None) -> AttachmentStore:
        """The folder, or the database when ATTACHMENTS_STORE=database (needs `sessions`)."""
        if desk.attachments_store == "database":
            assert sessions is not None
            return DatabaseAttachmentStore(Path(desk.attachments_dir), desk.attachments_max_bytes, sessions)
        return cls(Path(desk.attachments_dir), desk.attachments_max_bytes)

    def save(self, data: bytes, *, kind: str, mime: str | None, name: str | None) -> dict[str, Any]:
        """Store the bytes under a new token; return the entry for `Message.attachments`."""
        if len(data) > self.max_bytes:
            raise AttachmentTooBig(f"{len(data)} bytes > {self.max_bytes}")
        token = secrets.token_urlsafe(24)
        self._put(token, data)
        return {"id": token, "kind": kind, "mime": clean_mime(mime), "name": display_name(name), "size": len(data)}

    def _put(self, token: str, data: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        final = self._path(token)
        partial = self.root / f".{token}.part"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(partial, final)

    def read(self, token: str) -> bytes:
        try:
            return self._path(token).read_bytes()
        except FileNotFoundError:
            raise AttachmentMissing(token) from None

    def delete(self, token: str) -> None:
        self._path(token).unlink(missing_ok=True)

    def _path(self, token: str) -> Path:
        if not is_token(token):
            raise AttachmentMissing(token)
        return self.root / token


@dataclass(frozen=True)
class DatabaseAttachmentStore(AttachmentStore):
    """The same files as rows of `attachment_blobs`: every desk process on the database
    serves them, on one machine or many, with no shared folder to mount (issue 13)."""

    sessions: sessionmaker[Session] | None = None

    def _db(self) -> sessionmaker[Session]:
        assert self.sessions is not None
        return self.sessions

    def _put(self, token: str, data: bytes) -> None:
        with self._db().begin() as session:
            session.add(AttachmentBlob(token=token, data=data))

    def read(self, token: str) -> bytes:
        if not is_token(token):
            raise AttachmentMissing(token)
        with self._db()() as session:
            data = session.scalar(select(AttachmentBlob.data).where(AttachmentBlob.token == token))
        if data is None:
            raise AttachmentMissing(token)
        return bytes(data)

    def delete(self, token: str) -> None:
        if is_token(token):
            with self._db().begin() as session:
                session.execute(delete(AttachmentBlob).where(AttachmentBlob.token == token))


def find_attachment(session: Session, token: str) -> tuple[Message, dict[str, Any]] | None:
    """The message that carries this attachment, and its entry.

    Portable across SQLite and PostgreSQL: the JSON column as text narrows it down with
    LIKE (the token's '_' escaped), then the entry is matched exactly in Python.
    """
    if not is_token(token):
        return None
    pattern = "%" + token.replace("_", "\\_") + "%"
    candidates = session.scalars(
        select(Message).where(
            Message.attachments.is_not(None), cast(Message.attachments, Text).like(pattern, escape="\\")
        )
    )
    for message in candidates:
        for entry in message.attachments or []:
            if isinstance(entry, dict) and entry.get("id") == token:
                return message, entry
    return None
