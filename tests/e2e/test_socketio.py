"""The website widget's channel (socket.io, session_persistence: true) with a
python-socketio client, as the widget uses it: session_request ->
session_confirm, user_uttered -> bot_uttered. The "session id" the client
sends and gets confirmed is the server's token; the conversation is derived
from it and never sent to the client (issue 19, findings 2 and 3)."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest

socketio = pytest.importorskip("socketio")

pytestmark = pytest.mark.e2e

QUIET_SECONDS = 1.5
TOKEN = re.compile(r"[0-9a-f]{64}")
TOO_FAST = "You're sending messages too fast. Please wait a moment, then send your message again."


class WidgetClient:
    """A socket.io client speaking Rasa 3.6's widget protocol."""

    def __init__(self, url: str) -> None:
        self.url = url
        # engine.io's websocket client needs a newer aiohttp than Rasa pins: long polling.
        self.client = socketio.AsyncClient(reconnection=False)
        self.confirmed: asyncio.Queue[str] = asyncio.Queue()
        self.replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.client.on("session_confirm", self.confirmed.put_nowait)
        self.client.on("bot_uttered", self.replies.put_nowait)

    async def start(self, session_id: str | None) -> str:
        await self.client.connect(self.url, transports=["polling"])
        await self.client.emit("session_request", {"session_id": session_id})
        return await asyncio.wait_for(self.confirmed.get(), 30)

    async def say(self, text: str, session_id: str) -> list[dict[str, Any]]:
        await self.client.emit("user_uttered", {"message": text, "session_id": session_id})
        return await self.collect()

    async def collect(self) -> list[dict[str, Any]]:
        """Every bot message of one turn (until the bot has been quiet for a moment)."""
        replies = [await asyncio.wait_for(self.replies.get(), 60)]
        while True:
            try:
                replies.append(await asyncio.wait_for(self.replies.get(), QUIET_SECONDS))
            except asyncio.TimeoutError:
                return replies

    async def stop(self) -> None:
        await self.client.disconnect()


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n\n".join(reply.get("text") or "" for reply in replies)


def test_reconnecting_with_the_token_resumes_the_conversation_in_every_tab(bot):
    async def scenario() -> None:
        first = WidgetClient(bot.rasa_url)
        token = await first.start(None)
        assert TOKEN.fullmatch(token)
        greeting = texts(await first.say("hello", token))
        assert greeting.startswith("Hello! I answer questions about acupuncture")
        assert "not medical advice" in greeting
        await first.stop()

        # A reload or another page: a new connection presenting the same token.
        page = WidgetClient(bot.rasa_url)
        other_tab = WidgetClient(bot.rasa_url)
        assert await page.start(token) == token
        assert await other_tab.start(token) == token
        answer = await page.say("what is acupuncture?", token)
        assert texts(answer).startswith("Acupuncture is a treatment")
        # One bubble: the short answer, with the detail, sources and review date behind it.
        assert any("Last reviewed" in ((reply.get("answer") or {}).get("note") or "") for reply in answer)
        # The same conversation: the once-per-conversation note is not repeated.
        assert "not medical advice" not in texts(answer)
        # Every connection of the session (another tab of the site) gets the reply too.
        assert texts(await other_tab.collect()) == texts(answer)
        await page.stop()
        await other_tab.stop()

    asyncio.run(scenario())


def conversation_of_text(bot, text: str) -> str:
    """The conversation (sender id) in which the user typed ``text``."""
    with sqlite3.connect(bot.workdir / "tracker.db") as connection:
        rows = connection.execute(
            "SELECT sender_id, data FROM events WHERE type_name = 'user' ORDER BY id"
        ).fetchall()
    connection.close()
    senders = {sender for sender, data in rows if json.loads(data).get("text") == text}
    assert len(senders) == 1, senders
    return senders.pop()


async def started_conversation(bot) -> tuple[WidgetClient, str, str, str]:
    """A widget client that said a unique hello: (client, token, hello, its conversation id)."""
    marker = f"hello {uuid.uuid4().hex[:8]}"
    client = WidgetClient(bot.rasa_url)
    token = await client.start(None)
    await client.say(marker, token)
    return client, token, marker, conversation_of_text(bot, marker)


