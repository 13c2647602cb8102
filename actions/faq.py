"""FAQ answers: topic key from NLU -> answer from the database -> reply with citation.

Rasa's FallbackClassifier only looks at the intent ("faq"); the ResponseSelector
can still be unsure which FAQ is meant. This action gates on the answer's own
ranking and offers "Did you mean ..." buttons when the top answers are close.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import DataUnavailable, apologise_for_outage, entity_values, intent_name, run_blocking
from actions.legal import (
    ACUPUNCTURE,
    DRY_NEEDLING,
    ActionAnswerLegal,
    legal_question_button,
    resolve_topic,
)
from actions.legal_answers import place
from actions.rendering import (
    CHOOSE_TOPIC_INTENT,
    faq_short_first,
    format_date,
    topic_button,
)
from actions.safety.notice import first_answer_notes
from actions.settings import SafetySettings, Settings, get_settings
from actions.states import STATE_SLOT, entity_mentions
from actions.store.evidence_repository import TREATMENT_LABELS
from actions.store.faq_repository import FaqRepository, sql_faq_repository
from actions.store.records import FaqAnswer
from lexicon import load_conditions, load_treatments, normalize_term, state_name

RepositoryFactory = Callable[[], AbstractContextManager[FaqRepository]]

# A bare follow-up ("what about dry needling?"), made so by nlp_pipeline.routing.FollowUpRouter.
FOLLOW_UP_INTENTS = frozenset({"inform_treatment", "inform_condition"})
MAX_CHOICES = 3


@dataclass(frozen=True)
class RankedTopic:
    """A candidate topic key with the selector's confidence."""

    key: str
    confidence: float


@dataclass
class FaqPlan:
    """What to reply: one answer, or a short list of choices."""

    answer: FaqAnswer | None = None
    ranking: list[RankedTopic] = field(default_factory=list)
    choices: list[tuple[str, str]] = field(default_factory=list)
    # The treatment the question was about (named, or carried from the conversation).
    asked_about: str | None = None


def ranked_topics(latest_message: dict[str, Any]) -> list[RankedTopic]:
    """The ResponseSelector's ranking for ``faq/<key>``, best first."""
    selector = (latest_message.get("response_selector") or {}).get("faq") or {}
    ranking: list[RankedTopic] = []
    for item in selector.get("ranking") or []:
        response_key = str(item.get("intent_response_key") or "")
        if response_key.startswith("faq/"):
            ranking.append(RankedTopic(response_key[4:], float(item.get("confidence") or 0.0)))
    if not ranking:
        response = selector.get("response") or {}
        response_key = str(response.get("intent_response_key") or "")
        if response_key.startswith("faq/"):
            ranking.append(RankedTopic(response_key[4:], float(response.get("confidence") or 0.0)))
    return sorted(ranking, key=lambda topic: topic.confidence, reverse=True)


# The evidence topics by headache type ("what about tension headaches?" after migraine).
EVIDENCE_BY_CONDITION = {
    "migraine": "acupuncture_evidence_migraine",
    "episodic_migraine": "acupuncture_evidence_migraine",
    "chronic_migraine": "acupuncture_evidence_migraine",
    "tension_type_headache": "acupuncture_evidence_tension",
    "neck_shoulder_tension": "acupuncture_evidence_tension",
}


def follow_up_ranking(last_topic: Any, treatments: set[str], conditions: Sequence[str]) -> list[RankedTopic]:
    """A bare follow-up ("and dry needling?", "what about tension headaches?") asks the last
    answer's question again, about what it names: the last topic, switched to the named
    headache type here and to the named treatment by the usual retargeting."""
    if not last_topic or not (treatments or conditions):
        return []
    key = str(last_topic)
    condition = next((normalize_term(c, load_conditions()) for c in conditions), None)
    if condition in EVIDENCE_BY_CONDITION and key in EVIDENCE_BY_CONDITION.values():
        key = EVIDENCE_BY_CONDITION[condition]
    return [RankedTopic(key, 1.0)]


