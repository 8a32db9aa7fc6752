"""Informal and collective help beside formal help (issue 15): the offers of
data/knowledge/informal_help.yml by life domain, in line with the person's own strengths."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions.triage import ActionGiveInformalHelp, ActionOfferNextSteps, informal_help_messages
from baken_core import help_offers
from baken_core.knowledge import ContentError, load_knowledge
from baken_core.paths import PROJECT_ROOT
from tests.actions.conftest import make_tracker, run_action
from tests.actions.plain_dutch import measure


def test_the_offers_file_names_real_organisations_with_a_source_and_marks_examples() -> None:
    offers = help_offers.load_offers()
    by_key = {o.key: o for o in offers}
    for key in ("schuldhulpmaatje", "geldfit", "voedselbank", "schuldhulpverlening_gemeente"):
        assert by_key[key].source and "facts.md" in (by_key[key].source or "") and by_key[key].checked
        assert not by_key[key].example
    assert "0800-8115" in by_key["geldfit"].text  # facts.md §2.7
    fictional = [o for o in offers if o.example]
    assert {o.key for o in fictional} >= {
        "buurtkamer_voorbeeld",
        "lotgenotengroep_geldzorgen_voorbeeld",
        "geldfit_workshop_voorbeeld",
    }
    assert all(o.group and ".example" in (o.link or "") for o in fictional)
    assert {o.kind for o in offers} == {"formal", "informal"}
    assert "informal_help" not in str(load_knowledge())  # not a knowledge topic


def test_a_real_organisation_without_a_source_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "offers.yml"
    path.write_text("offers:\n  - {key: x, name: X, kind: informal, domains: [financien]}\n", encoding="utf-8")
    with pytest.raises(ContentError, match="needs a source"):
        help_offers.load_offers(path)
    path.write_text(
        "offers:\n  - {key: x, name: X, kind: informal, domains: [geluk], example: true}\n", encoding="utf-8"
    )
    with pytest.raises(ContentError, match="unknown domains"):
        help_offers.load_offers(path)


def test_offers_follow_the_life_domains() -> None:
    money = [o.key for o in help_offers.for_domains(["financien"])]
    assert money[:3] == ["schuldhulpmaatje", "geldfit", "voedselbank"]  # one-to-one before groups
    assert "lotgenotengroep_geldzorgen_voorbeeld" in money and "buurtkamer_voorbeeld" not in money
    lonely = [o.key for o in help_offers.for_domains(["sociaal_netwerk"])]
    assert "buurtkamer_voorbeeld" in lonely and "schuldhulpmaatje" not in lonely
    assert all(o.kind == "informal" and not o.other for o in help_offers.for_domains(["financien", "huisvesting"]))


def test_informal_help_names_the_domain_offers_and_marks_examples() -> None:
    messages, _ = run_action(
        ActionGiveInformalHelp(), make_tracker(slots={"triage_domains": ["sociaal_netwerk", "financien"]})
    )
    text = "\n".join(m["text"] for m in messages)
    assert "Buurtkamer De Schakel (voorbeeld)" in text and "SchuldHulpMaatje" in text
    assert "0800-8115" in text and "https://www.gemeente-voorbeeld.example/voedselbank" in text  # gemeente.yml link
    assert "Schuldhulpverlening van de gemeente" not in text  # formal help is the worker's part
    assert messages[-1]["text"].endswith("Wil je toch met een medewerker praten? Zeg het maar.")


def test_eigen_kracht_shapes_the_order() -> None:
    alone = informal_help_messages(
        make_tracker(slots={"triage_domains": ["financien"], "eigen_kracht_network": "niemand eigenlijk"})
    )
    assert alone[0].startswith("Je staat er niet alleen voor.") and "Samen met anderen" in alone[0]
    assert "Lotgenotengroep Geldzorgen (voorbeeld)" in alone[0]
    helped = informal_help_messages(
        make_tracker(
            slots={
                "triage_domains": ["financien"],
                "eigen_kracht_network": "mijn zus",
                "eigen_kracht_tried": "ik heb gebeld",
            }
        )
    )
    assert "Je hebt zelf al iets geprobeerd" in helped[0] and "Je noemde iemand die kan helpen" in helped[0]
    assert helped[0].index("Hulp van vrijwilligers") < len(helped[0]) and "Samen met anderen" in helped[1]
    assert "mijn zus" not in "\n".join(helped)  # the citizen's words are not repeated back
    urgent = informal_help_messages(make_tracker(slots={"triage_urgency": "urgent"}))
    assert urgent[0].startswith("Wat je vertelt is dringend. Praat daarom ook met een medewerker.")

    calm_alone, _ = run_action(
        ActionOfferNextSteps(), make_tracker(slots={"zrm_financien": "4", "eigen_kracht_network": "niemand"})
    )
    assert calm_alone[0]["buttons"][0]["payload"] == "/choose_informal_help"
    calm, _ = run_action(ActionOfferNextSteps(), make_tracker(slots={"zrm_financien": "4"}))
    assert calm[0]["buttons"][0]["payload"] == "/choose_self_help"


@pytest.mark.parametrize("network", ["", "niemand", "mijn buurvrouw"])
@pytest.mark.parametrize("domains", [["financien"], ["sociaal_netwerk", "geestelijke_gezondheid"], []])
def test_the_messages_are_short_and_plain(network: str, domains: list[str]) -> None:
    for text in informal_help_messages(
        make_tracker(slots={"triage_domains": domains, "eigen_kracht_network": network or None})
    ):
        m = measure(text)
        assert m.words <= 80, f"{m.words} words: {text}"


def test_the_data_file_lives_with_the_knowledge() -> None:
    assert (PROJECT_ROOT / "data" / "knowledge" / "informal_help.yml").exists()
