"""The triage core: crisis by recall, urgency, domains, and the rules file's checks."""

from __future__ import annotations

from dataclasses import replace

import pytest

from baken_core.triage import RuleError, assess, crisis_signals, default_rules, parse_rules
from baken_core.zrm import highest_urgency, ordered_domains

CRISIS = [
    "ik wil er niet meer zijn",
    "ik zie het echt niet meer zitten met al die schulden",
    "soms denk ik dat iedereen beter af is zonder mij",
    "ik heb pillen gespaard om in te nemen",
    "ik denk aan zelfmoord",
    "ik denk aan suïcide",
    "ik wil een einde aan mijn leven maken",
    "ik wil gewoon dood",
    "mijn man slaat me als hij gedronken heeft",
    "mijn ex dreigt me iets aan te doen",
    "ik durf niet naar huis",
    "hij heeft me gisteren weer geslagen",
    "mijn zoon bedreigt me met een mes",
    "ik wil van de brug springen",
    "IK WIL NIET MEER LEVEN",
    "de drang om mezelf te verwonden wordt steeds sterker",
    "als ze mijn huis leeghalen dan maak ik er maar een einde aan",
    "als de beslaglegging doorgaat ben ik er straks niet meer",
    "soms heb ik spijt dat ze me toen gevonden hebben",
    "ik wil gewoon stoppen met alles",
    "mijn zus appte dat ze op de brug staat en niet meer kan",
    "ze hadden me vorige keer niet moeten redden",
    "met al deze schulden kan ik mijn gezin beter van mij verlossen",
    "ik ben zo moe van het leven",
    "na de ontruiming is het klaar, dan stap ik eruit",
    "wat is de snelste manier om dood te gaan",
    "hoe kan ik pijnloos sterven",
    # added 2026-12-06 after reading fresh7's misses (own wording, not the set's messages)
    "ik heb een plan en een datum, niemand hoeft zich zorgen te maken",
    "alles is geregeld, de hond gaat naar mijn zus",
    "helaas hebben ze me toen gereanimeerd",
    "na mijn poging lag ik een week in het ziekenhuis en nu komt alles weer terug",
    "volgende week spring ik",
    "mijn broer stuurde 'sorry voor alles' en reageert niet meer",
    "ze schreef: het ga jullie goed",
    "ik ga nu naar het spoor",
    "ik stop ermee, voorgoed",
    "bij de bovenburen wordt al een uur geschreeuwd en er vallen dingen",
    "het kindje van hiernaast zit al uren buiten in de kou",
    # added 2026-12-06 after reading fresh8's two crisis misses (own wording)
    "sinds die brief denk ik vaak aan doodgaan",
    "ja, chcę się zabić",
    # added 2026-12-06 (second session) after the retrained model missed four read crisis messages
    "ik schaam me zo dat ik niet meer verder wil leven",
    "straks hoef ik niet meer te leven",
    "toen hebben ze me gered, maar ik had liever gehad dat het gelukt was",
    "ik heb het mes al naast me liggen",
    "de pillen liggen naast me klaar",
    # danger now in another language: answered in Dutch, but never missed
    "sorry my dutch is not good, i dont want to live anymore",
    "I want to kill myself",
    "my husband hits me when he is drunk",
    "he will kill me if I leave",
    "ölmek istiyorum",
    "أريد أن أموت",
    "chcę umrzeć",
    "Я хочу покінчити з життям",
    "не хочу жити",
    "Я хочу умереть",
]
NOT_CRISIS = [
    "ik schrik me dood van die brief",
    "ik had liever gehad dat het gelukt was met die baan",
    "ik heb mijn pas en mijn brieven naast me liggen",
    "ik ben doodmoe van al dat geregel",
    "ik word er knettergek van",
    "de deurwaarder dreigt met beslag op mijn loon",
    "mijn verhuurder dreigt me eruit te zetten",
    "dat slaat nergens op",
    "hoe vraag ik huurtoeslag aan",
    "ik lach me dood om die brief",
    "ik zie het wel zitten hoor",
    "I am dying to know how huurtoeslag works",
    "the debts are killing me",
    "ik ben er niet meer bij met mijn gedachten",
    "ik wil stoppen met roken",
    "ik ben moe van het regelen",
    "wat is de snelste manier om mijn schuld af te lossen",
    "hoe kun je doodgaan aan een griep",
    "ik stap eruit bij de voetbalclub, dat kost te veel",
    "ik wil verlost worden van die schuld",
    "ik wil een regeling want die 600 euro kan ik niet in een keer betalen",
    "mijn moeder vermoordt me als ze hoort dat ik weer rood sta",
    "mijn kinderen vermoorden me nog met hun wensen voor sinterklaas",
    "mijn teamleider vermoordt me als ik weer te laat kom",
    "ik spring even langs bij het loket",
    "sorry voor de late reactie",
    "ik stop ermee, die cursus is niks voor mij",
    "ik ga naar het station",
]


@pytest.mark.parametrize("text", CRISIS)
def test_crisis_phrases_are_caught_by_the_rules(text: str) -> None:
    assert assess(text).urgency == "crisis"
    assert crisis_signals(text)


@pytest.mark.parametrize("text", NOT_CRISIS)
def test_idioms_and_legal_threats_are_not_crisis(text: str) -> None:
    assert assess(text).urgency != "crisis"


def test_crisis_by_intent_even_without_rule_words() -> None:
    text = "het gaat helemaal mis met me"
    assert assess(text).urgency == "normal"
    assert assess(text, intent="report_crisis").urgency == "crisis"
    ranking = [{"name": "express_stress", "confidence": 0.6}, {"name": "report_crisis", "confidence": 0.35}]
    assert assess(text, intent="express_stress", ranking=ranking).urgency == "crisis"
    low = [{"name": "express_stress", "confidence": 0.9}, {"name": "report_crisis", "confidence": 0.05}]
    assert assess(text, intent="express_stress", ranking=low).urgency == "normal"


