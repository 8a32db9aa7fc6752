"""`make bench-loop`: how long an admin needs, in the browser, to turn a misunderstood
message into a better live model, with the real training configuration (config.yml) and
the real evaluation set, on this machine.

Starts its own Rasa + action server (a copy of models/baken.tar.gz) and desk (SQLite and
data/ in a temporary folder, so the repository's data stays as it is), then in headless
Chromium: a citizen's message the model gets wrong → the admin logs in, finds it in the
NLU inbox, marks a word, picks the intent, clicks "Opnieuw trainen", waits, looks at the
evaluation, puts the model live (with a reason if the gate asks) → the citizen's message
again, through the widget. Then one rollback. The stopwatch runs from the admin's login
to the model being live; the report splits it into stages (from the model registry).

Writes docs/benchmarks/learning-loop.md with date and machine.
Usage: python -m benchmarks.learning_loop [--out docs/benchmarks/learning-loop.md]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select

from baken_core.paths import PROJECT_ROOT
from handoff import auth
from handoff.store.db import create_engine, session_factory
from handoff.store.models import ModelVersion, Role
from stack.browser import chromium, open_admin_page
from stack.desk import desk_server
from stack.processes import MODEL
from stack.rasa import rasa_stack
from stack.store import parse_of

MESSAGE = "wat moet ik met die kattenluikregeling van de gemeente dan"
WORD = "kattenluikregeling"
TARGET = "ask_energie_hulp"
PASSWORD = "een lang wachtwoord voor de meting"
LIMIT_MINUTES = 10


@dataclass
class Result:
    started: str
    stages: dict[str, float] = field(default_factory=dict)
    before: str = ""
    after: str = ""
    rolled_back: str = ""
    gate: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    live_scores: dict[str, float] = field(default_factory=dict)
    training_s: float = 0.0
    evaluation_s: float = 0.0


def say(page: Page, text: str, count: int) -> None:
    chat = page.frame_locator("#baken-widget iframe")  # the chat runs in the desk's frame
    chat.get_by_label("Typ je bericht").fill(text)
    chat.get_by_label("Typ je bericht").press("Enter")
    expect(chat.locator(".msg-citizen")).to_have_count(count, timeout=60_000)
    expect(chat.locator(".msg-bot").last).to_be_visible(timeout=60_000)


def run(folder: Path) -> Result:
    result = Result(started=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    live = folder / "live.tar.gz"
    shutil.copyfile(MODEL, live)
    data = folder / "data"
    shutil.copytree(PROJECT_ROOT / "data", data)
    os.environ.update(
        {
            "BAKEN_DATA_DIR": str(data),
            "MODELS_DIR": str(folder / "registry"),
            "LIVE_MODEL_PATH": str(live),
            "TRAINING_CONFIG": "config.yml",
        }
    )
    with rasa_stack(live, folder / "rasa") as rasa_url, desk_server(folder, rasa_url) as (base, url):
        with session_factory(create_engine(url)).begin() as session:
            auth.create_worker(session, "beheer", PASSWORD, Role.admin)
        with chromium() as (_playwright, browser):
            citizen = browser.new_context().new_page()
            citizen.goto(f"{base}/demo")
            citizen.get_by_role("button", name="Chat met ons").click()
            say(citizen, MESSAGE, 1)
            result.before = str(parse_of(url, MESSAGE, 1)["intent"])

            admin = browser.new_context().new_page()
            clock = time.monotonic()
            lap = clock

            def stage(name: str) -> None:
                nonlocal lap
                now = time.monotonic()
                result.stages[name] = now - lap
                lap = now

            open_admin_page(admin, base, "beheer", PASSWORD)
            group = admin.locator("#groups li", has_text=WORD)
            expect(group).to_have_count(1, timeout=30_000)
            group.get_by_text("Woorden markeren").click()
            group.get_by_label("Woord(en) uit het bericht").fill(WORD)
            group.get_by_label("Soort").select_option("benefit")
            group.get_by_role("button", name="Markeer").click()
            group.get_by_label("Juiste intentie").fill(TARGET)
            group.get_by_role("button", name="Opslaan").click()
            expect(admin.locator("#admin-status")).to_contain_text("1 bericht verwerkt")
            stage("inloggen, bericht vinden, woord markeren, intentie kiezen")
            admin.get_by_role("button", name="Opnieuw trainen").click()
            ready = admin.locator("#models tr", has_text="klaar")
            expect(ready).to_have_count(1, timeout=40 * 60_000)
            stage("trainen en beoordelen (op de achtergrond; de pagina toont de voortgang)")
            ready.get_by_role("button", name="Bekijk").click()
            expect(admin.locator("#compare tr")).to_have_count(5)
            result.gate = admin.locator("#gate li").all_inner_texts()
            if result.gate:
                admin.get_by_role("button", name="Zet dit model live").click()
                admin.get_by_label("Reden om toch live te zetten").fill("Meting: nieuw woord geleerd")
            admin.get_by_role("button", name="Zet dit model live").click()
            expect(admin.locator("#models-status")).to_contain_text("Het model is live", timeout=300_000)
            stage("beoordeling bekijken en live zetten")
            total = time.monotonic() - clock
            result.stages["totaal"] = total

            say(citizen, MESSAGE, 2)
            result.after = str(parse_of(url, MESSAGE, 2)["intent"])
            rollback = time.monotonic()
            admin.locator("#models tr", has_text="start-").get_by_role("button", name="Terugzetten").click()
            expect(admin.locator("#models tr", has_text="start-")).to_contain_text("live", timeout=300_000)
            result.stages["terugzetten (één klik)"] = time.monotonic() - rollback
            say(citizen, MESSAGE, 3)
            result.rolled_back = str(parse_of(url, MESSAGE, 3)["intent"])
        with session_factory(create_engine(url))() as session:
            versions = session.scalars(select(ModelVersion).order_by(ModelVersion.id)).all()
            trained = next(v for v in versions if not v.name.startswith("start-"))
            start = next(v for v in versions if v.name.startswith("start-"))
            result.scores = {k: float(v) for k, v in (trained.metrics or {}).items() if isinstance(v, int | float)}
            result.live_scores = {k: float(v) for k, v in (start.metrics or {}).items() if isinstance(v, int | float)}
            if trained.finished_at and trained.created_at:
                result.training_s = (trained.finished_at - trained.created_at).total_seconds()
    return result


def render(result: Result) -> str:
    minutes = result.stages["totaal"] / 60
    verdict = "✔ onder" if minutes < LIMIT_MINUTES else "✘ boven"
    gate_reasons = " ".join(result.gate)
    lines = [
        "# Learning loop benchmark (issue 4)",
        "",
        f"- Date: {result.started}",
        f"- Machine: {os.cpu_count()} cores, {platform.machine()}, Linux {platform.release()}, "
        f"Python {platform.python_version()}",
        "- Command: `make bench-loop` (benchmarks/learning_loop.py): own Rasa + action server + desk, headless "
        "Chromium, the real training configuration (`config.yml`) and evaluation set "
        "(`data/evaluation/heldout.jsonl`).",
        "",
        f"The admin's path from logging in to the better model being live: **{minutes:.1f} minutes** "
        f"({verdict} the {LIMIT_MINUTES}-minute target).",
        "",
        "| stage | seconds |",
        "|---|---|",
        *[f"| {name} | {seconds:.1f} |" for name, seconds in result.stages.items()],
        "",
        f"The message ({len(MESSAGE)} characters, a word no training example has): before `{result.before}`, "
        f"after promotion `{result.after}` (target `{TARGET}`), after rollback `{result.rolled_back}`.",
        "",
        f"Training job (export, `rasa data validate`, training, evaluation of the new and the live model): "
        f"{result.training_s:.0f} s.",
        "",
        "| score on the evaluation set | live model | new model |",
        "|---|---|---|",
        *[
            f"| {key} | {result.live_scores.get(key, float('nan')):.3f} | {result.scores.get(key, float('nan')):.3f} |"
            for key in ("accuracy", "macro_f1", "crisis_recall", "false_crisis", "domain_micro_f1", "urgent_recall")
            if key in result.scores
        ],
        "",
        "Gate: " + ("passed without an override." if not result.gate else "asked for a reason: " + gate_reasons),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(PROJECT_ROOT / "docs" / "benchmarks" / "learning-loop.md"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="baken-loop-") as folder:
        result = run(Path(folder))
    report = render(result)
    Path(args.out).write_text(report, encoding="utf-8")
    print(report)
    ok = result.after == TARGET and result.rolled_back == result.before
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
