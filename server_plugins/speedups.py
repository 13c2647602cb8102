"""Two per-turn costs of Rasa 3.6 that profiling found (bench/profile_turn.py --cprofile),
removed without changing behaviour.

- ``RemoteAction._validate_action_result`` calls ``jsonschema.validate()`` on every
  reply from the action server. That function checks the schema itself and builds a
  new validator each time: tens of milliseconds per custom action, on the event loop
  that serves every conversation. Here the schema is checked once and the validator
  kept; a reply is validated exactly as before and an invalid one raises the same
  ``ValidationError`` with Rasa's message.
- ``Event.resolve_by_type`` walks every subclass of ``Event`` for every event it
  deserialises (tracker store reads, action replies). Found classes are remembered
  by type name; unknown names still take Rasa's own path (default, error).

``install()`` is called by our plug-ins' constructors (tracker store, lock store,
REST channel), so the Rasa server applies it at start-up; importing this module
changes nothing. ``FAQBOT_SPEEDUPS=0`` turns it off (to measure the difference).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_installed = False


def enabled() -> bool:
    return os.environ.get("FAQBOT_SPEEDUPS", "1").strip().lower() not in ("0", "false", "no", "off")


def install() -> bool:
    """Apply both patches once per process; return whether they are active."""
    global _installed
    if not enabled():
        return False
    with _lock:
        if not _installed:
            _cache_action_response_validator()
            _cache_event_classes()
            _installed = True
            logger.debug("Rasa speed-ups installed")
    return True


def _cache_action_response_validator() -> None:
    from jsonschema import ValidationError
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        try:
            validator.validate(result)
            return True
        except ValidationError as error:
            # The same message as Rasa's own implementation.
            error.message += (
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid. "
                "For more information about the format visit "
                f"{DOCS_BASE_URL}/custom-actions"
            )
            raise error

    RemoteAction._validate_action_result = _validate_action_result


def _cache_event_classes() -> None:
    from rasa.shared.core.events import Event

    resolve = Event.resolve_by_type  # Rasa's staticmethod, as a plain function
    known: dict[str, type[Event]] = {}

    def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
        cls = known.get(type_name)
        if cls is None:
            cls = resolve(type_name, default)
            # Only real matches are remembered: a default or None depends on the call.
            if cls is not None and getattr(cls, "type_name", None) == type_name:
                known[type_name] = cls
        return cls

    Event.resolve_by_type = staticmethod(resolve_by_type)
