"""Realistic expectations: what a treatment can and cannot do for one kind of headache.

Flow: ``ask_expectations`` (or an inform_* intent) starts ``expectations_form``, whose
validation action fills the treatment and the condition from the spaCy entities
(normalised with data/lexicon) and picks up an optional "8 migraine days a month". The
form asks for whatever is missing, with buttons. ``action_answer_expectations`` then
reads the evidence row for the pair and answers in short parts: typical course and
onset; realistic results (with a rough personal range when the row has the figures);
what it will not do and when to see a doctor instead; sources and review date.

A frequency given after the answer ("I get 8 a month") re-runs the form, which is
already complete, and the answer action then sends only the personal part.

Red flags: the form only takes values from its own intents (and, for the slot it is
asking for, from a message NLU was unsure about), so a red-flag message, an FAQ
question or small talk is rejected by the form and their own rules answer it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import (
    DataUnavailable,
    apologise_for_outage,
    intent_name,
    latest_entity_values,
    run_blocking,
)
from actions.evidence_ranges import BadFrequency, Frequency, parse_frequency
from actions.expectations_text import (
    days_phrase,
    frequency_problem_message,
    render_answer,
    render_personal,
    render_sources,
    trial_averages,
)
from actions.safety.notice import first_answer_notes
from actions.settings import SafetySettings
from actions.store.evidence_repository import (
    CONDITION_LABELS,
    TREATMENT_LABELS,
    EvidenceRepository,
    EvidenceRow,
    sql_evidence_repository,
)
from lexicon import Term, load_conditions, load_treatments, normalize_state, normalize_term

logger = logging.getLogger(__name__)

RepositoryFactory = Callable[[], AbstractContextManager[EvidenceRepository]]

FORM_NAME = "expectations_form"
SLOT_TREATMENT = "expect_treatment"
SLOT_CONDITION = "expect_condition"
SLOT_DAYS = "headache_days"
# "<treatment>:<condition>" of the last full answer, so a later frequency gets only the personal part.
SLOT_ANSWERED = "expect_answered"
# True while plain "migraine" stands for episodic migraine: the answer comes first, then the
# offer to narrow it down to chronic migraine.
SLOT_ASSUMED = "expect_condition_assumed"
REQUESTED_SLOT = "requested_slot"

ASK_INTENT = "ask_expectations"
INFORM_TREATMENT = "inform_treatment"
INFORM_CONDITION = "inform_condition"
INFORM_FREQUENCY = "inform_frequency"
OWN_INTENTS = frozenset({ASK_INTENT, INFORM_TREATMENT, INFORM_CONDITION, INFORM_FREQUENCY})
# A message NLU was unsure about may still answer the question the form is asking (a bare,
# misspelt "accupunture"); any other intent (an FAQ, a red flag, small talk) is not an answer.
ANSWER_INTENTS = frozenset({"nlu_fallback"})

GENERIC_MIGRAINE = "migraine"
# Plain "migraine" is answered as episodic migraine, the kind most trials studied.
ASSUMED_MIGRAINE = "episodic_migraine"
MIGRAINE_TYPES = frozenset({"episodic_migraine", "chronic_migraine"})
SOMETHING_ELSE_BUTTON = {"title": "Something else", "payload": "/something_else"}


# ----------------------------------------------------------------------------- reading the message


def _mentioned(tracker: Tracker, entity: str, terms: tuple[Term, ...]) -> list[str]:
    """Canonical keys of ``entity`` in the latest message, each once, in order."""
    keys = (normalize_term(value, terms) for value in latest_entity_values(tracker, entity))
    return list(dict.fromkeys(key for key in keys if key))


def mentioned_treatments(tracker: Tracker) -> list[str]:
    """Treatment keys named in the latest message (may include ones without evidence rows)."""
    return _mentioned(tracker, "treatment", load_treatments())


def mentioned_conditions(tracker: Tracker) -> list[str]:
    """Condition keys named in the latest message ("migraine" when the type was not said)."""
    return _mentioned(tracker, "condition", load_conditions())


def may_fill(tracker: Tracker, slot: str) -> bool:
    """Whether the latest message may set ``slot`` (see ANSWER_INTENTS)."""
    intent = intent_name(tracker.latest_message)
    return intent in OWN_INTENTS or (intent in ANSWER_INTENTS and tracker.get_slot(REQUESTED_SLOT) == slot)


def _lexicon_phrase(key: str, terms: tuple[Term, ...]) -> str:
    """A phrase that normalises back to ``key`` (the first one listed in data/lexicon)."""
    return next(term.phrases[0] for term in terms if term.key == key)


def _label(key: str) -> str:
    return TREATMENT_LABELS.get(key) or CONDITION_LABELS.get(key) or key.replace("_", " ")


def _title(label: str) -> str:
    return label[:1].upper() + label[1:]


# ----------------------------------------------------------------------------- actions


def assumed_condition_events(tracker: Tracker, condition_before: Any) -> list[dict[str, Any]]:
    """Whether this turn's plain "migraine" was taken as episodic migraine (then the answer
    offers chronic migraine), or a specific kind of headache replaced that assumption."""
    if not may_fill(tracker, SLOT_CONDITION):
        return []
    keys = mentioned_conditions(tracker)
    if any(key != GENERIC_MIGRAINE for key in keys):
        return [SlotSet(SLOT_ASSUMED, False)] if tracker.get_slot(SLOT_ASSUMED) else []
    if keys and condition_before not in MIGRAINE_TYPES:
        return [SlotSet(SLOT_ASSUMED, True)]
    return []


class ValidateExpectationsForm(FormValidationAction):
    """Fill the treatment and condition from entities; keep an optional frequency and US state."""

    def name(self) -> str:
        return "validate_expectations_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        condition_before = tracker.get_slot(SLOT_CONDITION)
        events = await super().run(dispatcher, tracker, domain)
        return (
            events
            + assumed_condition_events(tracker, condition_before)
            + self._optional_slots(dispatcher, tracker)
        )

    @staticmethod
    def _optional_slots(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        """headache_days and us_state from the user's own words (never required)."""
        intent = intent_name(tracker.latest_message)
        if intent not in OWN_INTENTS:
            return []
        events: list[dict[str, Any]] = []
        frequency = parse_frequency(tracker.latest_message.get("text"))
        if isinstance(frequency, Frequency):
            events.append(SlotSet(SLOT_DAYS, float(frequency.days_per_month)))
            if frequency.per_week:
                monthly = days_phrase(frequency.days_per_month)
                dispatcher.utter_message(text=f'I\'ll count "{frequency.stated}" as about {monthly} a month.')
        elif isinstance(frequency, BadFrequency) or intent == INFORM_FREQUENCY:
            dispatcher.utter_message(text=frequency_problem_message(frequency))
        state = next(
            (code for code in map(normalize_state, latest_entity_values(tracker, "us_state")) if code), None
        )
        if state:
            events.append(SlotSet("us_state", state))
        return events

    async def extract_expect_treatment(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not may_fill(tracker, SLOT_TREATMENT):
            return {}
        keys = mentioned_treatments(tracker)
        if len(keys) > 1:
            named = " and ".join(_label(key) for key in keys)
            dispatcher.utter_message(text=f"You mentioned {named}. Let's take one treatment at a time.")
            return {SLOT_TREATMENT: None}
        return {SLOT_TREATMENT: keys[0]} if keys else {}

    async def extract_expect_condition(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not may_fill(tracker, SLOT_CONDITION):
            return {}
        keys = mentioned_conditions(tracker)
        specific = [key for key in keys if key != GENERIC_MIGRAINE]
        if len(specific) > 1:
            named = " and ".join(_label(key) for key in specific)
            dispatcher.utter_message(text=f"You mentioned {named}. Let's take one at a time.")
            return {SLOT_CONDITION: None}
        if specific:
            return {SLOT_CONDITION: specific[0]}
        if GENERIC_MIGRAINE in keys and tracker.get_slot(SLOT_CONDITION) not in MIGRAINE_TYPES:
            # Episodic or chronic? Answer for episodic migraine first; the answer then offers
            # chronic migraine (see assumed_condition_events and ActionAnswerExpectations).
            return {SLOT_CONDITION: ASSUMED_MIGRAINE}
        return {}

    def validate_expect_treatment(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None or value in TREATMENT_LABELS:
            return {SLOT_TREATMENT: value}
        choices = ", ".join(TREATMENT_LABELS[key] for key in list(TREATMENT_LABELS)[:-1])
        dispatcher.utter_message(
            text=f"I don't have evidence figures for {_label(str(value))}. I can tell you what to expect "
            f"from {choices} or {TREATMENT_LABELS[list(TREATMENT_LABELS)[-1]]}."
        )
        return {SLOT_TREATMENT: None}

    def validate_expect_condition(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None or value in CONDITION_LABELS:
            return {SLOT_CONDITION: value}
        return {SLOT_CONDITION: None}


class ActionAskExpectTreatment(Action):
    """Ask which treatment, with one button per treatment in the evidence table."""

    def name(self) -> str:
        return "action_ask_expect_treatment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        condition = tracker.get_slot(SLOT_CONDITION)
        about = f" for {CONDITION_LABELS[condition]}" if condition in CONDITION_LABELS else ""
        terms = load_treatments()
        buttons = [
            {
                "title": _title(label),
                "payload": f"/{INFORM_TREATMENT}{json.dumps({'treatment': _lexicon_phrase(key, terms)})}",
            }
            for key, label in TREATMENT_LABELS.items()
        ]
        dispatcher.utter_message(
            text=f"Which treatment would you like to know about{about}?",
            buttons=[*buttons, SOMETHING_ELSE_BUTTON],
        )
        return []


class ActionAskExpectCondition(Action):
    """Ask which kind of headache (plain "migraine" never gets here: it is answered as
    episodic migraine, with chronic migraine offered after the answer)."""

    def name(self) -> str:
        return "action_ask_expect_condition"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        terms = load_conditions()

        def button(key: str, title: str) -> dict[str, str]:
            payload = json.dumps({"condition": _lexicon_phrase(key, terms)})
            return {"title": title, "payload": f"/{INFORM_CONDITION}{payload}"}

        treatment = tracker.get_slot(SLOT_TREATMENT)
        about = f" with {TREATMENT_LABELS[treatment]}" if treatment in TREATMENT_LABELS else ""
        dispatcher.utter_message(
            text=f"Which kind of headache would you like to know about{about}?",
            buttons=[
                *(button(key, _title(label)) for key, label in CONDITION_LABELS.items()),
                SOMETHING_ELSE_BUTTON,
            ],
        )
        return []


NARROW_DOWN_TEXT = (
    "That was for episodic migraine (fewer than 15 headache days a month). If you have chronic "
    "migraine (headaches on 15 or more days a month for more than 3 months, with migraine on at "
    "least 8 of them), the evidence is different: I can show you that instead. Your doctor can tell "
    "you which applies to you."
)


def narrow_down_buttons() -> list[dict[str, str]]:
    """The offer after a plain-"migraine" answer: chronic migraine instead."""
    payload = json.dumps({"condition": _lexicon_phrase("chronic_migraine", load_conditions())})
    return [
        {
            "title": "Chronic migraine (15 or more headache days a month)",
            "payload": f"/{INFORM_CONDITION}{payload}",
        }
    ]


class ActionAnswerExpectations(Action):
    """Answer from the evidence row for the chosen treatment and condition."""

    def __init__(
        self,
        repository_factory: RepositoryFactory | None = None,
        safety_settings: SafetySettings | None = None,
    ) -> None:
        self._repository_factory = repository_factory or sql_evidence_repository
        self._safety_settings = safety_settings

    def name(self) -> str:
        return "action_answer_expectations"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        treatment = tracker.get_slot(SLOT_TREATMENT)
        condition = tracker.get_slot(SLOT_CONDITION)
        if treatment not in TREATMENT_LABELS or condition not in CONDITION_LABELS:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        pair = f"{treatment}:{condition}"
        is_frequency = intent_name(tracker.latest_message) == INFORM_FREQUENCY
        if is_frequency and not isinstance(parse_frequency(tracker.latest_message.get("text")), Frequency):
            # The form's validation has already said what was wrong with the number.
            return []
        try:
            row = await run_blocking(self._load, treatment, condition)
        except DataUnavailable:
            return apologise_for_outage(dispatcher)
        if row is None:
            logger.error("no evidence row for %s", pair)
            dispatcher.utter_message(response="utter_service_problem")
            return []
        logger.debug("expectations answer for %s", pair)
        days = tracker.get_slot(SLOT_DAYS)
        if is_frequency and tracker.get_slot(SLOT_ANSWERED) == pair:
            # Only the personal part: the rest was answered a moment ago.
            messages = [render_personal(row, days)]
            if trial_averages(row) is not None:
                figure_sources = tuple(dict.fromkeys(figure.source for figure in row.figures))
                messages.append(render_sources(row, figure_sources))
            for message in messages:
                dispatcher.utter_message(text=message)
        else:
            render_answer(row, days).send(dispatcher)
        events: list[dict[str, Any]] = [SlotSet(SLOT_ANSWERED, pair), SlotSet("treatment_context", treatment)]
        if tracker.get_slot(SLOT_ASSUMED) and condition == ASSUMED_MIGRAINE:
            dispatcher.utter_message(text=NARROW_DOWN_TEXT, buttons=narrow_down_buttons())
            events.append(SlotSet(SLOT_ASSUMED, False))
        events += first_answer_notes(dispatcher, tracker, self._safety_settings)
        return events

    def _load(self, treatment: str, condition: str) -> EvidenceRow | None:
        """One session, one read (runs in a worker thread)."""
        with self._repository_factory() as repository:
            return repository.get(treatment, condition)
