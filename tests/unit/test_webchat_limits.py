"""The widget channel's session secret, message rate limits and bounded metadata
(issue 19, findings 2 and 3), without a Rasa server; the REST channel's metadata
limit; the deployment files require the session secret."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from types import SimpleNamespace
from typing import Any

import pytest

from channels.rate_limit import TOO_FAST, MessageRate, TokenBuckets
from channels.rest import GuardedRestInput
from channels.socketio import SessionTokens, WebChatConfigError, WebChatInput, session_secret
from server_plugins.balance import TurnBalancer
from server_plugins.guard import MAX_METADATA_BYTES, bounded_metadata
from tests.conftest import ROOT

SECRET = "k" * 40


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def no_shared_redis(monkeypatch):
    for name in (
        "REDIS_URL",
        "WEBCHAT_SESSION_SECRET",
        "WEBCHAT_MESSAGES_BURST",
        "WEBCHAT_MESSAGES_PER_MINUTE",
    ):
        monkeypatch.delenv(name, raising=False)


# ---------------------------------------------------------------- the session secret
def test_without_a_secret_each_process_makes_one_and_says_so(caplog):
    with caplog.at_level(logging.WARNING, logger="channels.socketio"):
        first, second = session_secret("", ""), session_secret("", "")
    assert len(first) == 32 and first != second
    assert [record.getMessage() for record in caplog.records] == [
        "WEBCHAT_SESSION_SECRET is not set: widget sessions are signed with a random secret of this "
        "process, so a restart starts every widget conversation afresh (set it in production)"
    ] * 2


def test_a_configured_secret_is_used_and_shared_by_processes(monkeypatch):
    monkeypatch.setenv("WEBCHAT_SESSION_SECRET", SECRET)
    token = WebChatInput.from_credentials({"session_persistence": True}).sessions.issue()  # type: ignore[attr-defined]
    replica = WebChatInput.from_credentials({"session_persistence": True})
    assert replica.sessions.conversation(token) == SessionTokens(SECRET.encode()).conversation(token)  # type: ignore[attr-defined]
    assert replica.sessions.conversation(token) is not None  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", ["short", "<long-random-secret>", "<" + "x" * 40 + ">"])
def test_a_short_or_placeholder_secret_refuses_to_start(value):
    with pytest.raises(WebChatConfigError, match="at least 32 characters"):
        session_secret(value, "")


def test_several_processes_without_a_shared_secret_refuse_to_start(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/1")
    with pytest.raises(WebChatConfigError, match="set WEBCHAT_SESSION_SECRET too, the same on every replica"):
        WebChatInput.from_credentials({"session_persistence": True})
    monkeypatch.setenv("WEBCHAT_SESSION_SECRET", SECRET)
    assert isinstance(WebChatInput.from_credentials({"session_persistence": True}), WebChatInput)


def test_the_deployment_files_require_the_session_secret():
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    compose = yaml.load((ROOT / "deploy" / "docker-compose.yml").read_text(encoding="utf-8"))
    script = compose["services"]["rasa"]["command"][0]
    assert '"$${WEBCHAT_SESSION_SECRET:?set WEBCHAT_SESSION_SECRET in deploy/.env}"' in script
    example = (ROOT / "deploy" / ".env.example").read_text(encoding="utf-8")
    assert re.search(r"^WEBCHAT_SESSION_SECRET=<[a-z-]+>$", example, re.M)
    helm = yaml.load((ROOT / "deploy" / "helm" / "values.yaml").read_text(encoding="utf-8"))
    env = {item["name"]: item for item in helm["extraEnv"]}
    reference = env["WEBCHAT_SESSION_SECRET"]["valueFrom"]["secretKeyRef"]
    assert reference["name"] == "faqbot-secrets" and not reference.get("optional")


# ---------------------------------------------------------------- token buckets
def test_a_bucket_allows_a_burst_then_refills_at_its_rate():
    clock = Clock()
    buckets = TokenBuckets(burst=3, per_minute=30, clock=clock)
    assert [buckets.take("a") for _ in range(5)] == [True, True, True, False, False]
    assert buckets.take("b")  # another key has a bucket of its own
    clock.now += 1.9
    assert not buckets.take("a")
    clock.now += 0.1  # 2 s at 30 a minute: one message more
    assert buckets.take("a") and not buckets.take("a")


def test_idle_buckets_are_forgotten_and_their_number_is_bounded():
    clock = Clock()
    buckets = TokenBuckets(burst=2, per_minute=60, size=3, clock=clock)
    for key in "abcd":
        buckets.take(key)
    assert list(buckets._buckets) == ["b", "c", "d"]
    clock.now += 2  # full again: nothing to remember
    buckets.take("e")
    assert list(buckets._buckets) == ["e"]


def test_message_rate_without_redis_counts_connections_and_conversations_apart():
    clock = Clock()
    rate = MessageRate(burst=2, per_minute=60, redis_url="", clock=clock)

    async def scenario() -> list[bool]:
        return [await rate.conversation_allowed("web:x") for _ in range(3)]

    assert asyncio.run(scenario()) == [True, True, False]
    assert [rate.connection_allowed("sid-1") for _ in range(3)] == [True, True, False]
    rate.connection_closed("sid-1")
    assert rate.connection_allowed("sid-1")


# ---------------------------------------------------------------- the channel under a flood
def test_a_flood_on_one_socket_is_refused_politely_and_the_conversation_goes_on():
    from tests.unit.test_channels import Turns, web_chat_handlers

    channel = WebChatInput(
        user_message_evt="user_uttered", bot_message_evt="bot_uttered", session_persistence=True
    )
    clock = Clock()
    channel.rate = MessageRate(burst=10, per_minute=30, redis_url="", clock=clock)
    turns = Turns()
    handlers, _, emitted = web_chat_handlers(channel, turns)

    async def scenario() -> None:
        await handlers["session_request"]("sid-1", {"session_id": None})
        token = emitted[0][1]
        for number in range(50):
            await handlers["user_uttered"]("sid-1", {"message": f"message {number}", "session_id": token})
        clock.now += 60
        await handlers["user_uttered"]("sid-1", {"message": "what is acupuncture?", "session_id": token})

    asyncio.run(scenario())
    room = channel.sessions.conversation(emitted[0][1])
    assert [message.text for message in turns.messages] == [
        *(f"message {number}" for number in range(10)),
        "what is acupuncture?",
    ]
    refusals = [item for item in emitted if item[1] == {"text": TOO_FAST}]
    assert refusals == [("bot_uttered", {"text": TOO_FAST}, "sid-1")] * 40  # to the sending socket only
    assert emitted[-1] == ("bot_uttered", {"text": "Answer."}, room)


def test_one_socket_cannot_escape_the_limit_by_naming_many_conversations():
    from tests.unit.test_channels import Turns, web_chat_handlers

    channel = WebChatInput(
        user_message_evt="user_uttered", bot_message_evt="bot_uttered", session_persistence=True
    )
    channel.rate = MessageRate(burst=5, per_minute=30, redis_url="", clock=Clock())
    turns = Turns()
    handlers, _, emitted = web_chat_handlers(channel, turns)

    async def scenario() -> None:
        for _ in range(20):
            await handlers["session_request"]("sid-1", {"session_id": None})
            await handlers["user_uttered"]("sid-1", {"message": "hello", "session_id": emitted[-1][1]})

    asyncio.run(scenario())
    assert len(turns.messages) == 5


# ---------------------------------------------------------------- metadata
@pytest.mark.parametrize(
    ("metadata", "kept"),
    [
        ({"page": "/faq"}, True),
        ('{"page": "/faq"}', True),
        ({"blob": "x" * (MAX_METADATA_BYTES - 20)}, True),
        ({"blob": "x" * MAX_METADATA_BYTES}, False),
        ({"blob": "é" * 1100}, False),  # 2,200 bytes in UTF-8
        ({"blob": "x" * 100_000}, False),
        ("x" * 100_000, False),
        ("not json", False),
        ([1, 2], False),
        (42, False),
    ],
)
def test_metadata_is_kept_only_as_a_small_json_object(metadata, kept):
    result = bounded_metadata(metadata)
    assert (result is not None) is kept
    if kept:
        assert result == {"page": "/faq"} or result == metadata


def test_big_metadata_over_socketio_is_dropped_and_the_message_answered(caplog):
    from tests.unit.test_channels import Turns, web_chat_handlers

    channel = WebChatInput(
        user_message_evt="user_uttered", bot_message_evt="bot_uttered", session_persistence=True
    )
    turns = Turns()
    handlers, _, emitted = web_chat_handlers(channel, turns)

    async def scenario() -> None:
        await handlers["session_request"]("sid-1", {"session_id": None})
        token = emitted[0][1]
        for metadata in ({"blob": "x" * 100_000}, "x" * 100_000, {"page": "/faq"}):
            await handlers["user_uttered"](
                "sid-1", {"message": "hi", "session_id": token, "metadata": metadata}
            )

    with caplog.at_level(logging.WARNING, logger="channels.socketio"):
        asyncio.run(scenario())
    assert [message.metadata for message in turns.messages] == [{}, {}, {"page": "/faq"}]
    assert [record.getMessage() for record in caplog.records] == [
        "socket.io metadata dropped: not a JSON object of at most 2 KB"
    ] * 2


def test_big_metadata_over_rest_gets_a_400_and_reaches_no_conversation():
    messages: list[Any] = []

    async def on_new_message(message: Any) -> None:
        messages.append(message)
        await message.output_channel.send_text_message(message.sender_id, "Answer.")

    blueprint = GuardedRestInput(balancer=TurnBalancer(workers=1)).blueprint(on_new_message)
    handler = next(route.handler for route in blueprint._future_routes if route.uri == "/webhook")

    def post(metadata: Any) -> tuple[int, Any]:
        body = json.dumps({"sender": "visitor-1", "message": "hello", "metadata": metadata}).encode()
        response = asyncio.run(handler(SimpleNamespace(body=body, stream=None)))
        return response.status, json.loads(response.body)

    assert post({"blob": "x" * 100_000}) == (400, {"error": "'metadata' must be at most 2048 bytes of JSON"})
    assert messages == []
    assert post({"page": "/faq"})[0] == 200
    assert [message.metadata for message in messages] == [{"page": "/faq"}]
