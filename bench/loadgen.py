"""Closed-loop REST load over loopback: N virtual users, each its own conversation.

Each virtual user sends one message, waits for the reply, then sends the next
(closed loop), walking through a scripted conversation; when the script ends it
starts a new conversation under a new sender id, as a new website visitor would.
The run stops after ``total`` requests or ``max_seconds``, whichever comes first.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.servers import tree_rss_mb

# A reply is judged by this; it returns a short reason when the reply is not a real answer.
Check = Callable[[int, Any], str | None]


def rest_check(status: int, body: Any) -> str | None:
    """HTTP 200 with a non-empty list of bot messages."""
    if status != 200:
        return f"HTTP {status}"
    if not isinstance(body, list) or not body:
        return "empty reply"
    return None


@dataclass
class LoadResult:
    """Latencies (ms) of every completed request, errors, wall time."""

    concurrency: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0
    stopped_by_time: bool = False
    # Server connections per process (largest first), where the caller sampled them.
    connections_per_worker: list[int] = field(default_factory=list)

    @property
    def completed(self) -> int:
        return len(self.latencies_ms)

    def percentile(self, p: float) -> float:
        """Linear-interpolated percentile (p in 0..100)."""
        data = sorted(self.latencies_ms)
        if not data:
            return float("nan")
        if len(data) == 1:
            return data[0]
        rank = (len(data) - 1) * p / 100
        low = int(rank)
        high = min(low + 1, len(data) - 1)
        return data[low] + (data[high] - data[low]) * (rank - low)

    def summary(self) -> dict[str, Any]:
        return {
            "concurrency": self.concurrency,
            "requests": self.completed,
            "errors": sum(self.errors.values()),
            "error_kinds": dict(self.errors),
            "p50_ms": round(self.percentile(50), 1),
            "p95_ms": round(self.percentile(95), 1),
            "p99_ms": round(self.percentile(99), 1),
            "mean_ms": round(statistics.fmean(self.latencies_ms), 1) if self.latencies_ms else None,
            "max_ms": round(max(self.latencies_ms), 1) if self.latencies_ms else None,
            "msgs_per_s": round(self.completed / self.wall_s, 2) if self.wall_s else None,
            "wall_s": round(self.wall_s, 2),
            "stopped_by_time": self.stopped_by_time,
            "connections_per_worker": self.connections_per_worker,
        }


class MemorySampler:
    """Samples the resident memory of process trees while a load runs (peak kept).

    With ``connection_probe`` (see ``bench.servers.connections_per_process``) it also
    keeps the fullest snapshot of how the server's connections sit on its processes.
    """

    def __init__(
        self,
        pids: dict[str, int],
        every_s: float = 0.25,
        connection_probe: Callable[[], dict[int, int]] | None = None,
    ) -> None:
        self.pids = pids
        self.every_s = every_s
        self.peak_mb: dict[str, float] = {name: 0.0 for name in pids}
        self.connection_probe = connection_probe
        self.connections_per_process: dict[int, int] = {}
        self._task: asyncio.Task | None = None

    def sample(self) -> dict[str, float]:
        current = {name: tree_rss_mb(pid) for name, pid in self.pids.items()}
        for name, value in current.items():
            self.peak_mb[name] = max(self.peak_mb[name], value)
        if self.connection_probe is not None:
            split = self.connection_probe()
            if sum(split.values()) > sum(self.connections_per_process.values()):
                self.connections_per_process = split
        return current

    async def _loop(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.every_s)

    def __enter__(self) -> MemorySampler:
        self._task = asyncio.get_running_loop().create_task(self._loop())
        return self

    def __exit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
        self.sample()


async def run_load(
    url: str,
    conversations: Sequence[Sequence[str]],
    concurrency: int,
    total: int,
    max_seconds: float,
    sender_prefix: str,
    check: Check = rest_check,
    request_timeout_s: float = 60.0,
    sampler: MemorySampler | None = None,
) -> LoadResult:
    """Send ``total`` messages to the REST webhook at ``url`` from ``concurrency`` users."""
    result = LoadResult(concurrency)
    issued = 0
    started = time.perf_counter()
    deadline = started + max_seconds
    timeout = aiohttp.ClientTimeout(total=request_timeout_s)
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)

    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:

        async def user(index: int) -> None:
            nonlocal issued
            conversation_number = 0
            while True:
                script = conversations[(index + conversation_number) % len(conversations)]
                sender = f"{sender_prefix}-u{index}-c{conversation_number}"
                for message in script:
                    if issued >= total:
                        return
                    if time.perf_counter() >= deadline:
                        result.stopped_by_time = True
                        return
                    issued += 1
                    sent = time.perf_counter()
                    try:
                        async with session.post(url, json={"sender": sender, "message": message}) as response:
                            status = response.status
                            body = await response.json(content_type=None)
                        problem = check(status, body)
                    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
                        problem = type(error).__name__
                    result.latencies_ms.append((time.perf_counter() - sent) * 1000)
                    if problem:
                        result.errors[problem] = result.errors.get(problem, 0) + 1
                conversation_number += 1

        if sampler is not None:
            with sampler:
                await asyncio.gather(*(user(i) for i in range(concurrency)))
        else:
            await asyncio.gather(*(user(i) for i in range(concurrency)))
    result.wall_s = time.perf_counter() - started
    return result
