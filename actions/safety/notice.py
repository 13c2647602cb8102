"""The privacy notice and the general-information disclaimer, each once per conversation."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.rendering import DISCLAIMER
from actions.settings import SafetySettings, get_safety_settings

PRIVACY_NOTICE_SLOT = "privacy_notice_shown"
DISCLAIMER_SLOT = "disclaimer_shown"


def privacy_notice(settings: SafetySettings) -> str:
    """What is stored, for how long, and how to delete it."""
    return (
        "Privacy: the clinic stores this chat (what you type and my replies) so that I can follow "
        f"the conversation. It is deleted automatically {settings.retention_days} days after your "
        "last message; the clinic can change this period. Please don't share details you don't "
        'need to, such as your full name. To delete this conversation now, type "forget me".'
    )


def privacy_notice_events(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    settings: SafetySettings | None = None,
) -> list[dict[str, Any]]:
    """Show the privacy notice if this conversation has not seen it yet."""
    if tracker.get_slot(PRIVACY_NOTICE_SLOT):
        return []
    dispatcher.utter_message(text=privacy_notice(settings or get_safety_settings()))
    return [SlotSet(PRIVACY_NOTICE_SLOT, True)]


def first_answer_notes(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    settings: SafetySettings | None = None,
    disclaimer: bool = True,
) -> list[dict[str, Any]]:
    """After an answer: the general-information disclaimer and the privacy notice,
    each once per conversation (a conversation may start with a question, not a greeting)."""
    events: list[dict[str, Any]] = []
    if disclaimer and not tracker.get_slot(DISCLAIMER_SLOT):
        dispatcher.utter_message(text=DISCLAIMER)
        events.append(SlotSet(DISCLAIMER_SLOT, True))
    return events + privacy_notice_events(dispatcher, tracker, settings)
