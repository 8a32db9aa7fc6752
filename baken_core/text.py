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


# Characters that change how text is shown without being text: bidi embeddings, overrides and
# isolates (an inbox line could be made to read backwards, "Trojan Source"), zero-width
# spaces and joiners, word joiner, BOM, soft hyphen, and C0/C1 controls other than tab and
# newline. A zero-width joiner between emoji (a family, a flag) is kept.
_INVISIBLE = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u061c\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]"
)
_ZWJ = "\u200d"


def strip_invisible(text: str) -> str:
    """The text as stored: without bidi controls, zero-width and control characters; line
    breaks and tabs stay (a citizen's message keeps its shape)."""
    text = _INVISIBLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    if _ZWJ not in text:
        return text
    kept = []
    for index, char in enumerate(text):
        if char == _ZWJ:
            before = text[index - 1] if index else ""
            after = text[index + 1] if index + 1 < len(text) else ""
            if not (_pictographic(before) and _pictographic(after)):
                continue
        kept.append(char)
    return "".join(kept)


def _pictographic(char: str) -> bool:
    return bool(char) and (unicodedata.category(char) == "So" or char == "\ufe0f")


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