def treatment_label(key: str) -> str:
    """How a reply names a treatment ("dry needling", "Tui Na")."""
    return TREATMENT_LABELS.get(key) or key.replace("_", " ")


def choice_buttons(choices: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    """Buttons for "Did you mean": one per topic, then "Something else"."""
    buttons = [topic_button(title, key) for key, title in choices]
    buttons.append({"title": "Something else", "payload": "/something_else"})
    return buttons


def clear_first(ranking: Sequence[RankedTopic], settings: Settings) -> bool:
    """Whether the first answer is sure enough, and far enough ahead of the second, to be given."""
    runner_up = ranking[1].confidence if len(ranking) > 1 else 0.0
    return (
        ranking[0].confidence >= settings.answer_min_confidence
        and ranking[0].confidence - runner_up >= settings.answer_min_margin
    )


# General answers about titles, who may practise and checking a licence: asked about one
# state ("what is a DOM in new mexico"), they offer that state's own legal answer with one tap.
STATE_DETAIL_QUESTIONS = {
    "credential_titles": ACUPUNCTURE,
    "credential_check": ACUPUNCTURE,
    ("acupuncture", "legal"): ACUPUNCTURE,
    ("dry_needling", "legal"): DRY_NEEDLING,
}


def state_detail_button(answer: FaqAnswer, state_code: str) -> dict[str, str] | None:
    """The button to that state's legal answer, for answers listed above; else None."""
    topic = STATE_DETAIL_QUESTIONS.get(answer.aspect) or STATE_DETAIL_QUESTIONS.get(
        (answer.treatment, answer.aspect)
    )
    return legal_question_button(topic, state_code) if topic else None


# Question types whose answers are about two treatments ("dry needling vs acupuncture",
# "Tui Na with acupuncture"): naming the second one does not move the question to it.
PAIR_ASPECTS = frozenset({"comparison", "combination"})


class ActionAnswerFaq(Action):
    """Answer the FAQ topic NLU picked (or the user clicked), with source and date."""

    def __init__(
        self,
        repository_factory: RepositoryFactory | None = None,
        settings: Settings | None = None,
        safety_settings: SafetySettings | None = None,
        legal: Action | None = None,
    ) -> None:
        self._repository_factory = repository_factory or sql_faq_repository
        self._settings = settings
        self._safety_settings = safety_settings
        self._legal = legal

    def name(self) -> str:
        return "action_answer_faq"

    @property
    def settings(self) -> Settings:
        return self._settings or get_settings()

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if asks_since_when(tracker):
            # The classifier may be sure of an FAQ answer for "since when?" ("how long ...").
            return await answer_legal_for_state(
                self._legal or ActionAnswerLegal(), dispatcher, tracker, domain
            )
        return await self.answer(dispatcher, tracker, tracker.latest_message)

    async def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, message: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Answer the FAQ question in ``message`` (parse data): the latest one, or an earlier
        one that the triage check-in held back until the visitor said it was general."""
        chosen = None
        if intent_name(message) == CHOOSE_TOPIC_INTENT:
            chosen = next(iter(entity_values(message, "topic_key")), None)
        mentioned = {
            key
            for key in (
                normalize_term(value, load_treatments()) for value in entity_values(message, "treatment")
            )
            if key
        }
        context = tracker.get_slot("treatment_context")
        ranking = ranked_topics(message)
        follow_up = intent_name(message) in FOLLOW_UP_INTENTS
        if not chosen and (follow_up or not ranking):
            # "and dry needling?", "what about tension headaches?" right after an answer:
            # the same question, about the treatment or headache just named. The topic
            # classifier may have ranked the words alone ("what about dry needling" ->
            # what dry needling is) before the router saw a follow-up: the last question wins.
            conditions = entity_values(message, "condition")
            ranking = follow_up_ranking(tracker.get_slot("last_topic"), mentioned, conditions) or ranking
        try:
            plan = await run_blocking(self._plan, chosen, ranking, mentioned, context)
        except DataUnavailable:
            return apologise_for_outage(dispatcher)

        if plan.answer is None and plan.choices:
            dispatcher.utter_message(
                text="I want to be sure I answer the right question. Did you mean:",
                buttons=choice_buttons(plan.choices),
            )
            return []
        if plan.answer is None:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []

        answer = plan.answer
        nearest = bool(plan.asked_about) and answer.treatment not in ("general", plan.asked_about)
        if nearest:
            # No reviewed answer on this for the treatment asked about: say so, give the nearest.
            dispatcher.utter_message(
                response="utter_nearest_answer",
                asked=treatment_label(str(plan.asked_about)),
                answered=treatment_label(answer.treatment),
            )
        faq_short_first(answer).send(dispatcher)
        events: list[dict[str, Any]] = [SlotSet("last_topic", answer.key)]
        # What the next "is it safe?" is about: the treatment asked about when only a nearest
        # answer was given, else the answer's own, or the one treatment the question named when
        # the answer is general ("is dry needling covered?").
        if nearest:
            treatment = plan.asked_about
        elif answer.treatment != "general":
            treatment = answer.treatment
        else:
            treatment = next(iter(mentioned)) if len(mentioned) == 1 else None
        if treatment is not None:
            events.append(SlotSet("treatment_context", treatment))
        # "what is an A.P. in florida" -> "who licenses them there": the state is remembered
        # for the next state question, as a legal answer's is.
        states = {mention.code for mention in entity_mentions(message)}
        if len(states) == 1:
            state = next(iter(states))
            events.append(SlotSet(STATE_SLOT, state))
            button = state_detail_button(answer, state)
            if button is not None:
                where = place(state, state_name(state))
                dispatcher.utter_message(text=f"The rules differ by state. For {where}:", buttons=[button])
        events += first_answer_notes(dispatcher, tracker, self._safety_settings)
        if self.settings.staff_inspector:
            dispatcher.utter_message(text=self._inspection(answer, plan.ranking))
        return events

    def _plan(
        self,
        chosen: str | None,
        ranking: list[RankedTopic],
        mentioned: set[str],
        context: str | None,
    ) -> FaqPlan:
        """All database reads for one turn, in one session (runs in a worker thread)."""
        with self._repository_factory() as repository:
            if chosen:
                return FaqPlan(answer=repository.get(chosen))
            if not ranking:
                return FaqPlan()
            pair = self._pair_with_context(repository, ranking, mentioned, context, self.settings)
            if pair is not None:
                return FaqPlan(answer=pair, ranking=ranking)
            # A follow-up ("and is it safe?") names no treatment: use the one in context.
            # A question naming exactly one treatment moves the answer to that treatment.
            target = next(iter(mentioned)) if len(mentioned) == 1 else None
            if target is None and not mentioned:
                target = context
            elif target is not None and self._pair_covers(repository, ranking[0].key, target):
                # "how is it different from acupuncture?" after dry needling, "is it ok on the
                # same day as acupuncture?": an answer about both treatments, acupuncture's too.
                target = None
            merged: dict[str, float] = {}
            for topic in ranking:
                key = self._retarget(repository, topic.key, target)
                merged[key] = merged.get(key, 0.0) + topic.confidence
            ordered = [
                RankedTopic(key, confidence)
                for key, confidence in sorted(merged.items(), key=lambda kv: kv[1], reverse=True)
            ]
            best = ordered[0]
            if best.confidence < self.settings.answer_reject_below:
                # Off-topic or gibberish: better to ask again than to guess.
                return FaqPlan(ranking=ordered)
            if clear_first(ordered, self.settings):
                return FaqPlan(answer=repository.get(best.key), ranking=ordered, asked_about=target)
            candidates = [topic.key for topic in ordered[:MAX_CHOICES]]
            titles = repository.titles(candidates)
            return FaqPlan(
                ranking=ordered,
                choices=[(key, titles[key]) for key in candidates if key in titles],
            )

    @classmethod
    def _pair_with_context(
        cls,
        repository: FaqRepository,
        ranking: list[RankedTopic],
        mentioned: set[str],
        context: str | None,
        settings: Settings,
    ) -> FaqAnswer | None:
        """ "can i do it alongside acupuncture?" after Tui Na: naming a second treatment when
        the classifier is unsure of its first answer, the answer about both (a comparison or
        combination among the first few ranked), if any. A clear first answer ("what is dry
        needling" after acupuncture) stays the answer."""
        if not context or len(mentioned) != 1 or context in mentioned or clear_first(ranking, settings):
            return None
        named = next(iter(mentioned))
        for topic in ranking[:MAX_CHOICES]:
            if cls._pair_covers(repository, topic.key, named) and cls._pair_covers(
                repository, topic.key, context
            ):
                return repository.get(topic.key)
        return None

    @staticmethod
    def _pair_covers(repository: FaqRepository, key: str, treatment: str) -> bool:
        """Whether the answer ``key`` is about two treatments (a comparison or a combination)
        and ``treatment`` is one of them (named in its title: "Dry needling vs acupuncture")."""
        answer = repository.get(key)
        return (
            answer is not None
            and answer.aspect in PAIR_ASPECTS
            and treatment_label(treatment).lower() in answer.title.lower()
        )

    @staticmethod
    def _retarget(repository: FaqRepository, key: str, treatment: str | None) -> str:
        if not treatment:
            return key
        answer = repository.get(key)
        if answer is None or answer.treatment in ("general", treatment):
            return key
        # "evidence_migraine" falls back to the treatment's "evidence" answer.
        family = answer.aspect.split("_")[0]
        return repository.key_for(treatment, answer.aspect) or repository.key_for(treatment, family) or key

    @staticmethod
    def _inspection(answer: FaqAnswer, ranking: list[RankedTopic]) -> str:
        """Staff-only line: which topic matched, how sure, what came second."""
        top = ranking[0] if ranking else None
        runner = ranking[1] if len(ranking) > 1 else None
        parts = [f"[staff] topic={answer.key}"]
        if top is not None:
            parts.append(f"confidence={top.confidence:.2f}")
        if runner is not None:
            parts.append(f"runner-up={runner.key} ({runner.confidence:.2f})")
        parts.append(f"source={answer.sources[0].url if answer.sources else 'none'}")
        parts.append(f"reviewed={format_date(answer.reviewed_on)}")
        return " | ".join(parts)


# A follow-up the intent classifier was unsure of is this short at most ("would it clash with
# my other meds", "can MDs do it?"); longer unclear messages are asked again.
FOLLOW_UP_MAX_WORDS = 8
FALLBACK_INTENT = "nlu_fallback"


def best_intent_before_fallback(message: dict[str, Any]) -> str | None:
    """What the intent classifier ranked first, the fallback classifier's own label aside."""
    ranking = [item for item in message.get("intent_ranking") or [] if item.get("name") != FALLBACK_INTENT]
    return str(ranking[0].get("name")) if ranking else None


# "since when?", "when did that change?" right after a state's legal answer.
_WHEN_QUESTION = re.compile(
    r"^\W*(?:since when|when did (?:that|this|it)|when was (?:that|this)|how long has (?:that|this|it)"
    r"|is (?:that|this) (?:new|recent))\b",
    re.IGNORECASE,
)
LEGAL_ANSWER_ACTION = "action_answer_legal"
_RULES_QUESTION = re.compile(
    r"\b(?:legal|illegal|allow(?:ed|s)?|law|laws|licen[cs]\w*|permit\w*|rules?|regulat\w*"
    r"|(?:can|could|may) (?:she|he|they|you|my|a|an|pts?|physios?|chiros?) (?:\w+ )?do it|practi[cs]e)\b",
    re.IGNORECASE,
)


def last_bot_action(tracker: Tracker) -> str | None:
    """The last action before the latest user message (``action_listen`` aside)."""
    seen_user = False
    for event in reversed(tracker.events or []):
        if event.get("event") == "user":
            if seen_user:
                return None
            seen_user = True
        elif seen_user and event.get("event") == "action" and event.get("name") != "action_listen":
            return str(event.get("name"))
    return None


def asks_since_when(tracker: Tracker) -> bool:
    """ "since when?", "when did that change?" right after a state's legal answer."""
    text = str((tracker.latest_message or {}).get("text") or "")
    return bool(_WHEN_QUESTION.search(text)) and last_bot_action(tracker) == LEGAL_ANSWER_ACTION


async def answer_legal_for_state(
    legal: Action,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: DomainDict,
    state: str | None = None,
) -> list[dict[str, Any]]:
    """The legal answer for ``state`` (named in this turn, not yet in the slot), or again for the
    state in the slot ("since when?": it leads with when it was checked and how old its source
    is). The state answered is said in this turn's events too, as the form says it."""
    if state is None:
        state = tracker.get_slot(STATE_SLOT)
    else:
        # A shallow copy with its own slots: the events are read, never changed.
        tracker = copy.copy(tracker)
        tracker.slots = {**tracker.slots, STATE_SLOT: state}
    return [SlotSet(STATE_SLOT, state), *await legal.run(dispatcher, tracker, domain)]


class ActionAnswerUnclear(Action):
    """A message the classifier was unsure of (``nlu_fallback``). Right after an FAQ answer, a
    short follow-up that it still thought an FAQ question, with the topic classifier's ranking,
    is answered as one (about the conversation's treatment, with the FAQ action's own gates:
    an answer, "Did you mean" or a request to rephrase). "since when?" right after a state's
    legal answer gets that answer again: it leads with when it was checked and how old its
    source is. A question about who may do it in a state, in a conversation about dry needling
    or acupuncture, gets that state's answer. Anything else is asked again."""

    def __init__(self, faq: ActionAnswerFaq | None = None, legal: Action | None = None) -> None:
        self._faq = faq or ActionAnswerFaq()
        self._legal = legal or ActionAnswerLegal()

    def name(self) -> str:
        return "action_answer_unclear"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        message = tracker.latest_message or {}
        if self.follow_up(tracker, message):
            return await self._faq.answer(dispatcher, tracker, message)
        if asks_since_when(tracker):
            return await answer_legal_for_state(self._legal, dispatcher, tracker, domain)
        state = self.state_in_context(tracker, message)
        if state is not None:
            return await answer_legal_for_state(self._legal, dispatcher, tracker, domain, state)
        dispatcher.utter_message(response="utter_ask_rephrase")
        return []

    @staticmethod
    def state_in_context(tracker: Tracker, message: dict[str, Any]) -> str | None:
        """The one state an unclear message names ("my PT is in honolulu, can she even do it")
        when the conversation is about dry needling or acupuncture: it asks that state's rules."""
        states = {mention.code for mention in entity_mentions(message)}
        if len(states) != 1 or resolve_topic(tracker) not in (DRY_NEEDLING, ACUPUNCTURE):
            return None
        # Who may do it there, or whether it is allowed: not any message that names a state
        # ("i moved to ohio and my migraines got worse").
        asks_rules = bool(entity_values(message, "practitioner")) or bool(
            _RULES_QUESTION.search(str(message.get("text") or ""))
        )
        return next(iter(states)) if asks_rules else None

    @staticmethod
    def follow_up(tracker: Tracker, message: dict[str, Any]) -> bool:
        """Whether ``message`` is a short FAQ follow-up in a conversation with an FAQ answer."""
        return (
            bool(tracker.get_slot("last_topic"))
            and len(str(message.get("text") or "").split()) <= FOLLOW_UP_MAX_WORDS
            and best_intent_before_fallback(message) == "faq"
            and bool(ranked_topics(message))
        )
