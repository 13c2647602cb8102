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
