from __future__ import annotations

from baken_core.crisis import CRISIS_MESSAGE
from baken_core.summary import TriageRecord, build_summary


def test_summary_has_scores_strengths_answers_and_own_words() -> None:
    text = build_summary(
        TriageRecord(
            urgency="urgent",
            domains=["huisvesting"],
            scores={"financien": 2},
            tried="de verhuurder gebeld",
            network="mijn zus",
            answered=["Huurachterstand"],
            citizen_words=["ik moet misschien mijn huis uit"],
            mentioned={"creditor": ["Belastingdienst", "CJIB"], "amount": ["€ 1.250,50"]},
        )
    )
    assert "- Instanties en schuldeisers: Belastingdienst, CJIB" in text
    assert "- Bedragen: € 1.250,50" in text
    assert "Urgentie: urgent (binnen 3 werkdagen)" in text
    assert "- Financiën: 2 – niet zelfredzaam" in text
    assert "- Huisvesting: genoemd, niet gescoord" in text
    assert "de verhuurder gebeld" in text and "mijn zus" in text
    assert "Huurachterstand" in text
    assert '"ik moet misschien mijn huis uit"' in text


def test_empty_summary_says_what_is_unknown() -> None:
    assert "Leefgebieden: nog niet bekend" in build_summary(TriageRecord())


def test_crisis_numbers_exactly_as_in_the_facts() -> None:
    for number in ("112", "113", "0800-0113", "113.nl", "0800-2000"):
        assert number in CRISIS_MESSAGE
