"""Retrain in the background: take annotations, merge the data, validate, train, evaluate.

Runs the Rasa side as subprocesses from .venv-rasa (the desk never imports Rasa) and keeps
the registry row up to date (stage, progress %), so the admin page can show a progress
bar. Training output is read for progress only; it is not logged (it may quote data).

The model is trained on a merged copy of data/ in a folder of the job's own (training_data.py:
the git-tracked data plus the database's annotated examples), passed to Rasa as
`BAKEN_DATA_DIR` and deleted when the job ends; the repository's data/ is only read. The
folder sits beside the registry's models (`<MODELS_DIR>/.training-data/`, outside git); what
a job killed halfway left there goes when the next training starts (one runs at a time).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from baken_core.paths import PROJECT_ROOT
from handoff.learning import model_store, training_data, training_export
from handoff.learning.model_store import ModelStore
from handoff.store.models import ModelStatus, ModelVersion, utcnow

log = logging.getLogger(__name__)

RASA_BIN = PROJECT_ROOT / ".venv-rasa" / "bin"
ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "RASA_TELEMETRY_ENABLED": "false", "PYTHONWARNINGS": "ignore"}
FINISHED = re.compile(r"Finished training component '([^']+)'")
EPOCHS = re.compile(r"Epochs:\s+(\d+)%")
# Share of the bar per stage: export+validate 0–10, training 10–85, evaluation 85–100.
TRAIN_FROM, TRAIN_TO = 10, 85


@dataclass(frozen=True)
class JobSettings:
    heldout: str = "data/evaluation/heldout.jsonl"
    rasa_bin: Path = RASA_BIN
    timeout_s: float = 1800.0


def expected_components(config: Path) -> int:
    """Roughly how many graph components Rasa trains for this config (for the progress bar)."""
    loaded = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    return len(loaded.get("pipeline") or []) + len(loaded.get("policies") or []) + 1


class Progress:
    def __init__(self, sessions: sessionmaker[Session], version_id: int) -> None:
        self.sessions = sessions
        self.version_id = version_id

    def set(self, stage: str, percent: int) -> None:
        with self.sessions.begin() as session:
            version = session.get(ModelVersion, self.version_id)
            if version is not None:
                version.stage = stage
                version.progress = max(version.progress, min(100, percent))


async def _run(command: list[str], on_line: Callable[[str], None], timeout_s: float, data: Path | None = None) -> int:
    """Run `command` in the project; with `data`, the Rasa side reads that folder as data/."""
    extra = {"BAKEN_DATA_DIR": str(data)} if data is not None else {}
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=PROJECT_ROOT,
        env={**os.environ, **ENV, **extra},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None

    async def pump() -> None:
        buffer = b""
        assert process.stdout is not None
        while chunk := await process.stdout.read(4096):
            buffer += chunk
            *lines, buffer = re.split(rb"[\r\n]", buffer)
            for line in lines:
                on_line(line.decode("utf-8", "replace"))

    try:
        await asyncio.wait_for(pump(), timeout_s)
        return await process.wait()
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        return -9


async def evaluate(model_path: Path, settings: JobSettings) -> dict[str, object]:
    """Scores of a model on the held-out set (runs baken_nlu.evaluate in the Rasa venv)."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "scores.json"
        code = await _run(
            [
                str(settings.rasa_bin / "python"),
                "-m",
                "baken_nlu.evaluate",
                "--model",
                str(model_path),
                "--heldout",
                settings.heldout,
                "--out",
                str(out),
            ],
            lambda _line: None,
            settings.timeout_s,
        )
        if code != 0 or not out.exists():
            raise RuntimeError("De beoordeling op de testset is mislukt.")
        scores: dict[str, object] = json.loads(out.read_text(encoding="utf-8"))
        return scores


async def score_live_if_needed(
    sessions: sessionmaker[Session], settings: JobSettings, store: ModelStore | None = None
) -> None:
    """The live model needs scores too, to compare against (the first one has none). A live
    model this desk does not have as a file (another desk process stored it in the
    database) is scored from a temporary copy."""
    with sessions() as session:
        current = session.scalar(select(ModelVersion).where(ModelVersion.status == ModelStatus.live))
        if current is None or current.metrics:
            return
        live_id, live_path, live_name = current.id, Path(current.path), current.name
    if live_path.exists():
        scores = await evaluate(live_path, settings)
    elif store is not None and await asyncio.to_thread(store.info, live_name) is not None:
        with tempfile.TemporaryDirectory() as folder:
            copy = await asyncio.to_thread(model_store.export, store, live_name, Path(folder) / f"{live_name}.tar.gz")
            scores = await evaluate(copy, settings)
    else:
        return
    with sessions.begin() as session:
        stored = session.get(ModelVersion, live_id)
        if stored is not None:
            stored.metrics = scores


async def _validate(settings: JobSettings, data: Path) -> None:
    lines: list[str] = []
    command = [str(settings.rasa_bin / "rasa"), "data", "validate", "--domain", str(PROJECT_ROOT / "domain")]
    code = await _run([*command, "--data", str(data)], lines.append, settings.timeout_s, data)
    if code != 0:
        raise RuntimeError("De trainingsdata kloppen niet (rasa data validate).")


