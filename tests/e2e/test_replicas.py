"""Two Rasa server replicas sharing the PostgreSQL tracker store and the Redis lock store.

Interleaved turns of the same conversations go to both replicas; the tracker
must hold every turn exactly once, in order, each turn complete before the next.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from actions.store.database import build_engine
from channels.base import REST, conversation_id
from scripts.servers import (
    RASA,
    free_port,
    launch,
    rasa_server_command,
    stop_servers,
    wait_http,
    write_endpoints,
)
from scripts.throwaway_db import create_database, drop_database, postgres_available
from tests.e2e.conftest import MODEL, START_TIMEOUT_S, BotServers, start_servers
from tests.e2e.test_socketio import TOO_FAST, WidgetClient, texts

pytestmark = pytest.mark.e2e

QUESTIONS = [
    ("what is acupuncture", "Acupuncture is a treatment"),
    ("what is dry needling", "Dry needling is a technique"),
    ("what is tuina", "Tui Na (also written"),
    ("is dry needling the same as acupuncture?", "Both use the same thin needles"),
    ("thanks", "You're welcome"),
    ("are you a bot?", "automated assistant"),
]


@pytest.fixture(scope="module")
def replicas(tmp_path_factory) -> Iterator[tuple[list[BotServers], str]]:
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    import redis

    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/14", socket_timeout=2).ping()
    except Exception as error:
        pytest.skip(f"Redis not reachable at 127.0.0.1:6379: {type(error).__name__}")
    tracker_db = f"faqbot_replicas_{uuid.uuid4().hex[:8]}"
    tracker_url = create_database(tracker_db)
    shared_env = {
        "TRACKER_STORE_URL": tracker_url,
        "REDIS_URL": "redis://127.0.0.1:6379/14",
        "REDIS_LOCK_PREFIX": f"replicas{uuid.uuid4().hex[:6]}",
        # Required with REDIS_URL: every replica must recognise the widget tokens of the others.
        "WEBCHAT_SESSION_SECRET": f"replicas-{uuid.uuid4().hex}",
    }
    first = start_servers(tmp_path_factory.mktemp("replica_a"), extra_env=shared_env)
    # A second Rasa server on the same action server, tracker store and lock store.
    port = free_port()
    second_server = launch(
        "rasa (b)",
        rasa_server_command(MODEL, port, first.workdir / "endpoints.yml"),
        first.env,
        first.workdir / "rasa_b.log",
    )
    try:
        wait_http(second_server, f"http://127.0.0.1:{port}/", START_TIMEOUT_S, 0.5)
    except Exception:
        stop_servers([second_server, *first.servers])
        drop_database(tracker_db)
        raise
    second = dataclasses.replace(first, rasa_url=f"http://127.0.0.1:{port}", rasa=second_server, actions=None)
    try:
        yield [first, second], tracker_url
    finally:
        stop_servers([second_server, *first.servers])
        drop_database(tracker_db)


def tracker_events(tracker_url: str, sender: str) -> list[dict]:
    """The stored events of the REST visitor ``sender`` (conversation rest:<sender>)."""
    engine = build_engine(tracker_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"),
            {"s": conversation_id(REST, sender)},
        ).scalars()
        events = [json.loads(row) for row in rows]
    engine.dispose()
    return events


def turns(events: list[dict]) -> list[list[dict]]:
    """Split a tracker's events into turns, each starting with a user event."""
    result: list[list[dict]] = []
    for event in events:
        if event["event"] == "user":
            result.append([event])
        elif result:
            result[-1].append(event)
    return result


def assert_complete_turns(events: list[dict]) -> None:
    for turn in turns(events):
        kinds = [e["event"] for e in turn]
        assert "bot" in kinds, kinds  # every turn got its reply...
        assert turn[-1]["event"] == "action" and turn[-1]["name"] == "action_listen", kinds  # ...and finished


