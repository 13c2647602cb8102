"""The website widget's channel (socket.io, session_persistence: true) with a
python-socketio client, as the widget uses it: session_request ->
session_confirm, user_uttered -> bot_uttered."""

from __future__ import annotations

import asyncio
import re
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
