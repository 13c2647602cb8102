"""What the messaging connectors share: conversation ids, settings from the
environment, the "off" connector, outbound HTTP calls, the staff-line filter,
and the memory of deliveries already handled (platform retries)."""

from __future__ import annotations

import asyncio
import logging
import os
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import aiohttp
import redis.asyncio
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

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
from channels.options import conversation_events, last_answer_detail
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


class SharedRedis:
    """The Redis server that ``REDIS_URL`` names (``url`` is "" when it is unset),
    for what the Rasa processes must share beyond the lock store: the deliveries
    already handled, the message rate of a conversation.

    One asyncio client per event loop (a Sanic worker has one; tests start
    several), with short timeouts: a caller that gets a Redis error falls back
    to its process's own memory rather than holding a visitor back.
    """

    def __init__(self, redis_url: str | None = None, timeout: float = 1.0) -> None:
        url = os.environ.get("REDIS_URL", "") if redis_url is None else redis_url
        self.url = url.strip()
        self.key_prefix = os.environ.get("REDIS_LOCK_PREFIX", "faqbot")
        self.timeout = timeout
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, redis.asyncio.Redis]
        self._clients = weakref.WeakKeyDictionary()

    def client(self) -> redis.asyncio.Redis:
        """The running loop's client (nothing connects until a command)."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            # redis-py reads the URL itself: rediss:// (TLS), user, %-escaped password, /db.
            client = redis.asyncio.from_url(
                self.url,
                db=1,  # when the URL names none, as the lock store
                socket_timeout=self.timeout,
                socket_connect_timeout=self.timeout,
            )
            self._clients[loop] = client
        return client

    async def aclose(self) -> None:
        """Close the running loop's client, if one was made."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.close(close_connection_pool=True)


DELIVERIES_REMEMBERED = 10_000
DELIVERY_MEMORY_SECONDS = 10 * 60
DELIVERY_REDIS_TIMEOUT_SECONDS = 1.0


class SeenDeliveries:
    """Which platform deliveries were already handled, so a retry is not answered twice.

    A platform sends an update again when our answer to it was slow or failed:
    Telegram and Messenger wait for the webhook's response, which comes after the
    turn; Slack retries after 3 s. Each connector asks :meth:`first_delivery` with
    the delivery's own id (Telegram ``update_id``, Slack ``event_id``, Messenger
    ``mid``) before it starts a turn; a repeat is acknowledged (200) and nothing
    else happens.

    Every process remembers the last 10,000 ids for 10 minutes (in memory, the
    oldest forgotten first; a repeat does not extend its time). With several
    replicas or Sanic workers a retry may reach another process, which has not
    seen the id: that needs a shared store.
    So when ``REDIS_URL`` is set (required with more than one process, see
    server_plugins/lock_store.py) each new id is also recorded there (``SET NX``
    with the same 10-minute expiry) and an id any process recorded counts as seen.
    When Redis does not answer, the process's own memory decides (a warning is
    logged) rather than holding the webhook back.

    An id is recorded when the delivery arrives, before its turn: a turn that
    fails is not run again on a retry (the visitor got an apology), nor, with
    Redis, one cut short by a restart (memory alone is lost with the process).
    """

    def __init__(
        self,
        size: int = DELIVERIES_REMEMBERED,
        seconds: float = DELIVERY_MEMORY_SECONDS,
        redis_url: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.size = size
        self.seconds = seconds
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()  # id -> first seen, oldest first
        self._redis = SharedRedis(redis_url, DELIVERY_REDIS_TIMEOUT_SECONDS)
        self._key_prefix = self._redis.key_prefix + ":delivery:"

    def remember(self, key: str) -> bool:
        """Record ``key`` in this process's memory; False if it was already there."""
        now = self._clock()
        while self._seen:
            oldest, seen_at = next(iter(self._seen.items()))
            if now - seen_at < self.seconds:
                break
            del self._seen[oldest]
        if key in self._seen:
            return False
        self._seen[key] = now
        while len(self._seen) > self.size:
            self._seen.popitem(last=False)
        return True

    def _client(self) -> redis.asyncio.Redis:
        return self._redis.client()

    async def first_delivery(self, namespace: str, delivery_id: Any) -> bool:
        """True the first time the delivery ``delivery_id`` of a connector arrives,
        False when it was seen in the last 10 minutes. A delivery without an id is
        always new."""
        if delivery_id is None or str(delivery_id) == "":
            return True
        key = f"{namespace}:{delivery_id}"
        if not self.remember(key):
            return False
        if not self._redis.url:
            return True
        try:
            recorded = await self._client().set(
                self._key_prefix + key, "1", nx=True, ex=max(1, int(self.seconds))
            )
        except (redis.RedisError, OSError, asyncio.TimeoutError) as error:
            logger.warning(
                "%s: Redis did not answer (%s); retries are recognised by this process only",
                namespace,
                type(error).__name__,
            )
            return True
        return bool(recorded)

    async def aclose(self) -> None:
        """Close the running loop's Redis client, if one was made."""
        await self._redis.aclose()


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
