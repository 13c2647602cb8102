"""Turn guards shared by our input channels.

Rasa 3.6 answers HTTP 200 ``[]`` when the action server is down (the failed
action is only logged) and waits up to 300 s for a slow action, far beyond the
60 s conversation lock. These helpers make such failures visible to the user:

- :func:`bound_action_timeout` caps the action-server call (default 20 s);
- :func:`guarded_turn` counts what the bot sent during a turn and, if nothing
  was sent (action server down or slow, any processing error), sends a clear
  apology instead of silence; it also warns when the tracker store failed;
- :func:`check_message` rejects empty, oversized and control-character input
  before it reaches NLU (a 100 KB message costs seconds and gigabytes);
- :func:`bounded_metadata` keeps a client's ``metadata`` only when it is a
  small JSON object (Rasa saves it with every user event; nothing of ours
  reads it).
- :func:`limit_request_size` caps every request body at 1 MB (Sanic's default is
  100 MB) wherever the server starts, unless ``SANIC_REQUEST_MAX_SIZE`` says otherwise.

User text is never logged here.
"""

from __future__ import annotations

import json
import logging
import re
import time
import unicodedata
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage

from actions.settings import action_timeout_seconds, max_message_chars, request_max_size_set
from server_plugins.tracker_store import STORE_HEALTH

logger = logging.getLogger(__name__)

APOLOGY = (
    "Sorry, something went wrong on my side and I couldn't answer just now. "
    "Please try again in a minute. If you have a sudden, severe headache or other "
    "emergency symptoms, call 911."
)
STORE_WARNING = (
    "Note: I'm having trouble saving our conversation at the moment, so I may not "
    "remember your earlier messages."
)
EMPTY_MESSAGE = "I didn't receive any text. Please type your question."
MAX_METADATA_BYTES = 2048
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


# Bytes. A message is at most MAX_MESSAGE_CHARS characters; nginx allows 16 KB in front.
DEFAULT_REQUEST_MAX_SIZE = 1_048_576


def limit_request_size(app: Any, _loop: Any = None) -> None:
    """``before_server_start``: Sanic reads SANIC_REQUEST_MAX_SIZE into its config; when
    the variable is unset (a `rasa run` outside the Makefile, images and deploy files),
    set the 1 MB limit here instead of Sanic's 100 MB. Each connection reads the value
    when it opens, so it holds from the first request."""
    if not request_max_size_set():
        app.config.REQUEST_MAX_SIZE = DEFAULT_REQUEST_MAX_SIZE


def too_long_message(length: int) -> str:
    """The reply for an oversized message."""
    return (
        f"That message is too long for me ({length} characters). "
        f"Please ask one question in fewer than {max_message_chars()} characters."
    )


def check_message(text: Any) -> tuple[str | None, str | None]:
    """Return (clean text, None) or (None, the reply explaining the rejection)."""
    if not isinstance(text, str):
        return None, EMPTY_MESSAGE
    cleaned = _CONTROL.sub(" ", unicodedata.normalize("NFC", text))
    cleaned = re.sub(r"[ \t]+", " ", cleaned).strip()
    if not cleaned:
        return None, EMPTY_MESSAGE
    if len(cleaned) > max_message_chars():
        return None, too_long_message(len(cleaned))
    return cleaned, None


def bounded_metadata(metadata: Any) -> dict[str, Any] | None:
    """``metadata`` if it is a JSON object of at most MAX_METADATA_BYTES (UTF-8), else None.

    A string is read as JSON first (Rasa's socket.io clients may send one).
    """
    try:
        if isinstance(metadata, str):
            if len(metadata) > MAX_METADATA_BYTES:
                return None
            metadata = json.loads(metadata)
        if not isinstance(metadata, dict):
            return None
        size = len(json.dumps(metadata, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    except (ValueError, TypeError, RecursionError):
        return None
    return metadata if size <= MAX_METADATA_BYTES else None


def bound_action_timeout() -> None:
    """Cap Rasa's action-server call (a module constant read at call time).

    Rasa 3.6 offers no setting for it; the default of 300 s would let one slow
    action hold the conversation lock far past its 60 s lifetime.
    """
    import rasa.core.actions.action as rasa_action

    rasa_action.DEFAULT_REQUEST_TIMEOUT = action_timeout_seconds()


class CountingOutputChannel(OutputChannel):
    """Passes every bot message on to ``inner`` and counts them."""

    def __init__(self, inner: OutputChannel) -> None:
        self.inner = inner
        self.sent = 0

    def name(self) -> str:
        return self.inner.name()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.sent += 1
        await self.inner.send_response(recipient_id, message)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        self.sent += 1
        await self.inner.send_text_message(recipient_id, text, **kwargs)


async def guarded_turn(on_new_message: Callable[[UserMessage], Awaitable[Any]], message: UserMessage) -> None:
    """Process one user message; never leave the user with silence."""
    inner = message.output_channel
    counting = CountingOutputChannel(inner)
    message.output_channel = counting
    started = time.monotonic()
    try:
        await on_new_message(message)
    except Exception as error:  # the user gets an apology; details go to the log
        logger.error("turn failed for a %s message: %s", inner.name(), type(error).__name__)
    if counting.sent == 0:
        logger.error("no reply produced for a %s message; sending an apology", inner.name())
        await inner.send_text_message(message.sender_id or "", APOLOGY)
    if STORE_HEALTH.failed_since(started):
        await inner.send_text_message(message.sender_id or "", STORE_WARNING)
