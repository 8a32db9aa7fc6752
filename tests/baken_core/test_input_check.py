"""Bad input is recognised, never crashes and loses nothing."""

from __future__ import annotations

import pytest

from baken_core.input_check import MAX_CHARS, check_input


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("", "empty"),
        (None, "empty"),
        ("  \x00\x07\u200b ", "empty"),
        ("???", "no_text"),
        ("👍👍", "emoji_only"),
        ("I cannot pay my rent, please help me", "foreign_language"),
        ("kirayı ödeyemiyorum, yardım lütfen", "foreign_language"),
        ("لا أستطيع دفع الإيجار", "foreign_language"),
        ("Nie mogę zapłacić czynszu", "foreign_language"),
        ("ik kan de huur niet betalen", "ok"),
        ("sorry, ik snap het niet", "ok"),
        ("thanks", "ok"),
        ("ik heb schulden bij de bank, help", "ok"),
    ],
)
def test_kinds(text: str | None, kind: str) -> None:
    assert check_input(text).kind == kind


def test_huge_input_is_capped_not_dropped() -> None:
    verdict = check_input("ik heb schulden " * 2000)
    assert verdict.kind == "too_long"
    assert len(verdict.text) == MAX_CHARS
    assert verdict.text.startswith("ik heb schulden")


def test_control_characters_are_removed() -> None:
    assert check_input("ik\x00 heb\x1b schulden").text == "ik heb schulden"
