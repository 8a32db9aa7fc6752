"""Triage of one message: life domains and urgency.

The rules are data (`data/triage/rules.yml`); this module only applies them. It is used in
three places with the same result: the Rasa NLU component (every parse carries a triage),
the action server (slots accumulate it over a conversation), and the desk's crisis safety
net (rules only, works while Rasa is down).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from baken_core.paths import data_dir
from baken_core.text import fold
from baken_core.zrm import DOMAINS, URGENCY_ORDER, Urgency, highest_urgency, ordered_domains


@dataclass(frozen=True)
class Rule:
    """A named group of patterns that signals an urgency and some domains."""

    id: str
    urgency: Urgency
    domains: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]

    def matches(self, folded: str) -> bool:
        return any(p.search(folded) for p in self.patterns)


@dataclass(frozen=True)
class RuleSet:
    """All triage rules, compiled."""

    urgency_rules: tuple[Rule, ...]
    domain_patterns: Mapping[str, tuple[re.Pattern[str], ...]]
    intent_domains: Mapping[str, tuple[str, ...]]
    intents_without_domains: frozenset[str]
    intent_urgency: Mapping[str, Urgency]
    crisis_intent: str
    crisis_min_confidence: float
    writer_patterns: Mapping[str, tuple[re.Pattern[str], ...]] = field(default_factory=dict)
    """Who seems to be writing (`writer_child`): adds a line to a reply, never an urgency."""
    crisis_domain_patterns: Mapping[str, tuple[re.Pattern[str], ...]] = field(default_factory=dict)
    """A crisis that no rule named a domain for (the model found it): these words decide ..."""
    crisis_default_domains: tuple[str, ...] = ()
    """... and without them, these domains."""
    past_and_over: PastAndOver | None = None
    """When a crisis rule's phrase is a danger that is over (docs/triage.md)."""


CLAUSES = re.compile(r"[.;:!?\n]+|,|\bmaar\b|\ben nu\b")
"""Where a folded message splits into clauses, for `PastAndOver`."""


@dataclass(frozen=True)
class PastAndOver:
    """docs/triage.md, "Past tense, someone else": a crisis rule's phrase does not make a crisis
    when the message tells it as a danger that is over, and nothing in it says the danger is back.

    Quiet only when all of these hold (recall first: any doubt leaves the crisis):
    - every crisis rule that fired is one of `rules` (the `applies_to` list in rules.yml);
    - the message says it is over (`over`: "dat is voorbij", "het gaat nu goed", "ik woon nu
      veilig");
    - every clause in which a crisis rule fires is set at a distance in time (`distant`:
      "vroeger", "jaren geleden", "in 2019"), in itself or in the clause right after it that says
      it is over ("mijn ex sloeg me, maar dat is al drie jaar voorbij"), so "vroeger sloeg hij me,
      dat is voorbij, maar nu slaat hij de kinderen" stays a crisis; a phrase that spans clauses
      leaves the crisis too;
    - nothing hints at a danger now (`back`: "weer", "opnieuw", "gisteren", "bang", "gered",
      "achterna", "niet meer zitten", "plan", "soms", "hopeloos"; kept broad, since the guard
      only runs on a message that has a crisis phrase).
    """

    rules: frozenset[str]
    over: tuple[re.Pattern[str], ...]
    distant: tuple[re.Pattern[str], ...]
    back: tuple[re.Pattern[str], ...]

    def quiets(self, folded: str, fired: Sequence[Rule]) -> bool:
        if not fired or any(rule.id not in self.rules for rule in fired):
            return False
        if any(p.search(folded) for p in self.back):
            return False
        if not any(p.search(folded) for p in self.over):
            return False
        clauses = [clause for clause in CLAUSES.split(folded) if clause.strip()]
        for rule in fired:
            where = [n for n, clause in enumerate(clauses) if rule.matches(clause)]
            if not where or not all(self._distant(clauses, n) for n in where):
                return False
        return True

    def _distant(self, clauses: Sequence[str], n: int) -> bool:
        """Clause n is set at a distance in time, or the clause right after it says that it is
        over, with its distance ("mijn ex sloeg me, maar dat is al 3 jaar voorbij")."""
        if any(p.search(clauses[n]) for p in self.distant):
            return True
        after = clauses[n + 1] if n + 1 < len(clauses) else ""
        return any(p.search(after) for p in self.over) and any(p.search(after) for p in self.distant)


