"""Follow-up with consent (issue 15): nothing scheduled without a yes, delivered once by the
job however many desk processes run it, outside quiet hours, never after a stop, gone with
the citizen's erasure and the conversation's retention. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from handoff.store import conversations as convs
from handoff.store import followups, retention
from handoff.store.erasure import erase_citizen
from handoff.store.models import (
    Author,
    Channel,
    Citizen,
    Conversation,
    Delivery,
    FollowUp,
    FollowUpKind,
    FollowUpState,
    Message,
    Outcome,
    Worker,
    as_utc,
)
from tests.moments import AMSTERDAM, TUESDAY_MORNING

NOW = TUESDAY_MORNING.astimezone(dt.timezone.utc)
WEEK_LATER = NOW + dt.timedelta(days=7)


def offered(sessions: sessionmaker[Session], who: str = "tg-1", channel: Channel = Channel.telegram) -> int:
    with sessions.begin() as session:
        citizen = convs.citizen_for(session, channel, who)
        conversation = convs.active_conversation(session, citizen)
        followup = followups.offer(session, conversation, "next_step")
        assert followup is not None
        return followup.id


def press(sessions: sessionmaker[Session], followup_id: int, choice: str, *, who: str = "tg-1", key: str = "") -> str:
    with sessions.begin() as session:
        citizen = convs.find_citizen(session, Channel.telegram, who)
        assert citizen is not None
        answer = followups.answer(
            session, citizen, followup_id, choice, dedupe_key=key or f"k:{followup_id}:{choice}", now=NOW
        )
        return "\n".join(answer.replies)


def state(sessions: sessionmaker[Session], followup_id: int) -> FollowUp:
    with sessions() as session:
        row = session.get(FollowUp, followup_id)
        assert row is not None
        return row


def checkins(sessions: sessionmaker[Session]) -> list[Message]:
    with sessions() as session:
        return list(session.scalars(select(Message).where(Message.text == followups.CHECKIN)).all())


def test_an_offer_asks_with_two_buttons_and_schedules_nothing_without_a_yes(sessions: sessionmaker[Session]) -> None:
    followup_id = offered(sessions)
    with sessions() as session:
        asked = session.scalar(select(Message).where(Message.text == followups.OFFER))
        assert asked is not None and asked.delivery is Delivery.pending  # Telegram: through the outbox
        assert [b["title"] for b in asked.buttons or []] == ["Ja, vraag het me over een week", "Nee, dank je"]
    assert state(sessions, followup_id).state is FollowUpState.offered
    with sessions.begin() as session:  # months later: an unanswered offer never arrives
        assert followups.deliver_due(session, NOW + dt.timedelta(days=60)) == []
    assert "niet" in press(sessions, followup_id, "nee")
    assert state(sessions, followup_id).state is FollowUpState.declined
    with sessions.begin() as session:
        assert followups.deliver_due(session, NOW + dt.timedelta(days=60)) == []
    assert checkins(sessions) == []


def test_yes_schedules_one_check_in_a_week_later_and_it_is_stored_once(sessions: sessionmaker[Session]) -> None:
    followup_id = offered(sessions)
    assert "Over een week" in press(sessions, followup_id, "ja")
    row = state(sessions, followup_id)
    assert row.state is FollowUpState.scheduled and row.due_at is not None
    assert abs(followups.allowed_time(WEEK_LATER) - as_utc(row.due_at)) < dt.timedelta(seconds=1)
    assert "al bewaard" in press(sessions, followup_id, "ja", key="again")  # a second tap changes nothing
    with sessions.begin() as session:
        assert followups.deliver_due(session, WEEK_LATER - dt.timedelta(minutes=1)) == []
    with sessions.begin() as session:
        assert len(followups.deliver_due(session, WEEK_LATER)) == 1
    with sessions.begin() as session:
        assert followups.deliver_due(session, WEEK_LATER + dt.timedelta(hours=1)) == []
    sent = checkins(sessions)
    assert len(sent) == 1 and sent[0].delivery is Delivery.pending
    assert [b["title"] for b in sent[0].buttons or []] == ["Gelukt", "Het lukt niet", "Stop met vragen"]
    assert state(sessions, followup_id).state is FollowUpState.sent


def test_the_check_in_goes_to_a_new_conversation_of_the_same_team_when_the_old_one_is_closed(
    sessions: sessionmaker[Session],
) -> None:
    followup_id = offered(sessions)
    press(sessions, followup_id, "ja")
    with sessions.begin() as session:
        conversation = session.scalars(select(Conversation)).one()
        convs.close(session, conversation, None, Outcome.resolved)
        origin = conversation.id
    with sessions.begin() as session:
        followups.deliver_due(session, WEEK_LATER)
    row = state(sessions, followup_id)
    assert row.checkin_conversation_id not in (None, origin)
    with sessions() as session:
        new = session.get(Conversation, row.checkin_conversation_id)
        assert new is not None and new.status.value == "bot"


@pytest.mark.parametrize("rounds", [2, 6])
def test_two_job_rounds_at_the_same_moment_deliver_a_due_check_in_once(
    sessions: sessionmaker[Session], rounds: int
) -> None:
    ids = [offered(sessions, who=f"tg-{n}") for n in range(3)]
    for n, followup_id in enumerate(ids):
        press(sessions, followup_id, "ja", who=f"tg-{n}")
    start = threading.Barrier(rounds)
    delivered: list[int] = []
    errors: list[BaseException] = []

    def job_round() -> None:
        start.wait()
        try:
            with sessions.begin() as session:
                done = followups.deliver_due(session, WEEK_LATER)
            delivered.extend(d.followup_id for d in done)
        except Exception as exc:  # SQLite under several writers may say "locked": that round does nothing
            errors.append(exc)

    threads = [threading.Thread(target=job_round) for _ in range(rounds)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(delivered) == sorted(ids), (delivered, errors)
    assert len(checkins(sessions)) == 3


def test_quiet_hours_move_a_check_in_to_nine_in_the_morning(sessions: sessionmaker[Session]) -> None:
    evening = dt.datetime(2026, 12, 8, 22, 30, tzinfo=AMSTERDAM)
    assert followups.allowed_time(evening) == dt.datetime(2026, 12, 9, 9, 0, tzinfo=AMSTERDAM)
    early = dt.datetime(2026, 12, 9, 6, 0, tzinfo=AMSTERDAM)
    assert followups.allowed_time(early) == dt.datetime(2026, 12, 9, 9, 0, tzinfo=AMSTERDAM)
    noon = dt.datetime(2026, 12, 9, 12, 0, tzinfo=AMSTERDAM)
    assert followups.allowed_time(noon) == noon
    followup_id = offered(sessions)
    press(sessions, followup_id, "ja")
    with sessions.begin() as session:  # the job ran late: due long ago, but it is night now
        session.get(FollowUp, followup_id).due_at = evening - dt.timedelta(hours=3)  # type: ignore[union-attr]
    with sessions.begin() as session:
        assert followups.deliver_due(session, evening) == []
    row = state(sessions, followup_id)
    assert row.state is FollowUpState.scheduled and row.due_at is not None
    assert as_utc(row.due_at).astimezone(AMSTERDAM) == dt.datetime(2026, 12, 9, 9, 0, tzinfo=AMSTERDAM)
    with sessions.begin() as session:
        assert followups.deliver_due(session, dt.datetime(2026, 12, 9, 9, 0, tzinfo=AMSTERDAM)) != []


def test_stop_cancels_every_pending_check_in_and_no_new_one_is_offered(sessions: sessionmaker[Session]) -> None:
    first = offered(sessions)
    press(sessions, first, "ja")
    with sessions.begin() as session:
        citizen = convs.find_citizen(session, Channel.telegram, "tg-1")
        assert citizen is not None
        old = convs.open_conversation(session, citizen)
        assert old is not None
        convs.close(session, old, None, Outcome.resolved)
        second = followups.offer(session, convs.active_conversation(session, citizen), "closed")
        assert second is not None
        second_id = second.id
    assert "niets meer" in press(sessions, second_id, "stop")
    assert {state(sessions, i).state for i in (first, second_id)} == {FollowUpState.cancelled}
    with sessions.begin() as session:
        assert followups.deliver_due(session, WEEK_LATER + dt.timedelta(days=30)) == []
    assert checkins(sessions) == []
    with sessions.begin() as session:
        citizen = convs.find_citizen(session, Channel.telegram, "tg-1")
        assert citizen is not None
        assert followups.offer(session, convs.active_conversation(session, citizen), "closed") is None


def test_a_button_of_someone_elses_follow_up_changes_nothing(sessions: sessionmaker[Session]) -> None:
    followup_id = offered(sessions, who="tg-1")
    with sessions.begin() as session:
        convs.citizen_for(session, Channel.telegram, "tg-2")
    assert "al bewaard" in press(sessions, followup_id, "ja", who="tg-2")
    assert state(sessions, followup_id).state is FollowUpState.offered


def test_erasure_and_retention_take_the_follow_ups_with_them(sessions: sessionmaker[Session]) -> None:
    erased_id = offered(sessions, who="tg-1")
    kept_id = offered(sessions, who="tg-2")
    press(sessions, erased_id, "ja")
    with sessions.begin() as session:
        citizen = convs.find_citizen(session, Channel.telegram, "tg-1")
        assert citizen is not None
        erase_citizen(session, citizen)
    with sessions() as session:
        assert session.get(FollowUp, erased_id) is None
        assert session.get(FollowUp, kept_id) is not None
    with sessions.begin() as session:
        conversation = session.scalars(select(Conversation)).one()
        convs.close(session, conversation, None, Outcome.resolved)
    with sessions.begin() as session:
        retention.run(session, retention.Policy(), NOW + dt.timedelta(days=400))
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(FollowUp)) == 0
        assert session.scalar(select(func.count()).select_from(Citizen)) == 0


def test_a_workers_reminder_is_shown_to_them_when_due_and_leaves_when_done(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        worker = Worker(name="anna", password_hash="x")
        session.add(worker)
        citizen = convs.citizen_for(session, Channel.widget, "visitor-0123456789")
        conversation = convs.active_conversation(session, citizen)
        session.flush()
        reminder = followups.schedule_reminder(session, conversation, worker, WEEK_LATER, "brief bellen", tell=False)
        reminder_id, worker_id = reminder.id, worker.id
    with sessions.begin() as session:
        assert followups.deliver_due(session, NOW) == []
        assert [r.id for r in followups.reminders_for(session, worker_id)] == [reminder_id]
    with sessions.begin() as session:
        done = followups.deliver_due(session, WEEK_LATER)
        assert [(d.kind, d.worker_id) for d in done] == [(FollowUpKind.reminder, worker_id)]
    with sessions() as session:  # a reminder says nothing to the citizen
        assert session.scalar(select(func.count()).select_from(Message).where(Message.author == Author.system)) == 0
    with sessions.begin() as session:
        assert followups.finish_reminder(session, reminder_id, worker_id)
        assert followups.reminders_for(session, worker_id) == []
