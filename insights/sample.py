"""Conversations in the exact shape the bot records them, for tests, the bench and the
screenshot (never used by the bot or the report itself).

Each helper returns the events of one turn as Rasa 3.6 stores them in ``events.data``
(checked against a real run: user parse data with the FAQ ranking under
``response_selector.faq``, ``utter_action`` in a response's metadata, buttons in
``data.buttons``, slots after the action that set them).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from actions.faq import choice_buttons
from actions.store.conversations import EVENTS
from actions.triage import GUIDANCE

Event = dict[str, Any]


class Clock:
    """Timestamps for one conversation: each event a little after the previous one."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self, step: float = 0.05) -> float:
        self.now += step
        return self.now


def user(
    clock: Clock, text: str, intent: str, ranking: Sequence[tuple[str, float]] = (), **extra: Any
) -> Event:
    parse: dict[str, Any] = {
        "intent": {"name": intent, "confidence": 1.0},
        "entities": extra.pop("entities", []),
        "text": text,
        "intent_ranking": [{"name": intent, "confidence": 1.0}],
    }
    if ranking:
        parse["response_selector"] = {
            "all_retrieval_intents": ["faq"],
            "faq": {
                "response": {"confidence": ranking[0][1], "intent_response_key": f"faq/{ranking[0][0]}"},
                "ranking": [{"confidence": c, "intent_response_key": f"faq/{k}"} for k, c in ranking],
            },
        }
    parse.update(extra)
    return {
        "event": "user",
        "timestamp": clock(5.0),
        "text": text,
        "parse_data": parse,
        "input_channel": "rest",
    }


def action(clock: Clock, name: str) -> Event:
    return {"event": "action", "timestamp": clock(), "name": name, "policy": "RulePolicy", "confidence": 1.0}


def bot(
    clock: Clock, text: str, response: str | None = None, buttons: list[dict[str, str]] | None = None
) -> Event:
    return {
        "event": "bot",
        "timestamp": clock(),
        "metadata": {"utter_action": response} if response else {},
        "text": text,
        "data": {"buttons": buttons, "custom": None},
    }


def slot(clock: Clock, name: str, value: Any) -> Event:
    return {"event": "slot", "timestamp": clock(), "name": name, "value": value}


def listen(clock: Clock) -> Event:
    return action(clock, "action_listen")


# ---------------------------------------------------------------- turns
def _answer(clock: Clock, message: Event, key: str, treatment: str | None) -> list[Event]:
    """``message``, then action_answer_faq answering ``key`` (and the treatment in context)."""
    events = [message, action(clock, "action_answer_faq"), bot(clock, f"Answer about {key}.")]
    events.append(slot(clock, "last_topic", key))
    if treatment:
        events.append(slot(clock, "treatment_context", treatment))
    return [*events, listen(clock)]


def faq(
    clock: Clock, text: str, key: str, confidence: float = 0.9, treatment: str | None = None
) -> list[Event]:
    ranking = [(key, confidence), ("cost", round(confidence / 3, 3))]
    return _answer(clock, user(clock, text, "faq", ranking), key, treatment)


def did_you_mean(clock: Clock, text: str, keys: Sequence[str]) -> list[Event]:
    buttons = choice_buttons([(key, key.replace("_", " ")) for key in keys])
    return [
        user(clock, text, "faq", [(keys[0], 0.25), (keys[1], 0.22)]),
        action(clock, "action_answer_faq"),
        bot(clock, "I want to be sure I answer the right question. Did you mean:", buttons=buttons),
        listen(clock),
    ]


def choose(clock: Clock, key: str, treatment: str | None = None) -> list[Event]:
    text = f'/choose_topic{{"topic_key": "{key}"}}'
    message = user(clock, text, "choose_topic", entities=[{"entity": "topic_key", "value": key}])
    return _answer(clock, message, key, treatment)


def something_else(clock: Clock) -> list[Event]:
    return [
        user(clock, "/something_else", "something_else"),
        action(clock, "utter_something_else"),
        bot(clock, "OK, could you ask it another way?", "utter_something_else"),
        listen(clock),
    ]


def reply_with(clock: Clock, text: str, intent: str, response: str, **extra: Any) -> list[Event]:
    """A turn a rule answers with a domain response (fallback, out of scope, thanks, ...)."""
    return [
        user(clock, text, intent, **extra),
        action(clock, response),
        bot(clock, "...", response),
        listen(clock),
    ]


def fallback(clock: Clock, text: str) -> list[Event]:
    return reply_with(clock, text, "nlu_fallback", "utter_ask_rephrase")


def out_of_scope(clock: Clock, text: str) -> list[Event]:
    return reply_with(clock, text, "out_of_scope", "utter_out_of_scope")


def other_language(clock: Clock, text: str, language: str) -> list[Event]:
    return [
        user(clock, text, "other_language", language=language),
        action(clock, "action_reply_other_language"),
        bot(clock, "Sorry, for now I can only answer in English."),
        listen(clock),
    ]


def custom_action(clock: Clock, text: str, intent: str, name: str, **slots: Any) -> list[Event]:
    events = [user(clock, text, intent), action(clock, name), bot(clock, "...")]
    events += [slot(clock, key, value) for key, value in slots.items()]
    return [*events, listen(clock)]


