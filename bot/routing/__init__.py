"""One citizen message, end to end: store, crisis safety net, route by conversation status.

1. The message is stored before anything else, `pending` (handoff.store.processing); a
   redelivery (same dedupe key) of an answered message stops here, one that was never
   answered is processed now.
2. The crisis safety net (the triage rules, no model needed) runs in every state and
   answers at once, and a crisis goes to the head of the worker queue at once: it never
   waits for Rasa, nor for an earlier message of the conversation (once per message, also
   when two desk processes try at once).
3. The desk process claims it in the database (never two at once), in order per
   conversation across all desk processes: one message of a conversation at a time, the
   earliest unfinished first (handoff.store.processing.claim). A later message that cannot
   be claimed yet is taken next by the process that finishes the one before it, or, when
   that process died, by the recovery sweep once its lease ran out.
4. Status `bot`: the message goes to Rasa under the desk's message id, so it may be sent
   again after any failure without Rasa hearing it twice (baken_nlu/channel.py). While
   Rasa starts or swaps a model it is retried, with one "even geduld" line after a few
   seconds; only past `rasa_wait_s` does the conversation go to a worker as "Rasa down".
   A handoff payload or a crisis queues the conversation.
   Status `queued` / `with_worker`: the message goes to the worker inbox, not to Rasa.
5. The answer (or the handoff) is stored in the transaction that marks the message done.
   Outside office hours the citizen hears honestly when a worker will answer.

Channels (Telegram, widget) call `Dispatcher.inbound` (dispatcher.py); the widget reads what was stored, the
Telegram outbox (bot/outbox.py) delivers it. `Dispatcher.sweep` finishes what a crash or an
outage left unanswered, crisis first.
"""

from bot.routing.dispatcher import Dispatcher, TooFast
from bot.routing.messages import Inbound, InboundResult, Outgoing

__all__ = ["Dispatcher", "Inbound", "InboundResult", "Outgoing", "TooFast"]
