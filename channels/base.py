"""What the messaging connectors share: their input channel's base
(:class:`ConnectorInput`: settings from credentials.yml or the environment, or
off; the webhook's signature check; handing a message to Rasa), conversation
ids, outbound HTTP calls, the staff-line filter, and the memory of deliveries
already handled (platform retries)."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

# The memory of deliveries (and the shared Redis) live in channels.deliveries; re-exported here.
from channels.deliveries import SeenDeliveries, SharedRedis  # noqa: F401  (re-exported)

# Conversation namespaces live in channels.namespaces (no server imports, so the action
# server and the staff report can read them too); re-exported here for the connectors.
from channels.namespaces import (  # noqa: F401  (re-exported for the connectors)
    MESSENGER,
    NAMESPACES,
    REST,
    SLACK,
    SMS,
    TELEGRAM,
    WEB,
    channel_of,
    conversation_id,
    platform_id,
)
from channels.options import conversation_events, is_short_code, last_answer_detail, payload_for_code
from channels.rendering import (
    Choice,
    answer_payload,
    choices_from_buttons,
    is_answer_detail,
    is_more_request,
    is_staff_line,
    short_with_hint,
)
from server_plugins.guard import check_message, guarded_turn

logger = logging.getLogger(__name__)

OUTBOUND_TIMEOUT_SECONDS = 10.0
ONLY_TEXT = "Sorry, I can only read text messages. Please type your question."
EXPIRED_CHOICE = "That choice has expired. Please ask your question again."


@dataclass(frozen=True)
class Setting:
    """One connector setting: its key in credentials.yml and its environment variable."""

    key: str
    env: str
    required: bool = True
    default: str = ""


def read_settings(
    credentials: Mapping[str, Any] | None, settings: Sequence[Setting]
) -> tuple[dict[str, str], list[str]]:
    """Values of ``settings`` (credentials.yml wins over the environment) and
    the environment variables of the required ones that are missing."""
    credentials = credentials or {}
    values: dict[str, str] = {}
    missing: list[str] = []
    for setting in settings:
        raw = credentials.get(setting.key)
        if raw is None or str(raw).strip() == "":
            raw = os.environ.get(setting.env, "")
        value = str(raw).strip() or setting.default
        if setting.required and not value:
            missing.append(setting.env)
        values[setting.key] = value
    return values, missing


def announce_off(channel: str, settings: Sequence[Setting], missing: Sequence[str]) -> None:
    """One log line saying the connector is off and how to turn it on."""
    required = [setting.env for setting in settings if setting.required]
    if len(missing) == len(required):
        logger.info(
            "%s connector is off: set %s to turn it on (see .env.example)", channel, ", ".join(missing)
        )
    else:
        logger.warning(
            "%s connector is off: %s set but %s missing (see .env.example)",
            channel,
            ", ".join(name for name in required if name not in missing),
            ", ".join(missing),
        )


class DisabledInput(InputChannel):
    """A connector whose credentials are not set: its URLs answer 503, nothing else runs."""

    def __init__(self, channel_name: str) -> None:
        self.channel_name = channel_name

    @classmethod
    def name(cls) -> str:
        return "disabled"

    def url_prefix(self) -> str:
        return self.channel_name

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint(f"{self.channel_name}_disabled", __name__)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "off"}, status=HTTPStatus.SERVICE_UNAVAILABLE)

        @blueprint.route("/webhook", methods=["GET", "POST"])
        async def webhook(_: Request) -> HTTPResponse:
            return response.text(
                f"The {self.channel_name} connector is off: its credentials are not set.",
                status=HTTPStatus.SERVICE_UNAVAILABLE,
            )

        return blueprint


@dataclass(frozen=True)
class Refusal:
    """How a connector answers a webhook call that fails its signature check."""

    log: str  # logged as "<connector>: <log>"
    text: str
    status: HTTPStatus


class ConnectorInput(InputChannel):
    """Base of the messaging connectors' input channels.

    A connector names its :attr:`SETTINGS` (credentials.yml keys and environment
    variables), builds itself from their values in :meth:`from_settings`, checks
    its platform's signature in :meth:`authentic` (the scheme itself is a small
    function in the connector's module), and says in :attr:`REFUSAL` how a call
    that fails the check is answered. Everything else is the same for all.
    """

    SETTINGS: ClassVar[tuple[Setting, ...]] = ()
    REFUSAL: ClassVar[Refusal]

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """The connector, or :class:`DisabledInput` (with one log line) while its
        required settings are missing or unusable."""
        values, missing = read_settings(credentials, cls.SETTINGS)
        if missing:
            announce_off(cls.name(), cls.SETTINGS, missing)
            return DisabledInput(cls.name())
        problem = cls.settings_problem(values)
        if problem:
            logger.warning("%s connector is off: %s", cls.name(), problem)
            return DisabledInput(cls.name())
        return cls.from_settings(values)

    @classmethod
    def settings_problem(cls, values: dict[str, str]) -> str | None:
        """Why the settings, all present, cannot be used (None when they can)."""
        return None

    @classmethod
    def from_settings(cls, values: dict[str, str]) -> InputChannel:
        """The connector built from the values of :attr:`SETTINGS`, by key."""
        raise NotImplementedError

    def authentic(self, request: Request) -> bool:
        """Whether the webhook call comes from the platform."""
        raise NotImplementedError

    def refused(self, request: Request) -> HTTPResponse | None:
        """The answer to a call that fails the signature check (logged), or None."""
        if self.authentic(request):
            return None
        logging.getLogger(type(self).__module__).warning("%s: %s", self.name(), self.REFUSAL.log)
        return response.text(self.REFUSAL.text, status=self.REFUSAL.status)

    def webhook_blueprint(self, name: str) -> Blueprint:
        """The connector's blueprint, with its health check (``GET /``) in place."""
        blueprint = Blueprint(name, type(self).__module__)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        return blueprint

    @staticmethod
    async def _resolve(request: Request, conversation: str, value: str) -> str | None:
        """A button's payload: ``value`` itself, or the payload its short code stands
        for among the buttons stored in the conversation (None when expired)."""
        if not is_short_code(value):
            return value
        return payload_for_code(await conversation_events(request, conversation), value)

    async def hand_over(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: str,
        output: OutputChannel,
        conversation: str,
        request: Request | None = None,
        **metadata: str,
    ) -> None:
        """Hand the user's ``text`` to Rasa (see :func:`handle_safely`), with the
        platform's name (and ``metadata``) in the message's metadata."""
        message = UserMessage(
            text,
            output,
            conversation,
            input_channel=self.name(),
            metadata={"platform": self.name(), **metadata},
        )
        await handle_safely(on_new_message, message, request)


