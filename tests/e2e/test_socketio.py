"""The website widget's channel (socket.io, session_persistence: true) with a
python-socketio client, as the widget uses it: session_request ->
session_confirm, user_uttered -> bot_uttered."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from typing import Any

import pytest

socketio = pytest.importorskip("socketio")

pytestmark = pytest.mark.e2e

QUIET_SECONDS = 1.5


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


def test_session_persists_across_connections_and_tabs(bot):
    async def scenario() -> None:
        first = WidgetClient(bot.rasa_url)
        session_id = await first.start(None)
        assert re.fullmatch(r"[0-9a-f]{32}", session_id)
        greeting = texts(await first.say("hello", session_id))
        assert greeting.startswith("Hello! I answer questions about acupuncture")
        assert "not medical advice" in greeting
        await first.stop()

        # A reload or another page: a new connection asking for the same session.
        page = WidgetClient(bot.rasa_url)
        other_tab = WidgetClient(bot.rasa_url)
        assert await page.start(session_id) == session_id
        assert await other_tab.start(session_id) == session_id
        answer = await page.say("what is acupuncture?", session_id)
        assert texts(answer).startswith("Acupuncture is a treatment")
        assert any("Last reviewed" in (reply.get("text") or "") for reply in answer)
        # The same conversation: the once-per-conversation note is not repeated.
        assert "not medical advice" not in texts(answer)
        # Every connection of the session (another tab of the site) gets the reply too.
        assert texts(await other_tab.collect()) == texts(answer)
        await page.stop()
        await other_tab.stop()

    asyncio.run(scenario())


def stored_user_texts(bot, conversation: str) -> list[str]:
    with sqlite3.connect(bot.workdir / "tracker.db") as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (conversation,)
        ).fetchall()
    connection.close()
    return [json.loads(data).get("text") or "" for (data,) in rows]


def test_the_widget_conversation_is_web_namespaced_and_rest_cannot_reach_it(bot):
    """The browser keeps its bare session id; the conversation is web:<session id>, and a REST
    client sending that id (bare or prefixed) talks in a REST conversation of its own."""

    async def scenario() -> str:
        widget = WidgetClient(bot.rasa_url)
        session_id = await widget.start(None)
        await widget.say("hello", session_id)
        for sender in (session_id, f"web:{session_id}"):
            replies = bot.post(sender, "what is acupuncture?")
            assert [reply["recipient_id"] for reply in replies] == [sender] * len(replies)
        # Nothing of the REST turns reaches the widget's room.
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(widget.replies.get(), QUIET_SECONDS * 2)
        await widget.stop()
        return session_id

    session_id = asyncio.run(scenario())
    assert stored_user_texts(bot, f"web:{session_id}") == ["hello"]
    assert stored_user_texts(bot, session_id) == []
    assert stored_user_texts(bot, f"rest:{session_id}") == ["what is acupuncture?"]
    assert stored_user_texts(bot, f"rest:web:{session_id}") == ["what is acupuncture?"]


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