def test_crisis_as_the_classifiers_unsure_first_choice_still_counts() -> None:
    """Below the fallback threshold the intent is `nlu_fallback`, yet when the classifier's own
    first choice is the crisis intent (even at 0.25) it is a crisis: recall first."""
    text = "het gaat helemaal mis met me"
    unsure = [
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": "report_crisis", "confidence": 0.25},
        {"name": "express_stress", "confidence": 0.2},
    ]
    assert assess(text, intent="nlu_fallback", ranking=unsure).urgency == "crisis"
    second = [
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": "express_stress", "confidence": 0.25},
        {"name": "report_crisis", "confidence": 0.2},
    ]
    assert assess(text, intent="nlu_fallback", ranking=second).urgency == "normal"


@pytest.mark.parametrize(
    "text",
    [
        "de woningcorporatie wil me uit huis zetten",
        "er is een ontruiming gepland voor volgende week",
        "ze gaan mijn stroom afsluiten",
        "ons water is afgesloten",
        "mijn zorgverzekering is opgezegd",
        "de verzekeraar heeft mijn polis beëindigd omdat ik achter liep",
        "ik ben uit mijn zorgverzekering gezet",
        "ik heb een oproep van de kantonrechter gekregen over de huurachterstand",
        "ik heb vandaag niks te eten",
        "ze komen donderdag de sloten vervangen",
        "het energiebedrijf zegt dat ze stoppen met gas en licht",
        "mijn water wordt dichtgedraaid",
        "ze gaan me afsluiten want ik heb de energierekening niet betaald",
        "wij worden volgende week afgesloten",
        # added 2026-12-06 after reading fresh7's misses (own wording)
        "de corporatie heeft ons huurcontract opgezegd",
        "de huurovereenkomst is ontbonden door de rechter",
        "we moeten er eind van de maand uit van de verhuurder",
        "de huisbaas zegt dat ik er over een week uit moet",
        "ze zetten ons er maandag uit",
        "de leverancier stopt met het leveren van stroom",
        "de netbeheerder heeft ons vanochtend afgesloten",
        "ze sluiten ons af op de 12e",
        "mijn verzekeraar zegt mijn zorgverzekering op",
        "vandaag hebben we geen brood meer en geen geld",
        "my landlord says we have to leave the house on friday",
        # added 2026-12-06 after reading fresh8's urgent misses (own wording)
        "de hospita zegt dat ik voor zondag weg moet",
        "het energiebedrijf stopt morgen met stroom leveren",
        "ze komen de gasmeter afsluiten",
        "we hebben al twee dagen geen water meer",
        "de kast is helemaal leeg en het is pas de 20e",
        "kan ik een noodpakket krijgen",
        "mijn zorgverzekering is gestopt omdat ik niet betaalde",
        "my insurance was cancelled last week",
        "elektriği kestiler",
    ],
)
def test_wgs_threatening_situations_are_urgent(text: str) -> None:
    assert assess(text).urgency == "urgent"
    assert assess(text, intent="report_afsluiting").urgency == "urgent"


@pytest.mark.parametrize(
    "text",
    [
        "ik kreeg een eindeleveringssignaal van mijn energieleverancier",
        "de levering wordt beeindigd over twintig werkdagen",
        "ik heb een lening afgesloten en kan hem niet meer betalen",
    ],
)
def test_an_energy_contract_ending_is_not_called_a_wgs_situation(text: str) -> None:
    """facts.md §2 (SZW 2023): an eindeleveringssignaal is not per definitie a bedreigende situatie."""
    triage = assess(text, intent="report_afsluiting")
    assert triage.urgency == "normal" and "financien" in triage.domains


@pytest.mark.parametrize(
    "text",
    [
        "ik wil het slot laten vervangen want ik ben mijn sleutel kwijt",
        "ik wil stoppen met het gas van vattenfall",
        "we hebben bij eneco een nieuw contract afgesloten",
        "ik moet er even uit, ik ga een weekend weg",
        "we willen geen gas meer, we gaan elektrisch koken",
    ],
)
def test_locks_and_switching_supplier_are_not_urgent(text: str) -> None:
    assert assess(text).urgency == "normal"


def test_violence_in_another_language_is_a_home_matter() -> None:
    assert "huiselijke_relaties" in assess("my husband hits me every night").domains


def test_the_question_behind_the_question_shows_several_domains() -> None:
    triage = assess("ik kan de huur niet betalen, ben mijn baan kwijt en slaap er niet meer van")
    assert set(triage.domains) >= {"financien", "huisvesting", "werk_opleiding", "geestelijke_gezondheid"}
    assert triage.urgency == "normal"


def test_intent_adds_domains_and_small_talk_has_none() -> None:
    assert assess("hoe zit dat", intent="ask_zorgtoeslag").domains == ("financien",)
    assert assess("bedankt voor het geld uitleggen", intent="thank").domains == ()


def test_urgency_order_and_domain_order() -> None:
    assert highest_urgency("normal", "crisis", "urgent") == "crisis"
    assert highest_urgency(None, "bogus") == "normal"
    assert ordered_domains(["justitie", "financien", "nonsense", "financien"]) == ["financien", "justitie"]


def test_malformed_rules_are_refused_with_a_clear_message() -> None:
    with pytest.raises(RuleError, match="does not compile"):
        parse_rules({"crisis": [{"id": "x", "patterns": ["(unclosed"]}]})
    with pytest.raises(RuleError, match="unknown domain"):
        parse_rules({"domains": {"geld": ["x"]}})
    with pytest.raises(RuleError, match="unknown urgency"):
        parse_rules({"intent_urgency": {"ask_x": "soon"}})


