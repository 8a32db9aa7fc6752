"""Whole conversations through the trained model and the real action server."""

from __future__ import annotations

import pytest

from baken_core.crisis import CRISIS_MESSAGE, is_crisis_reply
from tests.dialogue.conftest import Chat


def handoff_of(messages: list[dict]) -> dict | None:
    for message in messages:
        custom = message.get("custom") or {}
        if "handoff" in custom:
            return custom["handoff"]
    return None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\x00\x01\x02",
        "👍",
        "🙂🙂🙂",
        "???",
        "I cannot pay my rent, can you help me?",
        "kirayı ödeyemiyorum, bana yardım eder misiniz",
        "لا أستطيع دفع الإيجار ساعدني",
        "ik heb schulden " * 700,
    ],
)
def test_bad_input_gets_a_kind_dutch_reply(chat: Chat, text: str) -> None:
    reply = chat.texts(text)
    assert reply.strip(), f"no reply to {text[:30]!r}"
    assert any(word in reply.lower() for word in (" je ", " ik ", "medewerker", "sorry")), reply


def test_foreign_language_offers_a_worker(chat: Chat) -> None:
    messages = chat.say("I lost my job and cannot pay my bills, please help me")
    assert "alleen Nederlands" in messages[0]["text"]
    assert messages[0]["buttons"][0]["payload"] == "/request_human"


def test_question_answer_check_in_triage_and_handoff(chat: Chat) -> None:
    assert "digitale assistent" in chat.texts("hallo")
    answer = chat.texts("ik kan de huur al drie maanden niet betalen en slaap er niet meer van")
    assert "https://" in answer and "bijgewerkt op" in answer
    first_question = chat.say("ja")
    assert first_question[0]["text"].startswith("Hoe gaat het met geld")
    assert len(first_question[0]["buttons"]) == 6
    second = chat.texts('/inform{"zrm_score":"2"}')
    assert "woning" in second
    third = chat.texts("lukt maar net")
    assert "in je hoofd" in third  # "slaap er niet meer van" showed geestelijke gezondheid
    unclear = chat.texts("banaan")
    assert "Kies een van de knoppen" in unclear and "in je hoofd" in unclear
    tried_question = chat.texts("slecht, ik lig elke nacht wakker")
    assert "zelf al geprobeerd" in tried_question
    network_question = chat.texts("ik heb de verhuurder gebeld")
    assert "omgeving" in network_question
    closing = chat.say("mijn zus misschien")
    closing_text = "\n".join(m.get("text") or "" for m in closing)
    assert "Financiën: niet zelfredzaam" in closing_text
    assert closing[-1]["buttons"][0]["payload"] == "/request_human"
    handed = chat.say("/request_human")
    handoff = handoff_of(handed)
    assert handoff is not None
    assert handoff["reason"] == "triage"
    assert {"financien", "huisvesting"} <= set(handoff["domains"])
    assert "Financiën: 2 – niet zelfredzaam" in handoff["summary"]
    assert "ik heb de verhuurder gebeld" in handoff["summary"]
    assert "slaap er niet meer van" in handoff["summary"]
    assert chat.say("hallo?") == []  # paused: the desk takes over


def test_an_answer_is_short_and_the_details_are_behind_a_button(chat: Chat) -> None:
    messages = chat.say("hoe vraag ik zorgtoeslag aan")
    # the answer carries a next step: a custom payload without text tells the desk it may offer a
    # check-in later (issue 15); the citizen reads three messages
    assert {"next_step": True} in [m.get("custom") for m in messages]
    answer = [m for m in messages if m.get("text") and not (m.get("buttons") and "Geldzorgen" in m["text"])]
    assert len(answer) == 3, messages
    button = answer[-1]["buttons"][0]
    assert button["title"] == "Meer over: Zorgtoeslag"
    details = chat.say(button["payload"])
    assert len(details) == 1 and details[0]["text"].startswith("Meer over: Zorgtoeslag"), details


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ik ben ontslagen en mijn contract stopt, kan ik een uitkering van het uwv krijgen", "WW-uitkering"),
        ("mijn schuldeisers willen niet meewerken, kan ik in de wsnp", "WSNP"),
        ("mijn zorgverzekering is opgezegd omdat ik de premie niet betaalde", "zorgverzekeraar"),
        ("hoe maak ik bezwaar tegen een afwijzing van de gemeente", "bezwaar"),
        ("ik heb een boete van het cjib en kan die niet betalen", "geen nagekeken informatie"),
    ],
)
def test_the_new_topics_answer(chat: Chat, text: str, expected: str) -> None:
    assert expected in chat.texts(text)


def test_saying_no_ends_the_triage(chat: Chat) -> None:
    chat.say("ik heb schulden")
    chat.say("ja")
    stopped = chat.texts("nee, laat maar")
    assert "stoppen we met de vragen" in stopped


def test_crisis_first_gets_the_numbers_then_a_crisis_handoff(chat: Chat) -> None:
    messages = chat.say("ik heb zoveel schulden, ik wil er een eind aan maken")
    assert messages[0]["text"] == CRISIS_MESSAGE
    handoff = handoff_of(messages)
    assert handoff is not None and handoff["urgency"] == "crisis" and handoff["reason"] == "crisis"


def test_a_child_in_danger_hears_of_the_kindertelefoon(chat: Chat) -> None:
    messages = chat.say("ik ben 12 en mijn vader slaat me elke avond")
    assert is_crisis_reply(messages[0]["text"]) and "0800-0432" in messages[0]["text"]
    assert not any("neemt" in m.get("text", "") for m in messages)  # no promise of a person now


def test_stress_that_is_no_crisis_hears_of_the_luisterlijn(chat: Chat) -> None:
    text = chat.texts("ik voel me zo alleen de laatste tijd, ik heb niemand om mee te praten")
    assert "Luisterlijn" in text and "088-0767 000" in text
    assert "112" not in text  # not treated as a crisis


def test_crisis_during_the_triage_form(chat: Chat) -> None:
    chat.say("ik heb schulden")
    chat.say("ja")
    messages = chat.say("mijn vriend slaat me als ik over geld begin")
    assert is_crisis_reply(messages[0]["text"]) and "0800-2000" in messages[0]["text"]
    assert handoff_of(messages)["urgency"] == "crisis"  # type: ignore[index]


def test_urgent_situation_says_so_and_offers_a_worker_first(chat: Chat) -> None:
    messages = chat.say("morgen komen ze mijn stroom afsluiten")
    assert "3 werkdagen na je aanmelding" in messages[0]["text"]
    assert messages[-1]["buttons"][0]["payload"] == "/request_human"
    handoff = handoff_of(chat.say("/request_human"))
    assert handoff is not None and handoff["urgency"] == "urgent"


def test_repeated_misunderstanding_ends_with_a_person(chat: Chat) -> None:
    first = chat.say("blub flierp snorf")
    assert "andere woorden" in first[0]["text"]
    second = chat.say("wabberdewab")
    assert second[0]["buttons"][0]["payload"] == "/request_human"
    third = chat.say("krrrrk zzzp")
    handoff = handoff_of(third)
    assert handoff is not None and handoff["reason"] == "misunderstanding"


def test_honest_bot_challenge_and_out_of_scope(chat: Chat) -> None:
    assert "digitale assistent, geen mens" in chat.texts("ben ik nou met een robot aan het praten")
    assert "niet mee helpen" in chat.texts("wie wint het ek voetbal")
