"""Safety triage (issues 4 and 17): what the bot says when a message describes urgent symptoms.

- ``action_red_flag_triage``: the guidance of the tier the detector found (crisis,
  poisoning, emergency, same day), alone: no FAQ answer after it, no notices; any
  form in progress is ended.
- ``action_triage_check_in``: context held a rule back ("can that happen?") but the
  message speaks of a person, so the bot asks "is this happening now?" with two buttons
  instead of answering an FAQ.
- ``action_triage_answer``: the answer to that question. "Yes" gives the guidance of
  the tier that was held back; "no" answers the original question as an FAQ.

The tier comes from the parse data that ``nlp_pipeline.components.RedFlagDetector``
adds (``red_flag``: rule, tier, source). Our code never logs message text.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import latest_intent
from actions.faq import ActionAnswerFaq
from actions.languages import LanguageReplies, load_language_replies

logger = logging.getLogger(__name__)

# The wording of each tier (domain/safety.yml); the first sentence says what to do.
GUIDANCE = {
    "crisis": "utter_crisis_guidance",
    "poisoning": "utter_poisoning_guidance",
    "emergency": "utter_red_flag_guidance",
    "same_day": "utter_same_day_guidance",
}
DEFAULT_TIER = "emergency"
# The tier a check-in held back, until the visitor answers it.
PENDING_SLOT = "triage_pending"
CHECK_IN_NOW = "triage_now"
CHECK_IN_NOT_NOW = "triage_not_now"
YES_INTENTS = (CHECK_IN_NOW, "affirm")


def detected(tracker: Tracker) -> dict[str, Any]:
    """What the detector found in the latest message ({} when only the classifier spoke)."""
    found = tracker.latest_message.get("red_flag")
    return found if isinstance(found, dict) else {}


def end_form(tracker: Tracker) -> list[dict[str, Any]]:
    """Urgent guidance ends any form in progress (the question it asked no longer matters)."""
    if tracker.active_loop_name:
        return [ActiveLoop(None), SlotSet("requested_slot", None)]
    return []


class ActionRedFlagTriage(Action):
    """The tier's guidance, alone; ends any form in progress.

    When only the classifier (not the deterministic detector) recognised a red flag,
    the emergency guidance is followed by one line inviting the user to rephrase if it
    misread them. A message in another language gets the guidance in that language first
    (data/content/other_languages.yml), then in English.
    """

    def __init__(self, replies: LanguageReplies | None = None) -> None:
        self._replies = replies

    def name(self) -> str:
        return "action_red_flag_triage"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        found = detected(tracker)
        source = found.get("source", "classifier")
        tier = str(found.get("tier") or DEFAULT_TIER)
        response = GUIDANCE.get(tier) or GUIDANCE[DEFAULT_TIER]
        language = str(found.get("language") or "")
        translated = (self._replies or load_language_replies()).guidance(language, tier) if language else None
        if translated:
            dispatcher.utter_message(text=translated)
        dispatcher.utter_message(response=response)
        if source != "detector":
            # Only the classifier said so: same instruction, plus a way out if it misread
            # an ordinary question (it is the less precise of the two nets).
            dispatcher.utter_message(response="utter_red_flag_unsure")
        logger.info("triage guidance given (tier: %s, source: %s)", tier, source)
        return end_form(tracker)


class ActionTriageCheckIn(Action):
    """Ask "is this happening now?" instead of answering an FAQ."""

    def name(self) -> str:
        return "action_triage_check_in"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        found = detected(tracker)
        candidate = str(found.get("candidate_tier") or DEFAULT_TIER)
        tier = candidate if candidate in GUIDANCE else DEFAULT_TIER
        dispatcher.utter_message(response="utter_triage_check_in")
        logger.info("triage check-in asked (held-back tier: %s)", tier)
        return [*end_form(tracker), SlotSet(PENDING_SLOT, tier)]


class ActionTriageAnswer(Action):
    """The visitor's answer to the check-in: the held-back guidance, or the FAQ answer."""

    def __init__(self, faq: ActionAnswerFaq | None = None) -> None:
        self._faq = faq

    def name(self) -> str:
        return "action_triage_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        intent = latest_intent(tracker)
        pending = tracker.get_slot(PENDING_SLOT)
        events: list[dict[str, Any]] = [SlotSet(PENDING_SLOT, None)]
        if intent in YES_INTENTS:
            # A "yes, it's happening now" without a check-in pending is still taken seriously.
            tier = pending if pending in GUIDANCE else DEFAULT_TIER
            dispatcher.utter_message(response=GUIDANCE[tier])
            logger.info("triage guidance given after the check-in (tier: %s)", tier)
            return events
        dispatcher.utter_message(response="utter_triage_not_now")
        question = self._held_back_question(tracker)
        if question is None:
            dispatcher.utter_message(response="utter_triage_ask_question")
            return events
        faq = self._faq or ActionAnswerFaq()
        return events + await faq.answer(dispatcher, tracker, question)

    @staticmethod
    def _held_back_question(tracker: Tracker) -> dict[str, Any] | None:
        """The parse data of the message the check-in was about, if it carried an FAQ ranking."""
        users = [event for event in tracker.events if event.get("event") == "user"]
        for event in reversed(users[:-1]):
            parse = event.get("parse_data") or {}
            if (parse.get("red_flag") or {}).get("tier") == "check_in":
                return parse if (parse.get("response_selector") or {}).get("faq") else None
        return None
