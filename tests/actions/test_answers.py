from __future__ import annotations

import datetime as dt
import re

import pytest
import yaml

from actions.answers import ActionAnswerQuestion, ActionCheckIn, render_details
from actions.content import knowledge
from baken_core.knowledge import ContentError, load_knowledge
from baken_core.paths import PROJECT_ROOT
from baken_core.text import dutch_date
from baken_core.triage import assess
from tests.actions.conftest import make_tracker, run_action

TOPIC_INTENTS = yaml.safe_load((PROJECT_ROOT / "domain" / "answers.yml").read_text())["intents"]


def test_every_benefit_and_debt_intent_has_a_knowledge_entry() -> None:
    assert set(TOPIC_INTENTS) == set(knowledge())


@pytest.mark.parametrize("intent", TOPIC_INTENTS)
def test_an_answer_is_three_messages_with_the_link_a_dated_source_and_a_details_button(intent: str) -> None:
    messages, events = run_action(ActionAnswerQuestion(), make_tracker(intent=intent))
    topic = knowledge()[intent]
    assert len(messages) == 3
    assert messages[1]["text"].startswith("Is het voor jou?") and messages[2]["text"].startswith("Wat kun je doen?")
    last = messages[2]["text"]
    assert topic.link in last
    assert f"bijgewerkt op {dutch_date(topic.checked_on)}" in last  # "28 november 2026", not ISO
    source = topic.dated_source(dt.date.today())
    if source is not None:
        assert re.search(rf"Bron: \S+ \({re.escape(str(source.when))}\)", last), last
    else:  # no dated source in facts.md: it says so (the admin dashboard lists these)
        assert "Bron: zonder datum." in last
    if topic.unknown:  # nothing checked to say: a person, not more details
        assert messages[2]["buttons"] == [{"title": "Praat met een medewerker", "payload": "/request_human"}]
        assert "geen nagekeken informatie" in messages[0]["text"]
    else:
        assert messages[2]["buttons"] == [
            {"title": f"Meer over: {topic.title}", "payload": f'/{intent}{{"detail":"meer"}}'}
        ]
    assert {"event": "slot", "timestamp": None, "name": "answered_topics", "value": [intent]} in events


def test_most_answers_show_a_dated_source() -> None:
    undated = [t.intent for t in knowledge().values() if t.dated_source(dt.date(2026, 12, 3)) is None]
    # facts.md gives no dated source for these; the dashboard asks an editor to find one
    assert sorted(undated) == [
        "ask_bezwaar",
        "ask_bijzondere_bijstand",
        "ask_budgetbeheer_bewind",
        "ask_cjib_boete",
        "ask_hersteloperatie",
        "ask_inkomenstoeslag",
        "ask_juridisch_advies",
        "ask_kwijtschelding",
    ]


def test_the_details_button_shows_facts_with_sources_and_no_second_check_in() -> None:
    tracker = make_tracker(intent="ask_zorgtoeslag")
    tracker.latest_message["entities"] = [{"entity": "detail", "value": "meer"}]
    messages, _ = run_action(ActionAnswerQuestion(), tracker)
    assert len(messages) == 1 and messages[0]["text"].startswith("Meer over: Zorgtoeslag")
    assert "Wie regelt het: Dienst Toeslagen" in messages[0]["text"]
    check_in, _ = run_action(ActionCheckIn(), tracker)
    assert check_in == []


def test_an_expired_fact_is_not_shown_and_the_answer_says_less() -> None:
    topic = knowledge()["ask_zorgtoeslag"]
    in_2026 = render_details(topic, dt.date(2026, 12, 31))
    in_2027 = render_details(topic, dt.date(2027, 1, 1))
    assert "€ 129" in in_2026 and "€ 129" not in in_2027 and "€" not in in_2027
    assert "kunnen veranderd zijn" in in_2027 and topic.link in in_2027
    assert topic.facts_on(dt.date(2027, 1, 1)) == ()  # every zorgtoeslag fact is a 2026 figure


def test_a_fact_with_an_amount_and_no_end_date_is_refused(tmp_path) -> None:
    fact: dict[str, object] = {"text": "In 2026 is het € 10.", "year": 2026, "source": "https://x.nl"}
    entry = {
        "intent": "ask_x", "title": "X", "answer": "a", "for_whom": "b", "provider": "c", "how_to_apply": "d",
        "link": "https://x.nl", "checked_on": "2026-11-28",
        "facts": [fact],
    }  # fmt: skip
    (tmp_path / "x.yml").write_text(yaml.safe_dump({"topics": [entry]}), encoding="utf-8")
    with pytest.raises(ContentError, match="valid_until"):
        load_knowledge(tmp_path)
    fact["valid_until"] = "2026-12-31"
    (tmp_path / "x.yml").write_text(yaml.safe_dump({"topics": [entry]}), encoding="utf-8")
    assert load_knowledge(tmp_path)["ask_x"].facts[0].valid_until == dt.date(2026, 12, 31)


def test_every_2026_amount_expires_at_the_end_of_2026() -> None:
    for topic in knowledge().values():
        for fact in topic.facts:
            if "€" in fact.text and "2026" in fact.text:
                assert fact.valid_until == dt.date(2026, 12, 31), (topic.intent, fact.text)


