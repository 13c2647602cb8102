"""What needs a real (local) socket: the bench's connection counting, and the connectors'
fallback when Redis does not answer. Unit tests open no socket."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys

import pytest

from bench.servers import connections_per_process
from channels.base import TELEGRAM, SeenDeliveries
from channels.rate_limit import MessageRate
from scripts import check_answers
from tests.unit.test_deliveries import firsts


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux only)")
def test_connections_are_counted_on_the_accepting_process():
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
        accepted = [server.accept()[0] for _ in clients]
        try:
            # Only the server side of each connection has the port as its local port.
            assert connections_per_process(port, os.getpid()) == {os.getpid(): 3}
        finally:
            for sock in [*clients, *accepted]:
                sock.close()


def test_no_connections_on_an_unused_port():
    with socket.create_server(("127.0.0.1", 0)) as server:
        assert connections_per_process(server.getsockname()[1], os.getpid()) == {}


def test_unreachable_redis_leaves_the_decision_to_this_process(caplog):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once closed
    deliveries = SeenDeliveries(redis_url=f"redis://127.0.0.1:{port}/1")
    with caplog.at_level(logging.WARNING, logger="channels.deliveries"):
        assert firsts(deliveries, (TELEGRAM, 1), (TELEGRAM, 1)) == [True, False]
    assert [record.getMessage() for record in caplog.records] == [
        "tg: Redis did not answer (ConnectionError); retries are recognised by this process only"
    ]


def test_message_rate_falls_back_to_memory_when_redis_does_not_answer(caplog):
    rate = MessageRate(burst=2, per_minute=60, redis_url="redis://127.0.0.1:1/1")

    async def scenario() -> list[bool]:
        try:
            return [await rate.conversation_allowed("web:x") for _ in range(3)]
        finally:
            await rate.aclose()

    with caplog.at_level(logging.WARNING, logger="channels.rate_limit"):
        assert asyncio.run(scenario()) == [True, True, False]
    assert [record.getMessage() for record in caplog.records] == [
        "message rate: Redis did not answer (ConnectionError); each process counts on its own"
    ]


def test_unreachable_bot_exits_2(tmp_path, capsys):
    status = check_answers.main(["--url", "http://127.0.0.1:9", "--report", str(tmp_path / "r.csv")])
    assert status == 2
    assert "the bot is not reachable" in capsys.readouterr().err
