"""The website widget's channel: Rasa 3.6's socket.io protocol, made safer.

credentials.yml::

    channels.socketio.WebChatInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true

Differences from Rasa's ``socketio`` channel (same events, same payloads):

- Only pages from the allowed origins may connect (Rasa's channel accepts any
  Origin): WEBCHAT_ALLOWED_ORIGINS, comma-separated, e.g.
  ``https://www.clinic.example,https://clinic.example``; ``*`` allows all.
  Default: the demo page, http://localhost:8080 and http://127.0.0.1:8080.
  Give the same origins to ``rasa run --cors`` (the CORS headers the
  long-polling fallback needs come from there, as with Rasa's channel).
- Sessions are tokens the server issues (:class:`SessionTokens`): a random
  nonce signed with WEBCHAT_SESSION_SECRET (HMAC-SHA256). The conversation
  (Rasa's sender id) of a token is ``web:<HMAC of the token>``, and its
  socket.io room is that HMAC: the browser stores only the token, never sees
  the conversation id, and cannot compute it. A client presenting a token the
  server did not sign (a made-up id, someone's conversation id read from a log,
  a token from before a change of secret) gets a fresh token and conversation;
  presenting its own token again (a reload, another tab, a reconnect) resumes
  its conversation. Rasa's channel let any client join the room of any
  session id it named, and so receive that visitor's replies.
- Messages are rate-limited per connection and per conversation
  (channels.rate_limit): over the limit the visitor is asked to wait and the
  message is not processed. Client ``metadata`` is kept only up to 2 KB of
  JSON (server_plugins.guard.bounded_metadata): Rasa saves it with every
  user event.
- Empty or oversized messages (MAX_MESSAGE_CHARS, default 1000) get a clear
  reply, and a turn that fails gets an apology instead of silence, as on
  every channel of ours (server_plugins.guard).
- Staff-inspector lines are never sent to the page.
- A custom payload reaches the page as ``bot_uttered`` ``{"custom": {...}}``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import rasa.core.channels.channel
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from channels.base import WEB, Setting, conversation_id, handle_safely, platform_id, read_settings
from channels.rate_limit import DEFAULT_BURST, DEFAULT_PER_MINUTE, TOO_FAST, MessageRate
from channels.rendering import answer_payload, is_answer_detail, is_staff_line
from server_plugins.guard import bounded_metadata

logger = logging.getLogger(__name__)

DEFAULT_ALLOWED_ORIGINS = ("http://localhost:8080", "http://127.0.0.1:8080")
TOKEN = re.compile(r"^[0-9a-f]{64}$")
SECRET_MIN_CHARS = 32
SETTINGS = (
    Setting("allowed_origins", "WEBCHAT_ALLOWED_ORIGINS", required=False),
    Setting("session_secret", "WEBCHAT_SESSION_SECRET", required=False),
    Setting("messages_burst", "WEBCHAT_MESSAGES_BURST", required=False, default=str(DEFAULT_BURST)),
    Setting(
        "messages_per_minute", "WEBCHAT_MESSAGES_PER_MINUTE", required=False, default=str(DEFAULT_PER_MINUTE)
    ),
)


class WebChatConfigError(ValueError):
    """The widget channel's settings would not keep conversations apart."""


class SessionTokens:
    """The widget's session tokens and the conversation each one opens.

    A token is 64 hex digits: a random nonce (128 bits) and its HMAC-SHA256
    under the server secret (truncated to 128 bits), so the server knows the
    tokens it issued without storing them. The conversation of a token is
    another HMAC of it (128 bits, hex), which the client never sees. Every
    process that should resume a visitor's conversation needs the same secret.
    """

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, purpose: str, value: str) -> str:
        return hmac.new(self._secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self) -> str:
        """A new token (a new conversation)."""
        nonce = secrets.token_hex(16)
        return nonce + self._mac("webchat-token", nonce)

    def conversation(self, token: object) -> str | None:
        """The conversation (room) of a token this server issued; None for anything else."""
        if not isinstance(token, str) or not TOKEN.match(token):
            return None
        nonce, tag = token[:32], token[32:]
        if not hmac.compare_digest(tag, self._mac("webchat-token", nonce)):
            return None
        return self._mac("webchat-conversation", token)


