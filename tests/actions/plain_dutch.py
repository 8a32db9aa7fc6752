"""Plain Dutch (B1) measured: words per message, words per sentence, and a Dutch readability
score (Flesch-Douma: 206.84 − 0.77 × syllables per 100 words − 0.93 × words per sentence;
syllables from pyphen's Dutch hyphenation dictionary, a maintained library). 60–70 is
'normaal', above 70 'makkelijk'. Links and phone numbers are not words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pyphen

_LINK = re.compile(r"(https?://\S+|www\.\S+|\b[\w.-]+\.(nl|eu|org|com|example)(/\S*)?)")
_WORD = re.compile(r"[A-Za-zÀ-ÿ]+(?:['-][A-Za-zÀ-ÿ]+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?:])\s+|\n+|\s*•\s*")


@lru_cache(maxsize=1)
def _dictionary() -> pyphen.Pyphen:
    return pyphen.Pyphen(lang="nl_NL")


@dataclass(frozen=True)
class Measure:
    words: int
    sentences: int
    words_per_sentence: float
    flesch_douma: float


def without_links(text: str) -> str:
    return _LINK.sub(" ", text)


def measure(text: str) -> Measure:
    plain = _LINK.sub(" ", text)
    words = _WORD.findall(plain)
    sentences = [s for s in _SENTENCE_END.split(plain) if _WORD.search(s)]
    syllables = sum(len(_dictionary().inserted(word.lower()).split("-")) for word in words)
    per_sentence = len(words) / max(1, len(sentences))
    per_100 = 100 * syllables / max(1, len(words))
    return Measure(len(words), len(sentences), per_sentence, 206.84 - 0.77 * per_100 - 0.93 * per_sentence)
