"""The training data honours the contract; the held-out set stays held out."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import yaml

from baken_core.paths import PROJECT_ROOT
from baken_core.pii import mask
from baken_core.zrm import DOMAINS
from baken_nlu import read_sets
from benchmarks import nlu as bench_nlu

CONTRACT = [
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
    "bot_challenge",
    "ask_capabilities",
    "request_human",
    "out_of_scope",
    "ask_huurtoeslag",
    "ask_zorgtoeslag",
    "ask_kinderopvangtoeslag",
    "ask_kindgebonden_budget",
    "ask_toeslag_terugbetalen",
    "ask_bijstand",
    "ask_bijzondere_bijstand",
    "ask_inkomenstoeslag",
    "ask_kwijtschelding",
    "ask_voedselbank",
    "ask_energie_hulp",
    "report_schulden",
    "ask_schuldhulpverlening",
    "ask_betalingsregeling",
    "ask_beslag",
    "ask_deurwaarder",
    "ask_budgetbeheer_bewind",
    "report_huurachterstand",
    "report_afsluiting",
    "ask_ww",
    "ask_schuldsanering",
    "report_zorgverzekering_achterstand",
    "ask_cjib_boete",
    "ask_hersteloperatie",
    "ask_juridisch_advies",
    "ask_bezwaar",
    "express_stress",
    "report_crisis",
]


def training_examples() -> dict[str, list[str]]:
    examples: dict[str, list[str]] = {}
    for path in sorted((PROJECT_ROOT / "data" / "nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            lines = [line[2:].strip() for line in block["examples"].splitlines() if line.startswith("- ")]
            examples.setdefault(block["intent"], []).extend(lines)
    return examples


HELDOUT_FILES = [
    # (file, at least this many messages, at least this many crisis messages); the sets up to fresh8
    # and new_topics are training data since 2026-12-07, fresh9-13 since 20:40 UTC (baken_nlu/read_sets.py)
    ("heldout.jsonl", 200, 20),
    ("heldout_fresh.jsonl", 200, 20),
    ("heldout_fresh2.jsonl", 200, 20),
    ("heldout_fresh3.jsonl", 200, 20),
    ("heldout_fresh4.jsonl", 200, 20),
    ("heldout_fresh5.jsonl", 200, 20),
    ("heldout_fresh6.jsonl", 400, 60),  # issue 12's first honest set (read since 2026-12-04)
    ("heldout_fresh7.jsonl", 400, 60),  # issue 12's second honest set (read since 2026-12-06)
    ("heldout_fresh8.jsonl", 400, 60),  # issue 12's third honest set (read since 2026-12-06)
    ("heldout_fresh9.jsonl", 400, 60),  # issue 12's fourth honest set (read since 2026-12-06)
    # issue 12's fifth honest set, written 2026-12-06 from docs/intents.md, data/intents.yml, docs/triage.md
    # and facts.md only: the targets are judged on it (bench-nlu, measured once 2026-12-06 evening)
    ("heldout_fresh10.jsonl", 400, 60),
    # issue 12's sixth honest set, written 2026-12-06 21:30 UTC from the same four files only (6 of its
    # 781 messages were seen by accident at 22:15 UTC; nothing was changed from them); measured once
    # by bench-nlu 2026-12-07 01:41 UTC, read since 01:55 UTC
    ("heldout_fresh11.jsonl", 400, 60),
    # issue 12's seventh honest set, written 2026-12-07 00:30 UTC by a helper from the same four files
    # only (duplicates of training lines and other sets dropped by count, unread); measured once
    # 2026-12-07 04:42 UTC (benchmarks/nlu_experiment.py), read since
    ("heldout_fresh12.jsonl", 400, 60),
    # issue 12's eighth honest set, written 2026-12-07 ~04:45 UTC by a helper from the same four files only
    # (duplicates of training lines, the folded read sets included, and other sets dropped by count,
    # unread); measured once by bench-nlu 2026-12-07 05:25 UTC, read since 05:28 UTC
    ("heldout_fresh13.jsonl", 400, 60),
    # issue 12's ninth honest set, written 2026-12-07 ~05:35 UTC by a helper from the same four files only
    # (duplicates of training lines and other sets dropped by count, unread); measured once by bench-nlu
    # 2026-12-07 14:09 UTC (with the rasa init baseline), read since 14:10 UTC
    ("heldout_fresh14.jsonl", 400, 60),
    # issue 12's tenth honest set, written 2026-12-07 ~13:35 UTC by a helper from the same four files only
    # (138 duplicates of training lines and other sets dropped by count, unread); measured once by bench-nlu
    # 2026-12-07 17:39 UTC (with the rasa init baseline), read since
    ("heldout_fresh15.jsonl", 400, 60),
    # issue 12's eleventh honest set, written 2026-12-07 ~16:00-16:30 UTC by a helper from the same four files
    # only (146 duplicates of training lines and other sets dropped by count, unread); measured once by bench-nlu
    # 2026-12-07 20:21 UTC (with the rasa init baseline), read since
    ("heldout_fresh16.jsonl", 400, 60),
    # issue 12's twelfth honest set, written 2026-12-07 ~19:05-19:35 UTC by a helper from the same four files
    # only (117 duplicates of training lines and other sets dropped by count, unread); measured once by bench-nlu
    # 2026-12-07 23:01 UTC (without the rasa init baseline), read since 23:10 UTC
    ("heldout_fresh17.jsonl", 400, 60),
    # issue 12's thirteenth honest set, written 2026-12-07 ~22:10-22:40 UTC by a helper from the same four files
    # only (150 duplicates of training lines (119) and other sets (31) dropped by count, unread, leaving 850:
    # 142 crisis, 124 urgent); not measured yet, errors unread: bench-nlu judges the targets on it
    ("heldout_fresh18.jsonl", 400, 60),
    ("heldout_new_topics.jsonl", 30, 0),  # the topics added in issue 10
]


def heldout(name: str = "heldout.jsonl") -> list[dict]:
    path = PROJECT_ROOT / "data" / "evaluation" / name
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_every_contract_intent_has_at_least_30_examples() -> None:
    counts = {intent: len(lines) for intent, lines in training_examples().items()}
    short = {intent: counts.get(intent, 0) for intent in CONTRACT if counts.get(intent, 0) < 30}
    assert not short


def test_no_example_is_used_twice() -> None:
    all_lines = [line.lower() for lines in training_examples().values() for line in lines]
    assert [t for t, n in Counter(all_lines).items() if n > 1] == []


@pytest.mark.parametrize(("name", "min_size", "min_crisis"), HELDOUT_FILES)
def test_heldout_set_is_big_labelled_and_never_in_training(name: str, min_size: int, min_crisis: int) -> None:
    """A set that is measured is never trained on; a folded (read) set is trained on, every text."""
    items = heldout(name)
    assert len(items) >= min_size
    training = {" ".join(line.split()).lower() for lines in training_examples().values() for line in lines}
    in_training = sum(" ".join(item["text"].split()).lower() in training for item in items)
    if name in read_sets.FOLDED:  # all of it, but for texts a measured set has too or with personal data
        measured = read_sets.evaluation_texts()
        left_out = [item["text"] for item in items if " ".join(item["text"].split()).lower() not in training]
        assert all(read_sets.plain(text) in measured or mask(text).text != text for text in left_out)
    else:  # count only: texts stay unread
        assert in_training == 0, f"{in_training} messages of {name} are also training examples"
    known_intents = set(training_examples())
    for item in items:
        assert item["intent"] in known_intents
        assert set(item["domains"]) <= set(DOMAINS)
        assert item["urgency"] in {"normal", "urgent", "crisis"}
    assert sum(item["urgency"] == "crisis" for item in items) >= min_crisis


def test_the_folded_read_sets_file_is_generated_from_the_sets() -> None:
    assert read_sets.OUTPUT.read_text(encoding="utf-8") == read_sets.render(read_sets.folded_examples())


def test_every_set_is_either_measured_folded_or_waiting_never_two() -> None:
    measured = {path.rsplit("/", 1)[-1] for _, path, _ in bench_nlu.HELDOUT_SETS}
    folded = {path.rsplit("/", 1)[-1] for _, path, _ in bench_nlu.FOLDED_SETS}
    waiting = {path.rsplit("/", 1)[-1] for path in bench_nlu.WAITING}
    assert folded == set(read_sets.FOLDED)
    assert not measured & folded and not waiting & (measured | folded)
    assert measured | folded | waiting == {name for name, _, _ in HELDOUT_FILES}
    assert "heldout.jsonl" in measured  # the desk's retraining gate measures a new model on it


def catalogue() -> list[dict[str, str]]:
    return yaml.safe_load((PROJECT_ROOT / "data" / "intents.yml").read_text(encoding="utf-8"))["catalogue"]


def test_the_catalogue_names_each_intent_once_with_its_topic_file() -> None:
    """data/intents.yml (what the admin can choose) matches the training data: every intent
    has its examples in data/nlu/<topic>.yml, the contract is in it, nothing is listed twice."""
    entries = catalogue()
    names = [e["intent"] for e in entries]
    assert len(names) == len(set(names)) and set(CONTRACT) <= set(names)
    for entry in entries:
        path = PROJECT_ROOT / "data" / "nlu" / f"{entry['topic']}.yml"
        blocks = yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]
        assert any(b.get("intent") == entry["intent"] for b in blocks), entry
        assert entry["meaning"].strip(), entry


def test_each_intent_is_declared_in_exactly_one_domain_file() -> None:
    declared = Counter(
        intent
        for path in sorted((PROJECT_ROOT / "domain").glob("*.yml"))
        for intent in yaml.safe_load(path.read_text(encoding="utf-8")).get("intents") or []
    )
    assert {i for i, n in declared.items() if n > 1} == set()
    assert {e["intent"] for e in catalogue()} <= set(declared)


TRAINING_FOLDERS = ("nlu", "rules", "stories")


def test_only_the_training_folders_look_like_training_data_to_rasa() -> None:
    """`make train` hands Rasa the whole data/ folder: a YAML file elsewhere that Rasa takes for
    stories or NLU data (a `rules:` or `nlu:` key, even nested) breaks training ("Value '1' is not
    of type 'str'. Path: '/version'", data/triage/rules.yml, 2026-12-07)."""
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    data = PROJECT_ROOT / "data"
    for path in sorted(data.rglob("*.yml")):
        inside = path.relative_to(data).parts[0] in TRAINING_FOLDERS
        looks = YAMLStoryReader.is_stories_file(path) or RasaYAMLReader.is_yaml_nlu_file(path)
        assert looks == inside, path