def red_flag(clock: Clock, text: str, tier: str) -> list[Event]:
    return [
        user(clock, text, "red_flag", red_flag={"rule": "sample", "tier": tier, "source": "detector"}),
        action(clock, "action_red_flag_triage"),
        bot(clock, "...", GUIDANCE[tier]),
        listen(clock),
    ]


def check_in(clock: Clock, text: str, tier: str, now: bool) -> list[Event]:
    events = [
        user(clock, text, "symptom_check_in", red_flag={"tier": "check_in", "candidate_tier": tier}),
        action(clock, "action_triage_check_in"),
        bot(clock, "Before I answer: is this happening now?", "utter_triage_check_in"),
        slot(clock, "triage_pending", tier),
        listen(clock),
    ]
    answer = "triage_now" if now else "triage_not_now"
    events += [user(clock, f"/{answer}", answer), action(clock, "action_triage_answer")]
    events.append(bot(clock, "...", GUIDANCE[tier] if now else "utter_triage_not_now"))
    return [*events, slot(clock, "triage_pending", None), listen(clock)]


def conversation_start(clock: Clock) -> list[Event]:
    return [
        action(clock, "action_session_start"),
        {"event": "session_started", "timestamp": clock()},
        listen(clock),
    ]


# ---------------------------------------------------------------- storing
def rows(sender_id: str, events: Iterable[Event]) -> Iterator[dict[str, Any]]:
    """The ``events`` rows Rasa's SQLTrackerStore writes (server_plugins.tracker_store._event_row)."""
    for event in events:
        yield {
            "sender_id": sender_id,
            "type_name": event["event"],
            "timestamp": event.get("timestamp"),
            "intent_name": (event.get("parse_data") or {}).get("intent", {}).get("name"),
            "action_name": event.get("name"),
            "data": json.dumps(event),
        }


def seed(engine: Engine, conversations: Iterable[tuple[str, list[Event]]], batch: int = 20_000) -> int:
    """Write ``(sender_id, events)`` into the tracker store's ``events`` table; return rows written."""
    EVENTS.create(engine, checkfirst=True)
    written = 0
    pending: list[dict[str, Any]] = []
    with engine.begin() as connection:
        for sender_id, events in conversations:
            pending.extend(rows(sender_id, events))
            if len(pending) >= batch:
                connection.execute(insert(EVENTS), pending)
                written += len(pending)
                pending = []
        if pending:
            connection.execute(insert(EVENTS), pending)
            written += len(pending)
    return written


# ---------------------------------------------------------------- demo traffic
FAQ_QUESTIONS = (
    ("what is dry needling?", "dry_needling_what_is", "dry_needling"),
    ("does acupuncture hurt", "acupuncture_pain", "acupuncture"),
    ("how much does a session cost", "cost", None),
    ("is dry needling safe", "dry_needling_side_effects", "dry_needling"),
    ("does acupuncture help migraines", "acupuncture_evidence_migraine", "acupuncture"),
    ("what is tui na", "tui_na_what_is", "tui_na"),
    ("how many sessions will I need", "acupuncture_sessions", "acupuncture"),
)
UNANSWERED = (
    "do you take medicare",
    "does medicare cover acupuncture",
    "is acupuncture covered by medicare part b",
    "can I bring my dog to the clinic",
    "do you have parking",
    "is there parking near the clinic",
    "what should I eat before acupuncture",
    "can I eat before my session",
)
CHANNELS = ("web", "web", "web", "sms", "tg", "rest")


def demo_conversation(random_: random.Random, start: float) -> list[Event]:
    """One plausible conversation (a question or two, sometimes unanswered or urgent)."""
    clock = Clock(start)
    events = conversation_start(clock)
    for _ in range(random_.choice((1, 1, 2, 3))):
        draw = random_.random()
        if draw < 0.55:
            text, key, treatment = random_.choice(FAQ_QUESTIONS)
            events += faq(clock, text, key, random_.choice((0.92, 0.8, 0.45)), treatment)
        elif draw < 0.7:
            events += fallback(clock, random_.choice(UNANSWERED))
        elif draw < 0.78:
            events += did_you_mean(
                clock, random_.choice(UNANSWERED), ["cost", "insurance_coverage", "parking"]
            )
            if random_.random() < 0.5:
                events += choose(clock, "cost")
            else:
                events += something_else(clock)
        elif draw < 0.83:
            events += custom_action(
                clock,
                "is dry needling legal in texas",
                "ask_dry_needling_legality",
                "action_answer_legal",
                legal_question="dry_needling",
                treatment_context="dry_needling",
            )
        elif draw < 0.87:
            events += other_language(clock, "¿La acupuntura ayuda con la migraña?", "es")
        elif draw < 0.9:
            events += red_flag(clock, "worst headache of my life", random_.choice(("emergency", "same_day")))
        elif draw < 0.93:
            events += custom_action(clock, "can I talk to a person", "request_human", "action_handoff")
        else:
            events += out_of_scope(clock, "what's the weather tomorrow")
    if random_.random() < 0.3:
        events += reply_with(clock, "thanks", "thanks", "utter_youre_welcome")
    return events


def demo_traffic(count: int, first: float, days: int, seed_: int = 21) -> Iterator[tuple[str, list[Event]]]:
    """``count`` conversations spread over ``days`` days from ``first`` (epoch seconds)."""
    random_ = random.Random(seed_)
    for number in range(count):
        start = first + random_.random() * days * 86400
        channel = random_.choice(CHANNELS)
        yield f"{channel}:demo-{number:06d}", demo_conversation(random_, start)
