"""The knowledge base's life spans: what is true on a day, and what an editor must look at."""

from __future__ import annotations

import datetime as dt

from baken_core.knowledge import knowledge, needs_attention


def test_2026_amounts_are_true_in_2026_and_gone_in_2027() -> None:
    zorgtoeslag = knowledge()["ask_zorgtoeslag"]
    assert any("€" in f.text for f in zorgtoeslag.facts_on(dt.date(2026, 6, 1)))
    assert not any("€" in f.text for f in zorgtoeslag.facts_on(dt.date(2027, 1, 1)))
    assert not any("€" in f.text for f in zorgtoeslag.facts_on(dt.date(2025, 12, 31)))  # not yet


def test_the_dashboard_list_names_expiry_old_checks_and_undated_entries() -> None:
    topics = knowledge()
    early = needs_attention(topics, dt.date(2026, 6, 1))
    assert not any("verloopt" in a.why for a in early)  # 31 december is more than 60 days away
    december = needs_attention(topics, dt.date(2026, 12, 3))
    assert any(a.intent == "ask_zorgtoeslag" and a.why == "een feit verloopt op 31 december 2026" for a in december)
    later = needs_attention(topics, dt.date(2027, 7, 1), check_older_than_days=180)
    assert any(a.intent == "ask_zorgtoeslag" and a.why == "een feit verlopen op 31 december 2026" for a in later)
    assert any(a.why == "gecontroleerd op 28 november 2026" for a in later)
    assert {a.intent for a in december if a.why == "geen bron met een datum"} == {
        "ask_bezwaar",
        "ask_bijzondere_bijstand",
        "ask_budgetbeheer_bewind",
        "ask_cjib_boete",
        "ask_hersteloperatie",
        "ask_inkomenstoeslag",
        "ask_juridisch_advies",
        "ask_kwijtschelding",
    }
    assert [a.day for a in december if a.day] == sorted(a.day for a in december if a.day)  # soonest first
