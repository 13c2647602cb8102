"""server_plugins.speedups keeps one open session per action-server endpoint: checked
against a real local HTTP server (a unit test opens no socket)."""

from __future__ import annotations

import asyncio
import base64

import pytest
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from server_plugins import speedups
from tests.unit.rasa_originals import rasa_unpatched

__all__ = ["rasa_unpatched"]


@pytest.fixture(autouse=True)
def installed(rasa_unpatched):
    assert speedups.install() is True


async def serve_json(handler_log: list[tuple[int, str, dict, str]]):
    """A local HTTP server answering JSON, logging (client port, path, query, auth header)."""
    from aiohttp import web

    async def answer(request: web.Request) -> web.Response:
        port = request.transport.get_extra_info("peername")[1]
        auth = request.headers.get("Authorization", "")
        handler_log.append((port, request.path, dict(request.query), auth))
        if request.path == "/missing":
            return web.json_response({"error": "no"}, status=404)
        return web.json_response({"events": [], "echo": await request.json()})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}"


def test_endpoint_calls_reuse_one_connection_with_rasas_settings():
    log: list[tuple[int, str, dict, str]] = []

    async def calls() -> list:
        runner, url = await serve_json(log)
        try:
            endpoint = EndpointConfig(
                url=f"{url}/webhook", token="secret", basic_auth={"username": "u", "password": "p"}
            )
            replies = [await endpoint.request(json={"n": n}, method="post", timeout=5) for n in range(3)]
            with pytest.raises(ClientResponseError):
                await endpoint.request(json={}, subpath="../missing", method="post")
            await speedups.close_pooled_sessions()
            return replies
        finally:
            await runner.cleanup()

    replies = asyncio.run(calls())
    assert [reply["echo"] for reply in replies] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert len({port for port, *_ in log}) == 1  # one TCP connection for all four calls
    basic = "Basic " + base64.b64encode(b"u:p").decode()
    assert [entry[1:] for entry in log[:3]] == [("/webhook", {"token": "secret"}, basic)] * 3
