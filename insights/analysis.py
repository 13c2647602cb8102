"""What the bot recorded, turned into the report's counts (issue 21).

A *turn* is one visitor message (a ``user`` event) and what followed it up to the next
one: the actions that ran, the bot's messages (with the response name Rasa keeps in
their metadata as ``utter_action``, and their buttons) and the slots the actions set.
Everything is read from what the bot really records:

=====================  =====================================================================
answer (topic)          ``action_answer_faq`` then slot ``last_topic`` = key (question type
                        and treatment from data/content); ``action_answer_legal`` /
                        ``action_list_legal_states`` then slot ``legal_question``;
                        ``action_answer_expectations`` then slot ``expect_answered``;
                        ``action_check_licence``, ``action_find_practitioners``,
                        ``action_decline_diagnosis``, ``action_decline_medication_advice``
follow-up               the visitor wrote again after the answer (not "thanks"/"bye")
fallback                ``utter_ask_rephrase`` / ``utter_default`` / ``action_default_fallback``
out of scope            ``utter_out_of_scope``
not covered yet         intent ``ask_not_covered_yet`` (no reviewed answer on that theme)
"Did you mean"          a bot message whose buttons end with "Something else"
                        (``/something_else``); the next message says what was chosen
low confidence          an FAQ answer whose best topic scored under ``low_confidence``
non-English             intent ``other_language`` (language code in the parse data)
triage                  the tier's guidance response (``actions.triage.GUIDANCE``) and
                        ``action_triage_check_in``
handoff                 ``action_handoff`` for ``request_human`` / ``book_appointment`` /
                        ``ask_clinic_details`` (the clinic's hours, address, plans, prices)
forget me               intent ``forget_me`` (asked), ``action_forget_me`` (confirmed); the
                        conversation is then deleted, so ``faqbot_erasures`` counts those
=====================  =====================================================================

A message the red-flag detector or classifier recognised is counted, never quoted: its
text is not even kept in memory. Other texts are kept only for unanswered turns, already
redacted (``insights.redaction``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from actions.rendering import CHOOSE_TOPIC_INTENT
from actions.safety.texts import BOOK_INTENT, CLINIC_DETAILS_INTENT, NOT_COVERED_INTENT
from actions.triage import GUIDANCE
from insights.redaction import redact
from insights.store import EventRow

# Unanswered categories, in the order the report lists them.
FALLBACK = "fallback"
OUT_OF_SCOPE = "out of scope"
NOT_COVERED = "not covered yet"
DID_YOU_MEAN = "did you mean"
LOW_CONFIDENCE = "low confidence"
NON_ENGLISH = "non-English"
CATEGORIES = (FALLBACK, OUT_OF_SCOPE, NOT_COVERED, DID_YOU_MEAN, LOW_CONFIDENCE, NON_ENGLISH)

FALLBACK_RESPONSES = frozenset({"utter_ask_rephrase", "utter_default"})
FALLBACK_ACTIONS = frozenset({"action_default_fallback"})
SOMETHING_ELSE_PAYLOAD = "/something_else"
SOMETHING_ELSE = "Something else"
NO_CHOICE = "no button (typed or left)"
SENSITIVE_INTENTS = frozenset({"red_flag", "symptom_check_in", "triage_now"})
# A next message that only closes the conversation is not a follow-up question.
CLOSING_INTENTS = frozenset({"goodbye", "thanks", "greet", "deny", "affirm"})
TIER_OF_RESPONSE = {response: tier for tier, response in GUIDANCE.items()}
CHECK_IN = "check-in asked (is this happening now?)"
HANDOFF_INTENTS = {
    "request_human": "handoff: clinic contact asked",
    BOOK_INTENT: "handoff: booking asked",
    CLINIC_DETAILS_INTENT: "handoff: the clinic's own details asked",
}
FORGET_ASKED = "forget me: asked (conversation still stored)"
FORGET_ERASED = "forget me: conversations deleted on request"

# Answers that are not FAQ topics: action -> question type (the treatment is "general"
# unless a slot names it).
ANSWER_ACTIONS = {
    "action_answer_legal": "legality by state",
    "action_list_legal_states": "legality: list of states",
    "action_answer_expectations": "realistic expectations",
    "action_check_licence": "licence check",
    "action_find_practitioners": "find a practitioner",
    "action_decline_diagnosis": "diagnosis (declined)",
    "action_decline_medication_advice": "medication advice (declined)",
}
# The slot each of those actions sets when it did answer (None: it always answers).
ANSWER_SLOTS = {
    "action_answer_legal": "legal_question",
    "action_list_legal_states": "legal_question",
    "action_answer_expectations": "expect_answered",
}
GENERAL = "general"
# The slots the report reads; the others are skipped without decoding.
READ_SLOTS = ("last_topic", "treatment_context", *ANSWER_SLOTS.values())


@dataclass(frozen=True)
class Topic:
    """Question type x treatment, as the content files name them."""

    question_type: str
    treatment: str


@dataclass(frozen=True)
class UnansweredTurn:
    """One unanswered visitor message, redacted."""

    category: str
    text: str
    language: str | None = None


@dataclass
class Insights:
    """Every count the report shows (no sender ids, no red-flag text)."""

    low_confidence: float
    conversations: Counter[tuple[date, str]] = field(default_factory=Counter)
    messages: Counter[tuple[date, str]] = field(default_factory=Counter)
    answers: Counter[Topic] = field(default_factory=Counter)
    followed_up: Counter[Topic] = field(default_factory=Counter)
    unanswered: Counter[str] = field(default_factory=Counter)
    did_you_mean: Counter[str] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)
    triage: Counter[str] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)
    questions: list[UnansweredTurn] = field(default_factory=list)
    # Red-flag messages seen (counted, never quoted).
    red_flag_messages: int = 0

    @property
    def total_conversations(self) -> int:
        return sum(self.conversations.values())


def _day(timestamp: Any) -> date:
    return datetime.fromtimestamp(float(timestamp or 0), timezone.utc).date()


def _load(row: EventRow) -> dict[str, Any]:
    try:
        data = json.loads(row.data)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def top_faq_confidence(parse_data: Mapping[str, Any]) -> float | None:
    """The best FAQ topic's score in the parse data (None when no FAQ ranking)."""
    selector = (parse_data.get("response_selector") or {}).get("faq") or {}
    ranking = selector.get("ranking") or []
    scores = [float(item.get("confidence") or 0.0) for item in ranking if isinstance(item, dict)]
    if scores:
        return max(scores)
    response = selector.get("response") or {}
    return float(response["confidence"]) if response.get("confidence") is not None else None


