"""Greeting: says hello and, once per conversation, what the bot is and is not,
and what happens to the conversation (privacy notice)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.safety.notice import privacy_notice_events
from actions.settings import SafetySettings


class ActionGreet(Action):
    """Greet; the general-information note and the privacy notice appear only the first time."""

    def __init__(self, safety_settings: SafetySettings | None = None) -> None:
        self._safety_settings = safety_settings

    def name(self) -> str:
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        if tracker.get_slot("disclaimer_shown"):
            dispatcher.utter_message(response="utter_greet_again")
        else:
            dispatcher.utter_message(response="utter_greet")
            events.append(SlotSet("disclaimer_shown", True))
        # Normally shown with the first greeting; after a first health answer (which
        # shows the disclaimer but may not show this notice) the greeting catches up.
        events += privacy_notice_events(dispatcher, tracker, self._safety_settings)
        return events