@pytest.mark.parametrize(
    "text",
    [
        "ik heb gisteren een touw gekocht",
        "ik stond vannacht op de rand van de brug",
        "ik heb gezocht hoeveel pillen je nodig hebt",
        "ik hoop dat ik snel mag gaan",
        "ik zie het nut er niet meer van",
        "het hoeft voor mij allemaal niet meer",
        "hij sla mij elke dag",
        "ik heb geen zin meer om nog te leven",
        "heb me weer gekrast gisteren",
        "ik heb op het balkon gestaan en heb erover nagedacht om te springen",
        "ik heb een touw in de garage gelegd",
        "ik zie geen uitweg meer dan er zelf een einde aan te maken",
        "hij heeft me vorige week tegen de muur gegooid",
        "ik sta nu bij het spoor",
        "ik heb alle voorbereidingen getroffen",
    ],
)
def test_veiled_crisis_signals(text: str) -> None:
    assert assess(text).urgency == "crisis"


def test_dying_of_nerves_is_an_idiom() -> None:
    assert assess("ik ga nog dood van de zenuwen voor dat gesprek").urgency == "normal"


def test_no_way_out_of_a_debt_is_not_crisis_by_itself() -> None:
    assert assess("ik zie geen uitweg meer voor de schulden bij de belastingdienst").urgency == "normal"


def test_a_crisis_the_model_found_always_names_a_domain() -> None:
    """No rule fired, the intent ranking said crisis: violence words point home, else the mind."""
    assert assess("het gaat helemaal mis met me", intent="report_crisis").domains == ("geestelijke_gezondheid",)
    home = assess("ik zit in de badkamer, hij is dronken en schreeuwt", intent="report_crisis")
    assert home.urgency == "crisis" and "huiselijke_relaties" in home.domains
    assert assess("het gaat helemaal mis met me", intent="express_stress").domains == ("geestelijke_gezondheid",)


@pytest.mark.parametrize(
    ("intent", "domain"),
    [
        ("ask_ww", "werk_opleiding"),
        ("ask_cjib_boete", "justitie"),
        ("ask_schuldsanering", "financien"),
        ("report_zorgverzekering_achterstand", "financien"),
        ("ask_hersteloperatie", "financien"),
        ("ask_bezwaar", "financien"),
    ],
)
def test_the_topics_of_issue_10_imply_their_domains(intent: str, domain: str) -> None:
    assert domain in assess("hoe zit dat precies", intent=intent).domains


def test_a_money_question_in_another_language_shows_financien() -> None:
    assert assess("I got a letter about my rent allowance", intent="foreign_language").domains == ("financien",)
    assert assess("hello", intent="foreign_language").domains == ()


@pytest.mark.parametrize("text", ["Mein Mann schlägt mich", "my husband is hitting me", "on grozi, że mnie zabije"])
def test_violence_in_more_languages_is_a_crisis_at_home(text: str) -> None:
    triage = assess(text)
    assert triage.urgency == "crisis" and "huiselijke_relaties" in triage.domains


@pytest.mark.parametrize(
    ("text", "domain"),
    [
        ("ik heb te veel gegokt", "middelengebruik"),
        ("ik drink elke avond om te vergeten", "middelengebruik"),
        ("ik kan slecht lopen sinds de operatie", "lichamelijke_gezondheid"),
        ("mijn man deed altijd de papieren", "instrumentele_adl"),
        ("ik voel me zo alleen", "sociaal_netwerk"),
    ],
)
def test_more_everyday_words_show_their_domain(text: str, domain: str) -> None:
    assert domain in assess(text, intent="express_stress").domains


# Read in fresh9 (2026-12-06) and written here in other words: the rules must catch these ...
@pytest.mark.parametrize(
    "text",
    [
        "wat heeft het eigenlijk nog voor zin om verder te gaan",
        "heeft het nog wel zin om te leven?",
        "ze hebben me de vorige keer te vroeg gevonden",
        "ik had het toen moeten afmaken",
        "laat maar, ik regel het zelf wel. voorgoed.",
    ],
)
def test_indirect_crisis_phrasings_from_fresh9(text: str) -> None:
    assert assess(text).urgency == "crisis"


# ... and must not take these everyday sentences for a crisis.
@pytest.mark.parametrize(
    "text",
    [
        "heeft het zin om door te gaan met mijn bezwaar?",
        "ik los het voorgoed op met een betalingsregeling",
        "ik had het formulier moeten afmaken",
        "ik wil mijn schulden voorgoed regelen",
    ],
)
def test_everyday_going_on_and_for_good_are_not_crisis(text: str) -> None:
    assert assess(text).urgency != "crisis"


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("de huisbaas heeft het slot vervangen, ik sta buiten", "eviction"),
        ("ik kom mijn woning niet meer in", "eviction"),
        ("onze huur is opgezegd vanwege de achterstand", "eviction"),
        ("door de huurschuld moeten we over drie weken weg", "eviction"),
        ("het energiebedrijf stopt de levering van stroom vanaf maandag", "utility_cut_off"),
        ("er staat een monteur van de netbeheerder om de meter af te sluiten", "utility_cut_off"),
        ("de corporatie gaat het gas stopzetten", "utility_cut_off"),
        # other languages: the urgency counts whatever the language
        ("Sie haben uns den Strom abgestellt", "utility_cut_off"),
        ("yarın suyumu kesecekler", "utility_cut_off"),
        ("قطع الكهرباء عن بيتنا", "utility_cut_off"),
        ("Odcięli nam prąd wczoraj", "utility_cut_off"),
        ("Nächste Woche ist die Zwangsräumung", "eviction"),
        ("ev sahibi tahliye istiyor", "eviction"),
        ("meine Krankenversicherung wurde gekündigt", "health_insurance_cancelled"),
        ("ليس لدينا طعام للأطفال", "no_food_today"),
        ("evde hiç yemek yok", "no_food_today"),
        ("nie mamy nic do jedzenia, nie mam jedzenia dla dzieci", "no_food_today"),
    ],
)
def test_urgent_situations_read_in_fresh9(text: str, signal: str) -> None:
    triage = assess(text)
    assert triage.urgency == "urgent" and signal in triage.signals