def test_interleaved_turns_are_kept_once_and_in_order(replicas):
    servers, tracker_url = replicas
    senders = [f"replica-{uuid.uuid4().hex[:8]}" for _ in range(6)]

    def conversation(index: int) -> list[str]:
        sender = senders[index]
        sent = []
        for turn, (question, expected) in enumerate(QUESTIONS):
            replica = servers[(index + turn) % 2]
            assert expected in replica.say(sender, question)
            sent.append(question)
        return sent

    with ThreadPoolExecutor(max_workers=6) as pool:
        sent_by_sender = list(pool.map(conversation, range(len(senders))))

    for sender, sent in zip(senders, sent_by_sender, strict=True):
        events = tracker_events(tracker_url, sender)
        user_texts = [e["text"] for e in events if e["event"] == "user"]
        assert user_texts == sent  # none lost, none duplicated, none reordered
        assert_complete_turns(events)


def test_a_widget_token_resumes_its_conversation_on_the_other_replica_and_the_rate_is_shared(replicas):
    """The token issued by one replica opens the same conversation on the other (shared
    WEBCHAT_SESSION_SECRET), and the per-conversation message limit is counted in Redis:
    a flood spread over both replicas is refused as if it reached one."""
    servers, _ = replicas

    async def scenario() -> None:
        first = WidgetClient(servers[0].rasa_url)
        token = await first.start(None)
        assert "not medical advice" in texts(await first.say("hello", token))
        second = WidgetClient(servers[1].rasa_url)
        assert await second.start(token) == token
        answer = texts(await second.say("what is acupuncture", token))
        assert answer.startswith("Acupuncture is a treatment")
        assert "not medical advice" not in answer  # the same conversation, on the other replica

        # 10 messages on each replica's connection (each under its own limit of 10 per
        # connection), 20 in one conversation: the shared count lets about 10 through.
        for number in range(10):
            for client in (first, second):
                await client.client.emit("user_uttered", {"message": f"thanks {number}", "session_id": token})
        refused = 0
        for client in (first, second):
            while True:
                try:
                    reply = await asyncio.wait_for(client.replies.get(), 5)
                except asyncio.TimeoutError:
                    break
                refused += reply.get("text") == TOO_FAST
        assert 8 <= refused <= 13, refused  # without the shared count: 0 to 4
        await first.stop()
        await second.stop()

    asyncio.run(scenario())


def test_simultaneous_messages_to_both_replicas_are_serialised(replicas):
    servers, tracker_url = replicas
    senders = [f"burst-{uuid.uuid4().hex[:8]}" for _ in range(4)]

    def send(job: tuple[str, int]) -> str:
        sender, index = job
        return servers[index].say(sender, QUESTIONS[index][0])

    jobs = [(sender, index) for sender in senders for index in (0, 1)]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        replies = list(pool.map(send, jobs))

    for (_, index), reply in zip(jobs, replies, strict=True):
        assert QUESTIONS[index][1] in reply
    for sender in senders:
        events = tracker_events(tracker_url, sender)
        user_texts = sorted(e["text"] for e in events if e["event"] == "user")
        assert user_texts == sorted([QUESTIONS[0][0], QUESTIONS[1][0]])
        assert_complete_turns(events)


def test_several_workers_without_redis_refuse_to_start(tmp_path):
    """SANIC_WORKERS=2 with in-memory locks would serve one conversation twice at once."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "SANIC_WORKERS", "TRACKER_STORE_URL")
    }
    env.update(
        SANIC_WORKERS="2",
        TRACKER_STORE_URL=f"sqlite:///{tmp_path / 'tracker.db'}",
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="3",
    )
    endpoints = tmp_path / "endpoints.yml"
    write_endpoints(endpoints, free_port())
    log = tmp_path / "rasa.log"
    command = [RASA, "run", "--model", str(MODEL), "--port", str(free_port())]
    server = launch("rasa", [*command, "--endpoints", str(endpoints)], env, log)
    try:
        server.process.wait(timeout=120)
    except subprocess.TimeoutExpired:
        stop_servers([server])
        pytest.fail(
            f"the server kept running with SANIC_WORKERS=2 and no REDIS_URL:\n{log.read_text()[-2000:]}"
        )
    stop_servers([server])
    output = log.read_text()
    assert "needs a shared lock store: set REDIS_URL" in output, output[-2000:]
