"""`scripts/classify`, the command-line contract, through the trained model."""

from __future__ import annotations

import json
import subprocess

import pytest

from baken_core.paths import PROJECT_ROOT

pytestmark = pytest.mark.rasa  # the trained model, through scripts/classify

SCRIPT = PROJECT_ROOT / "scripts" / "classify"


def classify(lines: list[str], *args: str) -> subprocess.CompletedProcess[bytes]:
    data = "".join(line + "\n" for line in lines).encode("utf-8")
    return subprocess.run([str(SCRIPT), *args], input=data, capture_output=True, timeout=300, check=False)


def test_one_json_object_per_line_in_order_with_triage() -> None:
    lines = [
        "hoe vraag ik zorgtoeslag aan",
        "ik zie het niet meer zitten",
        "morgen sluiten ze mijn gas af",
        "",
        "👍",
        "I cannot pay my rent, please help",
        "ik heb schulden \x07\x00 " + "en nog meer schulden " * 600,
        "لا أستطيع دفع الإيجار",
    ]
    result = classify(lines)
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
    records = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
    assert [r["text"] for r in records] == lines
    for record in records:
        assert set(record) == {"text", "intent", "confidence", "domains", "urgency"}
    assert records[0]["intent"] == "ask_zorgtoeslag" and records[0]["domains"] == ["financien"]
    assert records[1]["intent"] == "report_crisis" and records[1]["urgency"] == "crisis"
    assert records[2]["urgency"] == "urgent"
    assert records[3]["intent"] == "nlu_fallback"
    assert records[5]["intent"] == "foreign_language"
    assert "financien" in records[6]["domains"]
    assert records[7]["intent"] == "foreign_language"


def test_without_a_model_it_exits_2_and_says_make_train() -> None:
    result = classify(["hallo"], str(PROJECT_ROOT / "models" / "does-not-exist.tar.gz"))
    assert result.returncode == 2
    assert "make train" in result.stderr.decode()
