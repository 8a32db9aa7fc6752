"""Every text a citizen reads is plain Dutch (B1) and makes no promise of its own: answers
(all three messages and the details), the domain's responses, the crisis replies and the
desk's own lines. Numbers are in tests/actions/plain_dutch.py; the limits are here."""

from __future__ import annotations

import ast
import datetime as dt
import re
from collections.abc import Iterator

import pytest
import yaml

from actions.answers import ActionCheckIn, render_answer, render_details
from actions.content import knowledge
from baken_core.crisis import CRISIS_MESSAGE_EN, crisis_message
from baken_core.paths import PROJECT_ROOT
from tests.actions.conftest import make_tracker, run_action
from tests.actions.plain_dutch import measure, without_links

TODAY = dt.date(2026, 12, 3)
MAX_WORDS = 80
"""Words in one message (links and phone numbers are not words); a crisis reply may be longer."""
MAX_WORDS_CRISIS = 110
MAX_WORDS_PER_SENTENCE = 15.0
"""On average, in a text of 40 words or more."""
LONGEST_SENTENCE = 25
MIN_FLESCH_DOUMA = 60.0
MIN_FLESCH_DOUMA_DETAILS = 40.0
"""The details behind "Meer over …" name rules and sources: denser, still no worse than 'moeilijk'."""

NOT_FOR_CITIZENS = [
    # ZRM labels belong in the worker's summary
    r"niet zelfredzaam",
    r"acute problematiek",
    r"basale adl",
    r"beperkt zelfredzaam",
    # cold, pushy or empty lines
    r"\bsterkte\b",
    r"wacht niet, doe er nu",
    r"dan hoor je niets",
    r"\bdoe nu iets\b",
    # promises nobody can keep at night
    r"neemt (je|het) gesprek (nu )?(met voorrang )?over",
    r"met voorrang door",
    r"nu met je meekijken",
    r"vandaag nog",
    # "je", never "u"
    r"\bu\b",
    r"\buw\b",
]
JARGON = {  # a hard word only with a plain word beside it
    "vermogen": r"vermogen\)? ?\(?(spaargeld|\()|(spaargeld|bezit)[^.]{0,20}\(?vermogen",
    "aanslag": r"\(de aanslag\)|belastingbrief",
    "overwaarde": r"$^",
    "bedreigende situatie": r"$^",
    "ingehouden": r"\(ingehouden\)|ingehouden \(",
}


def domain_texts() -> Iterator[tuple[str, str]]:
    for path in sorted((PROJECT_ROOT / "domain").glob("*.yml")):
        for name, variants in (yaml.safe_load(path.read_text(encoding="utf-8")).get("responses") or {}).items():
            for variant in variants:
                if variant.get("text"):
                    yield f"{path.name}:{name}", " ".join(str(variant["text"]).split())


def desk_texts() -> Iterator[tuple[str, str]]:
    """Module-level text constants of the desk (read from the source: the desk's own packages
    do not import in the Rasa environment)."""
    desk = [
        ("bot", "routing", "texts.py"),
        ("handoff", "inbox", "api.py"),
        ("handoff", "inbox", "replies.py"),
        ("handoff", "store", "followups.py"),
    ]
    for path in [PROJECT_ROOT.joinpath(*parts) for parts in desk]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [t.id for t in targets if isinstance(t, ast.Name) and t.id.isupper()]
                if names and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                    text = node.value.value
                    if " " in text and text[0].isupper():
                        yield f"{path.name}:{names[0]}", text


def answer_texts() -> Iterator[tuple[str, str]]:
    for topic in knowledge().values():
        for index, message in enumerate(render_answer(topic, TODAY), start=1):
            yield f"{topic.intent}:{index}", message["text"]


def check_in_texts() -> Iterator[tuple[str, str]]:
    for slots in ({}, {"triage_urgency": "urgent"}, {"triage_done": True}):
        messages, _ = run_action(ActionCheckIn(), make_tracker(slots=slots))
        yield f"check_in:{sorted(slots)}", messages[0]["text"]


def crisis_texts() -> Iterator[tuple[str, str]]:
    yield "crisis:any hour", crisis_message()
    yield "crisis:open", crisis_message(staffed=True)
    yield "crisis:closed, child", crisis_message(staffed=False, back="maandag om 9.00 uur", child=True, violence=True)


ALL = [*answer_texts(), *domain_texts(), *desk_texts(), *check_in_texts()]


@pytest.mark.parametrize(("where", "text"), ALL, ids=[w for w, _ in ALL])
def test_every_citizen_text_is_short_and_plain(where: str, text: str) -> None:
    m = measure(text)
    assert m.words <= MAX_WORDS, f"{where}: {m.words} words"
    if m.words >= 40:
        assert m.words_per_sentence <= MAX_WORDS_PER_SENTENCE, f"{where}: {m.words_per_sentence:.1f} words per sentence"
    if m.words >= 20:
        assert m.flesch_douma >= MIN_FLESCH_DOUMA, f"{where}: Flesch-Douma {m.flesch_douma:.0f}"
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", text):
        assert measure(sentence).words <= LONGEST_SENTENCE, f"{where}: {sentence!r}"


@pytest.mark.parametrize("intent", sorted(knowledge()))
def test_the_details_are_plain_enough(intent: str) -> None:
    m = measure(render_details(knowledge()[intent], TODAY))
    assert m.words_per_sentence <= MAX_WORDS_PER_SENTENCE, m
    if m.words >= 20:
        assert m.flesch_douma >= MIN_FLESCH_DOUMA_DETAILS, m


@pytest.mark.parametrize(("where", "text"), list(crisis_texts()))
def test_crisis_replies_are_complete_but_not_long(where: str, text: str) -> None:
    m = measure(text)
    assert m.words <= MAX_WORDS_CRISIS and m.words_per_sentence <= 8, (where, m)


EVERYTHING = [*ALL, *crisis_texts(), *((f"details:{i}", render_details(t, TODAY)) for i, t in knowledge().items())]


@pytest.mark.parametrize(("where", "text"), EVERYTHING, ids=[w for w, _ in EVERYTHING])
def test_no_cold_line_no_promise_no_u_no_bare_jargon(where: str, text: str) -> None:
    lower = without_links(text).lower()
    for pattern in NOT_FOR_CITIZENS:
        assert not re.search(pattern, lower), f"{where}: {pattern!r}"
    for word, plain in JARGON.items():
        if re.search(rf"\b{word}\b", lower):
            assert re.search(plain, lower), f"{where}: {word!r} without a plain word beside it"
    assert "(In English)" not in text or text == CRISIS_MESSAGE_EN


def test_the_measure_can_tell_plain_from_hard() -> None:
    plain = "Je krijgt geld van de gemeente. Je vraagt het aan op de website. Dat kan elke dag."
    hard = (
        "Ingevolge de toepasselijke bepalingen inzake bijzondere bijstandsverlening dient de aanvrager "
        "alle noodzakelijkerwijs relevante bewijsstukken betreffende inkomensverwerving en vermogensbestanddelen "
        "tijdig en volledig aan het college van burgemeester en wethouders te overleggen."
    )
    assert measure(plain).flesch_douma > 80 > MIN_FLESCH_DOUMA > measure(hard).flesch_douma
    assert measure(plain).words == 17 and measure(plain).sentences == 3