@dataclass(frozen=True)
class Triage:
    """The triage of one message."""

    domains: tuple[str, ...] = ()
    urgency: Urgency = "normal"
    signals: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {"domains": list(self.domains), "urgency": self.urgency, "signals": list(self.signals)}


class RuleError(ValueError):
    """The rules file is malformed; the message says where."""


def _compile(patterns: Iterable[Any], where: str) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for pattern in patterns:
        if not isinstance(pattern, str):
            raise RuleError(f"{where}: pattern {pattern!r} is not a string")
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise RuleError(f"{where}: pattern {pattern!r} does not compile: {exc}") from exc
    return tuple(compiled)


def _check_domains(domains: Iterable[Any], where: str) -> tuple[str, ...]:
    unknown = [d for d in domains if d not in DOMAINS]
    if unknown:
        raise RuleError(f"{where}: unknown domain(s) {unknown}; use the slugs in baken_core/zrm.py")
    return tuple(domains)


def _past_and_over(raw: Mapping[str, Any] | None, crisis_ids: set[str]) -> PastAndOver | None:
    if not raw:
        return None
    # not `rules:`, which would make Rasa read this file as training data (data/ is its training folder)
    unknown = set(raw.get("applies_to") or []) - crisis_ids
    if unknown:
        raise RuleError(f"past_and_over/applies_to: {sorted(unknown)} are not crisis rules")
    return PastAndOver(
        rules=frozenset(raw.get("applies_to") or []),
        **{part: _compile(raw.get(part) or [], f"past_and_over/{part}") for part in ("over", "distant", "back")},
    )


def parse_rules(raw: Mapping[str, Any]) -> RuleSet:
    """Compile a rules mapping (the YAML file's content) into a RuleSet."""
    rules: list[Rule] = []
    for urgency in ("crisis", "urgent"):
        for entry in raw.get(urgency) or []:
            where = f"{urgency}/{entry.get('id', '?')}"
            rules.append(
                Rule(
                    id=str(entry["id"]),
                    urgency=urgency,
                    domains=_check_domains(entry.get("domains") or [], where),
                    patterns=_compile(entry.get("patterns") or [], where),
                )
            )
    domain_patterns = {
        slug: _compile(patterns or [], f"domains/{slug}") for slug, patterns in (raw.get("domains") or {}).items()
    }
    _check_domains(domain_patterns, "domains")
    intent_urgency = dict(raw.get("intent_urgency") or {})
    for intent, level in intent_urgency.items():
        if level not in URGENCY_ORDER:
            raise RuleError(f"intent_urgency/{intent}: unknown urgency {level!r}")
    crisis = raw.get("crisis_intent") or {}
    return RuleSet(
        urgency_rules=tuple(rules),
        domain_patterns=domain_patterns,
        intent_domains={
            intent: _check_domains(domains, f"intent_domains/{intent}")
            for intent, domains in (raw.get("intent_domains") or {}).items()
        },
        intents_without_domains=frozenset(raw.get("intents_without_domains") or []),
        intent_urgency=intent_urgency,
        crisis_intent=str(crisis.get("name", "report_crisis")),
        crisis_min_confidence=float(crisis.get("min_confidence", 0.3)),
        writer_patterns={
            signal: _compile(patterns or [], f"writer/{signal}")
            for signal, patterns in (raw.get("writer") or {}).items()
        },
        crisis_domain_patterns={
            slug: _compile(patterns or [], f"crisis_domains/{slug}")
            for slug, patterns in _check_domain_keys((raw.get("crisis_domains") or {}).get("patterns") or {})
        },
        crisis_default_domains=_check_domains(
            (raw.get("crisis_domains") or {}).get("default") or [], "crisis_domains/default"
        ),
        past_and_over=_past_and_over(raw.get("past_and_over"), {r.id for r in rules if r.urgency == "crisis"}),
    )


def _check_domain_keys(mapping: Mapping[str, Any]) -> Iterable[tuple[str, Any]]:
    _check_domains(mapping, "crisis_domains/patterns")
    return mapping.items()


def load_rules(path: Path | None = None) -> RuleSet:
    """Load and compile the rules file (default: `data/triage/rules.yml`)."""
    source = path or data_dir() / "triage" / "rules.yml"
    with source.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    if not isinstance(raw, Mapping):
        raise RuleError(f"{source}: expected a mapping at the top level")
    return parse_rules(raw)


@lru_cache(maxsize=1)
def default_rules() -> RuleSet:
    """The project's rules, loaded once per process."""
    return load_rules()


