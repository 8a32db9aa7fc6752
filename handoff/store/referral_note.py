"""The warm referral note (issue 15): with the citizen's consent, a short plain-text summary
of their conversation that they keep and take to an appointment, so they do not have to tell
their story again there either.

What it holds: what they asked (their own words, masked: no BSN, no account number, no other
person's name: baken_core/pii.py), the life domains, what the assistant already answered,
what a worker noted as a result per domain, and the next step with where to go. Never a
worker's internal note, a transfer note, a case note or the handoff summary (written for
workers). Built when asked and not stored: the citizen keeps it, the desk does not.

Plain text only: the desk has no maintained PDF library, and a text file opens everywhere.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from baken_core import help_offers
from baken_core.gemeente import gemeente
from baken_core.knowledge import load_knowledge
from baken_core.pii import mask
from baken_core.text import dutch_date
from baken_core.zrm import DOMAINS
from handoff.store.models import Author, Conversation, DomainOutcome, DomainResult, Message
from handoff.store.outcomes import triage_domains

MAX_QUOTES = 6
MAX_QUOTE_CHARS = 300
FILENAME = "samenvatting-baken.txt"
CONSENT_NEEDED = "Een samenvatting maken we alleen als je daar eerst ja op zegt."
RESULT_WORDS = {DomainResult.improved: "gaat beter", DomainResult.same: "nog hetzelfde", DomainResult.referred: ""}


def latest_conversation(session: Session, citizen_id: int) -> Conversation | None:
    """The citizen's most recent conversation (open or just closed)."""
    return session.scalars(
        select(Conversation).where(Conversation.citizen_id == citizen_id).order_by(Conversation.id.desc()).limit(1)
    ).first()


def _quotes(messages: list[Message]) -> list[str]:
    found = []
    for message in messages:
        text = " ".join((message.text or "").split())
        if message.author is not Author.citizen or message.internal or not text or text.startswith("/"):
            continue
        masked = mask(text).text
        found.append(masked if len(masked) <= MAX_QUOTE_CHARS else masked[: MAX_QUOTE_CHARS - 1] + "…")
    return found[-MAX_QUOTES:]


def _answered(messages: list[Message]) -> list[str]:
    topics = load_knowledge()
    titles: list[str] = []
    for message in messages:
        intent = (message.nlu or {}).get("intent") if message.author is Author.citizen else None
        topic = topics.get(str(intent)) if intent else None
        if topic is not None and topic.title not in titles:
            titles.append(f"{topic.title}: {topic.link}")
    return titles


def _parsed_domains(messages: list[Message]) -> list[str]:
    """The life domains the assistant's triage saw in the citizen's messages (also without a handoff)."""
    found: list[str] = []
    for message in messages:
        domains = (message.nlu or {}).get("domains") if message.author is Author.citizen else None
        if isinstance(domains, list):  # the parse's triage (baken_nlu/channel.py)
            found += [d for d in domains if isinstance(d, str)]
    return found


def note(session: Session, conversation: Conversation, today: dt.date | None = None) -> str:
    """The note's text (Dutch, B1, plain text with short lines)."""
    today = today or dt.datetime.now(dt.timezone.utc).date()
    messages = list(
        session.scalars(select(Message).where(Message.conversation_id == conversation.id).order_by(Message.id))
    )
    results = list(
        session.scalars(
            select(DomainOutcome).where(DomainOutcome.conversation_id == conversation.id).order_by(DomainOutcome.id)
        )
    )
    domains = triage_domains(session, conversation)
    for found in [*_parsed_domains(messages), *(r.domain for r in results)]:
        if found in DOMAINS and found not in domains:
            domains.append(found)
    offers = help_offers.by_key()
    settings = gemeente()
    links = settings.get("links") or {}

    lines = [
        "Samenvatting van je gesprek met Baken",
        f"Gemaakt op {dutch_date(today)}.",
        "Neem dit mee naar je afspraak. Dan hoef je je verhaal niet opnieuw te vertellen.",
        "",
    ]
    quotes = _quotes(messages)
    if quotes:
        lines.append("Wat je vroeg (in je eigen woorden):")
        lines += [f"- {q}" for q in quotes]
        lines.append("")
    if domains:
        lines.append("Waar het over gaat: " + ", ".join(DOMAINS[d] for d in domains if d in DOMAINS) + ".")
        lines.append("")
    answered = _answered(messages)
    if answered:
        lines.append("Wat de assistent al uitlegde:")
        lines += [f"- {a}" for a in answered]
        lines.append("")
    steps: list[str] = []
    done: list[str] = []
    for result in results:
        name = DOMAINS.get(result.domain, result.domain)
        offer = offers.get(result.referral_key or "")
        if result.result is DomainResult.referred and offer is not None and not offer.other:
            link = (links.get(offer.link_from_gemeente) if offer.link_from_gemeente else None) or offer.link
            where = offer.name + (" (voorbeeld)" if offer.example else "")
            steps.append(f"- {name}: ga naar {where}. {offer.text}" + (f" {link}" if link else ""))
        elif result.result is DomainResult.referred:
            steps.append(f"- {name}: je bent doorverwezen naar andere hulp.")
        else:
            done.append(f"- {name}: {RESULT_WORDS[result.result]}")
    if done:
        lines.append("Wat een medewerker met je afsprak:")
        lines += done
        lines.append("")
    lines.append("Volgende stap:")
    if steps:
        lines += steps
    else:
        team = settings.get("wijkteam") or {}
        contact = [str(team.get(k)) for k in ("phone", "email", "website") if team.get(k)]
        lines.append(
            f"- Neem contact op met {team.get('name') or settings.get('name')}"
            + (f": {', '.join(contact)}" if contact else "")
            + "."
        )
    if links.get("schuldhulp") and "financien" in domains:
        lines.append(f"- Schuldhulp van {settings.get('name')}: {links['schuldhulp']}")
    lines += [
        "",
        "Deze samenvatting is van jou. Baken bewaart hem niet apart.",
        "Een BSN of rekeningnummer uit je berichten is weggelaten. Lees het toch even na voordat je het deelt.",
    ]
    return "\n".join(lines) + "\n"
