"""Results on the dashboard (issue 15) from known rows, on SQLite and PostgreSQL: results per
life domain and team, referrals informal vs formal, time to first contact against the Wgs
terms, the period and team filters, and what stays after retention deletes a conversation."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from handoff.admin import charts, dashboard_results
from handoff.store import models, outcomes
from handoff.store.forget import forget
from handoff.store.models import (
    Channel,
    Citizen,
    Conversation,
    DomainOutcome,
    DomainResult,
    Handoff,
    Team,
    Urgency,
    as_utc,
)
from handoff.store.outcomes import DomainClose, OutcomeError, within_wgs_norm, workdays_between

FRIDAY = dt.datetime(2026, 11, 6, 10, 0, tzinfo=dt.timezone.utc)
START, END = dt.date(2026, 11, 1), dt.date(2026, 11, 30)


def test_werkdagen_skip_the_weekend_and_public_holidays() -> None:
    wednesday = FRIDAY + dt.timedelta(days=5)
    assert workdays_between(FRIDAY, wednesday) == 3  # Monday, Tuesday, Wednesday
    assert within_wgs_norm("urgent", FRIDAY, wednesday) is True
    assert within_wgs_norm("urgent", FRIDAY, wednesday + dt.timedelta(days=1)) is False
    christmas_eve = dt.datetime(2026, 12, 24, 12, 0, tzinfo=dt.timezone.utc)  # Thursday
    assert workdays_between(christmas_eve, christmas_eve + dt.timedelta(days=3)) == 0  # Christmas, the weekend
    assert workdays_between(christmas_eve, christmas_eve + dt.timedelta(days=4)) == 1  # Monday the 28th
    assert within_wgs_norm("normal", FRIDAY, FRIDAY + dt.timedelta(days=28)) is True
    assert within_wgs_norm("normal", FRIDAY, FRIDAY + dt.timedelta(days=28, minutes=1)) is False
    assert within_wgs_norm("crisis", FRIDAY, FRIDAY + dt.timedelta(days=9)) is None


def _conversation(session: Session, n: int, team: Team | None) -> Conversation:
    citizen = Citizen(channel=Channel.widget, external_id=f"visitor-{n}")
    session.add(citizen)
    session.flush()
    item = Conversation(
        citizen_id=citizen.id,
        channel=Channel.widget,
        rasa_sender_id=f"s-{n}",
        created_at=FRIDAY,
        team_id=team.id if team else None,
    )
    session.add(item)
    session.flush()
    return item


def _handoff(session: Session, conversation: Conversation, urgency: Urgency, claimed: dt.timedelta | None) -> None:
    session.add(
        Handoff(
            conversation_id=conversation.id,
            reason="request_human",
            urgency=urgency,
            domains=["financien"],
            queued_at=FRIDAY,
            claimed_at=FRIDAY + claimed if claimed is not None else None,
        )
    )
    session.flush()


def _known_data(sessions: sessionmaker[Session]) -> tuple[int, int, int]:
    """Schuldhulp: an urgent conversation reached in 3 werkdagen (financien improved,
    huisvesting referred to the gemeente's schuldhulp), a crisis in 5 minutes (financien
    referred to SchuldHulpMaatje). Wijkteam: a normal one reached after 30 days (sociaal
    netwerk referred to the example buurtkamer, financien the same) and one never claimed."""
    with sessions.begin() as session:
        schuldhulp, wijkteam = Team(name="Schuldhulp"), Team(name="Wijkteam <b>")
        session.add_all([schuldhulp, wijkteam])
        session.flush()
        urgent, crisis = _conversation(session, 1, schuldhulp), _conversation(session, 2, schuldhulp)
        normal, waiting = _conversation(session, 3, wijkteam), _conversation(session, 4, wijkteam)
        _handoff(session, urgent, Urgency.urgent, dt.timedelta(days=5))
        _handoff(session, crisis, Urgency.crisis, dt.timedelta(minutes=5))
        _handoff(session, normal, Urgency.normal, dt.timedelta(days=30))
        _handoff(session, waiting, Urgency.normal, None)
        closed = FRIDAY + dt.timedelta(days=7)
        outcomes.record(
            session,
            urgent,
            [
                DomainClose("financien", DomainResult.improved),
                DomainClose("huisvesting", DomainResult.referred, "schuldhulpverlening_gemeente"),
            ],
            now=closed,
        )
        outcomes.record(
            session, crisis, [DomainClose("financien", DomainResult.referred, "schuldhulpmaatje")], now=closed
        )
        outcomes.record(
            session,
            normal,
            [
                DomainClose("sociaal_netwerk", DomainResult.referred, "buurtkamer_voorbeeld"),
                DomainClose("financien", DomainResult.same),
            ],
            now=closed + dt.timedelta(days=30),  # 12 December: outside November
        )
        return schuldhulp.id, wijkteam.id, crisis.id


def test_results_per_domain_team_referral_and_first_contact(sessions: sessionmaker[Session]) -> None:
    schuldhulp, wijkteam, _crisis = _known_data(sessions)
    with sessions() as session:
        found = dashboard_results.results(session, START, END + dt.timedelta(days=31))
    assert found.per_domain == {
        "Financiën": {"improved": 1, "same": 1, "referred": 1},
        "Huisvesting": {"improved": 0, "same": 0, "referred": 1},
        "Sociaal netwerk": {"improved": 0, "same": 0, "referred": 1},
    }
    assert found.per_team == {
        "Schuldhulp": {"improved": 1, "same": 0, "referred": 2},
        "Wijkteam <b>": {"improved": 0, "same": 1, "referred": 1},
    }
    assert found.referrals == {"formal": 1, "informal": 2}
    assert {(o["key"], o["kind"], o["count"], o["example"]) for o in found.referrals_per_offer} == {
        ("schuldhulpverlening_gemeente", "formal", 1, False),
        ("schuldhulpmaatje", "informal", 1, False),
        ("buurtkamer_voorbeeld", "informal", 1, True),
    }
    contact = found.first_contact
    assert contact["urgent"]["count"] == 1 and contact["urgent"]["within_norm"] == 1
    assert contact["urgent"]["within_share"] == 1.0 and "3 werkdagen" in contact["urgent"]["norm"]
    assert contact["crisis"]["median"] == 5.0 and contact["crisis"]["within_share"] is None
    assert contact["normal"]["over_norm"] == 1 and contact["normal"]["no_contact"] == 1
    assert contact["normal"]["median"] == 30 * 24 * 60 and contact["normal"]["within_share"] == 0.0
    assert "[ONZEKER]" in found.norm_source and "§2.1" in found.norm_source

    with sessions() as session:
        november = dashboard_results.results(session, START, END)
        only_wijkteam = dashboard_results.results(session, START, END + dt.timedelta(days=31), wijkteam)
        only_schuldhulp = dashboard_results.results(session, START, END, schuldhulp)
    assert november.referrals == {"formal": 1, "informal": 1}  # the buurtkamer was in December
    assert "Sociaal netwerk" not in november.per_domain
    assert list(only_wijkteam.per_team) == ["Wijkteam <b>"] and only_wijkteam.referrals["formal"] == 0
    assert only_wijkteam.first_contact["urgent"]["count"] == 0 and only_wijkteam.first_contact["normal"]["count"] == 1
    assert (
        only_schuldhulp.first_contact["normal"]["count"] == 0 and only_schuldhulp.first_contact["crisis"]["count"] == 1
    )


def test_results_survive_retention_without_text(sessions: sessionmaker[Session]) -> None:
    schuldhulp, _wijkteam, crisis_id = _known_data(sessions)
    with sessions() as session:
        before = dashboard_results.results(session, START, END, schuldhulp)
    with sessions.begin() as session:
        forget(session, [session.get(Conversation, crisis_id)], erase_inbox=True)  # type: ignore[list-item]
    with sessions() as session:
        after = dashboard_results.results(session, START, END, schuldhulp)
        kept = session.scalars(select(DomainOutcome).where(DomainOutcome.conversation_id.is_(None))).all()
    assert after.per_domain == before.per_domain and after.referrals == before.referrals
    assert after.first_contact["crisis"] == before.first_contact["crisis"]
    assert [(k.domain, k.referral_key, k.team_id) for k in kept] == [("financien", "schuldhulpmaatje", schuldhulp)]
    assert as_utc(kept[0].closed_at) == dt.datetime(2026, 11, 13, tzinfo=dt.timezone.utc)  # the day, not the moment


def test_a_result_that_cannot_be_stored_is_refused() -> None:
    with pytest.raises(OutcomeError, match="waarheen"):
        outcomes.check([DomainClose("financien", DomainResult.referred)])
    with pytest.raises(OutcomeError, match="Onbekende plek"):
        outcomes.check([DomainClose("financien", DomainResult.referred, "nergens")])
    with pytest.raises(OutcomeError, match="twee keer"):
        outcomes.check([DomainClose("financien", DomainResult.same), DomainClose("financien", DomainResult.improved)])
    with pytest.raises(OutcomeError, match="levensgebied"):
        outcomes.check([DomainClose("geluk", DomainResult.same)])
    with pytest.raises(OutcomeError, match="laat 'waarheen' leeg"):
        outcomes.check([DomainClose("financien", DomainResult.same, "voedselbank")])


def test_follow_ups_not_there_are_not_available(sessions: sessionmaker[Session], monkeypatch) -> None:
    monkeypatch.delattr(models, "FollowUp", raising=False)
    with sessions() as session:
        assert dashboard_results.results(session, START, END).followups is None


def test_charts_escape_and_draw_the_norms(sessions: sessionmaker[Session]) -> None:
    _known_data(sessions)
    with sessions() as session:
        found = dashboard_results.results(session, START, END + dt.timedelta(days=31))
    svg = charts.stacked_bars(found.per_team, [("improved", "verbeterd", "#0b6e3a")], "Resultaat <per> team")
    assert "Wijkteam &lt;b&gt;" in svg and "<b>" not in svg and "Resultaat &lt;per&gt; team" in svg
    rows = [
        (u, found.first_contact[u], dashboard_results.norm_minutes(u), dashboard_results.NORMS[u])
        for u in dashboard_results.URGENCIES
    ]
    drawn = charts.first_contact(rows, "Eerste contact")
    assert drawn.count("stroke-dasharray") == 2  # urgent and normal have a Wgs term, crisis none
    assert "Geen wettelijke termijn" in drawn and "Wgs: binnen 4 weken: 0% op tijd" in drawn
    assert "binnen 3 werkdagen (bedreigende situatie): 100% op tijd" in drawn


def test_follow_ups_sent_and_answered_are_counted(sessions: sessionmaker[Session]) -> None:
    schuldhulp, wijkteam, crisis_id = _known_data(sessions)
    follow_up = models.FollowUp
    with sessions.begin() as session:
        conversation = session.get(Conversation, crisis_id)
        assert conversation is not None
        sent = FRIDAY + dt.timedelta(days=7)
        for team, answered, state in [
            (schuldhulp, "gelukt", models.FollowUpState.answered),
            (schuldhulp, None, models.FollowUpState.sent),
            (wijkteam, "lukt_niet", models.FollowUpState.answered),
        ]:
            session.add(
                follow_up(
                    kind=models.FollowUpKind.checkin,
                    state=state,
                    conversation_id=conversation.id,
                    citizen_id=conversation.citizen_id,
                    team_id=team,
                    reason="closed",
                    outcome=answered,
                    sent_at=sent,
                    answered_at=sent + dt.timedelta(days=1) if answered else None,
                )
            )
        session.add(  # offered, never sent: not counted
            follow_up(
                kind=models.FollowUpKind.checkin,
                state=models.FollowUpState.offered,
                conversation_id=conversation.id,
                citizen_id=conversation.citizen_id,
                reason="closed",
            )
        )
    with sessions() as session:
        assert dashboard_results.results(session, START, END).followups == {"sent": 3, "answered": 2}
        assert dashboard_results.results(session, START, END, schuldhulp).followups == {"sent": 2, "answered": 1}
        assert dashboard_results.results(session, END + dt.timedelta(days=1), END + dt.timedelta(days=2)).followups == {
            "sent": 0,
            "answered": 0,
        }
