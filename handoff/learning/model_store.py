"""Where trained models' files live: a folder on the desk's machine, or the desk database.

MODELS_STORE=folder (the embedded default) is what `make run` always did: the file under
MODELS_DIR is the model, and promotion tells Rasa its path. MODELS_STORE=database keeps the
bytes in `model_files`/`model_chunks` (a few MB a row, streamed in and out), so every desk
process can serve every model to Rasa servers on other machines (the internal model server,
handoff/learning/model_server_api.py), whichever process trained it. The local file a
training leaves behind is then only a cache: nothing reads it to serve or promote.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from handoff.config import DeskSettings
from handoff.store.models import ModelChunk, ModelFile

CHUNK_BYTES = 4 * 1024 * 1024
"""Rows of 4 MB: a 110 MB model is 27 rows; a process holds one chunk at a time."""
SUFFIX = ".tar.gz"


class ModelMissing(LookupError):
    """No stored file for this model (never stored, deleted, or not a model name)."""


@dataclass(frozen=True)
class StoredModel:
    name: str
    sha256: str
    size: int


def is_model_name(name: str) -> bool:
    """Names the registry makes ("baken-20261206-…", "start-…"): no dots, no slashes."""
    return 0 < len(name) <= 64 and all(ch.isalnum() or ch in "-_" for ch in name)


class ModelStore(Protocol):
    kind: str

    def put(self, name: str, source: Path, session: Session | None = None) -> StoredModel:
        """Keep `source` as model `name` (once: a name already stored is left as it is);
        with `session`, inside the caller's transaction."""

    def info(self, name: str) -> StoredModel | None: ...

    def chunks(self, name: str) -> Iterator[bytes]:
        """The file's bytes in order, a chunk at a time; raises ModelMissing."""

    def delete(self, name: str) -> None: ...


def export(store: ModelStore, name: str, target: Path) -> Path:
    """Write a stored model to a local file (a desk that did not train it evaluates it)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.part")
    with partial.open("wb") as handle:
        for chunk in store.chunks(name):
            handle.write(chunk)
    partial.replace(target)
    return target


def _file_chunks(path: Path, size: int = CHUNK_BYTES) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(size):
            yield chunk


@dataclass
class FolderModelStore:
    """Models as files `<folder>/<name>.tar.gz` (the embedded default)."""

    folder: Path
    kind: str = "folder"
    _hashes: dict[tuple[str, int, int], str] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def path(self, name: str) -> Path:
        if not is_model_name(name):
            raise ModelMissing(name)
        return self.folder / f"{name}{SUFFIX}"

    def put(self, name: str, source: Path, session: Session | None = None) -> StoredModel:
        target = self.path(name)
        if source.resolve() != target.resolve() and not target.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.part")
            with partial.open("wb") as handle:
                for chunk in _file_chunks(source):
                    handle.write(chunk)
            partial.replace(target)
        stored = self.info(name)
        assert stored is not None
        return stored

    def info(self, name: str) -> StoredModel | None:
        """Size and SHA-256 of the file; the hash is computed once per file version (mtime)."""
        try:
            path = self.path(name)
            stat = path.stat()
        except (ModelMissing, FileNotFoundError):
            return None
        key = (name, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            known = self._hashes.get(key)
        if known is None:
            digest = hashlib.sha256()
            for chunk in _file_chunks(path):
                digest.update(chunk)
            known = digest.hexdigest()
            with self._lock:
                self._hashes[key] = known
        return StoredModel(name, known, stat.st_size)

    def chunks(self, name: str) -> Iterator[bytes]:
        path = self.path(name)
        if not path.is_file():
            raise ModelMissing(name)
        return _file_chunks(path)

    def delete(self, name: str) -> None:
        if is_model_name(name):
            self.path(name).unlink(missing_ok=True)


@dataclass
class DatabaseModelStore:
    """Models as rows: `model_files` (name, size, SHA-256) and `model_chunks` (the bytes)."""

    sessions: sessionmaker[Session]
    chunk_bytes: int = CHUNK_BYTES
    kind: str = "database"

    def put(self, name: str, source: Path, session: Session | None = None) -> StoredModel:
        """One transaction: readers see the whole file or none of it."""
        if not is_model_name(name):
            raise ModelMissing(name)
        if session is not None:
            return self._put(session, name, source)
        with self.sessions.begin() as own:
            return self._put(own, name, source)

    def _put(self, session: Session, name: str, source: Path) -> StoredModel:
        known = session.get(ModelFile, name)
        if known is not None:
            return StoredModel(known.name, known.sha256, known.size)
        digest, size, count = hashlib.sha256(), 0, 0
        session.execute(insert(ModelFile).values(name=name, sha256="", size=0, chunks=0))
        for chunk in _file_chunks(source, self.chunk_bytes):
            # Core inserts: no ORM object keeps the bytes alive after the row is sent.
            session.execute(insert(ModelChunk).values(name=name, seq=count, data=chunk))
            digest.update(chunk)
            size += len(chunk)
            count += 1
        session.execute(
            update(ModelFile).where(ModelFile.name == name).values(sha256=digest.hexdigest(), size=size, chunks=count)
        )
        return StoredModel(name, digest.hexdigest(), size)

    def info(self, name: str) -> StoredModel | None:
        if not is_model_name(name):
            return None
        with self.sessions() as session:
            row = session.get(ModelFile, name)
            return StoredModel(row.name, row.sha256, row.size) if row is not None else None

    def chunks(self, name: str) -> Iterator[bytes]:
        """Checked before the first chunk (ModelMissing), then one short query per chunk,
        so a slow download holds no database connection between chunks."""
        with self.sessions() as session:
            row = session.get(ModelFile, name) if is_model_name(name) else None
            if row is None:
                raise ModelMissing(name)
            count = row.chunks
        return self._read(name, count)

    def _read(self, name: str, count: int) -> Iterator[bytes]:
        for seq in range(count):
            with self.sessions() as session:
                data = session.scalar(select(ModelChunk.data).where(ModelChunk.name == name, ModelChunk.seq == seq))
            if data is None:  # deleted while it was being read
                raise ModelMissing(name)
            yield bytes(data)

    def delete(self, name: str) -> None:
        with self.sessions.begin() as session:
            session.execute(delete(ModelChunk).where(ModelChunk.name == name))
            session.execute(delete(ModelFile).where(ModelFile.name == name))


def from_settings(desk: DeskSettings, sessions: sessionmaker[Session], models_dir: Path) -> ModelStore:
    if desk.models_store == "database":
        return DatabaseModelStore(sessions)
    return FolderModelStore(models_dir)