def crisis_signals(text: str, rules: RuleSet | None = None) -> list[str]:
    """Ids of the crisis rules that fire on `text` (the safety net: no model needed); none when
    the message tells of a danger that is over (`PastAndOver`)."""
    ruleset = rules or default_rules()
    folded = fold(text)
    fired, quiet = _crisis_rules(ruleset, folded)
    return [] if quiet else [rule.id for rule in fired]


def _crisis_rules(ruleset: RuleSet, folded: str) -> tuple[list[Rule], bool]:
    """The crisis rules that fire, and whether `PastAndOver` quiets them."""
    fired = [r for r in ruleset.urgency_rules if r.urgency == "crisis" and r.matches(folded)]
    guard = ruleset.past_and_over
    return fired, bool(fired) and guard is not None and guard.quiets(folded, fired)


def writer_signals(text: str, rules: RuleSet | None = None) -> list[str]:
    """Who seems to be writing: `writer_child` when the writer seems to be under 18."""
    ruleset = rules or default_rules()
    folded = fold(text)
    return [signal for signal, patterns in ruleset.writer_patterns.items() if any(p.search(folded) for p in patterns)]


FALLBACK_INTENT = "nlu_fallback"
"""Rasa's FallbackClassifier puts this on top of the ranking when it is unsure."""


def _crisis_by_intent(
    ruleset: RuleSet,
    intent: str | None,
    ranking: Sequence[Mapping[str, Any]],
) -> bool:
    if intent == ruleset.crisis_intent:
        return True
    # The classifier's own first choice, even below the fallback threshold: a crisis it is unsure
    # of is still a crisis (recall first); the fallback's own entry is not the classifier's choice.
    ranked = [item for item in ranking if item.get("name") != FALLBACK_INTENT]
    if ranked and ranked[0].get("name") == ruleset.crisis_intent:
        return True
    return any(
        item.get("name") == ruleset.crisis_intent
        and float(item.get("confidence") or 0.0) >= ruleset.crisis_min_confidence
        for item in ranking
    )


def assess(
    text: str,
    intent: str | None = None,
    ranking: Sequence[Mapping[str, Any]] = (),
    rules: RuleSet | None = None,
) -> Triage:
    """Triage one message.

    `intent` is the understood intent (after fallback), `ranking` the classifier's intent
    ranking (name/confidence pairs). Without them this is the rules-only safety net.
    """
    ruleset = rules or default_rules()
    folded = fold(text or "")
    urgency: Urgency = "normal"
    domains: set[str] = set()
    signals: list[str] = []

    fired, quiet = _crisis_rules(ruleset, folded)
    crisis_ids = set() if quiet else {rule.id for rule in fired}
    for rule in ruleset.urgency_rules:
        if rule.id in crisis_ids if rule.urgency == "crisis" else rule.matches(folded):
            urgency = highest_urgency(urgency, rule.urgency)
            domains.update(rule.domains)
            signals.append(rule.id)
    if quiet:  # shown to a worker: a danger that is over was told
        signals.append("past_and_over")

    if _crisis_by_intent(ruleset, intent, ranking):
        urgency = "crisis"
        signals.append("intent:" + ruleset.crisis_intent)

    if intent is not None and intent in ruleset.intent_urgency:
        urgency = highest_urgency(urgency, ruleset.intent_urgency[intent])
        signals.append("intent:" + intent)

    signals += writer_signals(text or "", ruleset)

    if intent not in ruleset.intents_without_domains or urgency != "normal":
        for slug, patterns in ruleset.domain_patterns.items():
            if any(p.search(folded) for p in patterns):
                domains.add(slug)
        if intent:
            domains.update(ruleset.intent_domains.get(intent, ()))

    if urgency == "crisis":
        domains.update(_crisis_domains(ruleset, folded, domains))

    return Triage(domains=tuple(ordered_domains(domains)), urgency=urgency, signals=tuple(signals))


CRISIS_DOMAINS = frozenset({"geestelijke_gezondheid", "huiselijke_relaties"})
"""A crisis is danger to life or safety: it always shows at least one of these."""


def _crisis_domains(ruleset: RuleSet, folded: str, domains: set[str]) -> set[str]:
    """A crisis's own domains: violence words point home; a crisis that shows neither home nor
    the mind yet (the model found it, no rule named a domain) gets the default (the mind)."""
    found = {
        slug for slug, patterns in ruleset.crisis_domain_patterns.items() if any(p.search(folded) for p in patterns)
    }
    if not (domains | found) & CRISIS_DOMAINS:
        found.update(ruleset.crisis_default_domains)
    return found
