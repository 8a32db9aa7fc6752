"""Running the Telegram channel inside the desk: polling, or a webhook with secret_token."""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter, HTTPException, Request
from telegram import Update

from bot.outbox import Outbox
from bot.routing import Dispatcher
from bot.telegram_channel import TelegramChannel, build_application, split_text
from handoff.config import DeskSettings
from handoff.store.attachments import AttachmentStore

log = logging.getLogger(__name__)
router = APIRouter(tags=["telegram"])
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def start_telegram(
    desk: DeskSettings, dispatcher: Dispatcher, attachments: AttachmentStore
) -> TelegramChannel | None:
    """Start the channel when TELEGRAM_TOKEN is set: webhook if a public URL is configured."""
    if desk.telegram_token is None:
        return None
    webhook = desk.telegram_webhook_url
    if webhook and desk.telegram_webhook_secret is None:
        raise RuntimeError("TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET (Telegram's secret_token)")
    application = build_application(
        desk.telegram_token.get_secret_value(), desk.telegram_api_url, polling=webhook is None
    )
    channel = TelegramChannel(application, dispatcher, attachments)
    channel.outbox = Outbox(dispatcher.sessions, dispatcher.bus, split_text, channel.send_part)
    await application.initialize()
    await application.start()
    channel.outbox.start()
    if webhook:
        assert desk.telegram_webhook_secret is not None
        await application.bot.set_webhook(
            url=webhook.rstrip("/") + "/telegram/webhook",
            secret_token=desk.telegram_webhook_secret.get_secret_value(),
        )
    else:
        assert application.updater is not None
        await application.updater.start_polling()
    channel.webhook_secret = desk.telegram_webhook_secret.get_secret_value() if desk.telegram_webhook_secret else None
    return channel


async def stop_telegram(channel: TelegramChannel) -> None:
    if channel.outbox is not None:
        await channel.outbox.stop()
    application = channel.application
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    await application.stop()
    await application.shutdown()


@router.post("/telegram/webhook", summary="Telegram updates (webhook mode)", status_code=200)
async def telegram_update(request: Request) -> dict[str, bool]:
    channel: TelegramChannel | None = request.app.state.telegram  # set at start: None without Telegram
    if channel is None or channel.webhook_secret is None:
        raise HTTPException(404, "Telegram staat niet in webhook-modus.")
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode(), channel.webhook_secret.encode()):
        raise HTTPException(403, "Onbekende afzender.")
    try:
        data = await request.json()
    except ValueError:
        raise HTTPException(400, "Geen geldige JSON.") from None
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        raise HTTPException(400, "Geen Telegram-update.")
    update = Update.de_json(data, channel.application.bot)
    await channel.application.process_update(update)
    return {"ok": True}
