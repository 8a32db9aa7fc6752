"""Telegram channel with python-telegram-bot 22.

Polling when no public URL is configured; a webhook with Telegram's `secret_token` check
when TELEGRAM_WEBHOOK_URL is set (the desk's /telegram/webhook route feeds updates in).
Requests go to `{TELEGRAM_API_URL}/bot{token}/…` and file downloads to
`{TELEGRAM_API_URL}/file/bot{token}/…`, so tests and on-premise setups can point it at
another Bot API server. Photos and documents are downloaded up to the attachment store's
limit and stored for the worker (the caption is the message text); a file that is too big
or that Telegram will not hand over gets a kind notice here, and the dispatcher (bot/routing.py) says the rest.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from telegram import Document, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, PhotoSize, Update
from telegram import Message as TelegramMessage
from telegram.constants import ChatAction, ChatType, MessageLimit
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.outbox import Outbox
from bot.routing import Dispatcher, Inbound, InboundResult, Outgoing, TooFast
from handoff.store import conversations as convs
from handoff.store import referral_note
from handoff.store.attachments import AttachmentStore, AttachmentTooBig, refused_record, size_text, too_big_record
from handoff.store.models import Channel

log = logging.getLogger(__name__)

SOURCE_MAX = 64
CALLBACK_MAX_BYTES = 64
STOPPED = "Je gesprek is gestopt. Wil je opnieuw beginnen? Stuur dan /start."
NOT_FETCHED = "Je bestand kwam niet goed bij ons aan. Wil je het nog een keer sturen?"
NOT_FETCHED_NOTE = "niet opgehaald bij Telegram, niet bewaard"
FORGET_YES, FORGET_NO = "baken:vergeet:ja", "baken:vergeet:nee"
FORGET_ASK = (
    "Wil je alles wissen wat je ons hebt gestuurd? Je berichten, je bestanden en wat de assistent "
    "onthield, worden dan verwijderd. Een medewerker kan ze daarna niet meer lezen. "
    "Dit kun je niet ongedaan maken."
)
FORGET_BUTTONS = [
    {"title": "Ja, wis alles", "payload": FORGET_YES},
    {"title": "Nee, niet wissen", "payload": FORGET_NO},
]
FORGOTTEN = (
    "Alles is gewist bij ons. De berichten die nog in deze chat op je telefoon staan, wis je zelf: "
    "kies in Telegram bij deze chat 'Geschiedenis wissen'. Je kunt altijd opnieuw beginnen met /start."
)
PRIVATE_ONLY = (
    "Ik praat alleen in een privégesprek, zodat niemand anders meeleest. "
    "Stuur me een eigen bericht: open mijn naam en tik op 'Bericht'."
)
NOTHING_TO_FORGET = "Er was niets van je bewaard. Je kunt altijd beginnen met /start."
SUMMARY_TEXT, SUMMARY_FILE, SUMMARY_NO = (
    "baken:samenvatting:tekst",
    "baken:samenvatting:bestand",
    "baken:samenvatting:nee",
)
SUMMARY_ASK = (
    "Wil je een korte samenvatting van je gesprek? Die kun je meenemen naar een afspraak. "
    "Dan hoef je je verhaal daar niet opnieuw te vertellen."
)
SUMMARY_BUTTONS = [
    {"title": "Ja, als bericht", "payload": SUMMARY_TEXT},
    {"title": "Ja, als bestand (.txt)", "payload": SUMMARY_FILE},
    {"title": "Nee, liever niet", "payload": SUMMARY_NO},
]
NO_SUMMARY = "Er is geen samenvatting gemaakt. Je kunt gewoon verder gaan."
NOTHING_TO_SUMMARISE = "Er is nog geen gesprek om samen te vatten. Stel eerst je vraag."
SUMMARY_CAPTION = "Je samenvatting, om te bewaren en mee te nemen."
NOT_FORGOTTEN = "Er is niets gewist. Je kunt gewoon verder gaan."
TOO_FAST_NOTICE_S = 60.0
PHOTO_MIME = "image/jpeg"  # Telegram re-encodes every photo as JPEG
PHOTO_NAME = "foto.jpg"


def too_big_text(limit: int) -> str:
    return (
        f"Dit bestand is te groot. Het mag niet groter zijn dan {size_text(limit)}, "
        "daarom is het niet bewaard. Maak een foto van de brief, of stuur een kleiner bestand. "
        "Maak je BSN en bankgegevens op de brief eerst onzichtbaar."
    )


@dataclass(frozen=True)
class IncomingFile:
    """A photo or document in a citizen's message, before it is downloaded."""

    kind: str
    source: PhotoSize | Document
    mime: str | None
    name: str | None
    size: int | None