@pytest.mark.parametrize(
    "text",
    [
        "ik wil het slot laten vervangen want ik ben mijn sleutel kwijt",
        "ik ga bij een andere leverancier een contract afsluiten",
        "kan ik de levering van de krant stopzetten",
        "ik moet weg, de kinderen komen uit school",
    ],
)
def test_look_alikes_of_the_fresh9_urgent_rules_are_not_urgent(text: str) -> None:
    assert assess(text).urgency == "normal"


# Read in fresh10 (2026-12-06 22:07 UTC), written here in other words.
@pytest.mark.parametrize(
    "text",
    [
        "sorry van alles hoor. pas goed op elkaar",
        "zaterdag doe ik het. alles is geregeld",
        "de datum staat vast.",
        "113 nam niet op en ik heb de pillen hier klaar liggen",
        "ik heb net 113 gebeld",
        "ik fiets nu naar de rivier",
        "mi wani dede, mi no wani libi moro",
        "how much paracetamol would be lethal",
        "بدي موت",
        "ik sta op het perron op de sprinter te wachten, niet om in te stappen",
    ],
)
def test_crisis_phrasings_read_in_fresh10(text: str) -> None:
    assert assess(text).urgency == "crisis"


@pytest.mark.parametrize(
    "text",
    [
        "de datum staat op de brief van de belasting",
        "morgen doe ik het formulier wel",
        "het mes ligt gewoon in de la",
        "de kinderen passen goed op elkaar als ik werk",
        "ik heb van alles geprobeerd met die schuldeiser",
        "wat is het nummer van 113?",
        "mijn leverancier stopt met leveren van de krant",
        "ik wacht op de trein, niet om in te stappen maar om mijn moeder op te halen",
        "de trein was zo vol dat ik niet kon instappen",
    ],
)
def test_look_alikes_of_the_fresh10_rules_are_not_crisis_or_urgent(text: str) -> None:
    assert assess(text).urgency == "normal"


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("het energiebedrijf stopt met leveren aan ons per 1 maart", "utility_cut_off"),
        ("de voorraadkast is compleet leeg", "no_food_today"),
        ("waar kan ik vandaag nog iets te eten krijgen", "no_food_today"),
    ],
)
def test_urgent_situations_read_in_fresh10(text: str, signal: str) -> None:
    triage = assess(text)
    assert triage.urgency == "urgent" and signal in triage.signals


@pytest.mark.parametrize(
    "text",
    ["vanaf welke hoogte overleef je een val niet", "de tabletten liggen klaar", "ik heb de pilen hier liggen"],
)
def test_a_deadly_height_and_pills_laid_ready_with_a_typo_are_crisis(text: str) -> None:
    assert assess(text).urgency == "crisis"


# Read in fresh11 (2026-12-07 01:55 UTC), written here in other words.
@pytest.mark.parametrize(
    "text",
    [
        "iedereen denkt dat het wel meevalt, maar ik heb het al klaargelegd om te stoppen",
        "jaren was ik vrij van die gedachten en nu zijn ze terug",
        "de gedachten zijn er weer en ze worden heel concreet",
    ],
)
def test_crisis_phrasings_read_in_fresh11(text: str) -> None:
    assert assess(text).urgency == "crisis"


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("we moeten huis uit, de rechter heeft het besloten", "eviction"),
        ("de deurwaarder komt vrijdag het huis leeghalen", "eviction"),
        ("ik ben gedagvaard door de verhuurder om de huurschuld", "eviction"),
        ("Der Vermieter will uns raus haben", "eviction"),
        ("ze hebben vanmorgen de stroom dichtgedaan", "utility_cut_off"),
        ("het water is uitgezet door het waterbedrijf", "utility_cut_off"),
        ("per maandag krijgen we geen stroom meer van de leverancier", "utility_cut_off"),
        ("Wyłączyli nam prąd wczoraj", "utility_cut_off"),
        ("قطعوا الماء عنا", "utility_cut_off"),
        ("al twee dagen alleen rijst gegeten en vandaag is ook dat op", "no_food_today"),
        ("evde yemek yok", "no_food_today"),
        ("nie ma nic do jedzenia w domu", "no_food_today"),
    ],
)
def test_urgent_situations_read_in_fresh11(text: str, signal: str) -> None:
    triage = assess(text)
    assert triage.urgency == "urgent" and signal in triage.signals


@pytest.mark.parametrize(
    "text",
    [
        "ik heb alles klaargelegd om te verhuizen",
        "ik heb de pleisters klaargelegd om te stoppen met roken",
        "de gedachten aan mijn schulden komen elke dag weer terug",
        "ik heb het licht uitgedaan om stroom te besparen",
        "krijg ik geen energietoeslag meer?",
        "ik ga vandaag boodschappen doen, de melk is op",
        "ik ben bang dat de deurwaarder ooit mijn huis komt leeghalen",
    ],
)
def test_look_alikes_of_the_fresh11_rules_are_not_crisis_or_urgent(text: str) -> None:
    assert assess(text).urgency == "normal"


# Found 2026-12-07 in read sets (fresh10, fresh11) when a model trained on more data stopped calling
# them crisis, so that nothing else made them urgent; written here in other words.
@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("de verhuurder heeft al mijn spullen op straat gezet", "eviction"),
        ("er zit een nieuw slot op de voordeur, ik kan niet naar binnen", "eviction"),
        ("de eigenaar heeft de huurzaak bij de vrederechter ingediend", "eviction"),
        ("ons gas wordt vrijdag dichtgezet", "utility_cut_off"),
        ("het water wordt morgen gesloten", "utility_cut_off"),
        ("de flesvoeding is bijna op en er is geen geld", "no_food_today"),
        ("nog voor één flesje en dan is het op", "no_food_today"),
    ],
)
def test_urgent_situations_found_when_the_model_improved(text: str, signal: str) -> None:
    triage = assess(text)
    assert triage.urgency == "urgent" and signal in triage.signals