async def _train(model_path: Path, config: Path, settings: JobSettings, progress: Progress, data: Path) -> None:
    """Train with the project's trainer; the bar moves with each finished graph component."""
    total = expected_components(config)
    finished = 0

    def on_train_line(line: str) -> None:
        nonlocal finished
        if FINISHED.search(line):
            finished += 1
            progress.set("trainen", TRAIN_FROM + (TRAIN_TO - TRAIN_FROM) * min(finished, total) // total)

    model_path.parent.mkdir(parents=True, exist_ok=True)
    command = [str(settings.rasa_bin / "python"), "-m", "baken_nlu.train", "--out", str(model_path.parent)]
    command += ["--name", model_path.name.removesuffix(".tar.gz"), "--config", str(config)]
    command += ["--spacy-dir", str(model_path.parent / "spacy"), "--force"]
    code = await _run(command, on_train_line, settings.timeout_s, data)
    if code != 0 or not model_path.exists():
        raise RuntimeError("Het trainen is mislukt.")


def _finish(sessions: sessionmaker[Session], version_id: int, scores: dict[str, object] | None, why: str = "") -> None:
    """The row ends ready with its scores, or failed with `why` (Dutch, for the admin)."""
    with sessions.begin() as session:
        version = session.get(ModelVersion, version_id)
        if version is None:
            return
        version.finished_at = utcnow()
        if scores is None:
            version.status, version.error = ModelStatus.failed, why
            return
        version.metrics = scores
        version.status, version.stage, version.progress = ModelStatus.ready, "klaar", 100


TRAINING_DATA = ".training-data"


def merge_folder(models_dir: Path) -> tempfile.TemporaryDirectory[str]:
    """A new folder for this job's merged data, after removing what a killed job left: the
    merged copy holds citizens' (masked) words and must not outlive its training."""
    parent = models_dir / TRAINING_DATA
    shutil.rmtree(parent, ignore_errors=True)
    parent.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix="job-", dir=parent)


HEARTBEAT_S = 20.0
"""How often a running training shows it is alive (model_registry.STALE_AFTER)."""


def _beat(sessions: sessionmaker[Session], version_id: int) -> None:
    with sessions.begin() as session:
        session.execute(
            update(ModelVersion)
            .where(ModelVersion.id == version_id, ModelVersion.status == ModelStatus.training)
            .values(heartbeat_at=utcnow())
        )


async def _heartbeat(sessions: sessionmaker[Session], version_id: int) -> None:
    while True:
        try:
            await asyncio.to_thread(_beat, sessions, version_id)
        except Exception:  # the database away for a moment: the next beat tries again
            log.warning("training %s: heartbeat failed", version_id)
        await asyncio.sleep(HEARTBEAT_S)


async def run(
    sessions: sessionmaker[Session], version_id: int, settings: JobSettings, store: ModelStore | None = None
) -> None:
    """The whole job for one registry row; never raises (failures are recorded on the row).
    While it runs, the row's heartbeat shows other desk processes it is alive. With a model
    store the new model is kept there before the row says it is ready."""
    beating = asyncio.create_task(_heartbeat(sessions, version_id), name=f"training-{version_id}-heartbeat")
    try:
        await _run_job(sessions, version_id, settings, store)
    finally:
        beating.cancel()


async def _run_job(
    sessions: sessionmaker[Session], version_id: int, settings: JobSettings, store: ModelStore | None
) -> None:
    progress = Progress(sessions, version_id)
    with sessions() as session:
        version = session.get(ModelVersion, version_id)
        assert version is not None
        model_path, config, name = Path(version.path), PROJECT_ROOT / version.config, version.name
    try:
        progress.set("trainingsdata bijwerken", 2)
        with merge_folder(model_path.parent) as folder:
            data = Path(folder) / "data"
            with sessions.begin() as session:
                training_export.export_annotated(session)
                training_data.merge(session, data)
                version = session.get(ModelVersion, version_id)
                if version is not None:
                    version.data_hash = training_data.merged_hash(data)
            progress.set("trainingsdata controleren", 5)
            await _validate(settings, data)
            progress.set("trainen", TRAIN_FROM)
            await _train(model_path, config, settings, progress, data)
        progress.set("beoordelen op de testset", TRAIN_TO)
        # The new model and (the first time) the live model are scored side by side: each
        # load is mostly one core's work, and this machine has two.
        scores, _ = await asyncio.gather(
            evaluate(model_path, settings), score_live_if_needed(sessions, settings, store)
        )
        if store is not None:
            progress.set("model bewaren", 98)
            await asyncio.to_thread(store.put, name, model_path)
        _finish(sessions, version_id, scores)
    except Exception as exc:  # recorded for the admin; the desk keeps running
        log.warning("training %s failed: %s", version_id, type(exc).__name__)
        why = str(exc) if isinstance(exc, RuntimeError) else "Er ging iets mis tijdens de training."
        _finish(sessions, version_id, None, why)