def _is_did_you_mean(bot: Mapping[str, Any]) -> bool:
    buttons = (bot.get("data") or {}).get("buttons") or []
    return any(isinstance(b, dict) and b.get("payload") == SOMETHING_ELSE_PAYLOAD for b in buttons) and any(
        isinstance(b, dict) and str(b.get("payload", "")).startswith(f"/{CHOOSE_TOPIC_INTENT}")
        for b in buttons
    )


def _chosen_topic(parse_data: Mapping[str, Any]) -> str:
    for entity in parse_data.get("entities") or []:
        if isinstance(entity, dict) and entity.get("entity") == "topic_key":
            return str(entity.get("value"))
    return "unknown"


@dataclass
class _Turn:
    day: date
    intent: str | None
    parse_data: dict[str, Any]
    text: str | None
    actions: list[str] = field(default_factory=list)
    responses: list[str] = field(default_factory=list)
    did_you_mean: bool = False
    slots: dict[str, Any] = field(default_factory=dict)


def _turns(events: Iterable[EventRow]) -> list[_Turn]:
    turns: list[_Turn] = []
    for row in events:
        if row.type_name == "user":
            data = _load(row)
            parse_data = data.get("parse_data") or {}
            turns.append(_Turn(_day(data.get("timestamp")), row.intent_name, parse_data, data.get("text")))
        elif not turns:
            continue  # a session start, the greeting action, ... before the first message
        elif row.type_name == "action" and row.action_name:
            turns[-1].actions.append(row.action_name)
            if row.action_name.startswith("utter_"):
                turns[-1].responses.append(row.action_name)  # a response a rule ran directly
        elif row.type_name == "bot":
            # Most bot messages are answers with neither buttons nor a response name:
            # a substring test spares decoding their JSON.
            if '"buttons": [' not in row.data and '"utter_action"' not in row.data:
                continue
            bot = _load(row)
            response = (bot.get("metadata") or {}).get("utter_action")
            if response and response not in turns[-1].responses:
                turns[-1].responses.append(str(response))
            turns[-1].did_you_mean |= _is_did_you_mean(bot)
        elif row.type_name == "slot":
            if not any(f'"name": "{name}"' in row.data for name in READ_SLOTS):
                continue
            slot = _load(row)
            if slot.get("name"):
                turns[-1].slots[str(slot["name"])] = slot.get("value")
    return turns


