"""Text normalisation used by the triage rules and the input check."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202f\ufeff]")
_SPACES = re.compile(r"\s+")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "“": '"', "”": '"'})


def strip_control(text: str) -> str:
    """Remove control and zero-width characters; keep ordinary whitespace as spaces."""
    return _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()


def fold(text: str) -> str:
    """Lower-case, accent-free, single-spaced text for pattern matching.

    "Suïcide" and "suicide" must match the same rule; a citizen typing on a phone does not
    reliably type the diaeresis.
    """
    decomposed = unicodedata.normalize("NFKD", strip_control(text).translate(_QUOTES))
    without_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    return without_marks.lower()


MONTHS = (
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
)  # fmt: skip


def dutch_date(day: dt.date, *, year: bool = True) -> str:
    """'28 november 2026' (or '28 november' without the year): dates as people write them."""
    text = f"{day.day} {MONTHS[day.month - 1]}"
    return f"{text} {day.year}" if year else text
