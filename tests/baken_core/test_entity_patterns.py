"""Adding phrases to the entity ruler's pattern file: one line changes, the file still loads
with every old phrase, and nothing unsafe gets in."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from baken_core import entity_patterns as ep
from baken_core.paths import PROJECT_ROOT


@pytest.fixture
def patterns(tmp_path: Path) -> Path:
    path = tmp_path / "entity_patterns.yml"
    shutil.copyfile(PROJECT_ROOT / "data" / ep.PATTERNS_FILE, path)
    return path


def phrases(path: Path) -> dict[str, dict[str, list[str]]]:
    loaded: dict[str, dict[str, list[str]]] = yaml.safe_load(path.read_text(encoding="utf-8"))["phrases"]
    return loaded


def test_a_phrase_joins_an_existing_value_and_only_that_line_changes(patterns: Path) -> None:
    before = patterns.read_text(encoding="utf-8").splitlines()
    assert ep.add_phrase("creditor", "Vesteda", "woningcorporatie", patterns) is True
    after = patterns.read_text(encoding="utf-8").splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert len(changed) == 1 and changed[0][1].endswith(", vesteda]")
    assert "vesteda" in phrases(patterns)["creditor"]["woningcorporatie"]
    assert ep.known_phrases("creditor", patterns)["vesteda"] == "woningcorporatie"


def test_a_new_value_and_a_new_label_block_are_added(patterns: Path) -> None:
    assert ep.add_phrase("creditor", "kredietbank west", "kredietbank_west", patterns)
    assert ep.add_phrase("period", "een kwartaal", "kwartaal", patterns)
    loaded = phrases(patterns)
    assert loaded["creditor"]["kredietbank_west"] == ["kredietbank west"]
    assert loaded["period"]["kwartaal"] == ["een kwartaal"]
    # the old phrases are all still there
    assert loaded["creditor"]["cjib"] == ["cjib"] and "huurtoeslag" in loaded["benefit"]
    assert "token_patterns" in yaml.safe_load(patterns.read_text(encoding="utf-8"))


def test_a_known_phrase_is_not_added_twice(patterns: Path) -> None:
    text = patterns.read_text(encoding="utf-8")
    assert ep.add_phrase("creditor", "CJIB", "cjib", patterns) is False
    assert ep.add_phrase("creditor", "  Zilveren   Kruis ", "zorgverzekeraar", patterns) is False
    assert patterns.read_text(encoding="utf-8") == text


@pytest.mark.parametrize("phrase", ["yes", "ja: nee", "a, b", "#hash", "o'neill"])
def test_phrases_that_need_quoting_round_trip(patterns: Path, phrase: str) -> None:
    if not ep.PHRASE.match(phrase):
        with pytest.raises(ep.PatternError):
            ep.add_phrase("creditor", phrase, "x", patterns)
        return
    assert ep.add_phrase("creditor", phrase, "testwaarde", patterns)
    assert phrases(patterns)["creditor"]["testwaarde"] == [phrase]


@pytest.mark.parametrize(
    ("label", "phrase", "value"),
    [
        ("creditor", "[BSN]", "x"),
        ("creditor", "cjib](creditor)", "x"),
        ("creditor", "", "x"),
        ("creditor", "x" * 61, "x"),
        ("creditor", "vesteda", "Hoofdletters"),
        ("creditor", "vesteda", "1begin"),
        ("person", "jan", "jan"),
        ("creditor", "regel\x00nieuw", "x"),
    ],
)
def test_unsafe_phrases_values_and_labels_are_refused(patterns: Path, label: str, phrase: str, value: str) -> None:
    text = patterns.read_text(encoding="utf-8")
    with pytest.raises(ep.PatternError):
        ep.add_phrase(label, phrase, value, patterns)
    assert patterns.read_text(encoding="utf-8") == text


def test_a_value_written_as_a_block_list_is_not_overwritten(patterns: Path) -> None:
    block_list = "    duo:\n      - duo\n      - studieschuld\n"
    text = patterns.read_text(encoding="utf-8").replace("    duo: [duo]\n", block_list)
    patterns.write_text(text, encoding="utf-8")
    with pytest.raises(ep.PatternError):
        ep.add_phrase("creditor", "dienst uitvoering onderwijs", "duo", patterns)
    assert patterns.read_text(encoding="utf-8") == text


def test_slugs_and_types() -> None:
    assert ep.slug("Zilveren Kruis") == "zilveren_kruis"
    assert ep.slug("Univé") == "unive"
    assert ep.slug("123 Incasso") == "x_123_incasso"
    names = [t.name for t in ep.entity_types()]
    assert names[:4] == ["benefit", "creditor", "amount", "period"]
    assert "cjib" in next(t for t in ep.entity_types() if t.name == "creditor").values
