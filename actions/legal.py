"""State legality: is dry needling legal in a state, how a state licenses acupuncturists.

The question type (dry needling or acupuncture) and the profession asked about are
remembered in slots, and the state in the shared ``us_state`` slot, so that "can a PT
do it here?" reuses the state and "what about Texas?" re-asks the same question for
Texas. ``state_form`` makes sure a state is known before the answer:

- ``validate_state_form`` fills ``us_state`` as every form does (``actions.states``: the
  entity ruler's entity, else "in <state>" in the text, else, when the bot asked, the whole
  reply); it records the question type when a question activates the form;
- ``action_answer_legal`` answers from the database: "Last checked <date>; source dated
  <date>." first (the date this project checked the row, then the date of the source it
  rests on, so nobody reads an old source as current), then the direct answer, conditions,
  pending changes, caveats and the source; a row with a ``check_first`` reason (Illinois)
  says "Please check with <board> before relying on this" and why before the status;
- ``action_list_legal_states`` answers list questions ("which states ban it?").

The answers' wording is in ``actions.legal_answers``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.base import (
    DataUnavailable,
    apologise_for_outage,
    latest_entity_values,
    latest_intent,
    run_blocking,
)
from actions.legal_answers import (
    acupuncture_answer,
    acupuncture_list_answer,
    dry_needling_answer,
    dry_needling_list_answer,
    list_kind,
    place,
)
from actions.rendering import ShortFirstAnswer, state_question_button, topic_button
from actions.safety import SafetySettings, first_answer_notes
from actions.states import (
    STATE_SLOT,
    failed_attempts,
    say_state_not_recognised,
    state_in_message,
    state_in_reply,
    state_mentions,
)
from actions.store.legal_data import max_age_months
from actions.store.legal_repository import LegalRepository, sql_legal_repository
from lexicon import (
    load_practitioners,
    load_states,
    load_treatments,
    normalize_term,
    refers_to_a_named_state,
    state_name,
)

logger = logging.getLogger(__name__)

LegalRepositoryFactory = Callable[[], AbstractContextManager[LegalRepository]]

FORM_NAME = "state_form"
QUESTION_SLOT = "legal_question"
PRACTITIONER_SLOT = "legal_practitioner"
ATTEMPTS_SLOT = "legal_state_attempts"
NOTE_SLOT = "legal_note_shown"

DRY_NEEDLING = "dry_needling"
ACUPUNCTURE = "acupuncture"
DRY_NEEDLING_INTENT = "ask_dry_needling_legality"
ACUPUNCTURE_INTENT = "ask_acupuncture_licensure"
LIST_INTENT = "ask_legal_state_list"
INFORM_STATE_INTENT = "inform_state"
QUESTION_INTENTS = {DRY_NEEDLING_INTENT: DRY_NEEDLING, ACUPUNCTURE_INTENT: ACUPUNCTURE}
INFORM_TREATMENT_INTENT = "inform_treatment"
# Professions whose only needling is dry needling: a legality question about them is that one.
DRY_NEEDLING_PROFESSIONS = frozenset(
    {"physical_therapist", "physical_therapist_assistant", "athletic_trainer", "occupational_therapist"}
)
# The FAQ answer on practitioners' titles, offered after a state's licensing answer.
TITLES_TOPIC = "cac_and_other_titles"
# While the bot waits for a state, these replies count as a (failed) attempt at one...
ANSWER_INTENTS = frozenset({INFORM_STATE_INTENT, "nlu_fallback", "out_of_scope", "nonsense"})
# ... and these mean "never mind" (goodbye has its own rule).
CANCEL_INTENTS = frozenset({"something_else", "thanks"})

# Treatments whose state rules the data covers; other treatments are named in the reply.
TOPIC_OF_TREATMENT = {
    "dry_needling": DRY_NEEDLING,
    "acupuncture": ACUPUNCTURE,
    "electroacupuncture": ACUPUNCTURE,
}
TREATMENT_NAMES = {
    "tui_na": "Tui Na",
    "cupping": "cupping",
    "moxibustion": "moxibustion",
}
LEGAL_NOTE = (
    "This is general information about state rules, not legal advice: the state board has "
    "the final word, and rules change."
)


# ---------------------------------------------------------------- reading the user's message


def _asking_for_state(tracker: Tracker) -> bool:
    return tracker.active_loop_name == FORM_NAME and tracker.get_slot(REQUESTED_SLOT) == STATE_SLOT


def read_state_reply(tracker: Tracker) -> tuple[str | None, str]:
    """What the latest message says about the state: (code, outcome).

    outcome is "found", "failed" (a reply that should have named a state), "question"
    (a new question without a state while the bot waits for one), "cancel" or "none".
    """
    intent = latest_intent(tracker)
    message = tracker.latest_message
    asking = _asking_for_state(tracker)
    code = state_in_reply(message) if asking or intent == INFORM_STATE_INTENT else state_in_message(message)
    if not code and refers_to_a_named_state(str(message.get("text") or "")):
        # "can chiros do it there", "who licenses them there": the state named before.
        code = tracker.get_slot(STATE_SLOT)
    if code:
        return code, "found"
    if asking and intent in CANCEL_INTENTS:
        return None, "cancel"
    if asking and intent in QUESTION_INTENTS:
        return None, "question"
    if intent == INFORM_STATE_INTENT or (asking and intent in ANSWER_INTENTS):
        return None, "failed"
    return None, "none"


def practitioner_named(tracker: Tracker) -> str | None:
    """The profession the latest message names ("PT", "chiros"), as its lexicon key."""
    named = (normalize_term(v, load_practitioners()) for v in latest_entity_values(tracker, "practitioner"))
    return next((key for key in named if key), None)


def question_events(tracker: Tracker) -> list[dict[str, Any]]:
    """Remember the question type and profession when the message is a legality question."""
    intent = latest_intent(tracker)
    treatments = {
        key
        for key in (normalize_term(v, load_treatments()) for v in latest_entity_values(tracker, "treatment"))
        if key
    }
    # "dry needling too?" right after a legal answer (data/rules/legal.yml): the same state,
    # asked about the treatment just named (the topic is set from it below).
    switches_treatment = (
        intent == INFORM_TREATMENT_INTENT and len(treatments) == 1 and treatments <= TOPIC_OF_TREATMENT.keys()
    )
    practitioner = practitioner_named(tracker)
    if intent == INFORM_STATE_INTENT and practitioner:
        # "can chiros do it there", "what about athletic trainers in ohio": the same question,
        # about the profession just named.
        return [SlotSet(PRACTITIONER_SLOT, practitioner)]
    if intent not in QUESTION_INTENTS and not switches_treatment:
        return []
    topic = QUESTION_INTENTS.get(intent, "")
    if len(treatments) == 1:
        treatment = next(iter(treatments))
        topic = TOPIC_OF_TREATMENT.get(treatment, treatment)
    if topic != DRY_NEEDLING:
        practitioner = None  # "does Ohio license acupuncturists?" is not about a profession dry needling
    return [SlotSet(QUESTION_SLOT, topic), SlotSet(PRACTITIONER_SLOT, practitioner)]


# Answers about acupuncturists' titles and licences: a state named next is about licensing.
ACUPUNCTURE_CREDENTIAL_TOPICS = frozenset(
    {
        "lac_vs_nccaom",
        "nccaom_what_is",
        "acahm_accreditation",
        "cac_and_other_titles",
        "how_to_check_a_licence",
        "acupuncturist_training",
        "physician_acupuncturists",
        "credential_red_flags",
    }
)


def _topic_of_faq(key: str) -> str | None:
    for treatment, topic in TOPIC_OF_TREATMENT.items():
        if key.startswith(treatment):
            return topic
    if key in ACUPUNCTURE_CREDENTIAL_TOPICS:
        return ACUPUNCTURE
    return None


def resolve_question(tracker: Tracker) -> tuple[str | None, bool]:
    """The question type the next state answer is about, and whether the user asked it.

    The more recent of: the last legality question (asked: True), and a general "who
    may practise" FAQ answer, which invites the user to name their state. Failing both,
    the treatment the conversation is about.
    """
    for event in reversed(tracker.events or []):
        if event.get("event") != "slot" or not event.get("value"):
            continue
        if event.get("name") == QUESTION_SLOT:
            return str(event["value"]), True
        if event.get("name") == "last_topic" and str(event["value"]).endswith("_who_may_practise"):
            topic = _topic_of_faq(str(event["value"]))
            if topic:
                return topic, False
    topic = tracker.get_slot(QUESTION_SLOT)
    if topic:
        return str(topic), True
    context = tracker.get_slot("treatment_context")
    if context in TOPIC_OF_TREATMENT:
        return TOPIC_OF_TREATMENT[str(context)], False
    if practitioner_named(tracker) in DRY_NEEDLING_PROFESSIONS:
        # "my physio in oregon says they can start needling soon, is it allowed": PTs don't
        # practise acupuncture; the question is theirs to dry needle.
        return DRY_NEEDLING, True
    return _topic_of_faq(str(tracker.get_slot("last_topic") or "")), False


def resolve_topic(tracker: Tracker) -> str | None:
    """The question type only (see :func:`resolve_question`)."""
    return resolve_question(tracker)[0]


_ACUPUNCTURE_WORDS = re.compile(r"acupunct|licen[cs]e acupuncturists", re.IGNORECASE)


def list_topic(tracker: Tracker) -> str:
    """dry_needling or acupuncture: what the list question is about (named, else in context)."""
    treatments = {normalize_term(v, load_treatments()) for v in latest_entity_values(tracker, "treatment")}
    topics = {TOPIC_OF_TREATMENT[t] for t in treatments if t in TOPIC_OF_TREATMENT}
    if len(topics) == 1:
        return next(iter(topics))
    if _ACUPUNCTURE_WORDS.search(str(tracker.latest_message.get("text") or "")):
        return ACUPUNCTURE
    context = resolve_topic(tracker)
    return context if context in (DRY_NEEDLING, ACUPUNCTURE) else DRY_NEEDLING


# ---------------------------------------------------------------- actions


class ValidateStateForm(FormValidationAction):
    """Fill ``us_state`` for ``state_form`` and remember what the question was."""

    def name(self) -> str:
        return "validate_state_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        _, outcome = read_state_reply(tracker)
        events = await super().run(dispatcher, tracker, domain)
        events += question_events(tracker)
        if outcome == "found":
            events.append(SlotSet(ATTEMPTS_SLOT, None))
        elif outcome == "failed":
            attempts, giving_up = failed_attempts(tracker.get_slot(ATTEMPTS_SLOT))
            if giving_up:
                # Stop asking: the form ends and action_answer_legal explains what to do.
                events += [SlotSet(ATTEMPTS_SLOT, None), SlotSet(REQUESTED_SLOT, None)]
            else:
                events.append(SlotSet(ATTEMPTS_SLOT, float(attempts)))
        elif outcome == "cancel":
            events += [SlotSet(ATTEMPTS_SLOT, None), SlotSet(REQUESTED_SLOT, None)]
        return events

    async def extract_us_state(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        code, outcome = read_state_reply(tracker)
        if outcome == "found":
            logger.debug("state recognised: %s", code)
            return {STATE_SLOT: code}
        if outcome == "failed":
            _, giving_up = failed_attempts(tracker.get_slot(ATTEMPTS_SLOT))
            say_state_not_recognised(dispatcher, giving_up)
            return {STATE_SLOT: None}
        if outcome in ("question", "cancel"):
            # Setting the slot (to nothing) keeps the form from being rejected.
            return {STATE_SLOT: None}
        return {}

    def validate_us_state(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        known = {state.code for state in load_states()}
        return {STATE_SLOT: value if value in known else None}


class ActionAnswerLegal(Action):
    """Answer the remembered legality question for the state in ``us_state``."""

    def __init__(
        self,
        repository_factory: LegalRepositoryFactory | None = None,
        today: Callable[[], date] | None = None,
        max_age: int | None = None,
        safety_settings: SafetySettings | None = None,
    ) -> None:
        self._repository_factory = repository_factory or sql_legal_repository
        self._today = today or date.today
        self._max_age = max_age
        self._safety_settings = safety_settings

    def name(self) -> str:
        return "action_answer_legal"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        code = tracker.get_slot(STATE_SLOT)
        states = {state.code: state.name for state in load_states()}
        if code not in states:
            dispatcher.utter_message(response="utter_legal_no_state")
            return [SlotSet(ATTEMPTS_SLOT, None)]
        topic, asked = resolve_question(tracker)
        # The profession belongs to the user's own question, not to a topic taken from context.
        practitioner = tracker.get_slot(PRACTITIONER_SLOT) if asked else None
        if topic is None:
            dispatcher.utter_message(
                text=f"What would you like to know about {place(code, states[code])}?",
                buttons=[
                    {"title": "Dry needling rules", "payload": f"/{DRY_NEEDLING_INTENT}"},
                    {"title": "Acupuncture licensing", "payload": f"/{ACUPUNCTURE_INTENT}"},
                ],
            )
            return []
        if topic not in (DRY_NEEDLING, ACUPUNCTURE):
            name = TREATMENT_NAMES.get(topic, topic.replace("_", " "))
            dispatcher.utter_message(
                text=(
                    f"I only have state-by-state information on dry needling and on acupuncture licensing, "
                    f"not on {name}. For {name} in {place(code, states[code])}, please ask the state's "
                    "health or licensing department."
                ),
                buttons=[
                    {"title": "Dry needling rules", "payload": f"/{DRY_NEEDLING_INTENT}"},
                    {"title": "Acupuncture licensing", "payload": f"/{ACUPUNCTURE_INTENT}"},
                ],
            )
            return [SlotSet(QUESTION_SLOT, None)]
        try:
            answer = await run_blocking(self._answer, topic, code, practitioner)
        except DataUnavailable:
            return apologise_for_outage(dispatcher)
        if answer is None:
            dispatcher.utter_message(
                text=f"Sorry, I have no information for {place(code, states[code])} yet."
            )
            return []
        answer.send(dispatcher)
        if topic == ACUPUNCTURE and latest_entity_values(tracker, "credential"):
            # "what is a DOM in new mexico": the state's title above; what titles mean, one tap away.
            dispatcher.utter_message(
                text="Titles and letters differ from state to state:",
                buttons=[topic_button("What acupuncture titles mean", TITLES_TOPIC)],
            )
        other = other_state_named(tracker, code)
        if other in states:
            # "my PT in LA can't, my friend's in arizona can": one answer, the other one tap away.
            dispatcher.utter_message(
                text="You also named another state:", buttons=[legal_question_button(topic, other)]
            )
        events: list[dict[str, Any]] = [
            SlotSet(QUESTION_SLOT, topic),
            SlotSet("treatment_context", topic),
            SlotSet(ATTEMPTS_SLOT, None),
        ]
        if not tracker.get_slot(NOTE_SLOT):
            dispatcher.utter_message(text=LEGAL_NOTE)
            events.append(SlotSet(NOTE_SLOT, True))
        events += first_answer_notes(dispatcher, tracker, self._safety_settings, disclaimer=False)
        return events

    def _answer(self, topic: str, code: str, practitioner: str | None) -> ShortFirstAnswer | None:
        """Read the row and render it (runs in a worker thread)."""
        months = self._max_age or max_age_months()
        with self._repository_factory() as repository:
            if topic == ACUPUNCTURE:
                row = repository.acupuncture_board(code)
                return acupuncture_answer(row, self._today(), months) if row else None
            rule = repository.dry_needling(code)
            return dry_needling_answer(rule, practitioner, self._today(), months) if rule else None


LEGAL_QUESTION_TITLES = {
    DRY_NEEDLING: "Dry needling in {state}",
    ACUPUNCTURE: "Acupuncture licensing in {state}",
}
TOPIC_INTENTS = {topic: intent for intent, topic in QUESTION_INTENTS.items()}


def legal_question_button(topic: str, state_code: str) -> dict[str, str]:
    """A button that asks ``topic``'s legal question (dry needling or acupuncture) about one state."""
    title = LEGAL_QUESTION_TITLES[topic].format(state=place(state_code, state_name(state_code)))
    return state_question_button(title, TOPIC_INTENTS[topic], state_code)