def _incoming_file(message: TelegramMessage, limit: int) -> IncomingFile | None:
    """The file to fetch; of a photo's sizes, the largest one within the limit."""
    if message.photo:
        fitting = [p for p in message.photo if p.file_size is None or p.file_size <= limit]
        largest = fitting[-1] if fitting else message.photo[-1]
        return IncomingFile("photo", largest, PHOTO_MIME, PHOTO_NAME, largest.file_size)
    document = message.document
    if document is not None:
        return IncomingFile("document", document, document.mime_type, document.file_name, document.file_size)
    return None


def _not_fetched(incoming: IncomingFile, error: Exception) -> tuple[dict[str, Any], str]:
    """Telegram would not give us the file: record that, and ask the citizen to send it again."""
    log.warning("telegram %s not fetched: %s", incoming.kind, error)
    record = refused_record(incoming.kind, incoming.mime, incoming.name, incoming.size, NOT_FETCHED_NOTE)
    return record, NOT_FETCHED


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Telegram allows 4096 characters a message: split at paragraph, line or word breaks."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = max(rest.rfind("\n\n", 0, limit), rest.rfind("\n", 0, limit), rest.rfind(" ", 0, limit))
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not parts:
        parts.append(rest)
    return parts


def keyboard(buttons: list[dict[str, str]] | None) -> InlineKeyboardMarkup | None:
    """Bot buttons as an inline keyboard, one button a row (easy to tap on a phone)."""
    rows = [
        [InlineKeyboardButton(b["title"], callback_data=b["payload"])]
        for b in buttons or []
        if len(b["payload"].encode("utf-8")) <= CALLBACK_MAX_BYTES
    ]
    return InlineKeyboardMarkup(rows) if rows else None