def test_a_second_client_with_a_known_id_gets_a_fresh_conversation_and_none_of_the_replies(bot):
    """Rasa's channel let any client join the room of a session id it named and receive
    every later reply there. Ours: an id the server did not issue - the visitor's
    conversation id (as logs, the tracker store or the HTTP API show it), or a made-up
    32-hex id of the old session shape - gets a new token and a new conversation."""

    async def scenario() -> str:
        visitor, token, marker, conversation = await started_conversation(bot)
        room = conversation.removeprefix("web:")
        assert re.fullmatch(r"web:[0-9a-f]{32}", conversation) and room not in token

        intruders = []
        for known in (room, conversation, uuid.uuid4().hex, token[:32]):
            intruder = WidgetClient(bot.rasa_url)
            fresh = await intruder.start(known)
            assert TOKEN.fullmatch(fresh) and fresh not in (token, known), known
            intruders.append((intruder, fresh))
        # The visitor goes on talking: none of it reaches the intruders.
        answer = await visitor.say("what is acupuncture?", token)
        assert texts(answer).startswith("Acupuncture is a treatment")
        for intruder, _ in intruders:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(intruder.replies.get(), QUIET_SECONDS)
        # An intruder's messages go to its own fresh conversation (the full greeting again).
        intruder, fresh = intruders[0]
        assert "not medical advice" in texts(await intruder.say("hello", fresh))
        # Messages naming the visitor's ids directly are not processed at all.
        await intruder.client.emit("user_uttered", {"message": "forget me", "session_id": room})
        await intruder.client.emit("user_uttered", {"message": "forget me", "session_id": conversation})
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(visitor.replies.get(), QUIET_SECONDS * 2)
        for client, _ in intruders:
            await client.stop()
        await visitor.stop()
        return marker

    marker = asyncio.run(scenario())
    assert stored_user_texts(bot, conversation_of_text(bot, marker)) == [marker, "what is acupuncture?"]


def stored_user_texts(bot, conversation: str) -> list[str]:
    with sqlite3.connect(bot.workdir / "tracker.db") as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (conversation,)
        ).fetchall()
    connection.close()
    return [json.loads(data).get("text") or "" for (data,) in rows]


def test_the_widget_conversation_is_web_namespaced_and_rest_cannot_reach_it(bot):
    """The conversation of a widget session is web:<HMAC of its token>, and a REST client
    sending the token or the conversation id talks in a REST conversation of its own."""

    async def scenario() -> tuple[str, str]:
        widget, token, marker, conversation = await started_conversation(bot)
        for sender in (token, conversation, conversation.removeprefix("web:")):
            replies = bot.post(sender, "what is acupuncture?")
            assert [reply["recipient_id"] for reply in replies] == [sender] * len(replies)
        # Nothing of the REST turns reaches the widget's room.
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(widget.replies.get(), QUIET_SECONDS * 2)
        await widget.stop()
        return marker, conversation

    marker, conversation = asyncio.run(scenario())
    assert stored_user_texts(bot, conversation) == [marker]
    assert stored_user_texts(bot, f"rest:{conversation}") == ["what is acupuncture?"]
    assert stored_user_texts(bot, f"rest:{conversation.removeprefix('web:')}") == ["what is acupuncture?"]


def test_a_new_session_is_a_new_conversation(bot):
    async def scenario() -> None:
        client = WidgetClient(bot.rasa_url)
        first = await client.start(None)
        second_client = WidgetClient(bot.rasa_url)
        second = await second_client.start(None)
        assert first != second
        await client.say("hello", first)
        reply = texts(await second_client.say("hello", second))
        assert "not medical advice" in reply  # a fresh conversation gets the full greeting
        await client.stop()
        await second_client.stop()

    asyncio.run(scenario())


EMPTY_REPLY = "I didn't receive any text. Please type your question."