def other_state_named(tracker: Tracker, answered: str) -> str | None:
    """A second state the latest message names besides the one answered, if any."""
    others = (mention.code for mention in state_mentions(tracker.latest_message) if mention.code != answered)
    return next(others, None)


class ActionListLegalStates(Action):
    """Answer list questions: which states ban dry needling, where it is not regulated, ..."""

    def __init__(self, repository_factory: LegalRepositoryFactory | None = None) -> None:
        self._repository_factory = repository_factory or sql_legal_repository

    def name(self) -> str:
        return "action_list_legal_states"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        topic = list_topic(tracker)
        kind = list_kind(str(tracker.latest_message.get("text") or ""))
        try:
            answer = await run_blocking(self._answer, topic, kind)
        except DataUnavailable:
            return apologise_for_outage(dispatcher)
        if answer is None:
            dispatcher.utter_message(response="utter_service_problem")
            return []
        answer.send(dispatcher)
        return [SlotSet(QUESTION_SLOT, topic), SlotSet("treatment_context", topic)]

    def _answer(self, topic: str, kind: str) -> ShortFirstAnswer | None:
        with self._repository_factory() as repository:
            if topic == ACUPUNCTURE:
                rows = repository.acupuncture_all()
                return acupuncture_list_answer(rows) if rows else None
            rules = repository.dry_needling_all()
            return dry_needling_list_answer(kind, rules) if rules else None
