"""What is stored of a citizen's text: no bidi controls, zero-width or control characters;
line breaks, tabs, accents and emoji stay (baken_core/text.py)."""

from __future__ import annotations

import pytest

from baken_core.text import strip_invisible


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("bel me \u202egnilleb\u202c terug", "bel me gnilleb terug"),  # right-to-left override
        ("\u2066admin\u2069 zegt", "admin zegt"),  # isolates
        ("sch\u200bul\u200cden\ufeff", "schulden"),  # zero-width space, non-joiner, BOM
        ("hal\x00lo\x07", "hallo"),  # NUL and bell
        ("regel 1\r\nregel 2\rregel 3\ttab", "regel 1\nregel 2\nregel 3\ttab"),
        ("crème brûlée, één", "crème brûlée, één"),
        (
            "mijn gezin \U0001f468\u200d\U0001f469\u200d\U0001f467",
            "mijn gezin \U0001f468\u200d\U0001f469\u200d\U0001f467",
        ),
        ("de\u200dur", "deur"),  # a joiner between letters hides nothing worth keeping
        ("zacht\u00adkoppel\u00adteken", "zachtkoppelteken"),
    ],
)
def test_invisible_characters_are_dropped_visible_ones_kept(raw: str, stored: str) -> None:
    assert strip_invisible(raw) == stored
