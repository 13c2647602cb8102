"""The public REST webhook never reaches another channel's conversation (issue 19, finding 1),
and deeply nested JSON gets a 400, not a 500 (finding 8). Without a server: the handler of
channels/rest.py is called with a request-like object."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

import pytest

from channels.base import MESSENGER, SLACK, SMS, TELEGRAM, WEB, conversation_id
from channels.rest import GuardedRestInput
from server_plugins.balance import TurnBalancer

SESSION = "0123456789abcdef0123456789abcdef"

# Ids of other channels' users, bare (as the platform knows them) and as their conversations are named.
OTHER_CHANNELS = [
    (SMS, "+15551230002"),
    (SMS, "whatsapp:+15551230002"),
    (TELEGRAM, "123456789"),
    (SLACK, "U0ANN"),
    (MESSENGER, "6801234567890"),
    (WEB, SESSION),
]
SENDERS = [raw for _, raw in OTHER_CHANNELS] + [conversation_id(ns, raw) for ns, raw in OTHER_CHANNELS]


class Conversations:
    """Stands in for Rasa: every turn is stored under the message's sender id."""

    def __init__(self) -> None:
        self.by_sender: dict[str, list[str]] = {}

    async def __call__(self, message: Any) -> None:
        self.by_sender.setdefault(message.sender_id, []).append(message.text)
        await message.output_channel.send_text_message(message.sender_id, f"echo: {message.text}")
        await message.output_channel.send_response(
            message.sender_id, {"text": "Sure?", "buttons": [{"title": "Yes", "payload": "/affirm"}]}
        )


def rest_handler(conversations: Conversations) -> Any:
    channel = GuardedRestInput(balancer=TurnBalancer(workers=1))
    blueprint = channel.blueprint(conversations)
    return next(route.handler for route in blueprint._future_routes if route.uri == "/webhook")


def post(handler: Any, body: bytes) -> tuple[int, Any]:
    response = asyncio.run(handler(SimpleNamespace(body=body, stream=None)))
    return response.status, json.loads(response.body)


@pytest.mark.parametrize("sender", SENDERS)
def test_a_rest_sender_lands_in_a_rest_conversation_whatever_it_looks_like(sender):
    conversations = Conversations()
    # The other channel's user already has a conversation.
    for namespace, raw in OTHER_CHANNELS:
        conversations.by_sender[conversation_id(namespace, raw)] = ["my own message"]
    before = {key: list(texts) for key, texts in conversations.by_sender.items()}
    handler = rest_handler(conversations)

    status, replies = post(handler, json.dumps({"sender": sender, "message": "forget me"}).encode())

    assert status == 200
    assert conversations.by_sender[f"rest:{sender}"] == ["forget me"]
    assert {key: texts for key, texts in conversations.by_sender.items() if key != f"rest:{sender}"} == before
    # The client still sees its own id in every reply.
    assert [reply["recipient_id"] for reply in replies] == [sender, sender]
    assert replies[1]["buttons"] == [{"title": "Yes", "payload": "/affirm"}]


def test_the_same_rest_sender_keeps_its_conversation():
    conversations = Conversations()
    handler = rest_handler(conversations)
    for text in ("hello", "what is acupuncture?"):
        assert post(handler, json.dumps({"sender": "visitor-1", "message": text}).encode())[0] == 200
    assert conversations.by_sender == {"rest:visitor-1": ["hello", "what is acupuncture?"]}


def test_a_rejected_message_answers_to_the_clients_id():
    conversations = Conversations()
    status, replies = post(rest_handler(conversations), b'{"sender": "+15551230002", "message": "  "}')
    assert status == 200 and [reply["recipient_id"] for reply in replies] == ["+15551230002"]
    assert conversations.by_sender == {}


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"sender": "x", "message": "hi", "metadata": ' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_001,
        b'{"sender": ' + b"[" * 50_000 + b"]" * 50_000 + b', "message": "hi"}',
    ],
    ids=["nested lists", "nested metadata", "nested sender"],
)
def test_deeply_nested_json_gets_a_400_with_a_one_line_reason(body):
    conversations = Conversations()
    status, payload = post(rest_handler(conversations), body)
    assert status == 400
    assert set(payload) == {"error"} and "\n" not in payload["error"]
    assert "nested" in payload["error"]
    assert conversations.by_sender == {}


def test_a_short_first_answer_is_one_rest_reply_per_message():
    """Text and custom payload of a short-first answer stay together (Rasa would split them)."""
    import asyncio

    from actions.rendering import CitedSource, ShortFirstAnswer
    from channels.rest import RestCollectingOutput

    answer = ShortFirstAnswer(
        "k", "Short.", "Detail.", (CitedSource("S", "https://example.org/s"),), "Source: S", "Reviewed."
    )
    output = RestCollectingOutput()
    for message in answer.messages():
        asyncio.run(
            output.send_response("rest:u1", {"text": message["text"], "custom": message["json_message"]})
        )
    assert output.messages == [
        {"recipient_id": "u1", "text": "Short.", "custom": {"answer": answer.payload()}},
        {"recipient_id": "u1", "text": "Detail.\n\nSource: S", "custom": {"answer_detail": {"key": "k"}}},
    ]