@pytest.mark.parametrize(
    "text",
    [
        "ik heb mijn spullen buiten gezet voor de grofvuil",
        "ik wil een nieuw slot op de deur, hoe vraag ik dat aan",
        "de winkel wordt donderdag gesloten",
        "welke flesvoeding is het goedkoopst?",
        "de vrederechter heeft mijn schuld bij de bank besproken",
    ],
)
def test_look_alikes_of_those_rules_are_not_urgent(text: str) -> None:
    assert assess(text).urgency == "normal"


# Read in fresh12 (2026-12-07 04:42 UTC, after its one measurement), written here in other words.
@pytest.mark.parametrize(
    "text",
    [
        "de levensverzekering keert uit aan mijn vrouw, dan zijn ze beter af",
        "wil iemand tegen mijn ouders zeggen dat het me spijt",
        "ik wil gewoon voor altijd slapen",
        "straks ga ik voorgoed slapen",
    ],
)
def test_crisis_phrasings_read_in_fresh12(text: str) -> None:
    assert assess(text).urgency == "crisis"


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("they are cutting off the power on monday", "utility_cut_off"),
        ("de woningcorporatie heeft ons buitengesloten, the landlord changed the lock", "eviction"),
        ("mijn sloten zijn vervangen door de woningcorporatie", "eviction"),
        ("over twee weken staan we met de kinderen op straat", "eviction"),
        ("de huisbaas zegt dat we de deur uit moeten om de huurschuld", "eviction"),
        ("Die Schlösser wurden gewechselt, ich komme nicht rein", "eviction"),
        ("vattenfall wil ons volgende week afsluiten", "utility_cut_off"),
        ("ze komen de watermeter weghalen", "utility_cut_off"),
        ("het gas gaat er vrijdag af", "utility_cut_off"),
        ("de monteur draait morgen het gas dicht", "utility_cut_off"),
        ("ik heb sinds januari geen zorgverzekering meer", "health_insurance_cancelled"),
        ("moje ubezpieczenie zdrowotne wypowiedziane", "health_insurance_cancelled"),
        ("mijn zoontje vroeg om eten en ik had niets", "no_food_today"),
        ("waar kan ik vanavond nog iets te eten krijgen", "no_food_today"),
        ("we hebben geen eten meer en de uitkering komt pas maandag", "no_food_today"),
    ],
)
def test_urgent_situations_read_in_fresh12(text: str, signal: str) -> None:
    triage = assess(text)
    assert triage.urgency == "urgent" and signal in triage.signals


@pytest.mark.parametrize(
    "text",
    [
        "hoe werkt een overlijdensuitkering als mijn vader overlijdt?",
        "ik wil mijn kinderen vertellen dat ik van ze hou, ook al is er weinig geld",
        "ik ga vanavond vroeg slapen",
        "ik sta op straat te wachten op de bus",
        "ik moet zo de deur uit naar mijn werk",
        "kan het slot van de fietsenstalling vervangen worden?",
        "de stroom valt soms uit bij onweer",
        "ik wil geen zorgverzekering meer bij deze verzekeraar, hoe stap ik over",
        "ik wil geen brood meer eten, ik let op mijn gewicht",
        "we komen op straat de buurvrouw tegen",
    ],
)
def test_look_alikes_of_the_fresh12_rules_are_not_crisis_or_urgent(text: str) -> None:
    assert assess(text).urgency == "normal"


def test_thrown_out_of_an_insurance_is_not_violence() -> None:
    triage = assess("ze hebben me eruit gegooid bij de verzekering, ik ben nergens meer verzekerd")
    assert "violence_at_home" not in triage.signals and triage.urgency == "urgent"


# Read in fresh13 (2026-12-07 05:28 UTC, after its one measurement), written here in other words.
@pytest.mark.parametrize(
    "text",
    [
        "113 gebeld maar er was geen gehoor",
        "mijn dochter logeert bij een vriendinnetje, dan hoeft ze het niet te zien",
        "de ramen zijn dicht en ik heb het gas opengezet",
        "ze hebben me gereanimeerd, helaas",
    ],
)
def test_crisis_phrasings_read_in_fresh13(text: str) -> None:
    assert assess(text).urgency == "crisis"


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("de slotenmaker van de corporatie komt morgen", "eviction"),
        ("de verhuurder gaat ons gezin buitenzetten", "eviction"),
        ("door de huurschuld moet ik de sleutels afgeven", "eviction"),
        ("de levering wordt maandag stopgezet zegt de leverancier", "utility_cut_off"),
        ("ze willen het water afsnijden", "utility_cut_off"),
        ("mijn zorgverzekering heeft mij uitgeschreven", "health_insurance_cancelled"),
        ("vandaag nog niks en nu is het brood ook op", "no_food_today"),
        ("waar kan ik vandaag nog gratis eten krijgen", "no_food_today"),
        ("Сьогодні вдома немає їжі", "no_food_today"),
    ],
)
def test_urgent_situations_read_in_fresh13(text: str, signal: str) -> None:
    triage = assess(text)
    assert triage.urgency == "urgent" and signal in triage.signals


@pytest.mark.parametrize(
    "text",
    [
        "de kinderen hoeven het niet te zien als ik huil",
        "ik heb het gas opengedraaid om te koken",
        "ik heb zelf een slotenmaker gebeld omdat ik mijn sleutel kwijt was",
        "mag ik de kliko vanavond buitenzetten",
        "ik verhuis en moet de sleutels inleveren, hoe gaat dat",
        "de levering wordt beeindigd over twintig werkdagen",
        "ik heb me afgemeld voor de nieuwsbrief van de verzekeraar",
        "ik heb vandaag lekker gegeten bij mijn moeder",
    ],
)
def test_look_alikes_of_the_fresh13_rules_are_not_crisis_or_urgent(text: str) -> None:
    assert assess(text).urgency == "normal"


