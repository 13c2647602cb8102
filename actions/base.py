"""What every action shares: running blocking work off the event loop, and
turning a data-layer outage into a clear apology instead of silence."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.store.errors import STORE_ERRORS

logger = logging.getLogger(__name__)

T = TypeVar("T")

SERVICE_PROBLEM_RESPONSE = "utter_service_problem"
# Stop waiting for the database well before Rasa's 60 s conversation lock expires.
DATA_TIMEOUT_SECONDS = 10.0
# What a data call raises when the data cannot be read: the store's errors, a lost
# connection, the timeout above.
DATA_ERRORS: tuple[type[Exception], ...] = (*STORE_ERRORS, OSError, asyncio.TimeoutError)


class DataUnavailable(RuntimeError):
    """The answer data could not be read (database down, timeout, ...)."""


async def run_blocking(function: Callable[..., T], *args: Any) -> T:
    """Run a blocking data call in a worker thread, bounded in time.

    rasa_sdk calls ``run`` on its event loop: a synchronous query there would
    stall every other conversation on the action server.
    """
    try:
        return await asyncio.wait_for(asyncio.to_thread(function, *args), DATA_TIMEOUT_SECONDS)
    except DATA_ERRORS as error:
        # No message text is logged: only the kind of failure.
        logger.error("answer data unavailable: %s", type(error).__name__)
        raise DataUnavailable(type(error).__name__) from error


def apologise_for_outage(dispatcher: CollectingDispatcher) -> list[dict[str, Any]]:
    """Tell the user plainly that answers are unavailable right now."""
    dispatcher.utter_message(response=SERVICE_PROBLEM_RESPONSE)
    return []


def entity_values(message: dict[str, Any], entity: str) -> list[str]:
    """Values of ``entity`` in one user message's parse data, in order."""
    entities = message.get("entities") or []
    return [str(e.get("value")) for e in entities if e.get("entity") == entity and e.get("value")]


def latest_entity_values(tracker: Tracker, entity: str) -> list[str]:
    """Values of ``entity`` in the latest user message, in order."""
    return entity_values(tracker.latest_message, entity)


def intent_name(message: dict[str, Any]) -> str:
    """The top-level intent of one user message's parse data ("faq/cost" -> "faq"; "" if none)."""
    return str(((message or {}).get("intent") or {}).get("name") or "").split("/", 1)[0]


def latest_intent(tracker: Tracker) -> str:
    """The top-level intent of the latest user message ("" if none)."""
    return intent_name(tracker.latest_message or {})