def test_bad_input_over_socketio_gets_a_clean_reply_and_the_conversation_goes_on(bot):
    """The widget's channel guards input as the REST channel does (channels/base.py)."""

    async def scenario() -> None:
        client = WidgetClient(bot.rasa_url)
        session_id = await client.start(None)
        for message in ["", "   ", "\n\t", "\x00\x01\x02"]:
            assert texts(await client.say(message, session_id)) == EMPTY_REPLY, repr(message)
        too_long = texts(await client.say("acupuncture " * 9000, session_id))  # about 100 KB
        assert "too long" in too_long
        # Not a string, not an object: treated as no text, never an error.
        await client.client.emit("user_uttered", {"message": 42, "session_id": session_id})
        assert texts(await client.collect()) == EMPTY_REPLY
        for odd in [
            "what is dry needling? 🤔🪡💉",
            "<script>alert('x')</script> what is tuina",
            "'; DROP TABLE faq_topics; -- what is cupping",
            "what\u202eis acupuncture\u0007",
        ]:
            replies = await client.say(odd, session_id)
            assert replies and all(reply.get("text") or reply.get("buttons") for reply in replies), odd
            assert not any("Traceback" in (reply.get("text") or "") for reply in replies)
        # A payload that is not an object, and one without a session id, are ignored...
        await client.client.emit("user_uttered", "just a string")
        await client.client.emit("user_uttered", {"message": "hello"})
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(client.replies.get(), QUIET_SECONDS * 2)
        # ...and the conversation still works afterwards.
        answer = texts(await client.say("what is dry needling", session_id))
        assert answer.startswith("Dry needling is a technique")
        await client.stop()

    asyncio.run(scenario())


def test_fifty_messages_a_second_on_one_socket_are_mostly_refused_and_the_bot_answers_later(bot):
    """One WebSocket is one request for the proxy's rate limit: the channel counts messages
    itself (channels/rate_limit.py; defaults: a burst of 10, then 30 a minute)."""

    async def scenario() -> None:
        client = WidgetClient(bot.rasa_url)
        token = await client.start(None)
        started = time.monotonic()
        for number in range(50):
            await client.client.emit(
                "user_uttered", {"message": f"what is acupuncture? {number}", "session_id": token}
            )
            await asyncio.sleep(0.02)
        assert time.monotonic() - started < 2.5
        replies = await client.collect()
        while True:  # the accepted turns may still be answering
            try:
                replies.append(await asyncio.wait_for(client.replies.get(), 5))
            except asyncio.TimeoutError:
                break
        refused = [reply for reply in replies if reply.get("text") == TOO_FAST]
        assert 35 <= len(refused) <= 40, len(refused)
        assert not any("Traceback" in (reply.get("text") or "") for reply in replies)
        # The server stays up and, after that pause, answers normally.
        answer = texts(await client.say("what is dry needling", token))
        assert answer.startswith("Dry needling is a technique"), answer
        await client.stop()

    asyncio.run(scenario())
    with urllib.request.urlopen(f"{bot.rasa_url}/", timeout=5) as response:
        assert response.status == 200


def stored_user_events(bot, conversation: str) -> list[dict[str, Any]]:
    with sqlite3.connect(bot.workdir / "tracker.db") as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (conversation,)
        ).fetchall()
    connection.close()
    return [json.loads(data) for (data,) in rows]


BIG_METADATA = {"blob": "x" * 100_000}


def test_100_kb_of_metadata_is_not_stored_over_socketio(bot):
    marker = f"what is acupuncture? {uuid.uuid4().hex[:8]}"

    async def scenario() -> None:
        client = WidgetClient(bot.rasa_url)
        token = await client.start(None)
        for text, metadata in ((marker, BIG_METADATA), ("what is tuina", {"page": "/faq"})):
            await client.client.emit(
                "user_uttered", {"message": text, "session_id": token, "metadata": metadata}
            )
            assert texts(await client.collect())  # answered, without the metadata
        await client.stop()

    asyncio.run(scenario())
    events = stored_user_events(bot, conversation_of_text(bot, marker))
    assert [event["text"] for event in events] == [marker, "what is tuina"]
    assert "blob" not in events[0].get("metadata", {})
    assert events[1]["metadata"]["page"] == "/faq"  # small metadata is kept
    assert all(len(json.dumps(event)) < 10_000 for event in events)


def test_100_kb_of_metadata_over_rest_gets_a_400_and_is_not_stored(bot):
    sender = f"meta-{uuid.uuid4().hex[:8]}"
    request = urllib.request.Request(
        f"{bot.rasa_url}/webhooks/rest/webhook",
        data=json.dumps(
            {"sender": sender, "message": "what is acupuncture?", "metadata": BIG_METADATA}
        ).encode(),
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=60)
    assert refused.value.code == 400
    assert json.loads(refused.value.read()) == {"error": "'metadata' must be at most 2048 bytes of JSON"}
    assert stored_user_events(bot, f"rest:{sender}") == []
    # The same visitor without the blob is answered as usual.
    assert bot.say(sender, "what is acupuncture?").startswith("Acupuncture is a treatment")
    assert [event["text"] for event in stored_user_events(bot, f"rest:{sender}")] == ["what is acupuncture?"]