# Read in fresh14 (2026-12-07 14:15 UTC, after its one measurement), written here in other words.
@pytest.mark.parametrize(
    "text",
    [
        "de datum is al gekozen, pas na kerst, zodat ik de feestdagen niet verpest voor ze",
        "mijn codes en inloggegevens liggen klaar zodat mijn zus alles kan afhandelen als ik dood ben",
        "ik ben weer aan het voorbereiden zoals de vorige keer",
        "ma rabo inaan noolaado",
    ],
)
def test_crisis_phrasings_read_in_fresh14(text: str) -> None:
    assert assess(text).urgency == "crisis"


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("ze zetten ons volgende week uit onze oso", "eviction"),
        ("de leverancier gaf me een afsluitdatum voor het gas", "utility_cut_off"),
        ("het warmtenet wordt bij ons afgesloten", "utility_cut_off"),
        ("het energiebedrijf stopt volgende maand met leveren van stroom aan ons", "utility_cut_off"),
        ("de levering van gas wordt gestopt vanwege mijn achterstand", "utility_cut_off"),
        ("stroom en gas werden afgesloten vanochtend", "utility_cut_off"),
        ("ons ziekenfonds heeft ons geschrapt", "health_insurance_cancelled"),
        ("mijn basispolis is beeindigd door de verzekeraar", "health_insurance_cancelled"),
        ("geen geld, geen eten, wat nu", "no_food_today"),
        ("we hebben niks meer te vreten", "no_food_today"),
        ("mijn zoon vroeg om een boterham en er is niks", "no_food_today"),
        ("kan ik nu nog een noodpakket krijgen", "no_food_today"),
    ],
)
def test_urgent_situations_read_in_fresh14(text: str, signal: str) -> None:
    triage = assess(text)
    assert triage.urgency == "urgent" and signal in triage.signals


@pytest.mark.parametrize(
    "text",
    [
        "de datum voor de verhuizing heb ik gekozen na de verjaardag van mijn dochter zodat ik die niet verpest",
        "de wachtwoorden liggen in de la zodat mijn broer het kan regelen als ik weg ben op vakantie",
        "ik ben weer aan het plannen voor de vakantie, zoals twee jaar geleden",
        "ik heb het licht uitgezet en ben gaan slapen",
        "wat is de afsluitingsdatum van de hypotheek",
        "het contract stopt, krijg ik een nieuw aanbod voor de levering van gas",
        "mijn dochter heeft nog een fles wijn voor het feest",
        "de baby heeft nog een fles in de tas voor onderweg, waar kan ik verschonen",
    ],
)
def test_look_alikes_of_the_fresh14_rules_are_not_crisis_or_urgent(text: str) -> None:
    assert assess(text).urgency == "normal"


# Read in fresh15 (2026-12-07 17:45 UTC, after its one measurement), written here in other words.
@pytest.mark.parametrize(
    "text",
    [
        "de uitweg staat gewoon in het medicijnkastje",
        "we hebben de datum geprikt.",
        "ik ben mijn leven zo zat",
        "zeg ze maar dat ik van ze hou, ik ga",
        "de hond is bij de buren, alles is klaar.",
        "vaarwel allemaal, het was te veel",
        "ik bevrijd mijn gezin van een vader die alleen maar ellende brengt",
        "vanavond ga ik van de brug af",
        "ik ben nu op weg naar de spoorlijn",
        "mi o kiri mi srefi",
        "i got my pills right here",
        "ze slaan me, чоловік б'є мене",
        "mój partner mnie bije",
        "ik wil een eind aan alles maken",
        "dit is mijn laatste bericht, sorry",
        "ik heb de tabletten al in mijn hand",
        "ga je dood van 40 paracetamol",
        "ik wil stoppen met bestaan",
        "hij zegt dat hij me iets aandoet als ik wegga",
        "hij zei ik maak je af als je praat",
        "mijn ex appte dat ik het niet ga overleven",
        "drie jaar geleden een poging gedaan, nu komen de gedachten weer",
        "ik heb al mijn spullen weggegeven, ik heb ze niet meer nodig",
        "ik ga er tussenuit, voorgoed",
    ],
)
def test_crisis_phrasings_read_in_fresh15(text: str) -> None:
    assert assess(text).urgency == "crisis"


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("ze gooien ons volgende week uit onze woning", "eviction"),
        ("ik word uitgezet en weet niet waar ik heen moet", "eviction"),
        ("ik kreeg een huuropzegging van de corporatie", "eviction"),
        ("door de huurschuld moet ik de sleutel afgeven", "eviction"),
        ("de deurwaarder zegt dat ik de woning moet verlaten", "eviction"),
        ("unsere Wohnung wird geräumt", "eviction"),
        ("de corporatie gaat de stadsverwarming niet meer leveren aan mij", "utility_cut_off"),
        ("het gas wordt dicht gedraaid vrijdag", "utility_cut_off"),
        ("ik kreeg een afsluitingsbericht van eneco", "utility_cut_off"),
        ("de gaslevering wordt gestopt per maandag", "utility_cut_off"),
        ("ik ben niet meer bij cz verzekerd", "health_insurance_cancelled"),
        ("ze hebben me uit m verzekering gezet", "health_insurance_cancelled"),
        ("de zorgpolis stopt vanwege de achterstand", "health_insurance_cancelled"),
        ("sağlık sigortası iptal oldu", "health_insurance_cancelled"),
        ("er is niks voor mijn zoon om te eten", "no_food_today"),
        ("ما عندي طعام", "no_food_today"),
        ("wi no abi nyanyan", "no_food_today"),
    ],
)
def test_urgent_situations_read_in_fresh15(text: str, signal: str) -> None:
    triage = assess(text)
    assert triage.urgency == "urgent" and signal in triage.signals


