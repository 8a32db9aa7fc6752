"""The crisis message: the same words from the assistant and from the desk's safety net.

Numbers exactly as in ../shared/domain/facts.md §3: 112 (politie.nl, 2021), 113 and
0800-0113 with chat on 113.nl, 24/7, free and anonymous (upday.com 03-10-2025; 113.nl 2020),
Veilig Thuis 0800-2000, free, day and night (rijksoverheid.nl).
"""

from __future__ import annotations

from typing import Final

CRISIS_MESSAGE: Final = (
    "Wat je vertelt is ernstig. Goed dat je het zegt: je hoeft dit niet alleen te dragen.\n"
    "• Ben je in direct gevaar? Bel 112.\n"
    "• Denk je aan zelfdoding? Bel 24/7 gratis en anoniem 113 of 0800-0113, of chat op 113.nl.\n"
    "• Is er geweld of dreiging thuis? Bel Veilig Thuis: 0800-2000 (gratis, dag en nacht).\n"
    "Ik zet je gesprek nu met voorrang door naar een medewerker."
)

# For a crisis written in another language (triage rules `*_other_language`): the same
# numbers, in English, after the Dutch message. 113 and Veilig Thuis are Dutch services.
CRISIS_MESSAGE_EN: Final = (
    "(In English) What you write is serious.\n"
    "• In danger right now? Call 112.\n"
    "• Thinking about suicide? Call 113 or 0800-0113 (free, 24/7, anonymous) or chat at 113.nl.\n"
    "• Violence or threats at home? Call Veilig Thuis: 0800-2000 (free, day and night).\n"
    "I am passing your chat to a staff member now, with priority."
)
OTHER_LANGUAGE_SIGNALS: Final = ("crisis_other_language", "violence_other_language")
