"""A Dutch word list from spaCy's lookup data, to recognise gibberish.

DIET is sometimes confident about strings that contain no Dutch word at all ("krrrrk
zzzp" as `affirm`). A message none of whose words is Dutch and that the model is not sure
about is better answered with "kun je het anders zeggen?" than with a wrong guess.
"""

from __future__ import annotations

import gzip
import json
import re
from functools import lru_cache
from importlib import resources

_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)


@lru_cache(maxsize=1)
def dutch_words() -> frozenset[str]:
    """Lemmas and inflected forms from spacy-lookups-data's Dutch tables (~400k words)."""
    data = resources.files("spacy_lookups_data") / "data"
    words: set[str] = set()
    with gzip.open(str(data / "nl_lemma_index.json.gz"), "rt", encoding="utf-8") as handle:
        for lemmas in json.load(handle).values():
            words.update(lemmas)
    with gzip.open(str(data / "nl_lemma_lookup.json.gz"), "rt", encoding="utf-8") as handle:
        lookup = json.load(handle)
        words.update(lookup)
        words.update(lookup.values())
    return frozenset(w.lower() for w in words)


def has_dutch_word(text: str) -> bool:
    """True when at least one word (two letters or more) of `text` is a known Dutch word."""
    words = dutch_words()
    return any(token.lower() in words for token in _WORD.findall(text))