def test_every_amount_has_a_year_and_a_source() -> None:
    for topic in knowledge().values():
        for fact in topic.facts:
            assert 2000 <= fact.year <= 2030 and fact.source.startswith(("http", "www"))
        # an amount in the main answer text must be in a fact with year and source instead
        assert not re.search(r"€\s?\d", topic.answer), topic.intent


def run_text(text: str, intent: str) -> list[str]:
    """The answer to `text` understood as `intent`, with the triage the NLU would attach."""
    tracker = make_tracker(intent=intent, text=text, triage=assess(text, intent).as_dict())
    messages, _ = run_action(ActionAnswerQuestion(), tracker)
    return [m["text"] for m in messages if m.get("text")]


def test_an_announced_cut_off_is_urgent_with_the_honest_three_working_days_line() -> None:
    messages = run_text("eneco gaat volgende week mijn gas afsluiten", "report_afsluiting")
    assert messages[0].startswith("Dit is dringend")
    assert "3 werkdagen na je aanmelding" in messages[0] and "Meld je bij de gemeente" in messages[0]


def test_an_energy_companys_signal_alone_gets_no_wgs_promise() -> None:
    """facts.md §2 (SZW 2023): an eindeleveringssignaal is not per definitie a bedreigende situatie."""
    text = "ik kreeg een eindeleveringssignaal van mijn energieleverancier"
    assert assess(text, "report_afsluiting").urgency == "normal"
    messages = run_text(text, "report_afsluiting")
    assert not messages[0].startswith("Dit is dringend")
    assert "niet altijd" in "\n".join(messages)  # the answer says the 3 werkdagen may not apply


def test_urgency_without_a_wgs_situation_gets_no_three_working_days_line() -> None:
    tracker = make_tracker(intent="report_afsluiting", triage={"urgency": "urgent", "domains": [], "signals": []})
    messages, _ = run_action(ActionAnswerQuestion(), tracker)
    assert not messages[0]["text"].startswith("Dit is dringend")


def test_rent_arrears_without_eviction_threat_is_not_called_urgent() -> None:
    tracker = make_tracker(intent="report_huurachterstand", triage={"urgency": "normal", "domains": []})
    messages, _ = run_action(ActionAnswerQuestion(), tracker)
    assert not messages[0]["text"].startswith("Dit is dringend")


def test_local_topics_show_the_gemeente_contact() -> None:
    messages, _ = run_action(ActionAnswerQuestion(), make_tracker(intent="ask_bijzondere_bijstand"))
    assert "gemeente-voorbeeld.example" in messages[-1]["text"]


def test_unknown_intent_gets_the_default_reply_not_a_crash() -> None:
    messages, events = run_action(ActionAnswerQuestion(), make_tracker(intent="greet"))
    assert messages[0]["response"] == "utter_default" and events == []


def test_check_in_offers_a_worker_first_when_urgent() -> None:
    messages, _ = run_action(ActionCheckIn(), make_tracker(slots={"triage_urgency": "urgent"}))
    assert messages[0]["buttons"][0]["payload"] == "/request_human"
    calm, _ = run_action(ActionCheckIn(), make_tracker(slots={"triage_urgency": "normal"}))
    assert [b["payload"] for b in calm[0]["buttons"]] == ["/affirm", "/deny"]
    done, _ = run_action(ActionCheckIn(), make_tracker(slots={"triage_done": True}))
    assert "Speelt er" not in done[0]["text"]


def test_the_municipalitys_own_page_is_shown_where_it_belongs_and_an_empty_one_is_left_out(
    tmp_path, monkeypatch
) -> None:
    messages, _ = run_action(ActionAnswerQuestion(), make_tracker(intent="ask_kwijtschelding"))
    assert "Bij Gemeente Voorbeeld: https://www.gemeente-voorbeeld.example/kwijtschelding" in messages[2]["text"]
    assert "☎" not in messages[2]["text"]  # the wijkteam's phone is empty in gemeente.yml: not shown as a blank
    settings = yaml.safe_load((PROJECT_ROOT / "data" / "gemeente.yml").read_text(encoding="utf-8"))
    settings["links"]["kwijtschelding"] = ""
    (tmp_path / "gemeente.yml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("BAKEN_DATA_DIR", str(tmp_path))
    messages, _ = run_action(ActionAnswerQuestion(), make_tracker(intent="ask_kwijtschelding"))
    assert "Bij Gemeente Voorbeeld" not in messages[2]["text"] and "kwijtschelding:" not in messages[2]["text"]


@pytest.mark.parametrize(
    ("intent", "next_step"), [("ask_huurtoeslag", True), ("ask_voedselbank", True), ("ask_beslag", False)]
)
def test_an_answer_with_a_concrete_next_step_tells_the_desk_so(intent: str, next_step: bool) -> None:
    """The desk may offer a check-in a week later (handoff/store/followups.py) only after an
    answer whose knowledge entry has `next_step: true`; the citizen reads nothing of it."""
    messages, _ = run_action(ActionAnswerQuestion(), make_tracker(intent=intent))
    assert knowledge()[intent].next_step is next_step
    assert (messages[2].get("custom") == {"next_step": True}) is next_step, messages[2]
    assert all("next_step" not in m["text"] for m in messages)
