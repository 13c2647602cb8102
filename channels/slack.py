"""Slack connector (Events API + interactivity) with native Block Kit buttons.

credentials.yml::

    channels.slack.SlackInput:

Environment: SLACK_BOT_TOKEN (xoxb-...) and SLACK_SIGNING_SECRET (required),
SLACK_USE_THREADS (reply in a thread: true/false), SLACK_API_URL (tests only).
Point both the Event Subscriptions and the Interactivity request URL of the
Slack app at https://<your server>/webhooks/slack/webhook.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.base import (
    EXPIRED_CHOICE,
    SLACK,
    ConnectorInput,
    MessagingOutput,
    Refusal,
    SeenDeliveries,
    Setting,
    call_api,
    conversation_id,
)
from channels.options import is_short_code, short_code
from channels.rendering import Choice, chunks, fit, slack_answer_blocks, slack_mrkdwn, split_text

logger = logging.getLogger(__name__)

SECTION_TEXT_LIMIT = 3000
BUTTON_TITLE_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
BUTTONS_PER_BLOCK = 25
MAX_REQUEST_AGE_SECONDS = 5 * 60
MORE_VALUE = "MORE"  # the "More details" button sends what an SMS user types
MENTION = re.compile(r"<@[A-Z0-9]+>")
LINK_MARKUP = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")

SETTINGS = (
    Setting("slack_token", "SLACK_BOT_TOKEN"),
    Setting("slack_signing_secret", "SLACK_SIGNING_SECRET"),
    Setting("use_threads", "SLACK_USE_THREADS", required=False, default="false"),
    Setting("api_url", "SLACK_API_URL", required=False, default="https://slack.com/api"),
)


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Slack-Signature Slack computes for a request body."""
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_by_slack(secret: str, headers: Mapping[str, str], body: bytes, now: float | None = None) -> bool:
    """Slack's request signing: HMAC-SHA256 of the body, at most 5 minutes old."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    try:
        age = abs((now or time.time()) - int(timestamp))
    except ValueError:
        return False
    if age > MAX_REQUEST_AGE_SECONDS:
        return False
    return hmac.compare_digest(slack_signature(secret, timestamp, body).encode(), signature.encode())


def clean_user_text(text: str) -> str:
    """Slack's markup back to what the user typed: no @mentions, links as typed."""
    text = MENTION.sub(" ", text)
    text = LINK_MARKUP.sub(lambda match: match.group(2) or match.group(1), text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())


class SlackOutput(MessagingOutput):
    """chat.postMessage with mrkdwn sections and button blocks.

    Posts go to the Slack channel (``D...`` for a direct message) the user wrote
    in, given when the output is made: the conversation id Rasa passes as
    ``recipient_id`` ("slack:U...") is never sent to Slack.
    """

    @classmethod
    def name(cls) -> str:
        return "slack"

    def __init__(self, token: str, api_url: str, channel: str, thread_ts: str | None = None) -> None:
        self._token = token
        self._api_url = api_url.rstrip("/")
        self._channel = channel
        self._thread_ts = thread_ts

    async def _post(self, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        payload: dict[str, Any] = {
            "channel": self._channel,
            "text": text,
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if blocks:
            payload["blocks"] = blocks
        if self._thread_ts:
            payload["thread_ts"] = self._thread_ts
        result = await call_api(
            "POST",
            f"{self._api_url}/chat.postMessage",
            platform="slack",
            json=payload,
            headers={"Authorization": f"Bearer {self._token}"},
        )
        if isinstance(result, dict) and not result.get("ok"):
            logger.error("slack API call failed: %s", result.get("error", "unknown error"))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in split_text(slack_mrkdwn(text), SECTION_TEXT_LIMIT):
            await self._post(part)

    async def send_choices(self, recipient_id: str, text: str, choices: list[Choice]) -> None:
        parts = split_text(slack_mrkdwn(text), SECTION_TEXT_LIMIT) or ["Please choose:"]
        for part in parts[:-1]:
            await self._post(part)
        blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": parts[-1]}}]
        for group_number, group in enumerate(chunks(choices, BUTTONS_PER_BLOCK)):
            blocks.append(
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": fit(choice.title, BUTTON_TITLE_LIMIT)},
                            "value": self._value(choice),
                            "action_id": f"choice_{group_number * BUTTONS_PER_BLOCK + index}",
                        }
                        for index, choice in enumerate(group, 1)
                    ],
                }
            )
        await self._post(parts[-1], blocks)

    async def send_answer(self, recipient_id: str, answer: dict[str, Any]) -> None:
        """The short answer, its sources as titled links and a "More details" button (Block Kit);
        ``text`` is the notification and screen-reader fallback."""
        await self._post(slack_mrkdwn(str(answer["short"])), slack_answer_blocks(answer, MORE_VALUE))

    @staticmethod
    def _value(choice: Choice) -> str:
        # A payload longer than Slack allows travels as a short code, found again
        # among the buttons stored in the conversation.
        if len(choice.payload) <= BUTTON_VALUE_LIMIT and not is_short_code(choice.payload):
            return choice.payload
        return short_code(choice.payload)


