"""The two credential forms' validation: ``licence_check_form`` (state, then a licence number
or a name) and ``practitioner_search_form`` (state, then a city)."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.base import latest_intent
from actions.credentials.text import (
    find_city,
    find_person_name,
    is_stop_request,
    profession_mentioned,
)
from actions.credentials.wording import load_credential_replies
from actions.reply_templates import ReplyTemplates
from actions.states import (
    MAX_STATE_ATTEMPTS,
    STATE_SLOT,
    StateMention,
    failed_attempts,
    say_state_not_recognised,
    state_in_reply,
    state_mentions,
)
from actions.store.licence_repository import split_name
from lexicon import is_city_name, normalize_state
from lexicon.licence_numbers import find_licence_number, licence_number_key

US_STATE_SLOT = STATE_SLOT
NUMBER_SLOT = "licence_number"
NAME_SLOT = "practitioner_name"
CITY_SLOT = "search_city"
PROFESSION_SLOT = "credential_profession"
ATTEMPTS_SLOT = "credential_attempts"

# Intents whose message is read as an answer to the form's question even when nothing
# in it can be used (the user then hears what was wrong). Any other intent is read
# only if its short message clearly holds a value; otherwise the form steps aside so
# the rule for that intent (an FAQ, a red-flag warning, the other form, ...) can answer.
_ANSWERS = frozenset({"inform_name", "inform_state", "nlu_fallback", "out_of_scope"})
LICENCE_ANSWER_INTENTS = _ANSWERS | {"check_licence", "inform_licence_number"}
SEARCH_ANSWER_INTENTS = _ANSWERS | {"find_practitioner"}


def _text(tracker: Tracker) -> str:
    return str((tracker.latest_message or {}).get("text") or "")


def _number_spans(tracker: Tracker) -> list[tuple[int, int]]:
    """Where a licence number is in the latest message: a state there is not a state ("MD-12345")."""
    number = find_licence_number(_text(tracker))
    return [(number.start, number.end)] if number else []


def _state_mentions(tracker: Tracker) -> list[StateMention]:
    """States named in the latest message (see actions.states), in order."""
    return state_mentions(tracker.latest_message or {}, _number_spans(tracker))


def _reading(tracker: Tracker, answer_intents: frozenset[str]) -> str:
    """How to read the latest message: 'open' (as an answer), 'strict' (only a clear value) or 'none'."""
    if tracker.get_slot(REQUESTED_SLOT) is None or latest_intent(tracker) in answer_intents:
        return "open"
    text = _text(tracker).strip()
    if len(text.split()) <= 5 and not text.endswith("?"):
        return "strict"
    return "none"


class _CredentialFormValidation(FormValidationAction, ABC):
    """Shared by both forms: state extraction, retries with a clear message, a way out.

    Abstract (no ``name``), so the action server does not try to register it.
    """

    # The replies (data/content/credential_replies.yml) that name this form and show how to restart it.
    label_reply = "licence_check_label"
    hint_reply = "licence_check_hint"
    # What this form looks for; left over from an earlier, unfinished form, they are cleared
    # when the form starts unless the starting message gives them again.
    subject_slots: tuple[str, ...] = ()
    # Intents read as an answer even when nothing usable is in the message (see _reading).
    answer_intents: frozenset[str] = frozenset()

    def __init__(self, replies: ReplyTemplates | None = None) -> None:
        super().__init__()
        self._replies = replies

    @abstractmethod
    def name(self) -> str:
        """validate_<form name>."""

    def replies(self) -> ReplyTemplates:
        """The wording; by default data/content/credential_replies.yml, read when first needed."""
        return self._replies or load_credential_replies()

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        # As FormValidationAction.run, plus: slot events the SDK would drop because the slot
        # is not a required slot right now (the attempt count, a cleared value), a fresh
        # start when the form is activated, and a way to end the form early.
        extraction = await self.get_extraction_events(dispatcher, tracker, domain)
        tracker.add_slots(extraction)
        validation = await self.get_validation_events(dispatcher, tracker, domain)
        tracker.add_slots(validation)
        validated = {event["name"] for event in validation}
        events = list(validation)
        events += [
            e
            for e in extraction
            if e["name"] not in validated and (e["name"] == ATTEMPTS_SLOT or e["value"] is None)
        ]
        if tracker.get_slot(REQUESTED_SLOT) is None:  # the form is starting
            given = {e["name"] for e in extraction}
            stale = [
                SlotSet(slot, None)
                for slot in (*self.subject_slots, PROFESSION_SLOT)
                if slot not in given and tracker.get_slot(slot) is not None
            ]
            tracker.add_slots(stale)
            events += stale
            profession = profession_mentioned(tracker)
            if profession:
                tracker.add_slots([SlotSet(PROFESSION_SLOT, profession)])
                events.append(SlotSet(PROFESSION_SLOT, profession))
        if (tracker.get_slot(ATTEMPTS_SLOT) or 0) >= MAX_STATE_ATTEMPTS:
            return [*events, SlotSet(ATTEMPTS_SLOT, None), SlotSet(REQUESTED_SLOT, None)]
        next_slot = await self.next_requested_slot(dispatcher, tracker, domain)
        return events + ([next_slot] if next_slot else [])

    def _problem(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, message: str = ""
    ) -> dict[str, Any]:
        """The answer could not be used: say why, count the attempt, give up after
        MAX_STATE_ATTEMPTS (the state's messages are the shared responses of actions.states)."""
        replies = self.replies()
        label = replies(self.label_reply)
        if is_stop_request(_text(tracker)):
            dispatcher.utter_message(text=replies("stopped", label=label))
            return {slot: None, ATTEMPTS_SLOT: MAX_STATE_ATTEMPTS}
        attempts, giving_up = failed_attempts(tracker.get_slot(ATTEMPTS_SLOT))
        give_up = replies("give_up", label=label, hint=replies(self.hint_reply))
        if slot == US_STATE_SLOT:
            say_state_not_recognised(dispatcher, giving_up)
            if giving_up:
                dispatcher.utter_message(text=give_up)
        else:
            dispatcher.utter_message(text=f"{message}\n{give_up}" if giving_up else message)
        return {slot: None, ATTEMPTS_SLOT: attempts}

    @staticmethod
    def _succeeded(tracker: Tracker, values: dict[str, Any]) -> dict[str, Any]:
        if tracker.get_slot(ATTEMPTS_SLOT):
            return {**values, ATTEMPTS_SLOT: None}
        return values

    async def extract_us_state(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        mode = _reading(tracker, self.answer_intents)
        asked = tracker.get_slot(REQUESTED_SLOT) == US_STATE_SLOT
        if asked and is_stop_request(_text(tracker)):
            return self._problem(dispatcher, tracker, US_STATE_SLOT)
        if mode == "none":
            return {}
        mentions = _state_mentions(tracker)
        if mentions:
            return self._succeeded(tracker, {US_STATE_SLOT: mentions[-1].code})
        if not asked:
            return {}
        code = state_in_reply(tracker.latest_message or {}, _number_spans(tracker))
        if code:
            return self._succeeded(tracker, {US_STATE_SLOT: code})
        if mode == "strict":
            return {}
        return self._problem(dispatcher, tracker, US_STATE_SLOT)

    def validate_us_state(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        code = normalize_state(str(value)) if value else None
        return {US_STATE_SLOT: code}


class ValidateLicenceCheckForm(_CredentialFormValidation):
    """Collects the state and a licence number or a name."""

    subject_slots = (NUMBER_SLOT, NAME_SLOT)
    answer_intents = LICENCE_ANSWER_INTENTS

    def name(self) -> str:
        return "validate_licence_check_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        # The domain asks for us_state and licence_number; a name does instead of a number.
        if tracker.get_slot(NAME_SLOT) and not tracker.get_slot(NUMBER_SLOT):
            return [US_STATE_SLOT, NAME_SLOT]
        return [US_STATE_SLOT, NUMBER_SLOT]

    async def extract_licence_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        asked = tracker.get_slot(REQUESTED_SLOT) == NUMBER_SLOT
        text = _text(tracker)
        if asked and is_stop_request(text):
            return self._problem(dispatcher, tracker, NUMBER_SLOT)
        mode = _reading(tracker, self.answer_intents)
        if mode == "none":
            return {}
        number = find_licence_number(text, prompted=asked)
        # A number replaces a name given earlier, and the other way round.
        if number is not None:
            return self._succeeded(tracker, {NUMBER_SLOT: number.key, **_cleared(tracker, NAME_SLOT)})
        name = find_person_name(
            _without_states(tracker),
            answer=asked or latest_intent(tracker) == "inform_name",
            strict=mode == "strict",
        )
        if name:
            return self._succeeded(tracker, {NAME_SLOT: name, **_cleared(tracker, NUMBER_SLOT)})
        if not asked or mode == "strict":
            return {}
        return self._problem(dispatcher, tracker, NUMBER_SLOT, self.replies()("no_number_or_name"))

    def validate_licence_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        key = licence_number_key(str(value)) if value else ""
        return {NUMBER_SLOT: key or None}

    def validate_practitioner_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        _, last = split_name(str(value)) if value else (None, None)
        return {NAME_SLOT: str(value).strip() if last else None}


def _cleared(tracker: Tracker, slot: str) -> dict[str, Any]:
    """{slot: None} if the slot holds a value, else nothing."""
    return {slot: None} if tracker.get_slot(slot) is not None else {}


def _without_states(tracker: Tracker) -> str:
    """The latest text with the state mentions cut out ("Jane Example in Texas" -> "Jane Example")."""
    text = _text(tracker)
    for mention in sorted(_state_mentions(tracker), key=lambda m: m.start, reverse=True):
        if mention.start >= 0:
            before = re.sub(r"\b(?:in|from|of)\s*$", "", text[: mention.start], flags=re.IGNORECASE)
            text = before + text[mention.end :]
    return text


class ValidatePractitionerSearchForm(_CredentialFormValidation):
    """Collects the state and the city to search."""

    label_reply = "search_label"
    subject_slots = (CITY_SLOT,)
    answer_intents = SEARCH_ANSWER_INTENTS
    hint_reply = "search_hint"

    def name(self) -> str:
        return "validate_practitioner_search_form"

    async def extract_search_city(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        asked = tracker.get_slot(REQUESTED_SLOT) == CITY_SLOT
        text = _text(tracker)
        if asked and is_stop_request(text):
            return self._problem(dispatcher, tracker, CITY_SLOT)
        mode = _reading(tracker, self.answer_intents)
        if mode == "none":
            return {}
        # A city that names its state ("near Austin, TX") is still the city searched.
        spans = [
            (m.start, m.end)
            for m in _state_mentions(tracker)
            if m.start >= 0 and not is_city_name(text[m.start : m.end])
        ]
        city = find_city(text, spans, answer=asked, strict=mode == "strict")
        if city:
            return self._succeeded(tracker, {CITY_SLOT: city})
        if not asked or mode == "strict":
            return {}
        return self._problem(dispatcher, tracker, CITY_SLOT, self.replies()("no_city"))

    def validate_search_city(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {CITY_SLOT: str(value).strip() if value else None}
