"""The REST channel with input checks and no silent failures.

Same address and reply format as Rasa's ``rest`` channel
(``POST /webhooks/rest/webhook`` with ``{"sender": ..., "message": ...}`` ->
a JSON list of bot messages), plus:

- the client's ``sender`` names a conversation in the ``rest:`` namespace
  (``"sender": "+15551230002"`` is the conversation ``rest:+15551230002``), so
  no REST request reaches a conversation of another channel (SMS, Telegram,
  the widget...; see channels.base.conversation_id); the replies'
  ``recipient_id`` is the ``sender`` as the client sent it;
- malformed requests (invalid JSON or UTF-8, JSON nested too deeply, wrong
  types, bad sender id, ``metadata`` over 2 KB of JSON: Rasa would save it with
  the user event) get a 400 with a one-line reason, never a 500 or a stack
  trace;
- empty, whitespace-only and oversized messages get a clear bot reply without
  reaching NLU;
- a turn that produced no reply (action server down or slow, processing error)
  gets an apology instead of ``[]`` (see server_plugins.guard);
- every worker warms the model up and freezes it for the garbage collector
  before serving (see server_plugins.warmup);
- with several Sanic workers, a worker running more than its share of turns
  asks the client to reconnect, so connections spread over the workers (see
  server_plugins.balance).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.base import REST, conversation_id, platform_id
from server_plugins.balance import TurnBalancer
from server_plugins.guard import (
    MAX_METADATA_BYTES,
    bound_action_timeout,
    bounded_metadata,
    check_message,
    guarded_turn,
    limit_request_size,
)
from server_plugins.warmup import close_worker_connections, prepare_worker

SENDER_PATTERN = re.compile(r"^[\w.:@+\-]{1,128}$")


def bad_request(reason: str) -> HTTPResponse:
    """A 400 with a short, safe explanation."""
    return response.json({"error": reason}, status=400)


class RestCollectingOutput(CollectingOutputChannel):
    """Collects the bot's messages for the JSON reply, addressed to the client's own sender id."""

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        # Rasa would return a message's text and its custom payload as two replies; a
        # short-first answer (actions/rendering.py) stays one reply with both.
        if (
            message.get("text")
            and message.get("custom")
            and not (message.get("buttons") or message.get("image"))
        ):
            await self._persist_message(
                self._message(recipient_id, text=message["text"], custom=message["custom"])
            )
            return
        await super().send_response(recipient_id, message)

    async def _persist_message(self, message: dict[str, Any]) -> None:
        message["recipient_id"] = platform_id(REST, message["recipient_id"])
        await super()._persist_message(message)


class GuardedRestInput(InputChannel):
    """REST input channel (``/webhooks/rest/webhook``) with guards."""

    def __init__(self, balancer: TurnBalancer | None = None) -> None:
        self.balancer = balancer

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        bound_action_timeout()
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("guarded_rest_webhook", __name__)
        webhook.listener("before_server_start")(limit_request_size)
        webhook.listener("after_server_start")(prepare_worker)
        webhook.listener("before_server_stop")(close_worker_connections)
        # Built here, in the main process before Sanic forks, so its shared count reaches every worker.
        balancer = self.balancer or TurnBalancer()

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                payload = json.loads(request.body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                return bad_request("the body must be a JSON object encoded as UTF-8")
            except RecursionError:
                return bad_request("the body's JSON is nested too deeply")
            if not isinstance(payload, dict):
                return bad_request("the body must be a JSON object")
            sender = payload.get("sender")
            if not isinstance(sender, str) or not SENDER_PATTERN.match(sender):
                return bad_request("'sender' must be 1-128 letters, digits or . _ : @ + -")
            if "message" not in payload or not isinstance(payload["message"], str | None):
                return bad_request("'message' must be a string")
            metadata = payload.get("metadata")
            if metadata is not None and not isinstance(metadata, dict):
                return bad_request("'metadata' must be a JSON object")
            if metadata is not None and bounded_metadata(metadata) is None:
                return bad_request(f"'metadata' must be at most {MAX_METADATA_BYTES} bytes of JSON")

            text, rejection = check_message(payload["message"])
            if rejection is not None:
                return response.json([{"recipient_id": sender, "text": rejection}])

            collector = RestCollectingOutput()
            conversation = conversation_id(REST, sender)
            with balancer.turn():
                await guarded_turn(
                    on_new_message,
                    UserMessage(text, collector, conversation, input_channel=self.name(), metadata=metadata),
                )
                balancer.release_if_busy(request)
            return response.json(collector.messages)

        return webhook
