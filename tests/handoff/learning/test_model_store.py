"""Models' files in the database (MODELS_STORE=database) on SQLite and PostgreSQL, and in the
folder: the bytes and the SHA-256 come back as they went in, in chunks, and go when deleted."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from handoff.learning import model_store, training_job
from handoff.learning.model_store import CHUNK_BYTES, DatabaseModelStore, FolderModelStore, ModelMissing
from handoff.store.models import ModelChunk, ModelFile, ModelStatus, ModelVersion


def model_file(folder: Path, size: int) -> Path:
    path = folder / "source.tar.gz"
    path.write_bytes(os.urandom(size))
    return path


def test_a_model_goes_into_the_database_in_chunks_and_comes_back_the_same(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    source = model_file(tmp_path, 2 * CHUNK_BYTES + 12345)  # three chunks, the last one short
    store = DatabaseModelStore(sessions)
    stored = store.put("baken-20261206-070000-000001", source)
    expected = hashlib.sha256(source.read_bytes()).hexdigest()
    assert (stored.sha256, stored.size) == (expected, source.stat().st_size)
    assert store.info(stored.name) == stored
    with sessions() as session:
        sizes = session.scalars(select(func.length(ModelChunk.data)).order_by(ModelChunk.seq)).all()
    assert sizes == [CHUNK_BYTES, CHUNK_BYTES, 12345]
    chunks = list(store.chunks(stored.name))
    assert all(len(chunk) <= CHUNK_BYTES for chunk in chunks)
    assert b"".join(chunks) == source.read_bytes()
    # the desk that did not train it gets a file to evaluate
    copy = model_store.export(store, stored.name, tmp_path / "copy" / "m.tar.gz")
    assert copy.read_bytes() == source.read_bytes()
    # storing the same name again changes nothing (two desk processes registering at once)
    other = tmp_path / "other.tar.gz"
    other.write_bytes(b"another model")
    assert store.put(stored.name, other) == stored

    store.delete(stored.name)
    assert store.info(stored.name) is None
    with pytest.raises(ModelMissing):
        store.chunks(stored.name)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(ModelChunk)) == 0
        assert session.scalar(select(func.count()).select_from(ModelFile)) == 0


def test_a_model_being_deleted_while_it_is_read_ends_the_read(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    store = DatabaseModelStore(sessions, chunk_bytes=1000)
    store.put("m1", model_file(tmp_path, 3500))
    reading = store.chunks("m1")
    assert len(next(reading)) == 1000
    store.delete("m1")
    with pytest.raises(ModelMissing):
        next(reading)


def test_names_that_are_not_model_names_are_refused(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    for store in (DatabaseModelStore(sessions), FolderModelStore(tmp_path)):
        for name in ("../secret", "a.b", "", "x" * 65, "live/../x"):
            assert store.info(name) is None
            with pytest.raises(ModelMissing):
                store.chunks(name)


def test_the_folder_store_is_the_registry_folder(tmp_path: Path) -> None:
    """The embedded default: a model is `<MODELS_DIR>/<name>.tar.gz`, as before."""
    source = model_file(tmp_path, 5000)
    store = FolderModelStore(tmp_path / "registry")
    stored = store.put("start-20261206-070000", source)
    assert (tmp_path / "registry" / "start-20261206-070000.tar.gz").read_bytes() == source.read_bytes()
    assert stored.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert b"".join(store.chunks(stored.name)) == source.read_bytes()
    store.delete(stored.name)
    assert store.info(stored.name) is None


FAKE_PYTHON = """#!/bin/bash
# A stand-in for .venv-rasa/bin/python: "trains" a model file, "evaluates" only a file that exists.
module="$2"; shift 2
while [ $# -gt 0 ]; do
  case "$1" in --out) out="$2"; shift 2;; --name) name="$2"; shift 2;; --model) model="$2"; shift 2;; *) shift;; esac
done
case "$module" in
  baken_nlu.train) mkdir -p "$out" && echo "trained model" > "$out/$name.tar.gz";;
  baken_nlu.evaluate) test -s "$model" && echo '{"accuracy": 0.9, "crisis_recall": 1.0}' > "$out";;
esac
"""


def test_a_training_keeps_its_model_in_the_database_and_scores_a_live_model_it_has_no_file_of(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    for name, script in (("python", FAKE_PYTHON), ("rasa", "#!/bin/bash\n")):
        (fake / name).write_text(script)
        (fake / name).chmod(0o755)
    store = DatabaseModelStore(sessions)
    store.put("start-20261206-060000", model_file(tmp_path, 1000))  # live, stored by another desk process
    with sessions.begin() as session:
        session.add(ModelVersion(name="start-20261206-060000", path="/elsewhere/start.tar.gz", status=ModelStatus.live))
        version = ModelVersion(
            name="baken-new", path=str(tmp_path / "models" / "baken-new.tar.gz"), status=ModelStatus.training
        )
        session.add(version)
        session.flush()
        version_id = version.id
    settings = training_job.JobSettings(rasa_bin=fake, timeout_s=60)
    asyncio.run(training_job.run(sessions, version_id, settings, store))

    with sessions() as session:
        trained = session.get(ModelVersion, version_id)
        assert trained is not None and trained.status is ModelStatus.ready, trained and trained.error
        live = session.scalars(select(ModelVersion).where(ModelVersion.status == ModelStatus.live)).one()
        assert live.metrics == {"accuracy": 0.9, "crisis_recall": 1.0}  # scored from a copy out of the database
    assert b"".join(store.chunks("baken-new")) == b"trained model\n"