def session_secret(value: str, redis_url: str) -> bytes:
    """The secret that signs widget sessions (WEBCHAT_SESSION_SECRET).

    Unset: a random secret for this process, with one log line (development and
    tests; a restart then starts every widget conversation afresh), unless
    REDIS_URL says several processes share the conversations: a token signed by
    one replica would not be recognised by another, so the server refuses to
    start. Set but short, or a placeholder: refused too.
    """
    if value:
        if len(value) < SECRET_MIN_CHARS or "<" in value or ">" in value:
            raise WebChatConfigError(
                f"WEBCHAT_SESSION_SECRET must be a random string of at least {SECRET_MIN_CHARS} characters "
                """(e.g. python -c "import secrets; print(secrets.token_urlsafe(32))")"""
            )
        return value.encode("utf-8")
    if redis_url.strip():
        raise WebChatConfigError(
            "REDIS_URL is set (several Rasa processes share the conversations): set WEBCHAT_SESSION_SECRET "
            "too, the same on every replica, or visitors' widget sessions cannot be resumed"
        )
    logger.warning(
        "WEBCHAT_SESSION_SECRET is not set: widget sessions are signed with a random secret of this "
        "process, so a restart starts every widget conversation afresh (set it in production)"
    )
    return secrets.token_bytes(32)


def positive_number(name: str, value: str, default: int) -> float:
    try:
        number = float(value)
    except ValueError:
        number = 0
    if number <= 0:
        logger.warning("%s=%r is not a positive number: using %s", name, value, default)
        return default
    return number


def allowed_origins_from(value: str | None) -> list[str] | str:
    """'a, b' -> ['a', 'b']; '*' -> '*'; empty -> the demo page's origins."""
    origins = [origin.strip().rstrip("/") for origin in (value or "").split(",") if origin.strip()]
    if "*" in origins:
        return "*"
    return origins or list(DEFAULT_ALLOWED_ORIGINS)


def origin_allowed(origin: str | None, allowed: list[str] | str) -> bool:
    """True when a browser page from ``origin`` may connect (no Origin: not a browser)."""
    return not origin or allowed == "*" or origin.rstrip("/") in allowed


class WebChatOutput(SocketIOOutput):
    """Rasa's socket.io output without the staff-inspector lines, sending to the
    room of the conversation (``web:<room>`` -> room ``<room>``)."""

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        if is_staff_line(message.get("text")) or is_answer_detail(message):
            return  # the widget shows a short-first answer's detail from its structured payload
        answer = answer_payload(message)
        if answer is not None:
            # One bubble: the short answer, with "More" and "Sources" disclosures built from it.
            await self._send_message(recipient_id, {"text": answer["short"], "answer": answer})
            return
        await super().send_response(recipient_id, message)

    async def _send_message(self, socket_id: str, response: Any) -> None:
        await super()._send_message(platform_id(WEB, socket_id), response)

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        # Rasa's version passes the payload's keys to emit() as its arguments; the
        # widget reads a custom payload as {"custom": {...}} (e.g. the "forget me" reply).
        await self._send_message(recipient_id, {"custom": json_message})


