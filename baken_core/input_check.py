"""What kind of input a message is, before anyone tries to understand it.

The assistant speaks Dutch. Empty messages, messages without text and messages in another
language get a kind Dutch reply instead of a wrong guess. The checks are cheap heuristics
(word lists and Unicode scripts), deliberately cautious: a short or mixed message is left
to the classifier.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final, Literal

from baken_core.text import strip_control

InputKind = Literal["ok", "empty", "no_text", "emoji_only", "foreign_language", "too_long"]

MAX_CHARS: Final = 4000
"""Longer messages are understood from their first MAX_CHARS characters."""

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)

_DUTCH: Final = frozenset(
    """ik je jij u de het een en niet is van mijn m'n wat hoe kan heb met voor op dat die er
    maar ook nog wel geen naar bij om te zijn moet wil hebt we ze hij zij dit deze mij me
    ons jullie waar wanneer kun kunt heeft hebben graag alsjeblieft alstublieft bedankt
    dank hallo hoi goedemorgen goedemiddag nee ja niks niets meer als omdat dan want al
    krijg krijgen betalen huur geld schulden toeslag gemeente hulp weet zou mag""".split()
)
_FOREIGN: Final = frozenset(
    # English
    """the my you your and to can not have what how please pay rent me of it do don't i'm
    i i've need with money help are was this that for from debt debts job lost speak
    english thank thanks hello hi could would should they he she we our
    """
    # Turkish
    """ve bir bu ben sen ne için değil yok var mı mi çok ama ile benim param kira yardım
    ödeyemiyorum borç borçlarım merhaba teşekkürler nasıl lütfen evet hayır konuşuyor
    """
    # Polish, Spanish, German, French, Somali (frequent words only)
    """nie jest się mam nie mogę pieniądze czynsz pomoc dzień dobry dziękuję proszę jak
    el la los las que por para con una tengo puedo pagar alquiler ayuda hola gracias
    ich bin nicht und mein meine haben kann miete bezahlen hilfe danke bitte
    je suis ne pas mon ma les des payer loyer aide bonjour merci
    waxaan ma lacag kiro caawimaad mahadsanid""".split()
)
_FOREIGN_LETTERS: Final = frozenset("ışğİçşąęłńśźżñ¿¡ßœ")
_NON_LATIN_SCRIPTS: Final = (
    "ARABIC",
    "CYRILLIC",
    "ETHIOPIC",
    "CJK",
    "HEBREW",
    "GREEK",
    "DEVANAGARI",
    "HANGUL",
    "HIRAGANA",
    "KATAKANA",
    "THAI",
    "TIGRINYA",
    "PERSIAN",
)


@dataclass(frozen=True)
class InputCheck:
    """The verdict on one message."""

    kind: InputKind
    text: str
    """The message as it should be understood: control characters removed, capped."""

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind}


def _is_emoji(char: str) -> bool:
    return unicodedata.category(char) == "So" or 0x1F000 <= ord(char) <= 0x1FAFF


def _script(char: str) -> str:
    try:
        name = unicodedata.name(char)
    except ValueError:
        return "UNKNOWN"
    return name.split(" ")[0]


def looks_foreign(text: str) -> bool:
    """True when the message is clearly not Dutch (a script or a vocabulary)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    non_latin = sum(1 for c in letters if _script(c) in _NON_LATIN_SCRIPTS)
    if non_latin / len(letters) > 0.5:
        return True
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < 3:
        return False
    dutch = sum(1 for w in words if w in _DUTCH)
    foreign = sum(1 for w in words if w in _FOREIGN)
    foreign += 2 * sum(1 for c in text if c in _FOREIGN_LETTERS)
    return foreign >= 2 and foreign > 2 * dutch


def check_input(raw: str | None) -> InputCheck:
    """Classify a raw message: empty, no text, emoji only, foreign, too long, or ok."""
    text = strip_control(raw or "")
    if not text:
        return InputCheck("empty", "")
    if not any(c.isalnum() for c in text):
        kind: InputKind = "emoji_only" if any(_is_emoji(c) for c in text) else "no_text"
        return InputCheck(kind, text)
    if looks_foreign(text):
        return InputCheck("foreign_language", text[:MAX_CHARS])
    if len(text) > MAX_CHARS:
        return InputCheck("too_long", text[:MAX_CHARS])
    return InputCheck("ok", text)
