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
from datetime import date
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
from actions.evidence_ranges import (
    BadFrequency,
    Frequency,
    FrequencyProblem,
    NoEstimate,
    NoEstimateReason,
    PersonalRange,
    TrialAverages,
    parse_frequency,
    personal_range,
    whole_days,
)
from actions.rendering import CitedSource, ShortFirstAnswer, format_date, format_sources
from actions.safety.notice import first_answer_notes
from actions.settings import SafetySettings
from actions.store.evidence_data import format_figure
from actions.store.evidence_repository import (
    CONDITION_LABELS,
    ESTIMATE_FIGURES,
    TREATMENT_LABELS,
    EvidenceRepository,
    EvidenceRow,
    EvidenceSource,
    sql_evidence_repository,
)
from actions.store.records import Source
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


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


# ----------------------------------------------------------------------------- rendering (pure)


def trial_averages(row: EvidenceRow) -> TrialAverages | None:
    """The row's sourced figures for the personal range, or None when it has none."""
    values = {figure.name: figure.value for figure in row.figures}
    if row.estimate_comparison is None or not set(ESTIMATE_FIGURES) <= set(values):
        return None
    return TrialAverages(
        baseline_days=values["baseline_days"],
        treated_days=values["treated_days"],
        comparison_days=values["comparison_days"],
        responder_percent=values["responder_percent"],
        max_baseline_days=values["max_baseline_days"],
        comparison=row.estimate_comparison,
    )


def format_published(published: str) -> str:
    """ "2016-06-28" -> "28 June 2016", "2015-02" -> "February 2015", "2012" -> "2012"."""
    parts = [int(part) for part in published.split("-")]
    if len(parts) == 3:
        return format_date(date(parts[0], parts[1], parts[2]))
    if len(parts) == 2:
        return date(parts[0], parts[1], 1).strftime("%B %Y")
    return str(parts[0])


def render_sources(row: EvidenceRow, sources: tuple[EvidenceSource, ...] | None = None) -> str:
    """The sources (with their publication dates) and the row's review date."""
    cited = tuple(
        Source(title=f"{source.title} (published {format_published(source.published)})", url=source.url)
        for source in (sources if sources is not None else row.sources)
    )
    return f"{format_sources(cited)}\nLast reviewed {format_date(row.reviewed_on)}."


def cited_sources(sources: tuple[EvidenceSource, ...]) -> tuple[CitedSource, ...]:
    """The sources with their publication dates, for the channels' source links."""
    return tuple(
        CitedSource(source.title, source.url, f"published {format_published(source.published)}")
        for source in sources
    )


def render_personal(row: EvidenceRow, days: object) -> str:
    """The personal part: a rough range from trial averages, or why there is none."""
    treatment = TREATMENT_LABELS[row.treatment]
    averages = trial_averages(row)
    result = personal_range(days, averages)
    count = whole_days(days)
    if isinstance(result, PersonalRange) and averages is not None:
        return (
            "A rough guide from trial averages, not a prediction for you: in the published worked "
            f"example, someone starting at {format_figure(averages.baseline_days)} migraine days a month "
            f"drops on average to about {format_figure(averages.treated_days)} with {treatment} and about "
            f"{format_figure(averages.comparison_days)} with {averages.comparison}. Scaled to your "
            f"{_days(result.days)} a month, that is about {_days(result.average_treated)} with {treatment}, "
            f"against about {_days(result.average_comparison)} with {averages.comparison} alone. About "
            f"{result.responders_in_10} in 10 people at least halve their migraine days, which for you "
            f"would mean {_days(result.halved_days)} or fewer; others improve less, and some see no change."
        )
    reason = result.reason if isinstance(result, NoEstimate) else NoEstimateReason.NO_FIGURES
    if reason is NoEstimateReason.NO_FIGURES or averages is None:
        said = f"You mentioned {_days(count)} a month, but the" if count is not None else "The"
        return (
            f"{said} evidence for {treatment} and {CONDITION_LABELS[row.condition]} doesn't include the "
            "figures needed to turn it into a personal estimate, so I can't give you one."
        )
    if reason is NoEstimateReason.NOT_A_NUMBER or count is None:
        return "I couldn't use the number of days you gave, so I can't give you a personal estimate."
    if reason is NoEstimateReason.ZERO_DAYS:
        return "You mentioned 0 days a month, so there is nothing for these averages to reduce."
    if reason is NoEstimateReason.TOO_FEW_DAYS:
        return (
            f"With {_days(count)} a month, the trial averages are too coarse to turn into a personal "
            "figure: they come out the same with or without treatment."
        )
    text = (
        f"You mentioned {_days(count)} a month. The trials behind these figures included people with "
        f"{format_figure(averages.max_baseline_days)} or fewer headache days a month, so I can't scale "
        f"them to {_days(count)}."
    )
    if row.condition == "episodic_migraine":
        text += " If your doctor has told you that you have chronic migraine, ask me about that instead."
    return text


def estimate_offer(row: EvidenceRow) -> str | None:
    """Invite a frequency, for rows that can turn one into a personal range."""
    if trial_averages(row) is None:
        return None
    return (
        "If you tell me how many migraine days you usually have in a month, I can turn these "
        "averages into a rough guide for you."
    )


def render_answer(row: EvidenceRow, days: object = None) -> ShortFirstAnswer:
    """The short answer first, then the detail (course; results; limits and doctor) and sources."""
    treatment = TREATMENT_LABELS[row.treatment]
    condition = CONDITION_LABELS[row.condition]
    text = {part.name: part.text for part in row.parts}
    personal = render_personal(row, days) if days is not None else estimate_offer(row)
    results = f"Realistic results: {text['results']}"
    if personal:
        results += f"\n\n{personal}"
    detail = "\n\n".join(
        [
            f"What to expect from {treatment} for {condition}: a guide from the research, not a promise.",
            f"Typical course: {text['course']}",
            f"When people notice a change: {text['onset']}",
            results,
            f"How sure the evidence is: {text['certainty']}",
            f"After the course: {text['maintenance']}",
            f"What it won't do: {text['limits']}",
            f"When to see a doctor instead: {text['see_doctor']}",
        ]
    )
    return ShortFirstAnswer(
        key=f"expectations_{row.treatment}_{row.condition}",
        short=text["short"],
        detail=detail,
        sources=cited_sources(row.sources),
        sources_text=render_sources(row),
        note=f"Last reviewed {format_date(row.reviewed_on)}.",
    )


def frequency_problem_message(problem: BadFrequency | None) -> str:
    """A clear message for a frequency that can't be used (None: no number found)."""
    if problem is None:
        return (
            "I couldn't find a number of days in that. You can say it like \"about eight migraine days "
            'a month" or "two a week".'
        )
    if problem.problem is FrequencyProblem.TOO_MANY_PER_WEEK:
        return f'"{problem.stated}" is more than the 7 days a week has. Could you check the number?'
    if problem.problem is FrequencyProblem.TOO_MANY_PER_MONTH:
        return f'"{problem.stated}" is more days than a month has. Could you check the number?'
    return 'Please give a whole number of days, for example "about eight days a month".'


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
                monthly = _days(frequency.days_per_month)
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
