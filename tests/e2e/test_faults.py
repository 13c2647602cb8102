"""Faults against real processes: action server down or slow, answer database down,
PostgreSQL restarted mid-conversation. The user always gets a clear reply within a
bounded time, and the conversation continues when the fault is gone."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from actions.store.database import build_engine, create_schema
from actions.store.loaders import load_all
from channels.base import REST, conversation_id
from scripts.throwaway_db import admin_sql, create_database, drop_database, postgres_available
from server_plugins.guard import APOLOGY
from tests.e2e.conftest import BotServers, start_servers

pytestmark = pytest.mark.e2e

ACTION_TIMEOUT_SECONDS = 3
SERVICE_PROBLEM = "I can't reach my answer library right now"


def new_user() -> str:
    return f"fault-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def postgres_bot(tmp_path_factory) -> Iterator[tuple[BotServers, str, str]]:
    """A bot whose answers AND conversations live in throw-away PostgreSQL databases."""
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    suffix = uuid.uuid4().hex[:8]
    answers_db, tracker_db = f"faqbot_answers_{suffix}", f"faqbot_tracker_{suffix}"
    answers_url, tracker_url = create_database(answers_db), create_database(tracker_db)
    engine = build_engine(answers_url)
    create_schema(engine)
    engine.dispose()
    servers = start_servers(
        tmp_path_factory.mktemp("faults"),
        extra_env={
            "DATABASE_URL": answers_url,
            "TRACKER_STORE_URL": tracker_url,
            "ACTION_TIMEOUT_SECONDS": str(ACTION_TIMEOUT_SECONDS),
        },
    )
    engine = build_engine(answers_url)
    load_all(servers.workdir / "data", engine)
    engine.dispose()
    try:
        yield servers, answers_db, tracker_url
    finally:
        servers.stop()
        drop_database(answers_db)
        drop_database(tracker_db)


def timed_say(bot: BotServers, sender: str, message: str) -> tuple[str, float]:
    started = time.monotonic()
    reply = bot.say(sender, message)
    return reply, time.monotonic() - started


def test_action_server_down_gives_an_apology_then_recovers(postgres_bot):
    bot, _, _ = postgres_bot
    user = new_user()
    bot.stop_actions()
    try:
        reply, seconds = timed_say(bot, user, "what is dry needling")
        assert reply == APOLOGY
        assert seconds < ACTION_TIMEOUT_SECONDS + 10
    finally:
        bot.start_actions()
    assert bot.say(user, "what is dry needling").startswith("Dry needling is a technique")


def test_slow_action_server_is_cut_off_within_the_timeout(postgres_bot):
    bot, _, _ = postgres_bot
    user = new_user()
    process = bot.processes["actions"]
    os.kill(process.pid, signal.SIGSTOP)  # accepts connections, never answers
    try:
        reply, seconds = timed_say(bot, user, "what is tuina")
        assert reply == APOLOGY
        assert seconds < ACTION_TIMEOUT_SECONDS + 10
    finally:
        os.kill(process.pid, signal.SIGCONT)
    assert bot.say(user, "what is tuina").startswith("Tui Na (also written")


def test_answer_database_down_gives_a_clear_message_then_recovers(postgres_bot):
    bot, answers_db, _ = postgres_bot
    user = new_user()
    admin_sql(f'ALTER DATABASE "{answers_db}" ALLOW_CONNECTIONS false')
    admin_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n", n=answers_db)
    try:
        reply, seconds = timed_say(bot, user, "what is acupuncture")
        assert SERVICE_PROBLEM in reply
        assert seconds < 30
    finally:
        admin_sql(f'ALTER DATABASE "{answers_db}" ALLOW_CONNECTIONS true')
    assert bot.say(user, "what is acupuncture").startswith("Acupuncture is a treatment")


def tracker_user_texts(tracker_url: str, sender: str) -> list[str]:
    """What the REST visitor ``sender`` typed (conversation rest:<sender>)."""
    engine = build_engine(tracker_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' ORDER BY id"),
            {"s": conversation_id(REST, sender)},
        ).scalars()
        texts = [json.loads(row)["text"] for row in rows]
    engine.dispose()
    return texts


@pytest.mark.skipif(
    shutil.which("pg_ctlcluster") is None or os.geteuid() != 0,
    reason="restarting PostgreSQL needs pg_ctlcluster and root",
)
def test_postgres_restart_mid_conversation_loses_nothing(postgres_bot):
    bot, _, tracker_url = postgres_bot
    user = new_user()
    assert bot.say(user, "what is acupuncture").startswith("Acupuncture is a treatment")
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert bot.say(user, "what is dry needling").startswith("Dry needling is a technique")
    assert bot.say(user, "what is tuina").startswith("Tui Na (also written")
    assert tracker_user_texts(tracker_url, user) == [
        "what is acupuncture",
        "what is dry needling",
        "what is tuina",
    ]
