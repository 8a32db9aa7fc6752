"""The crisis message: the same words from the assistant and from the desk's safety net.

Numbers exactly as in ../shared/domain/facts.md §3: 112 (politie.nl, 2021), 113 and
0800-0113 with chat on 113.nl, 24/7, free and anonymous (upday.com 03-10-2025; 113.nl 2020),
Veilig Thuis 0800-2000, free, day and night (rijksoverheid.nl); de Kindertelefoon 0800-0432
and chat, 8-18 jaar, free and anonymous (kindertelefoon.nl).

The desk knows the hour and the office hours: it sends the version that says whether anyone
of ours is there (bot/routing.py). The assistant alone does not: its version promises nothing
about when.
"""

from __future__ import annotations

from typing import Final

OPENING: Final = "Wat je vertelt is ernstig. Goed dat je het zegt: je hoeft dit niet alleen te dragen."
"""Every crisis reply starts with these words (the desk recognises its own and Rasa's by them)."""

DANGER: Final = "• Ben je in direct gevaar? Bel 112."
SUICIDE: Final = "• Denk je aan zelfdoding? Bel 24/7 gratis en anoniem 113 of 0800-0113, of chat op 113.nl."
VIOLENCE: Final = "• Is er geweld of dreiging thuis? Bel Veilig Thuis: 0800-2000 (gratis, dag en nacht)."
# facts.md §3 and §5.2: 0800-0432, chat, ages 8-18, free and anonymous; current opening hours
# are not known (the 2019-2020 figure was 11:00-21:00), so no hours are promised.
CHILD: Final = (
    "• Ben je jonger dan 18? Praat met de Kindertelefoon: bel gratis 0800-0432 of chat op "
    "kindertelefoon.nl. Je hoeft je naam niet te zeggen."
)

NOBODY_NOW: Final = "Er is nu niemand van ons online. Wacht daarom niet op ons. Deze hulp kun je nu bereiken:"
TO_THE_TOP: Final = "Ik zet je gesprek bovenaan de rij bij onze medewerkers."
ANY_HOUR: Final = (
    "Je gesprek staat bovenaan de rij bij onze medewerkers. Zijn zij er nu niet? "
    "Wacht dan niet op ons: de nummers hierboven zijn er dag en nacht."
)


def crisis_message(
    *, staffed: bool | None = None, back: str | None = None, child: bool = False, violence: bool = False
) -> str:
    """The crisis reply. `staffed`: the office is open now (True), closed (False, with `back`:
    when a worker reads it, "maandag om 9.00 uur"), or not known (None: the assistant alone).
    `child` adds the Kindertelefoon; `violence` puts Veilig Thuis right after 112."""
    lines = [OPENING]
    if staffed is False:
        lines.append(NOBODY_NOW)
    lines += [DANGER, VIOLENCE, SUICIDE] if violence else [DANGER, SUICIDE, VIOLENCE]
    if child:
        lines.append(CHILD)
    if staffed is True:
        lines.append(TO_THE_TOP)
    elif staffed is False:
        lines.append(
            f"Je gesprek staat bovenaan de rij. Een medewerker leest het {back}."
            if back
            else "Je gesprek staat bovenaan de rij voor als er weer een medewerker is."
        )
    else:
        lines.append(ANY_HOUR)
    return "\n".join(lines)


def is_crisis_reply(text: str) -> bool:
    return text.startswith(OPENING)


CRISIS_MESSAGE: Final = crisis_message()
"""The reply when nobody knows the hour (the assistant without the desk): true at any hour."""

CRISIS_NUMBERS: Final = "\n".join([DANGER, SUICIDE, VIOLENCE, CHILD])
"""The numbers alone, for a worker to send (the inbox's first standard reply)."""

# For a crisis written in another language (triage rules `*_other_language`): the same
# numbers, in English, after the Dutch message. 113 and Veilig Thuis are Dutch services.
CRISIS_MESSAGE_EN: Final = (
    "(In English) What you write is serious.\n"
    "• In danger right now? Call 112.\n"
    "• Thinking about suicide? Call 113 or 0800-0113 (free, 24/7, anonymous) or chat at 113.nl.\n"
    "• Violence or threats at home? Call Veilig Thuis: 0800-2000 (free, day and night).\n"
    "Your chat is at the top of our staff's queue. If nobody is there now, do not wait for us."
)
OTHER_LANGUAGE_SIGNALS: Final = ("crisis_other_language", "violence_other_language")
