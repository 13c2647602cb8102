"""Telegram connector (Bot API webhook) with native inline buttons.

credentials.yml::

    channels.telegram.TelegramInput:

Environment: TELEGRAM_ACCESS_TOKEN and TELEGRAM_SECRET_TOKEN (required),
TELEGRAM_WEBHOOK_URL (for /set_webhook), TELEGRAM_API_URL (tests only).
Telegram sends the secret token in X-Telegram-Bot-Api-Secret-Token with every
update once the webhook is set with it; updates without it are refused.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.base import (
    EXPIRED_CHOICE,
    TELEGRAM,
    ConnectorInput,
    MessagingOutput,
    Refusal,
    SeenDeliveries,
    Setting,
    call_api,
    conversation_id,
    platform_id,
)
from channels.options import is_short_code, short_code
from channels.rendering import Choice, fit, plain_text, split_text

TEXT_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64  # bytes
BUTTON_TITLE_LIMIT = 64
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# Telegram's own commands mean "start talking".
GREETING_COMMANDS = {"/start", "/help"}

SETTINGS = (
    Setting("access_token", "TELEGRAM_ACCESS_TOKEN"),
    Setting("secret_token", "TELEGRAM_SECRET_TOKEN"),
    Setting("webhook_url", "TELEGRAM_WEBHOOK_URL", required=False),
    Setting("api_url", "TELEGRAM_API_URL", required=False, default="https://api.telegram.org"),
)


class TelegramOutput(MessagingOutput):
    """Sends plain text (no HTML or Markdown parsing) and inline keyboards."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    def __init__(self, access_token: str, api_url: str) -> None:
        self._base = f"{api_url.rstrip('/')}/bot{access_token}"

    async def call(self, method: str, payload: Mapping[str, Any]) -> Any:
        """One Bot API method call."""
        return await call_api("POST", f"{self._base}/{method}", platform="telegram", json=dict(payload))

    async def _send(self, recipient_id: str, text: str, reply_markup: dict[str, Any] | None = None) -> None:
        payload: dict[str, Any] = {
            "chat_id": platform_id(TELEGRAM, recipient_id),  # "tg:42" -> "42"
            "text": text,
            # Source links would otherwise each unfold into a large preview.
            "link_preview_options": {"is_disabled": True},
        }
        if reply_markup:
            payload["reply_markup"] = reply_markup
        await self.call("sendMessage", payload)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in split_text(plain_text(text), TEXT_LIMIT):
            await self._send(recipient_id, part)

    async def send_choices(self, recipient_id: str, text: str, choices: list[Choice]) -> None:
        parts = split_text(plain_text(text), TEXT_LIMIT) or ["Please choose:"]
        for part in parts[:-1]:
            await self._send(recipient_id, part)
        # One button per row: long titles stay readable on a phone.
        keyboard = [
            [
                {
                    "text": fit(choice.title, BUTTON_TITLE_LIMIT),
                    "callback_data": self._callback_data(choice),
                }
            ]
            for choice in choices
        ]
        await self._send(recipient_id, parts[-1], {"inline_keyboard": keyboard})

    @staticmethod
    def _callback_data(choice: Choice) -> str:
        # Telegram limits callback data to 64 bytes: a longer payload travels as a
        # short code, found again among the buttons stored in the conversation.
        if len(choice.payload.encode("utf-8")) <= CALLBACK_DATA_LIMIT and not is_short_code(choice.payload):
            return choice.payload
        return short_code(choice.payload)


def secret_token_matches(expected: str, headers: Mapping[str, str]) -> bool:
    """Telegram's check: the secret token set with the webhook comes back in a header."""
    given = headers.get(SECRET_HEADER, "")
    return hmac.compare_digest(given.encode(), expected.encode())


class TelegramInput(ConnectorInput):
    """Receives Telegram updates (messages and button presses)."""

    SETTINGS = SETTINGS
    REFUSAL = Refusal("update without the right secret token refused", "forbidden", HTTPStatus.FORBIDDEN)

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def settings_problem(cls, values: dict[str, str]) -> str | None:
        if not SECRET_PATTERN.match(values["secret_token"]):
            return "TELEGRAM_SECRET_TOKEN may only use A-Z a-z 0-9 _ -"
        return None

    @classmethod
    def from_settings(cls, values: dict[str, str]) -> InputChannel:
        return cls(values["access_token"], values["secret_token"], values["webhook_url"], values["api_url"])

    def __init__(
        self, access_token: str, secret_token: str, webhook_url: str = "", api_url: str = ""
    ) -> None:
        self.access_token = access_token
        self.secret_token = secret_token
        self.webhook_url = webhook_url
        self.api_url = api_url or "https://api.telegram.org"
        self.deliveries = SeenDeliveries()  # Telegram resends an update it got no answer to

    def get_output_channel(self) -> TelegramOutput:
        return TelegramOutput(self.access_token, self.api_url)

    def authentic(self, request: Request) -> bool:
        return secret_token_matches(self.secret_token, request.headers)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        telegram_webhook = self.webhook_blueprint("telegram_webhook")

        @telegram_webhook.route("/set_webhook", methods=["POST"])
        async def set_webhook(request: Request) -> HTTPResponse:
            if not self.authentic(request):
                return response.text("forbidden", status=HTTPStatus.FORBIDDEN)
            if not self.webhook_url:
                return response.text("TELEGRAM_WEBHOOK_URL is not set", status=HTTPStatus.BAD_REQUEST)
            result = await self.get_output_channel().call(
                "setWebhook",
                {
                    "url": self.webhook_url,
                    "secret_token": self.secret_token,
                    "allowed_updates": ["message", "callback_query"],
                },
            )
            ok = bool(result and result.get("ok"))
            return response.text(
                "webhook set" if ok else "setting the webhook failed", status=200 if ok else 502
            )

        @telegram_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            refusal = self.refused(request)
            if refusal is not None:
                return refusal
            update = request.json if isinstance(request.json, dict) else {}
            if not await self.deliveries.first_delivery(TELEGRAM, update.get("update_id")):
                return response.text("success")  # a retry of an update already handled
            out = self.get_output_channel()
            chat_id, text = None, None
            if isinstance(update.get("callback_query"), dict):
                query = update["callback_query"]
                await out.call("answerCallbackQuery", {"callback_query_id": query.get("id", "")})
                chat_id = str(((query.get("message") or {}).get("chat") or {}).get("id") or "")
                conversation = conversation_id(TELEGRAM, chat_id)
                text = await self._resolve(request, conversation, str(query.get("data") or ""))
                if text is None:
                    await out.send_text_message(conversation, EXPIRED_CHOICE)
                    return response.text("success")
            elif isinstance(update.get("message"), dict) and update["message"].get("text"):
                message = update["message"]
                chat_id = str((message.get("chat") or {}).get("id") or "")
                text = str(message["text"])
                if text.split("@")[0].strip().lower() in GREETING_COMMANDS:
                    text = "/greet"
            # Edited messages, stickers, photos, joins...: nothing to answer.
            if chat_id and text:
                await self.hand_over(on_new_message, text, out, conversation_id(TELEGRAM, chat_id), request)
            return response.text("success")

        return telegram_webhook
