"""The dispatcher: one citizen message through its states (see the package's docstring).

One class for one job, the life of a citizen message (store, claim, crisis net, Rasa turn
with retries and patience, queueing, finishing in one transaction, the recovery sweep);
its steps are methods of about a screen each. The texts it says are in texts.py, the values
it passes in messages.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack, suppress
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from baken_core.crisis import crisis_message, is_crisis_reply
from baken_core.summary import TriageRecord, build_summary
from baken_core.text import strip_invisible
from baken_core.triage import assess, crisis_signals
from baken_core.zrm import highest_urgency
from bot.rasa_client import BotReply, RasaApi, RasaEmpty, RasaPaused, RasaUnavailable
from bot.routing.locks import ConversationLocks
from bot.routing.messages import Inbound, InboundResult, Outgoing, QueueRequest, Work
from bot.routing.texts import (
    ATTACHMENT_WITH_BOT,
    EMPTY,
    NOT_PROCESSED,
    PATIENT,
    QUEUED_ATTACHMENT,
    RASA_DOWN,
    TEAM_CLOSED,
)
from handoff.learning import nlu_inbox
from handoff.rate_limits import RateLimits, Refused
from handoff.store import conversations as convs
from handoff.store import followups, processing, queue_info, teams
from handoff.store.erasure import Erased, erase_citizen
from handoff.store.events import EventBus
from handoff.store.models import (
    Author,
    Channel,
    Citizen,
    Conversation,
    ConversationStatus,
    Message,
    Outcome,
    Processing,
    Team,
    Urgency,
    Worker,
    utcnow,
)
from handoff.store.office_hours import HoursInForce, OfficeHours

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 10_000
RASA_WAIT_S = 60.0
"""How long a message waits for a Rasa that is starting, loading a model or paused (SIGSTOP)."""
PATIENCE_S = 5.0
"""After this long without an answer the citizen hears one "even geduld" line."""
SWEEP_CONCURRENCY = 8


class TooFast(Exception):
    """Over a message limit: nothing was stored; the channel tells the citizen (`refused.text`)."""

    def __init__(self, refused: Refused) -> None:
        super().__init__(refused.text)
        self.refused = refused


class Dispatcher:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        rasa: RasaApi,
        hours: OfficeHours | HoursInForce,
        bus: EventBus,
        clock: Callable[[], dt.datetime] = utcnow,
        thresholds: nlu_inbox.Thresholds | None = None,
        *,
        rasa_wait_s: float = RASA_WAIT_S,
        patience_s: float = PATIENCE_S,
        lease_s: float = processing.LEASE_S,
    ) -> None:
        self.sessions = sessions
        self.thresholds = thresholds or nlu_inbox.Thresholds()
        self.rasa = rasa
        self.hours_in_force = hours if isinstance(hours, HoursInForce) else HoursInForce(hours)
        self.bus = bus
        self.clock = clock
        self.rasa_wait_s = rasa_wait_s
        self.patience_s = patience_s
        self.lease_s = lease_s
        self._locks = ConversationLocks()
        self._tasks: set[asyncio.Task[None]] = set()
        """Work that goes on after the request that started it: a retry, a conversation's next message."""
        self._following: dict[int, int] = {}
        """A finished message → the next unfinished one of its conversation (processing.finish)."""
        self.limits: RateLimits | None = None
        """Message limits per citizen and IP (handoff/rate_limits.py; set by desk/lifespan.py)."""
        self.purge: Callable[[], Awaitable[object]] | None = None
        """Deletes the files and trackers an erasure left as purge tasks (set by desk/lifespan.py)."""

    @property
    def hours(self) -> OfficeHours:
        """The office hours in force now (the admin may change them at any time)."""
        return self.hours_in_force.current

    # ----------------------------------------------------------------- a citizen's message

    async def inbound(self, message: Inbound) -> InboundResult:
        # no NUL (PostgreSQL text cannot hold it), no bidi or zero-width tricks in the inbox
        text = strip_invisible(message.text or "")[:MAX_TEXT_CHARS]
        display_name = strip_invisible(message.display_name or "").strip()[:128] or None
        crisis = bool(crisis_signals(text))
        pressed = followups.parse_payload(text)
        if pressed is not None:  # a follow-up button: the desk answers it, the assistant never sees it
            if not crisis:
                with self.sessions() as session:
                    self._within_limits(session, message)
            return self._followup_answer(message, *pressed)
        # One transaction (one connection) for the limits and the storing: the limits are
        # checked on what it read before it writes anything, so a refused message rolls back
        # with nothing stored. A crisis message is never refused by a limit.
        with self.sessions.begin() as session:
            resent, citizen = self._within_limits(session, message, check=not crisis)
            if citizen is None:
                citizen = convs.citizen_for(session, message.channel, message.external_id, display_name)
            # holds the conversation's claim lock till this commits: a later message stored through
            # another process cannot be claimed before this one (handoff/store/processing.py)
            conversation = convs.active_conversation(session, citizen, message.source, hold=resent is None)
            if resent is not None:
                stored, created = resent, False
            else:
                stored, created = convs.record_message(
                    session,
                    conversation,
                    Author.citizen,
                    convs.button_title(session, conversation, text) or text,
                    dedupe_key=message.dedupe_key,
                    attachments=list(message.attachments) or None,
                    crisis=crisis,
                    key_checked=True,
                )
            # a resend belongs to the conversation it was first stored in
            result = InboundResult(stored.conversation_id, conversation.status, duplicate=not created)
            result.crisis = stored.crisis
            result.citizen_id = citizen.id
            result.message_id = stored.id
            done = stored.processing in (Processing.done, None)
            if created and message.notice:
                convs.record_message(session, conversation, Author.system, message.notice, reply_to=stored.id)
                result.replies.append(Outgoing(message.notice, author=Author.system))
        if created:
            self._publish_message(result.conversation_id, citizen.id, "citizen")
        if done:
            return result
        processed = await self.process(stored.id, result)
        if processed is None:
            result.in_progress = True
        return result

    def _within_limits(
        self, session: Session, message: Inbound, *, check: bool = True
    ) -> tuple[Message | None, Citizen | None]:
        """Raises TooFast when this citizen or address sends too much (not when `check` is
        False); a resend of a stored message (a network drop) is not counted. Returns what it
        read for that, so the caller does not read it again: the message stored earlier with
        this dedupe key, and the citizen (None: new, or a resend)."""
        if message.dedupe_key:
            resent = session.scalar(select(Message).where(Message.dedupe_key == message.dedupe_key))
            if resent is not None:
                return resent, None
        citizen = convs.find_citizen(session, message.channel, message.external_id)
        if check and self.limits is not None:
            refused = self.limits.citizen_message(
                message.channel.value, message.external_id, message.ip, new_citizen=citizen is None
            )
            if refused is not None:
                raise TooFast(refused)
        return None, citizen

    async def process(
        self,
        message_id: int,
        result: InboundResult | None = None,
        *,
        conversation_id: int | None = None,
        crisis: bool | None = None,
    ) -> InboundResult | None:
        """Answer one stored citizen message, if nobody else is; None when it was not ours to do
        (done, held by another process, or behind an earlier message of its conversation, which
        whoever finishes that one or the sweep takes first: processing.claim). The conversation
        and crisis flag, when the caller knows them, save a read."""
        if result is not None:
            conversation_id, crisis = result.conversation_id, result.crisis
        if conversation_id is None or crisis is None:
            known = self._peek(message_id)
            if known is None:
                return None
            conversation_id, crisis = known
        if crisis:  # before waiting for anything, even an earlier message of this conversation
            try:
                result = self._crisis_first(message_id, result)
            except Exception:  # the database is away: the crisis reply comes as soon as it is back
                self._retry_when_back(message_id, claimed=False)
                raise
        async with self._locks.hold(conversation_id):  # this process's turn in the conversation
            work = self._claim(message_id)
            if work is None:
                return None
            try:
                result = await self._claimed(message_id, work, result)
            except processing.ClaimLost:  # paused past the lease: another process answers it
                log.warning("message %s: the claim ran out and another process took it; nothing stored", message_id)
                return None
            finally:
                following = self._following.pop(message_id, None)
        if following is not None:  # refused while this one was unfinished: nobody else takes it now
            self._background(self._next(following, conversation_id))
        return result

    def _claim(self, message_id: int) -> Work | None:
        """The claim and what it claimed, in one transaction: the message read first (taking the
        conversation's claim lock on PostgreSQL, processing.conversation_lock), the status of
        the conversation as the claim saw it, then the payload for that status."""
        with self.sessions.begin() as session:
            try:
                work = _read_work(session, message_id, lock=True)
            except LookupError:  # erased meanwhile
                return None
            claimed = processing.claim_status(session, message_id, lease_s=self.lease_s, locked=True)
            if claimed is None:
                return None
            pressed = None
            if claimed.status is ConversationStatus.bot:
                pressed = _button_payload(session, work.conversation_id, message_id, work.text)
            return replace(work, status=claimed.status, payload=pressed, token=claimed.token)

    async def _next(self, message_id: int, conversation_id: int) -> None:
        """The conversation's next message, after this process finished the one before it."""
        try:
            await self.process(message_id, conversation_id=conversation_id)
        except Exception:
            log.exception("message %s failed after the one before it; the sweep tries again", message_id)

    async def _claimed(self, message_id: int, work: Work, result: InboundResult | None) -> InboundResult:
        renewal = asyncio.create_task(self._keep_lease(message_id, work.token))
        try:
            if result is None:
                result = _result_for(work)
            result.status = work.status
            if work.attempts >= processing.MAX_ATTEMPTS:
                self._give_up(result, work)
            elif work.status is ConversationStatus.bot:
                await self._with_bot(result, work)
            else:
                self._with_people(result, work)
        except processing.ClaimLost:  # not ours any more: nothing to give back
            raise
        except Exception:
            if not self._release(message_id, work.token):  # the database is away: the claim would block every resend
                self._retry_when_back(message_id, work.token)
            raise
        except BaseException:  # cancelled: the process is stopping, the sweep of the next one takes it
            self._release(message_id, work.token)
            raise
        finally:
            renewal.cancel()
        return result

    def _reachable(self, message_id: int) -> bool:
        try:
            self._peek(message_id)
        except Exception:
            return False
        return True

    def _peek(self, message_id: int) -> tuple[int, bool] | None:
        with self.sessions() as session:
            row = session.execute(
                select(Message.conversation_id, Message.crisis).where(Message.id == message_id)
            ).one_or_none()
        return None if row is None else (int(row[0]), bool(row[1]))

    def _background(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            await work

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _release(self, message_id: int, token: int | None) -> bool:
        try:
            with self.sessions.begin() as session:
                processing.release(session, message_id, token)
        except Exception:
            return False
        return True

    def _retry_when_back(self, message_id: int, token: int | None = None, *, claimed: bool = True) -> None:
        """Give the claim back (when `claimed`) as soon as the database answers again and answer
        the message then, instead of leaving it to the lease and the sweep (up to LEASE_S +
        GRACE_S later). Unclaimed (the crisis reply failed before the claim), nothing is given
        back: another process may hold the message by then."""

        async def retry() -> None:
            delay, deadline = 0.25, time.monotonic() + self.lease_s
            while time.monotonic() < deadline:
                await asyncio.sleep(delay)
                if self._release(message_id, token) if claimed else self._reachable(message_id):
                    try:
                        await self.process(message_id)
                    except Exception:
                        log.warning("message %s failed again after the database came back", message_id)
                    return
                delay = min(delay * 2, 2.0)

        self._background(retry())

    async def sweep(self, *, grace_s: float = processing.GRACE_S) -> int:
        """Answer every message a crash or an outage left unanswered: crisis first, each
        conversation in order, conversations side by side. Returns how many it answered."""
        with self.sessions() as session:
            found = processing.unanswered(session, grace_s=grace_s)
        if not found:
            return 0
        by_conversation: dict[int, list[processing.Unanswered]] = {}
        for item in found:  # crisis first, then oldest: the order of the conversations too
            by_conversation.setdefault(item.conversation_id, []).append(item)
        gate = asyncio.Semaphore(SWEEP_CONCURRENCY)
        answered = 0

        async def conversation(items: list[processing.Unanswered]) -> None:
            nonlocal answered
            behind = False  # an earlier message is unfinished: only a crisis reply goes ahead of it
            async with gate:
                for item in items:  # the crisis replies first, not after an earlier message's Rasa turn
                    if item.crisis:
                        try:
                            self._crisis_first(item.message_id, None)
                        except Exception:
                            log.exception("recovery sweep: no crisis reply to message %s yet", item.message_id)
                for item in sorted(items, key=lambda u: u.message_id):
                    if behind and not item.crisis:
                        continue
                    try:
                        done = await self.process(
                            item.message_id, conversation_id=item.conversation_id, crisis=item.crisis
                        )
                    except Exception:
                        log.exception("recovery sweep: message %s failed; the next sweep tries again", item.message_id)
                        behind = True
                        continue
                    if done is None:
                        behind = True
                    else:
                        answered += 1

        await asyncio.gather(*(conversation(ids) for ids in by_conversation.values()))
        if answered:
            log.info("recovery sweep answered %s message(s)", answered)
        return answered

    def _work(self, message_id: int, *, payload: bool = True) -> Work:
        with self.sessions() as session:
            return _read_work(session, message_id, payload=payload)

    async def _keep_lease(self, message_id: int, token: int | None) -> None:
        while True:
            await asyncio.sleep(self.lease_s / 3)
            try:
                with self.sessions.begin() as session:
                    held = processing.renew(session, message_id, lease_s=self.lease_s, token=token)
            except Exception:  # the database is away for a moment: the next renewal tries again
                log.warning("could not renew the claim on message %s", message_id)
                continue
            if not held:  # ran out and taken (or finished) by another process: its finish is fenced
                log.warning("message %s: claim %s is gone; this process will store nothing for it", message_id, token)
                return

    # ----------------------------------------------------------------- with the assistant

    async def _with_bot(self, result: InboundResult, work: Work) -> None:
        text = self._rasa_text(work)
        if work.attachments and not text.strip():
            self._finish(result, work, [Outgoing(ATTACHMENT_WITH_BOT, author=Author.system)])
            return
        if not text.strip():
            self._finish(result, work, [Outgoing(EMPTY, author=Author.system)])
            return
        reply = await self._ask_rasa(result, work, text)
        if isinstance(reply, ConversationStatus):  # the conversation went to a worker meanwhile
            self._with_people(result, work)
            return
        if reply is None:
            if work.crisis:  # already answered and queued: nothing more to say
                self._finish(result, work, [])
                return
            urgency = Urgency(assess(work.text).urgency)
            self._finish(
                result,
                work,
                [Outgoing(RASA_DOWN, author=Author.system)],
                queue=QueueRequest("rasa_unavailable", urgency, assess(work.text).domains),
            )
            return
        result.reply = reply
        queue = self._queue_from_reply(reply, work.crisis) if (reply.handoff or work.crisis) else None
        crisis = work.crisis or (queue is not None and queue.urgency is Urgency.crisis)
        replies = []
        for item in reply.texts:
            if is_crisis_reply(item["text"]) or (crisis and item.get("handoff")):
                continue  # the desk's crisis reply, which knows the hour, says both
            replies.append(Outgoing(item["text"], item.get("buttons")))
        if crisis and not work.crisis:  # the assistant saw a crisis the safety net did not
            replies.insert(0, Outgoing(self._crisis_text(work), author=Author.system))
        if work.attachments and not (reply.handoff or work.crisis):  # the caption was answered, not the file
            replies.append(Outgoing(ATTACHMENT_WITH_BOT, author=Author.system))
        self._finish(result, work, replies, reply=reply, queue=queue)
        if queue is None and not crisis and not any(r.buttons for r in replies):
            self._offer_when_calm(result, work, reply)

    def _offer_when_calm(self, result: InboundResult, work: Work, reply: BotReply) -> None:
        """After an answer with a concrete next step, one check-in is offered (two buttons;
        nothing is scheduled without a yes) at the first calm moment: the citizen says no
        more, thanks or bye, and the assistant's reply asks nothing with buttons itself. Not
        on top of the assistant's own question about what else is going on."""
        if str((reply.parse or {}).get("intent") or "") not in CALM_INTENTS:
            return
        with self.sessions.begin() as session:
            conversation = session.get(Conversation, work.conversation_id)
            if conversation is None or conversation.status is not ConversationStatus.bot:
                return
            if not _had_next_step(session, conversation.id):
                return
            followup = followups.offer(session, conversation, "next_step")
            if followup is None:
                return
            outgoing = Outgoing(followups.OFFER, followups.buttons(followup.id, "ja", "nee"), author=Author.system)
        result.replies.append(outgoing)
        self._publish_message(work.conversation_id, work.citizen_id, "system")

    def _rasa_text(self, work: Work) -> str:
        """What Rasa gets: a pressed button's payload, not the title shown in the transcript."""
        return work.payload or work.text

    async def _ask_rasa(self, result: InboundResult, work: Work, text: str) -> BotReply | ConversationStatus | None:
        """Rasa's answer; a ConversationStatus when a worker has the conversation now; None
        when Rasa stayed away past the bound (or answered nothing at all)."""
        started = time.monotonic()
        # a crisis is with the workers already: Rasa adds context, it is not worth a long wait
        bound = min(self.rasa_wait_s, self.patience_s) if work.crisis else self.rasa_wait_s
        patience = None if work.crisis else asyncio.create_task(self._be_patient(result, work))
        try:
            return await self._attempts(work, text, started, bound)
        finally:
            if patience is not None:
                patience.cancel()

    async def _be_patient(self, result: InboundResult, work: Work) -> None:
        """One "even geduld" line when the answer takes longer than `patience_s`."""
        await asyncio.sleep(self.patience_s)
        self._store_now(result, work, Outgoing(PATIENT, author=Author.system))

    async def _attempts(
        self, work: Work, text: str, started: float, bound: float
    ) -> BotReply | ConversationStatus | None:
        delay, resumed = 0.25, False
        metadata = {"channel": work.channel.value, "source": work.source}
        while True:
            remaining = bound - (time.monotonic() - started)
            try:
                return await asyncio.wait_for(
                    self.rasa.send(work.sender, text, metadata, message_id=f"desk-{work.message_id}"),
                    timeout=max(remaining, 0.5),
                )
            except RasaEmpty:
                log.warning("Rasa answered nothing to message %s", work.message_id)
                return None
            except RasaPaused:
                status = self._status(work.conversation_id)
                if status is not ConversationStatus.bot:
                    return status
                if not resumed and not self._earlier_unanswered(work):
                    # the desk has the conversation with the assistant: a hand-back whose
                    # resume never reached Rasa. Repair it, then ask again.
                    with suppress(RasaUnavailable):
                        await self.rasa.resume(work.sender)
                    resumed = True
                    continue
            except (RasaUnavailable, asyncio.TimeoutError) as exc:
                log.info("Rasa not answering message %s yet: %s", work.message_id, type(exc).__name__)
            elapsed = time.monotonic() - started
            if elapsed >= bound:
                return None
            await asyncio.sleep(min(delay, max(bound - elapsed, 0.05)))
            delay = min(delay * 2, 2.0)

    def _status(self, conversation_id: int) -> ConversationStatus:
        with self.sessions() as session:
            status = session.scalar(select(Conversation.status).where(Conversation.id == conversation_id))
        assert status is not None
        return status

    def _earlier_unanswered(self, work: Work) -> bool:
        with self.sessions() as session:
            return (
                session.scalar(
                    select(Message.id)
                    .where(
                        Message.conversation_id == work.conversation_id,
                        Message.author == Author.citizen,
                        Message.id < work.message_id,
                        Message.processing != Processing.done,
                    )
                    .limit(1)
                )
                is not None
            )

    def _queue_from_reply(self, reply: BotReply, crisis: bool) -> QueueRequest:
        payload = reply.handoff or {}
        urgency = highest_urgency(payload.get("urgency"), "crisis" if crisis else None)
        return QueueRequest(
            reason=str(payload.get("reason") or ("crisis" if crisis else "request_human")),
            urgency=Urgency(urgency),
            domains=payload.get("domains") or [],
            summary=str(payload.get("summary") or ""),
        )

    # ----------------------------------------------------------------- with people

    def _crisis_text(self, work: Work) -> str:
        """The crisis reply for this moment: whether anyone of ours is there, and for whom."""
        now = self.clock()
        signals = assess(work.text).signals
        staffed = self.hours.is_open(now)
        return crisis_message(
            staffed=staffed,
            back=None if staffed else self.hours.describe_next_opening(now),
            child="writer_child" in signals,
            violence=any(s.startswith("violence") for s in signals),
        )

    def _crisis_first(self, message_id: int, result: InboundResult | None) -> InboundResult | None:
        """The crisis numbers now, and the conversation at the head of the queue now: before
        the claim, which may have to wait for an earlier message of the conversation. Once per
        message, also when two processes try at once (processing.crisis_reply_due)."""
        try:
            work = self._work(message_id, payload=False)
        except LookupError:  # erased meanwhile
            return result
        if result is None:
            result = _result_for(work)
        self._finish(
            result,
            work,
            [Outgoing(self._crisis_text(work), author=Author.system)],
            queue=QueueRequest("crisis", Urgency.crisis, assess(work.text).domains),
            done=False,
            only_if=lambda session: processing.crisis_reply_due(session, work.message_id, work.conversation_id),
        )
        return result

    def _give_up(self, result: InboundResult, work: Work) -> None:
        """A message tried MAX_ATTEMPTS times without an end: to a worker, without the assistant,
        so the conversation's later messages go on. When even that failed as often, the message
        is only marked done (it stays in the conversation for the worker to read)."""
        log.error("message %s was tried %s times without an end; a worker takes it", work.message_id, work.attempts)
        if work.attempts >= 2 * processing.MAX_ATTEMPTS:
            with self.sessions.begin() as session:
                following = processing.finish(session, work.message_id, work.token)
            if following is not None:
                self._following[work.message_id] = following
            return
        if work.status is not ConversationStatus.bot:  # with people already: they see it
            self._with_people(result, work)
            return
        urgency = Urgency.crisis if work.crisis else Urgency(assess(work.text).urgency)
        replies = [] if work.crisis else [Outgoing(NOT_PROCESSED, author=Author.system)]
        self._finish(result, work, replies, queue=QueueRequest("not_processed", urgency, assess(work.text).domains))

    def _with_people(self, result: InboundResult, work: Work) -> None:
        replies: list[Outgoing] = []
        queue = None
        if work.crisis:
            with self.sessions() as session:
                already = processing.has_crisis_reply(session, work.message_id)
            if not already:
                replies.append(Outgoing(self._crisis_text(work), author=Author.system))
                queue = QueueRequest("crisis", Urgency.crisis, assess(work.text).domains)
        if any(a.get("id") for a in work.attachments):  # stored; a refused file got its own notice
            replies.append(Outgoing(QUEUED_ATTACHMENT, author=Author.system))
        self._finish(result, work, replies, queue=queue, describe_queue=not work.crisis)

    # ----------------------------------------------------------------- storing the answer

    def _store_now(self, result: InboundResult, work: Work, outgoing: Outgoing) -> None:
        """A reply that cannot wait for the rest (it does not finish the message)."""
        with self.sessions.begin() as session:
            conversation = session.get(Conversation, work.conversation_id)
            assert conversation is not None
            if processing.has_reply(session, work.message_id, outgoing.text):
                return
            processing.hold_conversation(session, work.conversation_id)  # no claim in between
            if not processing.holds(session, work.message_id, work.token):  # paused past the lease
                return
            convs.record_message(session, conversation, outgoing.author, outgoing.text, reply_to=work.message_id)
        result.replies.append(outgoing)
        self._publish_message(work.conversation_id, work.citizen_id, outgoing.author.value)

    def _finish(
        self,
        result: InboundResult,
        work: Work,
        replies: list[Outgoing],
        *,
        reply: BotReply | None = None,
        queue: QueueRequest | None = None,
        describe_queue: bool = False,
        done: bool = True,
        only_if: Callable[[Session], bool] | None = None,
    ) -> None:
        """Store the answer, the handoff and `done` in one transaction; publish after it.
        With `only_if`: nothing at all unless it says yes, first thing in that transaction."""
        events: list[dict[str, Any]] = []
        now = self.clock()
        replies = list(replies)
        with self.sessions.begin() as session:
            if only_if is not None and not only_if(session):
                return
            # the parse goes on the message: both read at once, held while the session works
            held = _with_conversation(session, work.message_id) if reply is not None else None
            conversation = session.get(Conversation, work.conversation_id)
            assert conversation is not None
            if reply is not None:
                self._note_understanding(session, work.message_id, reply)
            if queue is not None:
                replies.extend(self._queue_in(session, conversation, queue, now, result, events))
            elif describe_queue and conversation.status is ConversationStatus.queued:
                result.queue_text = queue_info.describe(session, conversation.id, self.hours, now)
                if result.queue_text:
                    replies.append(Outgoing(f"Je bericht is bewaard. {result.queue_text}", author=Author.system))
            for outgoing in replies:
                convs.record_message(
                    session,
                    conversation,
                    outgoing.author,
                    outgoing.text,
                    buttons=outgoing.buttons,
                    reply_to=work.message_id,
                )
            if done:  # fenced: when another process claimed it meanwhile, all of this rolls back
                following = processing.finish(session, work.message_id, work.token)
                if following is not None:
                    self._following[work.message_id] = following
            result.status = conversation.status
            del held
        result.replies.extend(replies)
        for event in events:
            self.bus.publish(event)
        if replies:
            self._publish_message(work.conversation_id, work.citizen_id, "bot")

    def _note_understanding(self, session: Session, message_id: int, reply: BotReply) -> None:
        """Keep the parse on the citizen's message; unsure ones go (masked) to the NLU inbox."""
        message = session.get(Message, message_id)
        if message is None:
            return
        nlu_inbox.record_parse(session, message, reply.parse, self.thresholds)
        if reply.next_step:  # remembered with the message: the offer waits for a calm moment
            message.nlu = {**(message.nlu or {}), "next_step": True}
        if (reply.handoff or {}).get("reason") == "misunderstanding":
            nlu_inbox.add(session, message, "handoff_misunderstanding", self.thresholds)

    def _queue_in(
        self,
        session: Session,
        conversation: Conversation,
        request: QueueRequest,
        now: dt.datetime,
        result: InboundResult,
        events: list[dict[str, Any]],
    ) -> list[Outgoing]:
        """Queue (or escalate) in `session`; the notices for the citizen when it newly waits."""
        newly = conversation.status is ConversationStatus.bot
        summary = request.summary or build_summary(
            TriageRecord(
                urgency=request.urgency.value,
                domains=list(request.domains),
                citizen_words=_citizen_words(session, conversation),
            )
        )
        handoff = convs.queue(
            session,
            conversation,
            reason=request.reason,
            urgency=request.urgency,
            domains=request.domains,
            summary=summary,
            hours=self.hours,
            now=now,
        )
        if request.team_id is not None and conversation.team_id != request.team_id:
            team = session.get(Team, request.team_id)
            if team is not None and team.active:  # a follow-up goes back to the team it came from
                conversation.team_id = team.id
                convs.audit(session, "followup_team", conversation=conversation, detail={"team": team.id})
        events.append(
            {
                "type": "queued",
                "conversation_id": conversation.id,
                "citizen_id": conversation.citizen_id,
                "urgency": handoff.urgency.value,
            }
        )
        if request.urgency is Urgency.crisis:
            events.append({"type": "crisis", "conversation_id": conversation.id})
        if not newly:
            return []
        team = teams.team_of(session, conversation)
        hours = teams.team_hours(team, self.hours) if team is not None else self.hours
        if hours.is_open(now):
            queue_text = queue_info.describe(session, conversation.id, self.hours, now)
            if queue_text and request.urgency is not Urgency.crisis:
                result.queue_text = queue_text
                return [Outgoing(queue_text, author=Author.system)]
            return []
        if request.urgency is Urgency.crisis:  # the crisis reply already said who is there and when
            return []
        when = hours.describe_next_opening(now)
        if team is not None:
            return [Outgoing(TEAM_CLOSED.format(team=team.name, when=when), author=Author.system)]
        return [
            Outgoing(
                f"Onze medewerkers zijn er nu niet. Ze reageren {when}. Laat gerust een bericht achter: "
                "het blijft bewaard en de medewerker leest het dan.",
                author=Author.system,
            )
        ]

    # ----------------------------------------------------------------- follow-up buttons

    def _followup_answer(self, message: Inbound, choice: str, followup_id: int) -> InboundResult:
        """A pressed follow-up button (handoff/store/followups.py): the choice and the reply are
        stored in the conversation that asked; "het lukt niet" puts the conversation in the
        queue of the team it came from, with the earlier conversation's summary."""
        events: list[dict[str, Any]] = []
        now = self.clock()
        with self.sessions.begin() as session:
            citizen = convs.citizen_for(session, message.channel, message.external_id)
            answer = followups.answer(session, citizen, followup_id, choice, dedupe_key=message.dedupe_key, now=now)
            conversation = answer.conversation
            result = InboundResult(conversation.id, conversation.status, duplicate=answer.duplicate)
            result.citizen_id, result.message_id = citizen.id, answer.message_id
            result.replies = [Outgoing(text, author=Author.system) for text in answer.replies]
            if answer.help_again is not None:
                request = _help_again(session, answer.help_again.conversation_id, answer.help_again.team_id)
                for notice in self._queue_in(session, conversation, request, now, result, events):
                    convs.record_message(session, conversation, notice.author, notice.text, reply_to=answer.message_id)
                    result.replies.append(notice)
            result.status = conversation.status
        if not answer.duplicate:
            self._publish_message(result.conversation_id, citizen.id, "citizen")
        for event in events:
            self.bus.publish(event)
        if result.replies:
            self._publish_message(result.conversation_id, citizen.id, "bot")
        return result

    def _publish_message(self, conversation_id: int, citizen_id: int, author: str) -> None:
        self.bus.publish(
            {"type": "message", "conversation_id": conversation_id, "citizen_id": citizen_id, "author": author}
        )

    async def stop(self, channel: Channel, external_id: str) -> None:
        """The citizen ends the conversation (/stop): closed, with nothing lost. Stop means
        stop: no check-in comes after it (handoff/store/followups.py)."""
        with self.sessions.begin() as session:
            citizen = convs.find_citizen(session, channel, external_id)
            if citizen is not None:
                followups.cancel_for_citizen(session, citizen.id, self.clock())
            conversation = convs.open_conversation(session, citizen) if citizen else None
            if conversation is None:
                return
            convs.close(session, conversation, None, Outcome.no_response, "De inwoner stopte het gesprek zelf.")
            conversation_id, citizen_id = conversation.id, conversation.citizen_id
        self.bus.publish({"type": "closed", "conversation_id": conversation_id, "citizen_id": citizen_id})

    async def erase(
        self, channel: Channel, external_id: str, *, worker: Worker | None = None, reason: str | None = None
    ) -> Erased | None:
        """Everything of this citizen deleted (handoff/store/erasure.py); None: nothing known.

        Waits for the messages this process is answering in their open conversations, so no
        answer or Rasa tracker is written after the deletion."""
        with self.sessions() as session:
            citizen = convs.find_citizen(session, channel, external_id)
            if citizen is None:
                return None
            busy = session.scalars(
                select(Conversation.id)
                .where(Conversation.citizen_id == citizen.id, Conversation.status != ConversationStatus.closed)
                .order_by(Conversation.id)
            ).all()
        async with AsyncExitStack() as held:
            for conversation_id in busy:
                await held.enter_async_context(self._locks.hold(conversation_id))
            erased = await asyncio.to_thread(self._erase_now, channel, external_id, worker, reason)
        if erased is None:
            return None
        for event in erased.events():
            self.bus.publish(event)
        if self.purge is not None:
            await self.purge()
        return erased

    def _erase_now(
        self, channel: Channel, external_id: str, worker: Worker | None, reason: str | None
    ) -> Erased | None:
        with self.sessions.begin() as session:
            citizen = convs.find_citizen(session, channel, external_id)
            if citizen is None:
                return None
            actor = session.get(Worker, worker.id) if worker is not None else None
            return erase_citizen(session, citizen, worker=actor, reason=reason)


def _result_for(work: Work) -> InboundResult:
    """What processing a message says when no request of the citizen waits for it (the sweep,
    the next message of a conversation)."""
    result = InboundResult(work.conversation_id, work.status, duplicate=True, crisis=work.crisis)
    result.citizen_id, result.message_id = work.citizen_id, work.message_id
    return result


def _with_conversation(session: Session, message_id: int, *, lock: bool = False) -> tuple[Message, Conversation] | None:
    """A message and its conversation in one statement. While the caller holds them, both
    are in the session's identity map: `session.get` of either needs no statement (the map
    holds objects weakly, so drop the result and they are gone). With `lock`, the same
    statement takes the conversation's claim lock (PostgreSQL: processing.conversation_lock)."""
    taking = processing.conversation_lock(session) if lock else None
    columns = (Message, Conversation) if taking is None else (Message, Conversation, taking)
    row = session.execute(
        select(*columns).join(Conversation, Message.conversation_id == Conversation.id).where(Message.id == message_id)
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def _read_work(session: Session, message_id: int, *, payload: bool = False, lock: bool = False) -> Work:
    """The stored message as work; with `payload`, while the conversation is with the assistant,
    the payload of the button whose title the message is (Rasa gets that, not the title)."""
    found = _with_conversation(session, message_id, lock=lock)
    if found is None:
        raise LookupError(f"message {message_id} is not stored (any more)")
    message, conversation = found
    pressed = None
    if payload and conversation.status is ConversationStatus.bot:
        pressed = _button_payload(session, conversation.id, message.id, message.text)
    return Work(
        message_id=message.id,
        conversation_id=conversation.id,
        citizen_id=conversation.citizen_id,
        status=conversation.status,
        sender=conversation.rasa_sender_id,
        channel=conversation.channel,
        source=conversation.source,
        text=message.text,
        attachments=list(message.attachments or []),
        crisis=message.crisis,
        payload=pressed,
        attempts=message.attempts,
    )


def _button_payload(session: Session, conversation_id: int, message_id: int, text: str) -> str | None:
    """The payload behind a stored button title (the transcript keeps the title)."""
    last_buttons = session.scalar(
        select(Message.buttons)
        .where(
            Message.conversation_id == conversation_id,
            Message.buttons.is_not(None),
            Message.id < message_id,
        )
        .order_by(Message.id.desc())
        .limit(1)
    )
    for button in last_buttons or []:
        if isinstance(button, dict) and button.get("title") == text and button.get("payload"):
            return str(button["payload"])
    return None


CALM_INTENTS = frozenset({"deny", "thank", "goodbye"})
"""A turn after which a check-in may be offered (see Dispatcher._offer_when_calm)."""


def _had_next_step(session: Session, conversation_id: int) -> bool:
    """The assistant gave an answer with a concrete next step in this conversation."""
    rows = session.scalars(
        select(Message.nlu).where(
            Message.conversation_id == conversation_id, Message.author == Author.citizen, Message.nlu.is_not(None)
        )
    ).all()
    return any(isinstance(nlu, dict) and nlu.get("next_step") is True for nlu in rows)


FOLLOWUP_SUMMARY = "Vervolgvraag: de inwoner liet een week later weten dat het niet lukte (eerder gesprek nr. {id})."


def _help_again(session: Session, origin_id: int, team_id: int | None) -> QueueRequest:
    """ "Het lukt niet": back to the team's queue with the earlier conversation's summary (or
    the citizen's words there, when the assistant answered it alone)."""
    origin = session.get(Conversation, origin_id)
    handoff = origin.handoffs[-1] if origin is not None and origin.handoffs else None
    domains = list(handoff.domains) if handoff is not None else []
    earlier = handoff.summary if handoff is not None and handoff.summary else ""
    if not earlier and origin is not None:
        earlier = build_summary(
            TriageRecord(urgency="normal", domains=domains, citizen_words=_citizen_words(session, origin))
        )
    summary = "\n\n".join(part for part in (FOLLOWUP_SUMMARY.format(id=origin_id), earlier) if part)
    return QueueRequest("followup", Urgency.normal, domains, summary=summary, team_id=team_id)


def _citizen_words(session: Session, conversation: Conversation, limit: int = 6) -> list[str]:
    rows = session.scalars(
        select(Message.text)
        .where(Message.conversation_id == conversation.id, Message.author == Author.citizen, Message.text != "")
        .order_by(Message.id)
        .limit(limit)
    ).all()
    return [text[:300] for text in rows]