class WebChatInput(SocketIOInput):
    """Rasa's socket.io input with an Origin allow-list, server-issued session
    tokens, message rate limits and bounded metadata."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        channel = super().from_credentials(credentials)
        if not isinstance(channel, WebChatInput):  # pragma: no cover - Rasa builds cls(...)
            raise TypeError("unexpected channel class")
        values, _ = read_settings(credentials, SETTINGS)
        channel.allowed_origins = allowed_origins_from(values["allowed_origins"])
        logger.info(
            "socket.io accepts pages from: %s",
            "any origin" if channel.allowed_origins == "*" else ", ".join(channel.allowed_origins),
        )
        channel.sessions = SessionTokens(
            session_secret(values["session_secret"], os.environ.get("REDIS_URL", ""))
        )
        channel.rate = MessageRate(
            burst=int(positive_number("WEBCHAT_MESSAGES_BURST", values["messages_burst"], DEFAULT_BURST)),
            per_minute=positive_number(
                "WEBCHAT_MESSAGES_PER_MINUTE", values["messages_per_minute"], DEFAULT_PER_MINUTE
            ),
        )
        return channel

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allowed_origins: list[str] | str = list(DEFAULT_ALLOWED_ORIGINS)
        # Rasa builds the channel with from_credentials, which replaces both with the settings'.
        self.sessions = SessionTokens(secrets.token_bytes(32))
        self.rate = MessageRate(redis_url="")

    def get_output_channel(self) -> WebChatOutput | None:
        if self.sio is None:
            return None
        return WebChatOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # Like Rasa's channel, engine.io itself adds no CORS headers (Rasa's --cors
        # does, for the long-polling transport; two sources would send the header
        # twice and browsers would refuse it). The Origin is checked on connect.
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[])
        socketio_webhook = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio
        namespace = self.namespace

        @socketio_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=namespace)
        async def connect(sid: str, environ: dict, auth: dict | None) -> bool:
            if not origin_allowed(environ.get("HTTP_ORIGIN"), self.allowed_origins):
                # Clients that send no Origin (server-side scripts) are not browsers.
                logger.warning("socket.io connection from a page on %s refused", environ.get("HTTP_ORIGIN"))
                return False
            if not self.jwt_key:
                return True
            token = (auth or {}).get("token")
            payload = (
                rasa.core.channels.channel.decode_bearer_token(token, self.jwt_key, self.jwt_algorithm)
                if token
                else None
            )
            return bool(payload)

        @sio.on("disconnect", namespace=namespace)
        async def disconnect(sid: str) -> None:
            self.rate.connection_closed(sid)

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: Any) -> None:
            token = data.get("session_id") if isinstance(data, dict) else None
            room = self.sessions.conversation(token)
            if room is None:  # no token, or one this server did not issue: a new conversation
                token = self.sessions.issue()
                room = self.sessions.conversation(token)
            if self.session_persistence and room is not None:
                sio.enter_room(sid, room, namespace=namespace)
            await sio.emit("session_confirm", token, room=sid, namespace=namespace)

        async def too_fast(sid: str) -> None:
            # To this connection only: the one whose message was not processed.
            await sio.emit(self.bot_message_evt, {"text": TOO_FAST}, room=sid, namespace=namespace)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: str, data: Any) -> None:
            if not self.rate.connection_allowed(sid):
                await too_fast(sid)
                return
            data = data if isinstance(data, dict) else {}
            if self.session_persistence:
                room = self.sessions.conversation(data.get("session_id"))
                if room is None:
                    logger.warning("socket.io message without a valid session token ignored")
                    return
                # The widget may send before the room is joined (after a reconnect).
                sio.enter_room(sid, room, namespace=namespace)
            else:
                room = sid
            conversation = conversation_id(WEB, room)
            if not await self.rate.conversation_allowed(conversation):
                await too_fast(sid)
                return
            raw_metadata = data.get(self.metadata_key)
            metadata = bounded_metadata(raw_metadata) if raw_metadata else {}
            if metadata is None:
                logger.warning("socket.io metadata dropped: not a JSON object of at most 2 KB")
            message = UserMessage(
                data.get("message") if isinstance(data.get("message"), str) else "",
                WebChatOutput(sio, self.bot_message_evt),
                conversation,
                input_channel=self.name(),
                metadata=metadata or {},
            )
            await handle_safely(on_new_message, message)

        return socketio_webhook