class TelegramChannel:
    """Receives updates, routes them, and delivers replies (also a worker's, later)."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        dispatcher: Dispatcher,
        attachments: AttachmentStore,
    ) -> None:
        self.application = application
        self.dispatcher = dispatcher
        self.attachments = attachments
        self.webhook_secret: str | None = None
        self.outbox: Outbox | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._refused_groups: set[int] = set()
        self._told_too_fast: dict[int, float] = {}
        application.add_handler(TypeHandler(Update, self.private_only), group=-1)
        application.add_handler(CommandHandler("start", self.on_start))
        application.add_handler(CommandHandler("stop", self.on_stop))
        application.add_handler(CommandHandler("vergeet", self.on_forget))
        application.add_handler(CommandHandler("samenvatting", self.on_summary))
        application.add_handler(CallbackQueryHandler(self.on_button))
        application.add_handler(MessageHandler(filters.PHOTO | filters.Document.ALL, self.on_attachment))
        application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, self.on_text))
        application.add_error_handler(self.on_error)

    async def send(self, chat_id: int | str, outgoing: Outgoing) -> None:
        """Send now, not through the outbox: only for what the channel says itself outside a
        conversation (/stop, an update that failed)."""
        chunks = split_text(outgoing.text)
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            await self.send_part(str(chat_id), chunk, last, outgoing.buttons if last else None)

    async def send_part(self, chat_id: str, text: str, last: bool, buttons: list[dict[str, str]] | None) -> None:
        """One Telegram message (the outbox's way out); raises telegram.error on failure."""
        await self.application.bot.send_message(
            chat_id=int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id,
            text=text,
            reply_markup=keyboard(buttons) if last else None,
        )

    async def _typing(self, chat_id: int) -> None:
        """The typing indicator is a courtesy: when it fails, nothing else does."""
        try:
            await self.application.bot.send_chat_action(chat_id=chat_id, action=ChatAction.TYPING)
        except TelegramError as exc:
            log.info("telegram typing indicator not shown: %s", type(exc).__name__)

    async def _route(
        self, update: Update, text: str, *, source: str | None = None, notice: str | None = None, **extra: Any
    ) -> InboundResult | None:
        """Route one update: stored first, then answered; the outbox delivers what was stored.
        `notice` (from the channel itself) is stored before the dispatcher's replies."""
        chat = update.effective_chat
        if chat is None:
            return None
        user = update.effective_user
        typing = asyncio.create_task(self._typing(chat.id))
        self._background.add(typing)
        typing.add_done_callback(self._background.discard)
        try:
            result = await self.dispatcher.inbound(
                Inbound(
                    Channel.telegram,
                    str(chat.id),
                    text,
                    dedupe_key=f"telegram:update:{update.update_id}",
                    source=source,
                    display_name=user.first_name if user else None,
                    notice=notice,
                    **extra,
                )
            )
        except TooFast as too_fast:
            await self._too_fast(chat.id, too_fast.refused.text)
            return None
        if self.outbox is not None:
            self.outbox.kick()
        return result

    async def private_only(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A group, supergroup or channel is not one citizen: one kind refusal per chat,
        nothing stored, nothing routed (a worker's reply would reach the whole group)."""
        chat = update.effective_chat
        if chat is None or chat.type == ChatType.PRIVATE:
            return
        if chat.type != ChatType.CHANNEL and chat.id not in self._refused_groups:
            self._refused_groups.add(chat.id)
            try:
                await self.application.bot.send_message(chat_id=chat.id, text=PRIVATE_ONLY)
            except TelegramError as exc:
                log.info("telegram group refusal not sent: %s", type(exc).__name__)
        raise ApplicationHandlerStop

    async def _too_fast(self, chat_id: int, text: str) -> None:
        """Over the message limit: said once a minute, not once per message."""
        now = time.monotonic()
        if now - self._told_too_fast.get(chat_id, -TOO_FAST_NOTICE_S) < TOO_FAST_NOTICE_S:
            return
        self._told_too_fast[chat_id] = now
        await self.send(chat_id, Outgoing(text + "\nStuur je bericht over een minuut nog eens."))

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/start, optionally with a deep-link payload (t.me/bot?start=huisarts) as the source."""
        source = None
        if context.args:
            candidate = "".join(c for c in context.args[0] if c.isalnum() or c in "_-")[:SOURCE_MAX]
            source = candidate or None
        await self._route(update, "/greet", source=source)

    async def on_stop(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        await self.dispatcher.stop(Channel.telegram, str(chat.id))
        await self.application.bot.send_message(chat_id=chat.id, text=STOPPED)

    async def on_forget(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/vergeet: asks first (a button), erases only on "Ja, wis alles" (on_button)."""
        chat = update.effective_chat
        if chat is not None:
            await self.send(chat.id, Outgoing(FORGET_ASK, buttons=FORGET_BUTTONS))

    async def _answer_forget(self, chat_id: int, choice: str) -> None:
        if choice == FORGET_NO:
            await self.send(chat_id, Outgoing(NOT_FORGOTTEN))
            return
        erased = await self.dispatcher.erase(Channel.telegram, str(chat_id))
        await self.send(chat_id, Outgoing(FORGOTTEN if erased else NOTHING_TO_FORGET))

    async def on_summary(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/samenvatting (warm referral): asks first; the note comes only after a yes (on_button)."""
        chat = update.effective_chat
        if chat is not None:
            await self.send(chat.id, Outgoing(SUMMARY_ASK, buttons=SUMMARY_BUTTONS))

    def _note(self, chat_id: int, kind: str) -> str | None:
        """The note of the citizen's latest conversation (handoff/store/referral_note.py); audited without text."""
        with self.dispatcher.sessions.begin() as session:
            citizen = convs.find_citizen(session, Channel.telegram, str(chat_id))
            conversation = referral_note.latest_conversation(session, citizen.id) if citizen else None
            if conversation is None:
                return None
            convs.audit(session, "referral_note", conversation=conversation, detail={"channel": "telegram", "as": kind})
            return referral_note.note(session, conversation)

    async def _answer_summary(self, chat_id: int, choice: str) -> None:
        if choice == SUMMARY_NO:
            await self.send(chat_id, Outgoing(NO_SUMMARY))
            return
        as_file = choice == SUMMARY_FILE
        text = await asyncio.to_thread(self._note, chat_id, "file" if as_file else "text")
        if text is None:
            await self.send(chat_id, Outgoing(NOTHING_TO_SUMMARISE))
        elif as_file:
            document = InputFile(text.encode("utf-8"), filename=referral_note.FILENAME)
            await self.application.bot.send_document(chat_id=chat_id, document=document, caption=SUMMARY_CAPTION)
        else:
            await self.send(chat_id, Outgoing(text))

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.message and update.message.text is not None:
            await self._route(update, update.message.text)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        await query.answer()
        chat = update.effective_chat
        if query.data in (FORGET_YES, FORGET_NO) and chat is not None:
            await self._answer_forget(chat.id, str(query.data))  # never routed, never stored
            return
        if query.data in (SUMMARY_TEXT, SUMMARY_FILE, SUMMARY_NO) and chat is not None:
            await self._answer_summary(chat.id, str(query.data))  # never routed, never stored
            return
        await self._route(update, str(query.data or ""))

    async def on_attachment(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A photo or document: stored for the worker; the caption is the message text."""
        message = update.message
        incoming = _incoming_file(message, self.attachments.max_bytes) if message else None
        if message is None or incoming is None:
            return
        attachment, notice = await self._fetch(incoming)
        token = attachment.get("id")
        try:
            result = await self._route(update, message.caption or "", notice=notice, attachments=[attachment])
        except BaseException:
            if token:
                self.attachments.delete(token)
            raise
        if token and (result is None or result.duplicate):
            self.attachments.delete(token)  # a redelivered update: the first copy is the one on record

    async def _fetch(self, incoming: IncomingFile) -> tuple[dict[str, Any], str | None]:
        """Download through the Bot API and store; (attachment entry, notice for the citizen or None)."""
        limit = self.attachments.max_bytes
        refused = too_big_record(incoming.kind, incoming.mime, incoming.name, incoming.size, limit)
        if incoming.size is not None and incoming.size > limit:
            return refused, too_big_text(limit)
        try:
            file = await incoming.source.get_file()
            if file.file_size is not None and file.file_size > limit:
                return {**refused, "size": file.file_size}, too_big_text(limit)
            data = bytes(await file.download_as_bytearray())
            entry = await asyncio.to_thread(
                self.attachments.save, data, kind=incoming.kind, mime=incoming.mime, name=incoming.name
            )
        except AttachmentTooBig:
            return refused, too_big_text(limit)
        except BadRequest as exc:
            if "too big" in exc.message.lower():  # the Bot API itself refuses files over 20 MB
                return refused, too_big_text(limit)
            return _not_fetched(incoming, exc)
        except TelegramError as exc:
            return _not_fetched(incoming, exc)
        return entry, None

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram update failed", exc_info=context.error)
        if isinstance(update, Update) and update.effective_chat is not None:
            await self.application.bot.send_message(
                chat_id=update.effective_chat.id,
                text="Sorry, er ging iets mis bij het verwerken van je bericht. Probeer het zo nog eens.",
            )


def build_application(token: str, api_url: str, *, polling: bool) -> Application[Any, Any, Any, Any, Any, Any]:
    """The python-telegram-bot Application, pointed at `api_url` (Telegram or a local server)."""
    root = api_url.rstrip("/")
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder().token(token).base_url(f"{root}/bot").base_file_url(f"{root}/file/bot")
    )
    if not polling:
        builder = builder.updater(None)
    return builder.build()
