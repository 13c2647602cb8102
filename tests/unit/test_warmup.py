"""server_plugins.warmup: each worker parses once and freezes the loaded model."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from server_plugins import warmup


class FakeAgent:
    def __init__(self, ready: bool = True, fails: bool = False) -> None:
        self.ready = ready
        self.fails = fails
        self.parsed: list[str] = []

    def is_ready(self) -> bool:
        return self.ready

    async def parse_message(self, text: str) -> dict:
        self.parsed.append(text)
        if self.fails:
            raise RuntimeError("model broken")
        return {"intent": {"name": "greet"}}


def run_prepare(agent, monkeypatch) -> list[str]:
    calls: list[str] = []
    monkeypatch.setattr(warmup.gc, "collect", lambda: calls.append("collect"))
    monkeypatch.setattr(warmup.gc, "freeze", lambda: calls.append("freeze"))
    app = SimpleNamespace(ctx=SimpleNamespace(agent=agent))
    asyncio.run(warmup.prepare_worker(app, None))
    return calls


def test_worker_parses_once_then_freezes(monkeypatch):
    monkeypatch.delenv("FAQBOT_SPEEDUPS", raising=False)
    agent = FakeAgent()
    assert run_prepare(agent, monkeypatch) == ["collect", "freeze"]
    assert agent.parsed == [warmup.WARMUP_TEXT]


def test_a_failed_warm_up_does_not_stop_the_worker(monkeypatch, caplog):
    monkeypatch.delenv("FAQBOT_SPEEDUPS", raising=False)
    agent = FakeAgent(fails=True)
    assert run_prepare(agent, monkeypatch) == ["collect", "freeze"]
    assert "model warm-up failed: RuntimeError" in caplog.text


def test_no_model_loaded_means_no_parse(monkeypatch):
    monkeypatch.delenv("FAQBOT_SPEEDUPS", raising=False)
    agent = FakeAgent(ready=False)
    assert run_prepare(agent, monkeypatch) == ["collect", "freeze"]
    assert agent.parsed == []


def test_switched_off_with_the_speedups(monkeypatch):
    monkeypatch.setenv("FAQBOT_SPEEDUPS", "0")
    agent = FakeAgent()
    assert run_prepare(agent, monkeypatch) == []
    assert agent.parsed == []


# ---------------------------------------------------------------- worker stop
class FakeLockStore:
    def __init__(self, fails: bool = False) -> None:
        self.fails = fails
        self.closed = 0

    async def aclose(self) -> None:
        self.closed += 1
        if self.fails:
            raise ConnectionError("redis gone")


def stop_worker(agent) -> None:
    asyncio.run(warmup.close_worker_connections(SimpleNamespace(ctx=SimpleNamespace(agent=agent)), None))


def test_stopping_worker_closes_the_lock_stores_redis_connections():
    store = FakeLockStore()
    stop_worker(SimpleNamespace(lock_store=store))
    assert store.closed == 1


def test_stopping_worker_survives_a_failed_close_and_stores_without_connections(caplog):
    store = FakeLockStore(fails=True)
    stop_worker(SimpleNamespace(lock_store=store))
    assert store.closed == 1
    assert "closing the lock store connections failed: ConnectionError" in caplog.text
    stop_worker(SimpleNamespace(lock_store=object()))  # in-memory store: nothing to close
    stop_worker(None)  # no model loaded