@pytest.mark.parametrize(
    "text",
    [
        "de oplossing voor mijn hoofdpijn ligt in het medicijnkastje",
        "ik heb een datum gekozen voor de verhuizing",
        "ik ben het zat met die rekeningen",
        "ik heb mijn moeder geappt dat ik van haar hou",
        "de kinderen zijn bij mijn moeder, kan ik nu even bellen over de huur",
        "vaarwel schulden, vandaag de laatste aflossing gedaan",
        "ik ben verlost van die lening",
        "de kat is van het dak af gekomen",
        "ik ben op weg naar het gemeentehuis",
        "dit is mijn laatste bericht voor vandaag, morgen verder",
        "ik heb de brief in mijn hand, wat moet ik doen",
        "hij doet me wat aan met die verhalen, ik moet er steeds om lachen",
        "ik ben niet verzekerd voor inboedel, is dat erg",
        "mijn autoverzekering stopt, moet ik een nieuwe zoeken",
        "ik heb niks tegen eten van de voedselbank",
        "moet ik bij verhuizing de sleutels inleveren bij de corporatie",
        "we gaan de woning verlaten en verhuizen naar een groter huis",
        "de radiatorkraan in de slaapkamer zit vast, wie repareert dat",
        "de afsluiting van het schooljaar is vrijdag, krijg ik dan kindgebonden budget",
        "ik maak je aflossing vandaag over",
        "ik heb mijn abonnement opgezegd, ik heb het toch niet meer nodig",
        "ik heb alles verkocht, ik heb het niet meer nodig want ik verhuis naar een kleiner huis",
        "ik wil er voorgoed tussenuit naar spanje",
    ],
)
def test_look_alikes_of_the_fresh15_rules_are_not_crisis_or_urgent(text: str) -> None:
    assert assess(text).urgency == "normal"


# A danger that is over (docs/triage.md, "Past tense, someone else"; rules.yml past_and_over).
# Not crisis: the citizen's own past, or someone else's, told as over.
OVER = [
    "jaren geleden heb ik aan zelfmoord gedacht maar dat is echt voorbij. nu wil ik een bewindvoerder",
    "vroeger werd ik thuis geslagen, dat is lang geleden, nu woon ik alleen en heb ik een vraag over huurtoeslag",
    "mijn ex sloeg me, maar dat is al 3 jaar voorbij en ik woon nu veilig. krijg ik bijstand?",
    "ik heb vroeger wel eens aan zelfmoord gedacht, maar nu niet meer. nu gaat het om mijn schulden",
    "mijn zus werd vroeger mishandeld door haar vriend, die is nu weg, maar ze zit met zijn leningen",
    "ik had vroeger zelfmoordgedachten, het is al lang over. kan ik bijzondere bijstand krijgen",
    "vier jaar geleden ben ik gevlucht voor mijn ex die me mishandelde, ik ben nu veilig. wat is de beslagvrije voet",
]
# Still crisis: the danger is back or near, or told without distance or without saying it is over, or any
# hint of a danger now, also in words no crisis rule has; someone else's suicide long ago, not told as over.
STILL_CRISIS = [
    "vroeger sloeg mijn man me, dat is voorbij, maar nu slaat mijn man de kinderen",
    "jaren geleden dacht ik aan zelfmoord, dat was voorbij, maar ik denk er weer aan",
    "vroeger dacht ik aan zelfmoord, dat is voorbij, sinds kort wil ik niet meer leven",
    "mijn ex sloeg me vroeger, dat is voorbij, maar gisteren stond hij voor de deur",
    "twee jaar geleden heb ik een zelfmoordpoging gedaan, dat is voorbij, maar helaas werd ik gered",
    "vroeger werd ik geslagen, dat is voorbij. ik ben bang dat hij me vindt",
    "mijn zoon heeft zelfmoord gepleegd en ik weet niet hoe ik verder moet",
    "vroeger werd ik thuis geslagen",
    "het gaat nu goed met me maar mijn man slaat me nog steeds",
    "mijn vader heeft vorig jaar zelfmoord gepleegd en nu wil ik ook dood",
    "dat is lang geleden, maar ik wil niet meer leven",
    "vroeger dacht ik aan zelfmoord, opnieuw denk ik eraan, dat gaat nu niet meer weg",
    "vroeger dacht ik aan zelfmoord, het is al lang over, maar sinds vorige week denk ik er weer aan",
    "mijn ex mishandelde me jaren geleden, ben ik nu veilig?",
    "het is over. ik wil niet meer leven, vroeger niet en nu niet",
    "mijn broer heeft vier jaar geleden zelfmoord gepleegd en nu krijg ik zijn rekeningen",
    "sinds de zelfdoding van mijn man in 2022 liggen de brieven op de stapel",
    "mijn man heeft vorig jaar zelfmoord gepleegd en ik wil hem achterna",
    "mijn zoon heeft twee jaar geleden zelfmoord gepleegd, dat is voorbij, maar ik zie het zelf ook niet meer zitten",
    "vroeger dacht ik aan zelfmoord, dat is voorbij, maar nu is alles zwart",
    "vroeger dacht ik aan zelfmoord, dat is voorbij, maar ik heb pillen gespaard",
    "jaren geleden werd ik mishandeld, dat ligt achter me, maar soms kan ik het niet meer aan",
]


@pytest.mark.parametrize("text", OVER)
def test_a_danger_told_as_over_is_not_a_crisis(text: str) -> None:
    triage = assess(text)
    assert triage.urgency != "crisis" and crisis_signals(text) == [], triage
    assert "past_and_over" in triage.signals


@pytest.mark.parametrize("text", STILL_CRISIS)
def test_a_danger_back_near_or_not_over_stays_a_crisis(text: str) -> None:
    assert assess(text).urgency == "crisis"
    assert crisis_signals(text)


@pytest.mark.parametrize("text", OVER + STILL_CRISIS)
def test_without_the_guard_the_rules_call_each_of_these_a_crisis(text: str) -> None:
    """So both lists test the guard, not phrases the rules never caught."""
    assert crisis_signals(text, replace(default_rules(), past_and_over=None))


def test_only_crisis_rules_can_be_quieted() -> None:
    with pytest.raises(RuleError, match="not crisis rules"):
        parse_rules({"urgent": [{"id": "eviction", "patterns": ["x"]}], "past_and_over": {"applies_to": ["eviction"]}})


