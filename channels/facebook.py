"""Facebook Messenger connector (Messenger Platform webhook + Send API).

credentials.yml::

    channels.facebook.FacebookInput:

Environment: FACEBOOK_VERIFY_TOKEN, FACEBOOK_APP_SECRET and
FACEBOOK_PAGE_ACCESS_TOKEN (required), FACEBOOK_GRAPH_URL (API version, or a
local stub in tests).

Messenger's button template holds at most 3 buttons with titles of at most 20
characters (Rasa's own connector drops every button when there are more than
3). Here every option is kept: 3 buttons per message, further options in
follow-up messages, and when a title is too long the full titles are listed
by number in the text and the buttons carry the numbers.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.base import (
    MESSENGER,
    ONLY_TEXT,
    ConnectorInput,
    MessagingOutput,
    Refusal,
    SeenDeliveries,
    Setting,
    call_api,
    conversation_id,
    platform_id,
)
from channels.rendering import Choice, chunks, fit, plain_text, split_text

TEXT_LIMIT = 2000
TEMPLATE_TEXT_LIMIT = 640
BUTTONS_PER_MESSAGE = 3
BUTTON_TITLE_LIMIT = 20
SIGNATURE_HEADER = "X-Hub-Signature-256"  # never the SHA-1 X-Hub-Signature

SETTINGS = (
    Setting("verify", "FACEBOOK_VERIFY_TOKEN"),
    Setting("secret", "FACEBOOK_APP_SECRET"),
    Setting("page-access-token", "FACEBOOK_PAGE_ACCESS_TOKEN"),
    Setting("graph_url", "FACEBOOK_GRAPH_URL", required=False, default="https://graph.facebook.com/v21.0"),
)


def hub_signature(secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 header Meta sends with a webhook body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed_by_meta(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """X-Hub-Signature-256 (HMAC-SHA256 of the body with the app secret) matches.

    Meta sends it with every webhook call. The older X-Hub-Signature (SHA-1)
    is not accepted, even when it is right: a call with only that header is
    refused like a call with a wrong signature.
    """
    given = headers.get(SIGNATURE_HEADER) or ""
    return bool(given) and hmac.compare_digest(hub_signature(secret, body).encode(), given.encode())


def button_plan(text: str, choices: list[Choice]) -> tuple[list[str], list[tuple[str, list[dict[str, str]]]]]:
    """(plain text messages, button templates as (text, buttons)) for one message with choices."""
    numbered = any(len(choice.title) > BUTTON_TITLE_LIMIT for choice in choices)
    intro = plain_text(text).strip()
    if numbered:
        listing = "\n".join(f"{number}. {choice.title}" for number, choice in enumerate(choices, 1))
        intro = f"{intro}\n\n{listing}" if intro else listing
    texts: list[str] = []
    if len(intro) > TEMPLATE_TEXT_LIMIT:
        texts = split_text(intro, TEXT_LIMIT)
        intro = "Please choose:"
    templates = []
    for group_number, group in enumerate(chunks(choices, BUTTONS_PER_MESSAGE)):
        buttons = []
        for offset, choice in enumerate(group, 1):
            number = group_number * BUTTONS_PER_MESSAGE + offset
            title = fit(f"{number}. {choice.title}" if numbered else choice.title, BUTTON_TITLE_LIMIT)
            buttons.append({"type": "postback", "title": title, "payload": choice.payload})
        templates.append(((intro or "Please choose:") if group_number == 0 else "More choices:", buttons))
    return texts, templates


class MessengerOutput(MessagingOutput):
    """Send API calls: text messages and button templates."""

    @classmethod
    def name(cls) -> str:
        return "facebook"

    def __init__(self, page_access_token: str, graph_url: str) -> None:
        self._token = page_access_token
        self._url = f"{graph_url.rstrip('/')}/me/messages"

    async def _send(self, recipient_id: str, message: dict[str, Any]) -> None:
        await call_api(
            "POST",
            self._url,
            platform="facebook",
            params={"access_token": self._token},
            json={
                "recipient": {"id": platform_id(MESSENGER, recipient_id)},  # "fb:123" -> "123"
                "messaging_type": "RESPONSE",
                "message": message,
            },
        )

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in split_text(plain_text(text), TEXT_LIMIT):
            await self._send(recipient_id, {"text": part})

    async def send_choices(self, recipient_id: str, text: str, choices: list[Choice]) -> None:
        texts, templates = button_plan(text, choices)
        for part in texts:
            await self._send(recipient_id, {"text": part})
        for template_text, buttons in templates:
            await self._send(
                recipient_id,
                {
                    "attachment": {
                        "type": "template",
                        "payload": {"template_type": "button", "text": template_text, "buttons": buttons},
                    }
                },
            )


class FacebookInput(ConnectorInput):
    """Receives Messenger webhook events (messages, quick replies, postbacks)."""

    SETTINGS = SETTINGS
    REFUSAL = Refusal(
        "webhook call without a valid signature refused", "invalid signature", HTTPStatus.FORBIDDEN
    )

    @classmethod
    def name(cls) -> str:
        return "facebook"

    @classmethod
    def from_settings(cls, values: dict[str, str]) -> InputChannel:
        return cls(values["verify"], values["secret"], values["page-access-token"], values["graph_url"])

    def __init__(
        self, verify_token: str, app_secret: str, page_access_token: str, graph_url: str = ""
    ) -> None:
        self.verify_token = verify_token
        self.app_secret = app_secret
        self.page_access_token = page_access_token
        self.graph_url = graph_url or "https://graph.facebook.com/v21.0"
        self.deliveries = SeenDeliveries()  # Meta resends events it got no 200 for in time

    def get_output_channel(self) -> MessengerOutput:
        return MessengerOutput(self.page_access_token, self.graph_url)

    def authentic(self, request: Request) -> bool:
        return signed_by_meta(self.app_secret, request.headers, request.body or b"")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        fb_webhook = self.webhook_blueprint("fb_webhook")

        @fb_webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            token = request.args.get("hub.verify_token") or ""
            if request.args.get("hub.mode") == "subscribe" and hmac.compare_digest(
                token.encode(), self.verify_token.encode()
            ):
                return response.text(request.args.get("hub.challenge") or "")
            return response.text("invalid verify token", status=HTTPStatus.FORBIDDEN)

        @fb_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            refusal = self.refused(request)
            if refusal is not None:
                return refusal
            body = request.json if isinstance(request.json, dict) else {}
            out = self.get_output_channel()
            for entry in body.get("entry") or []:
                for event in entry.get("messaging") or []:
                    await self._handle_event(event, out, on_new_message, request)
            return response.text("EVENT_RECEIVED")

        return fb_webhook

    async def _handle_event(
        self,
        event: dict[str, Any],
        out: MessengerOutput,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        request: Request | None = None,
    ) -> None:
        sender = str((event.get("sender") or {}).get("id") or "")
        conversation = conversation_id(MESSENGER, sender)
        message = event.get("message") or {}
        postback = event.get("postback") or {}
        text, attachments_only = None, False
        if postback:
            text = postback.get("payload")
        elif message and not message.get("is_echo"):
            text = (message.get("quick_reply") or {}).get("payload") or message.get("text")
            attachments_only = not text and bool(message.get("attachments"))
        # Delivery and read receipts, echoes of our own messages: nothing to answer.
        if not sender or not (text or attachments_only):
            return
        # A retry of an event already handled (Messenger resends a whole batch).
        if not await self.deliveries.first_delivery(MESSENGER, (postback or message).get("mid")):
            return
        if attachments_only:
            await out.send_text_message(conversation, ONLY_TEXT)
        else:
            await self.hand_over(on_new_message, str(text), out, conversation, request)
