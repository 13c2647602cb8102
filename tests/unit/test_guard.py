"""The turn guard of our input channels: input checks and no silent failures."""

from __future__ import annotations

import asyncio

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from server_plugins import guard
from server_plugins.guard import APOLOGY, EMPTY_MESSAGE, STORE_WARNING, check_message, guarded_turn
from server_plugins.tracker_store import STORE_HEALTH


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("what is tuina", "what is tuina"),
        ("  what\tis   tuina \n", "what is tuina"),
        ("what\x00is\x07 tuina", "what is tuina"),
        ("what\u202eis tuina", "what is tuina"),
        ("é", "é"),
    ],
)
def test_clean_text_passes(raw, clean):
    assert check_message(raw) == (clean, None)


@pytest.mark.parametrize("raw", ["", "   ", "\x00\x01", None, 42, ["x"]])
def test_empty_or_non_text_is_rejected_politely(raw):
    assert check_message(raw) == (None, EMPTY_MESSAGE)


def test_oversized_text_is_rejected_with_its_length(monkeypatch):
    monkeypatch.setenv("MAX_MESSAGE_CHARS", "10")
    text, reply = check_message("x" * 11)
    assert text is None
    assert reply == guard.too_long_message(11)
    assert "11 characters" in reply and "fewer than 10" in reply


def run_turn(handler) -> list[dict]:
    collector = CollectingOutputChannel()
    asyncio.run(guarded_turn(handler, UserMessage("hi", collector, "user-1")))
    return collector.messages


def test_a_normal_turn_is_passed_through_unchanged():
    async def handler(message: UserMessage) -> None:
        await message.output_channel.send_text_message("user-1", "hello")

    assert run_turn(handler) == [{"recipient_id": "user-1", "text": "hello"}]


def test_a_silent_turn_gets_an_apology():
    async def handler(message: UserMessage) -> None:
        return None  # e.g. the action server was down: Rasa only logs it

    assert run_turn(handler) == [{"recipient_id": "user-1", "text": APOLOGY}]


def test_a_crashing_turn_gets_an_apology_not_a_stack_trace():
    async def handler(message: UserMessage) -> None:
        raise RuntimeError("boom")

    assert run_turn(handler) == [{"recipient_id": "user-1", "text": APOLOGY}]


def test_a_tracker_store_failure_during_the_turn_is_announced(monkeypatch):
    monkeypatch.setattr(STORE_HEALTH, "last_failure", 0.0)

    async def handler(message: UserMessage) -> None:
        await message.output_channel.send_text_message("user-1", "answer")
        STORE_HEALTH.last_failure = 10**12  # the store failed after the turn began

    assert run_turn(handler) == [
        {"recipient_id": "user-1", "text": "answer"},
        {"recipient_id": "user-1", "text": STORE_WARNING},
    ]


def test_action_timeout_is_bounded(monkeypatch):
    import rasa.core.actions.action as rasa_action

    monkeypatch.setattr(rasa_action, "DEFAULT_REQUEST_TIMEOUT", 300)
    monkeypatch.setenv("ACTION_TIMEOUT_SECONDS", "7")
    guard.bound_action_timeout()
    assert rasa_action.DEFAULT_REQUEST_TIMEOUT == 7.0
