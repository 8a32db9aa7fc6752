"""What the desk itself says to a citizen while routing (plain Dutch, B1, "je"; checked by
tests/actions/test_plain_dutch.py). The assistant's own answers are in domain/ and actions/."""

RASA_DOWN = (
    "De digitale assistent is even niet bereikbaar. Je bericht is bewaard. "
    "Ik zet je door naar een medewerker, die leest wat je schreef."
)
NOT_PROCESSED = (
    "Het lukt niet om je bericht automatisch te verwerken. Je bericht is bewaard. "
    "Ik zet je door naar een medewerker, die leest wat je schreef."
)
"""A message that failed every time it was tried (processing.MAX_ATTEMPTS): a person takes it."""
PATIENT = "Even geduld, de digitale assistent heeft wat meer tijd nodig. Je bericht is bewaard: je krijgt zo antwoord."
ATTACHMENT_WITH_BOT = (
    "Dank je. De digitale assistent kan foto's en bestanden niet lezen, maar een medewerker wel. "
    "Wil je dat een medewerker meekijkt? Typ dan: ik wil een medewerker. "
    "Stuur je een brief? Maak je BSN en bankgegevens eerst onzichtbaar."
)
QUEUED_ATTACHMENT = "Je bestand is bewaard; de medewerker ziet het."
EMPTY = "Ik zie geen tekst in je bericht. Typ je vraag gerust in je eigen woorden."
TEAM_CLOSED = (
    "Je vraag gaat naar {team}. De medewerkers van dit team zijn er nu niet. Ze reageren {when}. "
    "Laat gerust een bericht achter: het blijft bewaard en de medewerker leest het dan."
)
"""Outside the hours of the team the conversation went to (handoff/store/teams.py)."""
