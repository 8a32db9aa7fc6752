"""Telegram channel with python-telegram-bot 22.

Polling when no public URL is configured; a webhook with Telegram's `secret_token` check
when TELEGRAM_WEBHOOK_URL is set (the desk's /telegram/webhook route feeds updates in).
Requests go to `{TELEGRAM_API_URL}/bot{token}/…`, so tests and on-premise setups can point
it at another Bot API server.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction, MessageLimit
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.routing import Inbound, Outgoing, Router
from handoff.models import Channel

log = logging.getLogger(__name__)

SOURCE_MAX = 64
CALLBACK_MAX_BYTES = 64
STOPPED = "Je gesprek is gestopt. Wil je opnieuw beginnen? Stuur dan /start."


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

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any], router: Router) -> None:
        self.application = application
        self.router = router
        self.webhook_secret: str | None = None
        application.add_handler(CommandHandler("start", self.on_start))
        application.add_handler(CommandHandler("stop", self.on_stop))
        application.add_handler(CallbackQueryHandler(self.on_button))
        application.add_handler(MessageHandler(filters.PHOTO | filters.Document.ALL, self.on_attachment))
        application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, self.on_text))
        application.add_error_handler(self.on_error)

    async def send(self, chat_id: int | str, outgoing: Outgoing) -> None:
        chunks = split_text(outgoing.text)
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            await self.application.bot.send_message(
                chat_id=chat_id, text=chunk, reply_markup=keyboard(outgoing.buttons) if last else None
            )

    async def _route(self, update: Update, text: str, *, source: str | None = None, **extra: Any) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        user = update.effective_user
        await self.application.bot.send_chat_action(chat_id=chat.id, action=ChatAction.TYPING)
        result = await self.router.inbound(
            Inbound(
                Channel.telegram,
                str(chat.id),
                text,
                dedupe_key=f"telegram:update:{update.update_id}",
                source=source,
                display_name=user.first_name if user else None,
                **extra,
            )
        )
        for outgoing in result.replies:
            await self.send(chat.id, outgoing)

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
        await self.router.stop(Channel.telegram, str(chat.id))
        await self.application.bot.send_message(chat_id=chat.id, text=STOPPED)

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.message and update.message.text is not None:
            await self._route(update, update.message.text)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        await query.answer()
        await self._route(update, str(query.data or ""))

    async def on_attachment(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        if message is None:
            return
        attachment: dict[str, Any]
        if message.photo:
            largest = message.photo[-1]
            attachment = {"kind": "photo", "file_id": largest.file_id, "file_unique_id": largest.file_unique_id}
        elif message.document:
            attachment = {
                "kind": "document",
                "file_id": message.document.file_id,
                "file_name": message.document.file_name,
                "mime_type": message.document.mime_type,
            }
        else:
            return
        await self._route(update, message.caption or "", attachments=[attachment])

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
