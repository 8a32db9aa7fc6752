"""Mask personal data in a citizen's message before it enters the admin's NLU inbox.

The NLU inbox keeps messages the assistant did not understand, so an admin can turn them
into training examples. Training data must not carry personal data, and above all no BSN
(domain/facts.md §6.1: without a legal basis a private help service may not store one).
`mask` replaces personal data with typed placeholders, so the sentence stays useful:
"mijn bsn is [BSN] en ik kan de huur niet betalen" still teaches the intent.

Placeholders (Dutch, stable, never changed by a second `mask`):

==========================  ===========================================================
``[BSN]``                   9 digits (8 with the leading 0 left off) that pass the
                            11-proef; or 7-10 digits near a cue ("bsn",
                            "burgerservicenummer", "sofinummer"), checksum or not,
                            because a mistyped BSN is still personal data.
``[IBAN]``                  an IBAN that passes ISO 13616 mod-97, any country, with or
                            without spaces, any case; an NL-shaped one (NL + 2 digits +
                            4 letters + 10 digits) even when the checksum fails.
``[TELEFOON]``              Dutch mobile and landline numbers (06..., 010..., +31...,
                            0031...) and foreign numbers written with + or 00.
``[EMAIL]``                 e-mail addresses.
``[ADRES]``                 street name + house number ("Kerkstraat 12a").
``[POSTCODE_HUISNUMMER]``   postcode followed by a house number ("1234 AB 12").
``[POSTCODE]``              a postcode on its own ("1234 AB").
``[GEBOORTEDATUM]``         a date with a birth cue ("geboren op 12-03-1985").
``[NAAM]``                  a person's name after a cue (see below).
``[NUMMER]``                any other run of 8 or more digits: customer, case and
                            invoice numbers identify a person at the creditor, and a
                            BSN with a typo fails the 11-proef and would otherwise leak.
==========================  ===========================================================

Deliberately kept, because it is not personal and matters for training:

- amounts ("1.250,50", "€ 123.456.789", "1250 euro", "€1.250,-"), periods, years, dates
  without a birth cue, year ranges ("2019-2023"), numbers under 8 digits without a cue.
  An "amount" of 8-9 digits that passes the 11-proef is masked all the same: the BSN wins;
- service numbers the assistant gives out and citizens quote back: 112, 113, 116xxx,
  14 + area code, 0800/0900/0906/0909 numbers and 088 company numbers;
- institution and benefit names (Belastingdienst, CJIB, DUO, UWV, Voedselbank, ...);
- a street or city name without a house number, a year of birth without a day.

Names. There is no Dutch NER model here, so names are found from cues only:
"mijn naam is", "ik heet", "u spreekt met", "naam:", honorifics ("mevrouw", "dhr.",
"de heer"), sign-offs at the start of a line or sentence ("Met vriendelijke groet,",
"groetjes", "mvg") — after these a lower-case name is masked too — and weaker cues
("ik ben", "hij heet", "mijn zoon", greetings "Hallo", "Beste") — after these only a
Capitalised word that is not a common Dutch word counts, so "ik ben moe" stays.

Before matching, zero-width and control characters are removed (except newlines and
tabs) and Unicode spaces become plain spaces, so "123\u200b456\u200b782" cannot slip through.
Every pattern runs in linear time: quantifiers are bounded, or each repetition must
consume a character the next part cannot, and a match is only tried where a word or a
number starts. A 100k-character adversarial message takes well under a second; a chat
message (at most 4000 characters, baken_core.input_check) a few milliseconds.

`mask` repeats its stages until the text no longer changes, so masking masked text
changes nothing. `contains_bsn` is the last guard before anything is written as
training data.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Final

from stdnum import iban as stdnum_iban
from stdnum.nl import bsn as stdnum_bsn

BSN: Final = "BSN"
IBAN: Final = "IBAN"
TELEFOON: Final = "TELEFOON"
EMAIL: Final = "EMAIL"
ADRES: Final = "ADRES"
POSTCODE_HUISNUMMER: Final = "POSTCODE_HUISNUMMER"
POSTCODE: Final = "POSTCODE"
GEBOORTEDATUM: Final = "GEBOORTEDATUM"
NAAM: Final = "NAAM"
NUMMER: Final = "NUMMER"
KINDS: Final = (BSN, IBAN, TELEFOON, EMAIL, ADRES, POSTCODE_HUISNUMMER, POSTCODE, GEBOORTEDATUM, NAAM, NUMMER)


@dataclass(frozen=True)
class Masked:
    """The masked text and how many items of each kind (placeholder name) were replaced."""

    text: str
    found: dict[str, int] = field(default_factory=dict)


def placeholder(kind: str) -> str:
    """The text that replaces an item of `kind`: "[BSN]"."""
    return f"[{kind}]"


# --------------------------------------------------------------------------- checksums


def elfproef(digits: str) -> bool:
    """The BSN 11-proef (python-stdnum's `stdnum.nl.bsn`): weights 9..2 for digits 1-8 and -1
    for digit 9; sum % 11 == 0. An 8-digit number is an old BSN with the leading 0 left off.
    All zeros is not a BSN."""
    if len(digits) not in (8, 9) or not digits.isdecimal():
        return False
    return bool(stdnum_bsn.is_valid(digits.zfill(9)))


IBAN_LENGTHS: Final[dict[str, int]] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28,
    "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
    "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip
"""IBAN length per country (SWIFT IBAN registry), to find where an IBAN written with spaces ends."""


def iban_valid(iban: str) -> bool:
    """An IBAN: ISO 13616 mod-97-10 (python-stdnum's `stdnum.iban`) and the country's length.
    The national account checks stdnum can add are left off on purpose: a number that passes
    mod-97 is masked even when its bank-internal check digits look wrong (masking errs towards
    masking)."""
    compact = re.sub(r"[ -]", "", iban).upper()
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", compact):
        return False
    if IBAN_LENGTHS.get(compact[:2], len(compact)) != len(compact):
        return False
    return bool(stdnum_iban.is_valid(compact, check_country=False))


# --------------------------------------------------------------------------- helpers

# Word boundaries in the patterns below treat "[" and "]" like letters: a placeholder then
# blocks a neighbouring match exactly as the masked word did, so a second pass finds nothing new.
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
_W = r"(?<![^\W_]|[\[\]])"  # not right after a letter, digit or bracket
_WE = r"(?![^\W_]|[\[\]])"  # not right before one
_DASH = "-\u2010-\u2015\u2212"  # for a character class: hyphen, Unicode dashes, minus


def _normalise(text: str) -> str:
    """Drop zero-width and control characters (keep newline, tab) and unify spaces."""
    text = text.translate(_ZERO_WIDTH)
    out = []
    for char in text:
        if char in "\n\t":
            out.append(char)
        elif char == "\r":
            out.append("\n")
        else:
            category = unicodedata.category(char)
            if category == "Zs":
                out.append(" ")
            elif category in ("Cc", "Cf", "Zl", "Zp", "Cs"):
                out.append(" " if category != "Cf" else "")
            else:
                out.append(char)
    return "".join(out)


def fold(word: str) -> str:
    """Lower case without accents: 'Één' -> 'een'."""
    decomposed = unicodedata.normalize("NFKD", word.replace("’", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


class _Counter:
    def __init__(self) -> None:
        self.found: dict[str, int] = {}

    def add(self, kind: str) -> str:
        self.found[kind] = self.found.get(kind, 0) + 1
        return placeholder(kind)


def _replace_spans(text: str, spans: list[tuple[int, int, str]], counter: _Counter) -> str:
    """Replace non-overlapping (start, end, kind) spans, sorted by start."""
    parts: list[str] = []
    last = 0
    for start, end, kind in sorted(spans, key=lambda span: (span[0], -span[1])):
        if start < last:
            continue
        parts.append(text[last:start])
        parts.append(counter.add(kind))
        last = end
    parts.append(text[last:])
    return "".join(parts)


def _sub_checked(pattern: re.Pattern[str], text: str, decide: Callable[[re.Match[str]], str | None]) -> str:
    """Like pattern.sub, but `decide` may turn a match down (None), and then the search goes
    on from the next character, so a rejected "2024 en 9" cannot hide "9138 AB 27" behind it."""
    parts: list[str] = []
    last = pos = 0
    while pos <= len(text):
        match = pattern.search(text, pos)
        if match is None:
            break
        replacement = decide(match)
        if replacement is None:
            pos = match.start() + 1
            continue
        parts.append(text[last : match.start()])
        parts.append(replacement)
        last = pos = max(match.end(), match.start() + 1)
    parts.append(text[last:])
    return "".join(parts)


# --------------------------------------------------------------------------- e-mail

_EMAIL = re.compile(r"(?<![\w.+%'\[\]-])[\w.+%'-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}(?![\w\[\]-])")


def _mask_email(text: str, counter: _Counter) -> str:
    def replace(match: re.Match[str]) -> str | None:
        last_label = match.group().rsplit(".", 1)[1]
        return counter.add(EMAIL) if last_label.isalpha() else None

    return _sub_checked(_EMAIL, text, replace)


# --------------------------------------------------------------------------- IBAN

_IBAN_START = re.compile(r"(?<![^\W_]|[\[\]])[A-Za-z]{2}\d{2}(?=[ -]?[A-Za-z0-9])")
_NL_SHAPE = re.compile(r"NL\d{2}[A-Z]{4}\d{10}")


def _iban_spans(text: str) -> Iterator[tuple[int, int]]:
    for match in _IBAN_START.finditer(text):
        country = match.group()[:2].upper()
        length = IBAN_LENGTHS.get(country)
        if length is None:
            continue
        chars = [c.upper() for c in match.group()]
        pos = match.end()
        while len(chars) < length and pos < len(text):
            char = text[pos]
            if char.isascii() and char.isalnum():
                chars.append(char.upper())
                pos += 1
            elif char in " -" and pos + 1 < len(text) and text[pos + 1].isascii() and text[pos + 1].isalnum():
                pos += 1
            else:
                break
        if len(chars) != length or (pos < len(text) and (text[pos].isalnum() or text[pos] in "[]")):
            continue
        candidate = "".join(chars)
        if iban_valid(candidate) or _NL_SHAPE.fullmatch(candidate):
            yield match.start(), pos


def _mask_iban(text: str, counter: _Counter) -> str:
    return _replace_spans(text, [(s, e, IBAN) for s, e in _iban_spans(text)], counter)


# --------------------------------------------------------------------------- birth dates

_MONTHS = (
    r"(?:januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december"
    r"|jan|feb|febr|mrt|apr|jun|jul|aug|sep|sept|okt|nov|dec)"
)
_DATE = (
    rf"(?:\d{{1,2}}[{_DASH}./ ]\d{{1,2}}[{_DASH}./ ]\d{{2,4}}|\d{{4}}[{_DASH}]\d{{1,2}}[{_DASH}]\d{{1,2}}"
    rf"|\d{{1,2}}(?:e|ste|de)?[ ]{{0,2}}{_MONTHS}\.?(?:[ ]{{1,2}}\d{{4}})?)(?![^\W_]|[\[\]])"
)
_DOB_BEFORE = re.compile(
    r"(?i)(?<![^\W_]|[\[\]])(?P<cue>(?:geboortedatum|geboortedag|geboren|geb\.?(?:[ ]?datum)?|dob)"
    rf"[ :]{{0,3}}(?:(?:is|op|de|was|:)[ ]{{1,3}}){{0,2}})(?P<date>{_DATE})"
)
_DOB_AFTER = re.compile(rf"(?i)(?<![^\W_]|[\[\]])(?P<date>{_DATE})(?P<cue>[ ]{{1,3}}(?:ben[ ]ik[ ]|is[ ])?geboren)")


def _mask_birth_dates(text: str, counter: _Counter) -> str:
    def before(match: re.Match[str]) -> str:
        return match.group("cue") + counter.add(GEBOORTEDATUM)

    def after(match: re.Match[str]) -> str:
        return counter.add(GEBOORTEDATUM) + match.group("cue")

    return _DOB_AFTER.sub(after, _DOB_BEFORE.sub(before, text))


# --------------------------------------------------------------------------- addresses

_SAFE_SUFFIXES = "straat|str\\.?|laan|plein|gracht|singel|kade|dijk|dreef|steeg|plantsoen"
_RISKY_SUFFIXES = "weg|pad|hof|park|baan|veld|markt|ring|haven|wal|erf|plaats"
_HOUSE_NUMBER = (
    r"(?:nr\.?[ ]?)?\d{1,5}(?!\d)"
    r"(?:[ ]?-[ ]?\d{1,4}[a-zA-Z]?(?![^\W_]|[\[\]])|[ ]?/[ ]?\d{1,4}(?![^\W_]|[\[\]])"
    r"|[ ]?(?:hs|bis|huis|I{1,3})(?![^\W_]|[\[\]])|[ ]?-?[a-zA-Z](?![^\W_]|[\[\]]))?"
)
_STREET = re.compile(
    r"(?<![^\W_]|[\[\]])(?:[A-Z][^\W\d_]{1,30}\.?[ ](?:(?:van|de|der|den|het|'t|[A-Z][^\W\d_]{0,30}\.?)[ ]){0,2})?"
    rf"(?P<word>[^\W\d_][^\W\d_'-]{{0,40}}?(?P<suffix>(?i:{_SAFE_SUFFIXES}|{_RISKY_SUFFIXES})))"
    rf"[ ,]{{1,3}}{_HOUSE_NUMBER}"
)
_RISKY = frozenset(_RISKY_SUFFIXES.split("|"))
_POSTCODE_NEVER = frozenset({"SA", "SD", "SS"})  # not issued
_POSTCODE_LOWER_NOT = frozenset(
    "en of in op is je te ik om al na nu zo er ze we uw ja eu ca pp st nr km kg cm mm mg ml gr".split()
)
_POSTCODE = re.compile(
    r"(?<![\w.,€\[\]-])(?P<digits>[1-9]\d{3})(?P<space>[ ]?)(?P<letters>[A-Za-z]{2})(?![^\W_]|[\[\]])"
    rf"(?P<house>[ ,]{{1,3}}{_HOUSE_NUMBER})?"
)


def _mask_addresses(text: str, counter: _Counter) -> str:
    def street(match: re.Match[str]) -> str | None:
        word = match.group("word")
        suffix = match.group("suffix")
        if word.lower() == suffix.lower() or (suffix.lower() in _RISKY and not word[0].isupper()):
            return None
        return counter.add(ADRES)

    def postcode(match: re.Match[str]) -> str | None:
        letters = match.group("letters")
        house = match.group("house")
        if letters.upper() in _POSTCODE_NEVER or (letters.islower() and letters in _POSTCODE_LOWER_NOT):
            return None
        if not letters.isupper() and not (letters.islower() and (house or not match.group("space"))):
            return None  # "1234 Ab": not a postcode; "1234 ab" only with a house number
        return counter.add(POSTCODE_HUISNUMMER if house else POSTCODE)

    return _sub_checked(_POSTCODE, _sub_checked(_STREET, text, street), postcode)


# --------------------------------------------------------------------------- numbers

_NUM_SEP = r"(?:[ ./\-\u2010-\u2015\u2212]|[ ]?\(0\)[ ]?)"
_NUMBER_RUN = re.compile(rf"\d(?:{_NUM_SEP}?\d)*")
_GROUP = re.compile(r"[^ ]+")
_BSN_CUE = re.compile(
    r"(?i)(?<![^\W_]|[\[\]])(?:bsn|b\.s\.n\.?|burger[ -]?service[ -]?n(?:umme)?r|sofi(?:[ -]?n(?:umme)?r)?"
    r"|persoonsnummer|citizen service number)(?![^\W_]|[\[\]])"
)
_AMOUNT_BEFORE = re.compile(r"(?i)(?:€|\beur|\beuro)[ ]{0,2}$")
_AMOUNT_AFTER = re.compile(r"(?i)[ ]{0,2}(?:€(?![ ]{0,2}\d)|eur\b|euro|,-|,\d|k\b|cent\b|mln|miljoen|duizend)")
_DATE_SHAPE = re.compile(
    rf"(\d{{1,2}})[{_DASH}./](\d{{1,2}})[{_DASH}./](\d{{2}}|\d{{4}})|(\d{{4}})[{_DASH}./](\d{{1,2}})[{_DASH}./](\d{{1,2}})"
)
_YEAR_RANGE_SHAPE = re.compile(rf"(?:19|20)\d{{2}}[{_DASH}/](?:(?:19|20)\d{{2}}|\d{{2}})")
_THOUSANDS_SHAPE = re.compile(r"\d{1,3}(?:\.\d{3})+")
_SERVICE_PREFIXES: Final = ("0800", "0900", "0906", "0909")
_MAX_GROUPS: Final = 8
_KEEP: Final = "keep"


def _digits(text: str) -> str:
    return "".join(c for c in text.replace("(0)", "") if c.isdecimal())


def _is_date(group: str) -> bool:
    match = _DATE_SHAPE.fullmatch(group)
    if not match:
        return False
    day, month = (match.group(1), match.group(2)) if match.group(1) else (match.group(6), match.group(5))
    return 1 <= int(day) <= 31 and 1 <= int(month) <= 12


def _phone_kind(digits: str, international: bool) -> str | None:
    if international:
        rest = digits[2:] if digits.startswith("00") else digits
        if not rest.startswith("31"):
            return TELEFOON if 8 <= len(rest) <= 15 else None
        national = "0" + rest[2:].lstrip("0")
    elif digits.startswith("0") and not digits.startswith("00"):
        national = digits
    else:
        return None
    if national.startswith(_SERVICE_PREFIXES) and len(national) in (8, 11):
        return _KEEP
    if len(national) == 10 and national[1] != "0":
        return _KEEP if national.startswith("088") else TELEFOON
    return None


def _is_amount(text: str, start: int, end: int) -> bool:
    return bool(_AMOUNT_BEFORE.search(text, max(0, start - 6), start) or _AMOUNT_AFTER.match(text, end))


def _sensitive(text: str, start: int, end: int, plus: bool, cue: Callable[[int, int], bool]) -> str | None:
    """The kind of personal number a window of a number run is, or None.

    Order matters: a phone number first (10 digits never pass for a BSN), dates are dates,
    then the 11-proef; an amount is kept unless the 11-proef says BSN; a cue makes any
    7-10 digit number a BSN.
    """
    raw = text[start:end]
    digits = _digits(raw)
    if len(digits) < 7:
        return None
    phone = _phone_kind(digits, plus or digits.startswith("00"))
    if phone is not None:
        return None if phone == _KEEP else phone
    single = " " not in raw
    if single and (_is_date(raw) or _YEAR_RANGE_SHAPE.fullmatch(raw)):
        return None
    if len(digits) in (8, 9) and elfproef(digits):
        return BSN
    if single and _is_amount(text, start, end):
        return None
    if len(digits) <= 10 and cue(start, end):
        return BSN
    return None


def _kept(text: str, start: int, end: int, plus: bool) -> bool:
    """Numbers that are not personal: amounts, dates, service and helpline numbers."""
    raw = text[start:end]
    digits = _digits(raw)
    if " " not in raw and (
        _is_amount(text, start, end)
        or _is_date(raw)
        or _YEAR_RANGE_SHAPE.fullmatch(raw)
        or _THOUSANDS_SHAPE.fullmatch(raw)
    ):
        return True
    if _phone_kind(digits, plus or digits.startswith("00")) == _KEEP:
        return True
    return digits in ("112", "113") or (digits.startswith(("116", "14")) and len(digits) in (5, 6))


def _windows(counts: list[int], lo: int, hi: int, longest_first: bool) -> Iterator[tuple[int, int]]:
    """Candidate windows (lo, j) of groups lo..j-1, within hi and at most _MAX_GROUPS long.

    Personal numbers are looked for longest first, numbers to keep shortest first: both
    choices mask more rather than less.
    """
    ends = range(lo + 1, min(hi, lo + _MAX_GROUPS) + 1)
    for j in reversed(ends) if longest_first else ends:
        if j == lo + 1 or counts[j] - counts[lo] >= 7:  # several short groups: too few digits to matter
            yield lo, j


def _number_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """Personal numbers in each run of digits.

    A run ("06 1234 5678", "bsn 123 456 782 of 0800-0113") is split at spaces into groups.
    First, from left to right, the longest window of groups that is a phone number or a
    BSN is masked. What remains is checked for things to keep (amounts, dates, service
    numbers); any other stretch of 8 or more digits becomes [NUMMER].
    """
    cue_starts = [m.start() for m in _BSN_CUE.finditer(text)]
    cue_ends = [m.end() for m in _BSN_CUE.finditer(text)]

    def cue(start: int, end: int) -> bool:
        """A BSN cue ends at most 40 characters before, or starts at most 30 after."""
        before = bisect_right(cue_ends, start)
        after = bisect_left(cue_starts, end)
        return (before > 0 and cue_ends[before - 1] >= start - 40) or (
            after < len(cue_starts) and cue_starts[after] <= end + 30
        )

    for run in _NUMBER_RUN.finditer(text):
        groups = [(run.start() + g.start(), run.start() + g.end()) for g in _GROUP.finditer(run.group())]
        counts = [0]
        for start, end in groups:
            counts.append(counts[-1] + len(_digits(text[start:end])))
        plus_at = run.start() - 1 if run.start() > 0 and text[run.start() - 1] == "+" else None
        rest: list[int] = []  # indexes of groups not masked in the first step
        i = 0
        while i < len(groups):
            for lo, j in _windows(counts, i, len(groups), longest_first=True):
                start, end = groups[lo][0], groups[j - 1][1]
                kind = _sensitive(text, start, end, plus_at is not None and lo == 0, cue)
                if kind is not None:
                    yield (plus_at if plus_at is not None and lo == 0 else start), end, kind
                    i = j
                    break
            else:
                rest.append(i)
                i += 1
        yield from _rest_spans(text, groups, counts, rest, plus_at is not None)


def _rest_spans(
    text: str, groups: list[tuple[int, int]], counts: list[int], rest: list[int], plus: bool
) -> Iterator[tuple[int, int, str]]:
    """Consecutive groups left after the first step: keep what is not personal, and mask
    any other stretch of 8 or more digits as [NUMMER]."""
    segments: list[list[int]] = []
    for index in rest:
        if segments and segments[-1][-1] == index - 1:
            segments[-1].append(index)
        else:
            segments.append([index])
    for segment in segments:
        lo, hi = segment[0], segment[-1] + 1
        leftover: list[int] = []
        i = lo
        while i < hi:
            for _, j in _windows(counts, i, hi, longest_first=False):
                if _kept(text, groups[i][0], groups[j - 1][1], plus and i == 0):
                    yield from _number_span(groups, counts, leftover)
                    leftover = []
                    i = j
                    break
            else:
                leftover.append(i)
                i += 1
        yield from _number_span(groups, counts, leftover)


def _number_span(
    groups: list[tuple[int, int]], counts: list[int], indexes: list[int]
) -> Iterator[tuple[int, int, str]]:
    if indexes and counts[indexes[-1] + 1] - counts[indexes[0]] >= 8:
        yield groups[indexes[0]][0], groups[indexes[-1]][1], NUMMER


def _mask_numbers(text: str, counter: _Counter) -> str:
    return _replace_spans(text, list(_number_spans(text)), counter)


# --------------------------------------------------------------------------- names

_PARTICLES: Final = frozenset("van de der den ter ten el al bin ibn da di du le la von zu vd".split())
_STOPWORDS: Final = frozenset(
    # function words, pronouns, common verbs and adverbs
    """ik je jij u uw de het een en of maar want dus dan als omdat niet geen wel nog ook al nu hier daar er
    is was ben bent zijn heb hebt heeft hebben had hadden kan kun kunt kunnen moet moeten wil wilt willen zou
    zal mag ga gaat gaan kom komt doe doet word wordt werd woon woont krijg krijgt betaal sta zit weet snap
    op in aan bij met van voor naar uit over onder tot te om door zonder tegen na sinds vanaf per via
    mijn m'n mn jouw haar ons onze hun hen die dat deze dit wat wie waar hoe wanneer waarom welke iets niets
    niks alles iemand niemand veel weinig meer minder erg heel echt zo zeer best bijna helemaal even gewoon
    toch nou ja nee oke ok okay hallo hoi hey hee dag goedemorgen goedemiddag goedenavond goedendag bedankt
    dank graag alsjeblieft alstublieft sorry help hulp vraag vraagje vragen hier daar allemaal iedereen
    team medewerker medewerkers collega afdeling meneer mevrouw heer dame jongen meisje man vrouw kind
    kinderen zoon dochter moeder vader ouders broer zus partner vriend vriendin buurman buurvrouw familie
    ex oma opa baby tante oom neef nicht consulent begeleider bewindvoerder hulpverlener maatje
    """
    # states and roles after "ik ben"
    """moe doodmoe doodop bekaf bang boos verdrietig ziek blij zwanger alleen alleenstaand alleenstaande
    werkloos dakloos thuis klaar net pas nieuw oud jong student scholier moeder vader mantelzorger zzp'er
    zzper ondernemer gepensioneerd arbeidsongeschikt ontslagen ziekgemeld ingeschreven verhuisd aangemeld
    afgewezen gekort geweest geboren getrouwd gescheiden weduwe weduwnaar ongerust bezorgd wanhopig radeloos
    depressief eenzaam gestrest benieuwd bereid bezig zenuwachtig dankbaar handig blij wajonger
    nederlands nederlander nederlandse marokkaans marokkaanse turks turkse syrisch syrische pools poolse
    surinaams surinaamse antilliaans eritrees eritrese somalisch afghaans moslim christen katholiek
    maandag dinsdag woensdag donderdag vrijdag zaterdag zondag januari februari maart april mei juni juli
    augustus september oktober november december vandaag morgen gisteren
    """
    # money and help words, institutions (from data/nlp/entity_patterns.yml and the help field)
    """schuld schulden huur geld toeslag toeslagen huurtoeslag zorgtoeslag kinderopvangtoeslag kindgebonden
    budget kinderbijslag bijstand bijstandsuitkering bijzondere individuele inkomenstoeslag kwijtschelding
    ww aow wajong wia studiefinanciering stufi energietoeslag uitkering belastingdienst belasting belastingen
    dienst cjib duo uwv svb gemeente zorgverzekeraar zorgverzekering cz zilveren kruis vgz menzis dsw onvz
    ditzo fbto univé unive interpolis ohra energieleverancier energiebedrijf eneco vattenfall essent
    greenchoice vandebron energiedirect oxxio engie waterbedrijf vitens evides dunea brabant water pwn
    waternet woningcorporatie woningbouw woningbouwvereniging woningstichting corporatie verhuurder huisbaas
    ymere vestia woonstad portaal eigen haard deurwaarder gerechtsdeurwaarder incassobureau kpn vodafone
    odido ziggo tele2 bank ing rabobank abn amro sns asn schuldhulpmaatje voedselbank geldfit juridisch loket
    humanitas leger des heils wijkteam buurtteam sociaal veilig thuis kindertelefoon mind korrelatie
    belastingtelefoon nibud rijksoverheid overheid digid politie huisarts dokter ggd ggz baken chatbot bot
    schuldhulp schuldhulpverlening stichting welzijn rechtbank advocaat notaris werkgever school
    bijstands bijstant deurwaarders energie huurtoeslach huurtoslag iit incasso incassobureaus kinder kinderopvang
    kindgebondenbudget kot kwijtscheldingsverzoek participatiewet tele werkloosheidsuitkering zorg zekerheid
    zorgtoeslach zorgtoslag
    """
    # words that follow a strong cue but are no name ("mijn naam is niet belangrijk", "meneer zei")
    """mij me wij we zij ze hij hem jullie zich elkaar bekend belangrijk anoniem geheim onbekend prive
    zei zegt belde vroeg vertelde kwam kreeg stuurde schreef gaf wilde moest kon mocht ging liet deed stond
    zegt belt vraagt vertelt komt stuurt schrijft geeft helpt hielp zag ziet weet wist denkt dacht
    vorige volgende afgelopen laatst onlangs eerst eerder later straks binnenkort vanavond vanochtend
    vanmiddag vannacht excuses excuseer daar allen allemaal lieve beste geachte t-mobile
    hierbij hiermee middels namens betreft aanleiding
    """.split()
)
_NAME_TOKEN = re.compile(r"[^\W\d_](?:[^\W\d_]|['’-](?=[^\W\d_])){0,39}")
_INITIALS = re.compile(r"(?:[A-Z]\.[ ]?){1,4}")
_GAP = re.compile(r"[ \t]{1,3}")
_AFTER_STRONG = re.compile(r"[ \t]{0,3}[:,]?[ \t]{0,3}(?:\n[ \t]{0,3}){0,2}")
_AFTER_WEAK = re.compile(r"[ \t]{1,3}")

_RELATIONS = (
    r"mijn[ ](?:zoon|dochter|man|vrouw|vriend|vriendin|partner|moeder|vader|broer|zus|zusje|broertje|ex|buurman"
    r"|buurvrouw|consulent|contactpersoon|begeleider|bewindvoerder|hulpverlener|maatje|kind)"
)
_STRONG_CUE = re.compile(
    rf"(?i){_W}(?:m(?:ij|')?n[ ]naam[ ]is|naam[ ]?:|ik[ ]heet|heet[ ]ik|(?:u|je|jij)[ ]spreekt[ ]met|spreek[ ]ik[ ]met"
    rf"|mevrouw|meneer|mevr\.?|mw\.|dhr\.?|de[ ]heer|mr\.|juffrouw|juf|{_RELATIONS}[ ]heet){_WE}"
)
_SIGN_OFF = re.compile(
    r"(?im)(?:^|(?<=[.!?,;:]))[ \t]{0,3}(?:(?:met[ ])?(?:vriendelijke|hartelijke|lieve|veel)[ ])?"
    rf"(?:groet(?:en|jes)?|gr\.?|mvg|m\.v\.g\.?|liefs|doei){_WE}"
)
_WEAK_CUE = re.compile(rf"(?i){_W}(?:ik[ ]ben|heet|{_RELATIONS}){_WE}")
_GREETING = re.compile(
    r"(?im)(?:^|(?<=[.!?,;:]))[ \t]{0,3}"
    rf"(?:hallo|hoi|hey|hee|hi|hai|beste|dag|goedendag|goedemorgen|goedemiddag|goedenavond){_WE}"
)


def _is_capitalised(token: str) -> bool:
    return token[0].isupper() and (len(token) == 1 or any(c.islower() for c in token[1:]))


def _name_span(text: str, pos: int, strong: bool) -> tuple[int, int] | None:
    """The name starting at `pos`, if the words there look like one."""
    start: int | None = None
    end = pos
    style: str | None = None
    particle_start: int | None = None
    names = 0
    initials = _INITIALS.match(text, pos)
    if initials:
        start, end, style, pos = pos, initials.end(), "cap", initials.end()
        end = pos if text[pos - 1] != " " else pos - 1
    for _ in range(8):
        token = _NAME_TOKEN.match(text, pos)
        if token is None:
            break
        word = fold(token.group())
        if word in _PARTICLES and (names > 0 or strong):  # "meneer de Vries", but not "ik ben van Utrecht"
            particle_start = token.start() if particle_start is None else particle_start
        else:
            if len(word) < 2 or word in _STOPWORDS or any(part in _STOPWORDS for part in word.split("-")):
                break
            capitalised = _is_capitalised(token.group())
            if style is None:
                style = "cap" if capitalised else ("low" if strong and token.group().islower() else None)
            if style is None or (style == "cap") != capitalised or (style == "low" and not token.group().islower()):
                break
            if start is None:
                start = particle_start if particle_start is not None else token.start()
            end, particle_start, names = token.end(), None, names + 1
            if names == 4:
                break
        gap = _GAP.match(text, token.end())
        if gap is None:
            break
        pos = gap.end()
    return (start, end) if start is not None and end > start else None


def _name_spans(text: str) -> Iterator[tuple[int, int, str]]:
    for pattern, strong in ((_STRONG_CUE, True), (_SIGN_OFF, True), (_WEAK_CUE, False), (_GREETING, False)):
        after = _AFTER_STRONG if strong else _AFTER_WEAK
        for cue in pattern.finditer(text):
            gap = after.match(text, cue.end())
            if gap is None or (gap.end() == cue.end() and cue.group()[-1] not in ".:"):
                continue
            span = _name_span(text, gap.end(), strong)
            if span:
                yield span[0], span[1], NAAM


def _mask_names(text: str, counter: _Counter) -> str:
    return _replace_spans(text, list(_name_spans(text)), counter)


# --------------------------------------------------------------------------- public

_MAX_PASSES: Final = 6
_STAGES: Final = (_mask_email, _mask_iban, _mask_birth_dates, _mask_addresses, _mask_numbers, _mask_names)


def mask(text: str) -> Masked:
    """Replace personal data in `text` with typed placeholders. Never raises on a str."""
    counter = _Counter()
    text = _normalise(text)
    # Repeat until nothing changes, so masking masked text changes nothing: a shorter text
    # can bring a cue within reach of a number. Each pass that changes the text replaces
    # text outside placeholders by a placeholder, so this ends; the cap is a seatbelt.
    for _ in range(_MAX_PASSES):
        before = text
        for stage in _STAGES:
            text = stage(text, counter)
        if text == before:
            break
    return Masked(text=text, found=counter.found)


def contains_bsn(text: str) -> bool:
    """True when `text` holds something `mask` would replace by [BSN].

    The last guard before a message is written as training data: refuse when True.
    """
    return mask(text).found.get(BSN, 0) > 0
