"""Spread keep-alive connections over the Sanic workers.

With ``SANIC_WORKERS`` > 1, every worker accepts from one shared listening
socket and a keep-alive connection stays with the worker that accepted it. A
burst of new connections (ten visitors at once, a proxy opening its pool) is
often taken by one worker, which then serves them all while the other idles.
Measured with ``make bench`` (10 closed-loop conversations, 2 workers): the
connections landed 10/0, 8/2 and 5/5 on three runs, for 35, 63 and 84 messages
per second.

:class:`TurnBalancer` counts the turns running on this worker and, in shared
memory created before Sanic forks its workers, on all of them. When this worker
runs more than its fair share (all turns / workers) plus one, the reply asks the
client to reconnect (``Connection: close``). The new connection is accepted by
whichever worker reaches the listening socket first, which is the one that is
not busy. Turns are never refused or delayed: only the next connection moves.

With one worker it does nothing. ``FAQBOT_SPEEDUPS=0`` turns it off (to measure it).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from actions.settings import server_processes
from server_plugins import speedups


class TurnBalancer:
    """Counts running turns per worker and across workers; decides when to move a connection."""

    def __init__(self, workers: int | None = None, enabled: bool | None = None) -> None:
        self.workers = server_processes()[0] if workers is None else workers
        self.enabled = (speedups.enabled() if enabled is None else enabled) and self.workers > 1
        # Created in the main process (channels are built before Sanic forks), so every
        # worker shares it; the per-worker count is an ordinary attribute, copied by the fork.
        self._all_turns: Any = multiprocessing.get_context("fork").Value("i", 0) if self.enabled else None
        self.local_turns = 0

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Count one turn on this worker for as long as it runs."""
        if not self.enabled:
            yield
            return
        self._add(1)
        try:
            yield
        finally:
            self._add(-1)

    def _add(self, delta: int) -> None:
        self.local_turns += delta
        with self._all_turns.get_lock():
            self._all_turns.value += delta

    def should_move_connection(self) -> bool:
        """True when this worker runs more than its share of all turns, plus one."""
        if not self.enabled:
            return False
        all_turns = self._all_turns.value
        return self.local_turns > all_turns / self.workers + 1

    def release_if_busy(self, request: Any) -> None:
        """Ask the client to reconnect after this reply if this worker is over its share."""
        if not self.should_move_connection():
            return
        stream = getattr(request, "stream", None)  # Sanic's HTTP/1 connection state
        if stream is not None and hasattr(stream, "keep_alive"):
            stream.keep_alive = False  # Sanic then answers "Connection: close"
