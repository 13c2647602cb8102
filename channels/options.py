"""The options a sender was offered, read back from the conversation itself.

A reply of "2" by SMS, or a Telegram/Slack button whose payload was too long
for the platform (sent as a short code), is turned back into the button's
payload using the bot messages stored in the tracker. Nothing is kept in the
Rasa server's memory, so this works after a restart and with several replicas
behind a load balancer.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from rasa.shared.core.events import BotUttered, Event, UserUttered
from sanic.request import Request

from channels.rendering import Choice, choices_from_buttons, is_answer_detail

logger = logging.getLogger(__name__)

SHORT_CODE_PREFIX = "h:"


def short_code(payload: str) -> str:
    """A short, stable stand-in for a long payload (18 characters)."""
    return SHORT_CODE_PREFIX + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def is_short_code(value: str) -> bool:
    return value.startswith(SHORT_CODE_PREFIX) and len(value) == len(SHORT_CODE_PREFIX) + 16


def _buttons(event: BotUttered) -> list[Choice]:
    data = event.data or {}
    return choices_from_buttons(data.get("buttons") or data.get("quick_replies"))


def offered_choices(events: Sequence[Event]) -> list[Choice]:
    """The options of the bot's last turn; none once the user has spoken since."""
    for event in reversed(events):
        if isinstance(event, UserUttered):
            return []
        if isinstance(event, BotUttered):
            choices = _buttons(event)
            if choices:
                return choices
    return []


def payload_for_code(events: Iterable[Event], code: str) -> str | None:
    """The payload of any button the bot offered whose short code is ``code``."""
    for event in reversed(list(events)):
        if isinstance(event, BotUttered):
            for choice in _buttons(event):
                if short_code(choice.payload) == code:
                    return choice.payload
    return None


async def conversation_events(request: Request, sender_id: str) -> list[Event]:
    """The stored events of ``sender_id``'s conversation (empty if unavailable)."""
    agent: Any = getattr(request.app.ctx, "agent", None)
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return []
    try:
        tracker = await store.retrieve(sender_id)
    except Exception as error:  # the tracker store is down: treat as no options
        logger.error("could not read the conversation for its options: %s", type(error).__name__)
        return []
    return list(tracker.events) if tracker is not None else []


def last_answer_detail(events: Sequence[Event]) -> str | None:
    """The plain-text detail of the last short-first answer in the conversation (for MORE)."""
    for event in reversed(events):
        if isinstance(event, BotUttered) and is_answer_detail(event.data or {}):
            return event.text or None
    return None