def test_an_english_eviction_is_urgent_not_violence() -> None:
    triage = assess("my landlord is kicking us out on the 20th, we owe rent")
    assert triage.urgency == "urgent" and "eviction" in triage.signals
    assert assess("my husband keeps kicking me").urgency == "crisis"


# Read in fresh16 (2026-12-07 20:30 UTC, after its one measurement), written here in other words.
@pytest.mark.parametrize(
    "text",
    [
        "als niemand helpt rij ik straks de rivier in",
        "ik denk er alweer aan, zoals vorig jaar geleden",
    ],
)
def test_crisis_phrasings_read_in_fresh16(text: str) -> None:
    assert assess(text).urgency == "crisis"


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("de verhuurder zegt dat we volgende week eruit moeten", "eviction"),
        ("morgen is de zitting over de huurachterstand", "eviction"),
        ("de rechter zei: betalen of de deur uit", "eviction"),
        ("wir sollen das Haus verlassen", "eviction"),
        ("het energiebedrijf stopt volgende maand met de levering vanwege mijn schulden", "utility_cut_off"),
        ("ze dreigen met afsluiting van het water", "utility_cut_off"),
        ("ze komen de aansluiting verzegelen", "utility_cut_off"),
        ("ik kreeg een opzegging van mijn zorgverzekering wegens de achterstand", "health_insurance_cancelled"),
        ("twee dagen alleen brood gegeten en nu is het ook op", "no_food_today"),
        ("geen eten, geen melk voor de baby", "no_food_today"),
        ("wij hebben vandaag niks, waar kan ik heen", "no_food_today"),
    ],
)
def test_urgent_situations_read_in_fresh16(text: str, signal: str) -> None:
    triage = assess(text)
    assert triage.urgency == "urgent" and signal in triage.signals


@pytest.mark.parametrize(
    "text",
    [
        "we gaan zaterdag de zee in om te zwemmen",
        "ik denk er weer aan om te verhuizen, net als twee jaar geleden",
        "de leverancier stopt per 1 januari met de levering, mijn contract loopt af",
        "de afsluiting van het schooljaar is volgende week",
        "ik heb mijn opzegging voor de zorgverzekering gestuurd om over te stappen",
        "we hebben vanavond niks te doen, is er een buurthuis open",
        "mijn kinderen zien dat ik verdrietig ben en dat doet me pijn",
        "ze vermoorden me met hun wensenlijstjes voor de verjaardag",
    ],
)
def test_look_alikes_of_the_fresh16_rules_are_not_crisis_or_urgent(text: str) -> None:
    assert assess(text).urgency == "normal"


# Read in fresh17 (2026-12-07 23:10 UTC, after its one measurement), written here in other words.
@pytest.mark.parametrize(
    "text",
    [
        "die schulden gaan met mij mee in mijn graf, straks al",
        "het is genoeg geweest. ik stop",
        "mi no kiere biba mas",
        "waxaan doonayaa inaan is dilo",
        "hij drukt een kussen tegen mijn gezicht als hij boos is",
        "mi masra ben e fon mi ala dey",
    ],
)
def test_crisis_phrasings_read_in_fresh17(text: str) -> None:
    assert assess(text).urgency == "crisis"


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("de woning moet leeg over tien dagen", "eviction"),
        ("er komt een ontruming aan", "eviction"),
        ("de rechter zegt dat wij moeten vertrekken", "eviction"),
        ("we moesten ons huis verlaten van de corporatie", "eviction"),
        ("uit onze huurflat gezet, we slapen in de auto", "eviction"),
        ("de verhuurder zet morgen onze meubels op straat", "eviction"),
        ("buitengesloten door de verhuurder", "eviction"),
        ("ik kreeg een opzegging van mijn huurcontract wegens de achterstand", "eviction"),
        ("morgen moet ik eruit", "eviction"),
        ("nu hebben ze ons afgesloten", "utility_cut_off"),
        ("al twee dagen zonder stroom", "utility_cut_off"),
        ("het gas is sinds maandag dicht", "utility_cut_off"),
        ("ze hebben de gaskraan dichtgedraaid", "utility_cut_off"),
        ("de afsluiting is aangekondigd voor donderdag", "utility_cut_off"),
        ("нам відключили світло", "utility_cut_off"),
        ("van a cortar el agua", "utility_cut_off"),
        ("ze zeggen dat ik niet verzekerd meer ben", "health_insurance_cancelled"),
        ("mijn zorgverzekeraar zei dat hij mijn polis opzegt", "health_insurance_cancelled"),
        ("ik ben uit mijn basisverzekering gezet", "health_insurance_cancelled"),
        ("mijn dochter vraagt om brood en we hebben het niet", "no_food_today"),
        ("ik heb voor vanavond eten nodig", "no_food_today"),
        ("het laatste pak melk is op", "no_food_today"),
    ],
)
def test_urgent_situations_read_in_fresh17(text: str, signal: str) -> None:
    triage = assess(text)
    assert triage.urgency == "urgent" and signal in triage.signals


@pytest.mark.parametrize(
    "text",
    [
        "dat geheim neem ik mee in mijn graf",
        "het is mooi geweest voor vandaag, ik ga slapen",
        "mijn kind legt een kussen op mijn buik",
        "het huis moet leeg voor de verhuizing naar ons nieuwe huis",
        "we moeten het huis verlaten tijdens de renovatie",
        "ze hebben me afgesloten van de groepsapp van school",
        "vorig jaar zijn we afgesloten geweest, nu gaat het goed",
        "die financieel zelfmoord-lening wil ik aflossen",
        "moeten we eruit stappen bij de volgende halte?",
        "het laatste nieuws is op tv",
    ],
)
def test_look_alikes_of_the_fresh17_rules_are_not_crisis_or_urgent(text: str) -> None:
    assert assess(text).urgency == "normal"