async def call_api(
    method: str,
    url: str,
    *,
    platform: str,
    json: Any = None,
    data: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    auth: aiohttp.BasicAuth | None = None,
) -> Any:
    """One call to a platform's API; returns the decoded JSON body or None.

    Failures are logged (status and platform error code only: never the
    message text, never the token) and do not raise into Rasa.
    """
    timeout = aiohttp.ClientTimeout(total=OUTBOUND_TIMEOUT_SECONDS)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.request(
                method, url, json=json, data=data, params=params, headers=headers, auth=auth
            ) as resp,
        ):
            try:
                body = await resp.json(content_type=None)
            except ValueError:
                body = None
            if resp.status >= 400:
                code = body.get("error") or body.get("code") if isinstance(body, dict) else None
                logger.error("%s API call failed: HTTP %s %s", platform, resp.status, code or "")
                return None
            return body
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        logger.error("%s API unreachable: %s", platform, type(error).__name__)
        return None


async def handle_safely(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
    message: UserMessage,
    request: Request | None = None,
) -> None:
    """Hand one user message to Rasa the way every channel of ours does.

    Empty, oversized or control-character input gets a clear reply without
    reaching NLU, and a turn that fails or produces nothing gets an apology
    (server_plugins.guard, shared with the REST channel). Nothing here raises,
    so a platform never retries the same update over and over.
    """
    text, rejection = check_message(message.text)
    if rejection is not None:
        await message.output_channel.send_text_message(message.sender_id or "", rejection)
        return
    message.text = text
    if request is not None and await send_more(request, message):
        return
    await guarded_turn(on_new_message, message)


async def send_more(request: Request, message: UserMessage) -> bool:
    """Answer "MORE" with the detail and sources of the conversation's last answer.

    The detail is the bot message stored right after the short answer (read back from the
    tracker store, as numbered options are: nothing is kept in the server). False when the
    message is not a MORE request or there is no answer to expand: Rasa then handles it.
    """
    if not is_more_request(message.text):
        return False
    sender = message.sender_id or ""
    detail = last_answer_detail(await conversation_events(request, sender))
    if not detail:
        return False
    await message.output_channel.send_text_message(sender, detail)
    return True


class MessagingOutput(OutputChannel):
    """Base of our output channels: drops staff-inspector lines, treats quick
    replies as buttons, and never posts raw custom JSON to a user."""

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        if is_staff_line(message.get("text")) or is_answer_detail(message):
            return  # the detail of a short-first answer is sent on request (MORE)
        answer = answer_payload(message)
        if answer is not None:
            await self.send_answer(recipient_id, answer)
            return
        if message.get("quick_replies") and not message.get("buttons"):
            message["buttons"] = message.pop("quick_replies")
        if message.get("buttons"):
            message.setdefault("text", "")
        await super().send_response(recipient_id, message)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        choices = choices_from_buttons(buttons)
        if not choices:
            await self.send_text_message(recipient_id, text)
            return
        await self.send_choices(recipient_id, text or "", choices)

    async def send_choices(self, recipient_id: str, text: str, choices: list[Choice]) -> None:
        """Send ``text`` with ``choices`` the way the platform shows options."""
        raise NotImplementedError

    async def send_answer(self, recipient_id: str, answer: dict[str, Any]) -> None:
        """A short-first answer: the short answer and "reply MORE for details and sources"."""
        await self.send_text_message(recipient_id, short_with_hint(answer))

    async def send_custom_json(self, recipient_id: str, json_message: Any, **kwargs: Any) -> None:
        logger.warning("%s: custom JSON messages are not supported; skipped", self.name())