class Analyser:
    """Adds conversations to :class:`Insights`, one at a time."""

    def __init__(self, topics: Mapping[str, Topic], low_confidence: float) -> None:
        self._topics = topics
        self.insights = Insights(low_confidence=low_confidence)

    def topic_of(self, key: str) -> Topic:
        return self._topics.get(key) or Topic(key, GENERAL)

    def add(self, channel: str, events: Iterable[EventRow]) -> None:
        """Count one conversation (its channel prefix and its events in order)."""
        insights = self.insights
        turns = _turns(events)
        for day in {turn.day for turn in turns}:
            insights.conversations[(day, channel)] += 1
        pending_answers: list[Topic] = []
        pending_choice = False
        for turn in turns:
            insights.messages[(turn.day, channel)] += 1
            intent = turn.intent or (turn.parse_data.get("intent") or {}).get("name")
            sensitive = intent in SENSITIVE_INTENTS or bool(turn.parse_data.get("red_flag"))
            if sensitive:
                insights.red_flag_messages += 1
                turn.text = None  # never kept, never quoted
            if pending_answers and intent not in CLOSING_INTENTS:
                for topic in pending_answers:
                    insights.followed_up[topic] += 1
            pending_answers = []
            if pending_choice:
                if intent == CHOOSE_TOPIC_INTENT:
                    chosen = self.topic_of(_chosen_topic(turn.parse_data))
                    insights.did_you_mean[f"chose: {chosen.question_type} / {chosen.treatment}"] += 1
                elif intent == "something_else":
                    insights.did_you_mean[SOMETHING_ELSE] += 1
                else:
                    insights.did_you_mean[NO_CHOICE] += 1
                pending_choice = False
            pending_answers = self._answers(turn)
            categories = self._unanswered(turn, intent, pending_answers)
            for category in categories:
                insights.unanswered[category] += 1
            if turn.did_you_mean:
                insights.did_you_mean["shown"] += 1
                pending_choice = True
            if categories and turn.text and not sensitive and not turn.text.startswith("/"):
                language = turn.parse_data.get("language") if NON_ENGLISH in categories else None
                insights.questions.append(UnansweredTurn(categories[0], redact(turn.text), language))
            self._triage(turn, intent)
        if pending_choice:
            insights.did_you_mean[NO_CHOICE] += 1

    def _answers(self, turn: _Turn) -> list[Topic]:
        answers: list[Topic] = []
        if "action_answer_faq" in turn.actions and turn.slots.get("last_topic"):
            answers.append(self.topic_of(str(turn.slots["last_topic"])))
        for action, question_type in ANSWER_ACTIONS.items():
            if action not in turn.actions:
                continue
            slot = ANSWER_SLOTS.get(action)
            if slot is not None and not turn.slots.get(slot):
                continue  # asked for the state, apologised, ...: no answer given
            treatment = turn.slots.get("treatment_context") or turn.slots.get("legal_question") or GENERAL
            answers.append(Topic(question_type, str(treatment)))
        for topic in answers:
            self.insights.answers[topic] += 1
        return answers

    def _unanswered(self, turn: _Turn, intent: str | None, answers: list[Topic]) -> list[str]:
        categories: list[str] = []
        if intent == "other_language":
            categories.append(NON_ENGLISH)
            self.insights.languages[str(turn.parse_data.get("language") or "unknown")] += 1
        elif intent == NOT_COVERED_INTENT:
            categories.append(NOT_COVERED)
        elif "utter_out_of_scope" in turn.responses:
            categories.append(OUT_OF_SCOPE)
        elif FALLBACK_RESPONSES.intersection(turn.responses) or FALLBACK_ACTIONS.intersection(turn.actions):
            categories.append(FALLBACK)
        if turn.did_you_mean:
            categories.append(DID_YOU_MEAN)
        if (
            "action_answer_faq" in turn.actions
            and turn.slots.get("last_topic")
            and intent != CHOOSE_TOPIC_INTENT
        ):
            confidence = top_faq_confidence(turn.parse_data)
            if confidence is not None and confidence < self.insights.low_confidence:
                categories.append(LOW_CONFIDENCE)
        return categories

    def _triage(self, turn: _Turn, intent: str | None) -> None:
        insights = self.insights
        for response in turn.responses:
            tier = TIER_OF_RESPONSE.get(response)
            if tier:
                insights.triage[f"tier: {tier}"] += 1
        if "action_triage_check_in" in turn.actions:
            insights.triage[CHECK_IN] += 1
        if "action_handoff" in turn.actions and intent in HANDOFF_INTENTS:
            insights.requests[HANDOFF_INTENTS[intent]] += 1
        if intent == "forget_me":
            insights.requests[FORGET_ASKED] += 1
