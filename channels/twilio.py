"""Twilio connector (SMS, and WhatsApp through Twilio) with numbered options.

credentials.yml::

    channels.twilio.TwilioInput:

Environment: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_NUMBER
(required), TWILIO_WEBHOOK_URL (the public URL Twilio calls, needed to check
signatures behind a proxy or load balancer), TWILIO_API_URL (tests only).

SMS has no buttons: options are sent as a numbered list and a reply such as
"2" is turned back into the second option's payload (the options are read
from the conversation's last bot turn, so no state is kept in the server).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

import aiohttp
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from channels.base import (
    ONLY_TEXT,
    SMS,
    ConnectorInput,
    MessagingOutput,
    Refusal,
    Setting,
    call_api,
    conversation_id,
    platform_id,
)
from channels.options import conversation_events, offered_choices
from channels.rendering import Choice, numbered_options, parse_number_reply, plain_text, split_text

BODY_LIMIT = 1600  # Twilio's limit for one message body
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

SETTINGS = (
    Setting("account_sid", "TWILIO_ACCOUNT_SID"),
    Setting("auth_token", "TWILIO_AUTH_TOKEN"),
    Setting("twilio_number", "TWILIO_NUMBER"),
    Setting("webhook_url", "TWILIO_WEBHOOK_URL", required=False),
    Setting("api_url", "TWILIO_API_URL", required=False, default="https://api.twilio.com"),
)


class TwilioOutput(MessagingOutput):
    """Messages API calls; long texts are split, options become a numbered list."""

    @classmethod
    def name(cls) -> str:
        return "twilio"

    def __init__(self, account_sid: str, auth_token: str, number: str, api_url: str) -> None:
        self._auth = aiohttp.BasicAuth(account_sid, auth_token)
        self._url = f"{api_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._number = number

    def _sender_for(self, to: str) -> str:
        # WhatsApp through Twilio: both ends carry the "whatsapp:" prefix.
        if to.startswith("whatsapp:") and not self._number.startswith("whatsapp:"):
            return f"whatsapp:{self._number}"
        return self._number

    async def _send(self, recipient_id: str, body: str) -> None:
        to = platform_id(SMS, recipient_id)  # "sms:+1555..." -> "+1555..."
        await call_api(
            "POST",
            self._url,
            platform="twilio",
            data={"To": to, "From": self._sender_for(to), "Body": body},
            auth=self._auth,
        )

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in split_text(plain_text(text), BODY_LIMIT):
            await self._send(recipient_id, part)

    async def send_choices(self, recipient_id: str, text: str, choices: list[Choice]) -> None:
        body = f"{plain_text(text).strip()}\n\n{numbered_options(choices)}".strip()
        for part in split_text(body, BODY_LIMIT):
            await self._send(recipient_id, part)


def signed_by_twilio(auth_token: str, url: str, params: Mapping[str, str], signature: str) -> bool:
    """X-Twilio-Signature over the public URL and the POSTed parameters."""
    return bool(signature) and RequestValidator(auth_token).validate(url, params, signature)


def form_params(request: Request) -> dict[str, str]:
    """The POSTed parameters, first value of each (as Twilio signs them)."""
    return {key: values[0] for key, values in (request.form or {}).items() if values}


class TwilioInput(ConnectorInput):
    """Receives Twilio's signed message webhooks."""

    SETTINGS = SETTINGS
    REFUSAL = Refusal(
        "webhook call without a valid signature refused", "invalid signature", HTTPStatus.FORBIDDEN
    )

    @classmethod
    def name(cls) -> str:
        return "twilio"

    @classmethod
    def from_settings(cls, values: dict[str, str]) -> InputChannel:
        return cls(
            values["account_sid"],
            values["auth_token"],
            values["twilio_number"],
            values["webhook_url"],
            values["api_url"],
        )

    def __init__(
        self, account_sid: str, auth_token: str, number: str, webhook_url: str = "", api_url: str = ""
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.number = number
        self.webhook_url = webhook_url
        self.api_url = api_url or "https://api.twilio.com"

    def get_output_channel(self) -> TwilioOutput:
        return TwilioOutput(self.account_sid, self.auth_token, self.number, self.api_url)

    def authentic(self, request: Request, params: Mapping[str, str] | None = None) -> bool:
        """Signed by Twilio, for the public URL (TWILIO_WEBHOOK_URL behind a proxy)."""
        return signed_by_twilio(
            self.auth_token,
            self.webhook_url or request.url,
            form_params(request) if params is None else params,
            request.headers.get("X-Twilio-Signature", ""),
        )

    @staticmethod
    def understand(text: str, choices: Sequence[Choice]) -> tuple[str | None, str | None]:
        """(text for Rasa, or a direct reply): "2" right after numbered options is
        the second option's payload; a number not on the list gets a clear hint."""
        number = parse_number_reply(text)
        if number is None or not choices:
            return text, None
        if 1 <= number <= len(choices):
            return choices[number - 1].payload, None
        return None, f"Please reply with a number from 1 to {len(choices)}, or type your question."

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        twilio_webhook = self.webhook_blueprint("twilio_webhook")

        @twilio_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            refusal = self.refused(request)
            if refusal is not None:
                return refusal
            params = form_params(request)
            sender = params.get("From", "")
            conversation = conversation_id(SMS, sender)
            # Some carriers turn "@" into "¡".
            text = params.get("Body", "").replace("¡", "@").strip()
            out = self.get_output_channel()
            if sender and not text and params.get("NumMedia", "0") != "0":
                await out.send_text_message(conversation, ONLY_TEXT)
            elif sender and text:
                # Only a number needs the conversation: the options of the bot's last turn.
                choices = []
                if parse_number_reply(text) is not None:
                    choices = offered_choices(await conversation_events(request, conversation))
                for_rasa, reply = self.understand(text, choices)
                if reply:
                    await out.send_text_message(conversation, reply)
                elif for_rasa:
                    await self.hand_over(on_new_message, for_rasa, out, conversation, request)
            return response.text(EMPTY_TWIML, content_type="text/xml")

        return twilio_webhook