class SlackInput(ConnectorInput):
    """Receives Slack events (direct messages, mentions) and button clicks."""

    SETTINGS = SETTINGS
    REFUSAL = Refusal(
        "request without a valid signature refused", "invalid signature", HTTPStatus.UNAUTHORIZED
    )

    @classmethod
    def name(cls) -> str:
        return "slack"

    @classmethod
    def from_settings(cls, values: dict[str, str]) -> InputChannel:
        return cls(
            values["slack_token"],
            values["slack_signing_secret"],
            values["use_threads"].lower() in {"1", "true", "yes", "on"},
            values["api_url"],
        )

    def __init__(self, token: str, signing_secret: str, use_threads: bool = False, api_url: str = "") -> None:
        self.token = token
        self.signing_secret = signing_secret
        self.use_threads = use_threads
        self.api_url = api_url or "https://slack.com/api"
        self._tasks: set[asyncio.Task] = set()
        self.deliveries = SeenDeliveries()  # Slack resends an event after 3 s without an answer

    def get_output_channel(self, channel: str = "", thread_ts: str | None = None) -> SlackOutput:
        return SlackOutput(self.token, self.api_url, channel, thread_ts)

    def authentic(self, request: Request, now: float | None = None) -> bool:
        return signed_by_slack(self.signing_secret, request.headers, request.body or b"", now)

    def _dispatch(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: str,
        user: str,
        channel: str,
        thread_ts: str | None,
        request: Request | None = None,
    ) -> None:
        # Slack wants an answer within 3 s: the bot replies in the background.
        out = self.get_output_channel(channel, thread_ts if self.use_threads else None)
        task = asyncio.create_task(
            self.hand_over(on_new_message, text, out, conversation_id(SLACK, user), request, channel=channel)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        slack_webhook = self.webhook_blueprint("slack_webhook")

        @slack_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            refusal = self.refused(request)
            if refusal is not None:
                return refusal
            if request.headers.get("X-Slack-Retry-Num"):
                # We answered the first delivery at once; a retry would answer twice.
                return response.text("", headers={"X-Slack-No-Retry": "1"})
            content_type = (request.headers.get("content-type") or "").split(";")[0].strip()
            if content_type == "application/x-www-form-urlencoded":
                return await self._interaction(request, on_new_message)
            body = request.json if isinstance(request.json, dict) else {}
            if body.get("type") == "url_verification":
                return response.json({"challenge": body.get("challenge", "")})
            event = body.get("event") if body.get("type") == "event_callback" else None
            if not isinstance(event, dict) or not self._is_user_message(event):
                return response.text("")
            if not await self.deliveries.first_delivery(SLACK, body.get("event_id")):
                # The same event delivered again (retries also carry X-Slack-Retry-Num, above).
                return response.text("", headers={"X-Slack-No-Retry": "1"})
            text = clean_user_text(str(event.get("text") or ""))
            user = str(event.get("user") or "")
            if text and user:
                self._dispatch(
                    on_new_message,
                    text,
                    user,
                    str(event.get("channel") or ""),
                    event.get("thread_ts") or event.get("ts"),
                    request,
                )
            return response.text("")

        return slack_webhook

    @staticmethod
    def _is_user_message(event: dict[str, Any]) -> bool:
        if event.get("bot_id") or event.get("subtype"):
            return False  # our own messages, edits, joins...
        if event.get("type") == "app_mention":
            return True
        return event.get("type") == "message" and event.get("channel_type") == "im"

    async def _interaction(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        try:
            payload = json.loads(request.form.get("payload") or "{}")
        except ValueError:
            return response.text("bad payload", status=HTTPStatus.BAD_REQUEST)
        actions = payload.get("actions") or []
        if payload.get("type") != "block_actions" or not actions or actions[0].get("type") != "button":
            return response.text("")
        user = str((payload.get("user") or {}).get("id") or "")
        channel = str((payload.get("channel") or {}).get("id") or "")
        message = payload.get("message") or {}
        if not user or not channel:
            return response.text("")
        conversation = conversation_id(SLACK, user)
        value = await self._resolve(request, conversation, str(actions[0].get("value") or ""))
        if value is None:
            await self.get_output_channel(channel).send_text_message(conversation, EXPIRED_CHOICE)
            return response.text("")
        self._dispatch(
            on_new_message, value, user, channel, message.get("thread_ts") or message.get("ts"), request
        )
        return response.text("")
