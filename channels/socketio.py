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
- Session ids must look like the ids the server hands out (32 hex digits);
  anything else gets a fresh session instead of joining someone's room.
- The conversation (Rasa's sender id) of session ``<hex>`` is ``web:<hex>``
  (channels.base.conversation_id): the browser and the socket.io room keep
  the bare session id; no other channel can name a widget conversation.
- Empty or oversized messages (MAX_MESSAGE_CHARS, default 1000) get a clear
  reply, and a turn that fails gets an apology instead of silence, as on
  every channel of ours (server_plugins.guard).
- Staff-inspector lines are never sent to the page.
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import rasa.core.channels.channel
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from channels.base import WEB, conversation_id, handle_safely, platform_id
from channels.rendering import answer_payload, is_answer_detail, is_staff_line

logger = logging.getLogger(__name__)

DEFAULT_ALLOWED_ORIGINS = ("http://localhost:8080", "http://127.0.0.1:8080")
SESSION_ID = re.compile(r"^[0-9a-f]{32}$")


def allowed_origins_from(value: str | None) -> list[str] | str:
    """'a, b' -> ['a', 'b']; '*' -> '*'; empty -> the demo page's origins."""
    origins = [origin.strip().rstrip("/") for origin in (value or "").split(",") if origin.strip()]
    if "*" in origins:
        return "*"
    return origins or list(DEFAULT_ALLOWED_ORIGINS)


def origin_allowed(origin: str | None, allowed: list[str] | str) -> bool:
    """True when a browser page from ``origin`` may connect (no Origin: not a browser)."""
    return not origin or allowed == "*" or origin.rstrip("/") in allowed


def valid_session_id(value: object) -> str | None:
    """The session id if it has the shape the server hands out, else None."""
    return value if isinstance(value, str) and SESSION_ID.match(value) else None


class WebChatOutput(SocketIOOutput):
    """Rasa's socket.io output without the staff-inspector lines, sending to the
    room of the session (``web:<session id>`` -> room ``<session id>``)."""

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
        await super().send_custom_json(platform_id(WEB, recipient_id), json_message, **kwargs)


class WebChatInput(SocketIOInput):
    """Rasa's socket.io input with an Origin allow-list and checked session ids."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        channel = super().from_credentials(credentials)
        if not isinstance(channel, WebChatInput):  # pragma: no cover - Rasa builds cls(...)
            raise TypeError("unexpected channel class")
        channel.allowed_origins = allowed_origins_from(
            credentials.get("allowed_origins") or os.environ.get("WEBCHAT_ALLOWED_ORIGINS")
        )
        logger.info(
            "socket.io accepts pages from: %s",
            "any origin" if channel.allowed_origins == "*" else ", ".join(channel.allowed_origins),
        )
        return channel

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allowed_origins: list[str] | str = list(DEFAULT_ALLOWED_ORIGINS)

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

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: Any) -> None:
            requested = valid_session_id((data or {}).get("session_id") if isinstance(data, dict) else None)
            session_id = requested or uuid.uuid4().hex
            if self.session_persistence:
                sio.enter_room(sid, session_id, namespace=namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: str, data: Any) -> None:
            data = data if isinstance(data, dict) else {}
            output_channel = WebChatOutput(sio, self.bot_message_evt)
            if self.session_persistence:
                sender_id = valid_session_id(data.get("session_id"))
                if sender_id is None:
                    logger.warning("socket.io message without a valid session id ignored")
                    return
                # The widget may send before the room is joined (after a reconnect).
                sio.enter_room(sid, sender_id, namespace=namespace)
            else:
                sender_id = sid
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except (ValueError, RecursionError):
                    metadata = {}
            message = UserMessage(
                data.get("message") if isinstance(data.get("message"), str) else "",
                output_channel,
                conversation_id(WEB, sender_id),
                input_channel=self.name(),
                metadata=metadata if isinstance(metadata, dict) else {},
            )
            await handle_safely(on_new_message, message)

        return socketio_webhook
