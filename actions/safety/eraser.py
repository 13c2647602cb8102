"""The background eraser behind "forget me": deletes a conversation from Rasa's tracker
store once Rasa has saved the turn, retrying until it is done; the set of running
erasures; resuming pending requests when the action server starts.

Our code never logs message text; see docs/safety.md for the log levels.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from actions.base import DataUnavailable, run_blocking
from actions.settings import SafetySettings, get_safety_settings
from actions.store.conversations import ConversationStore, sql_conversation_store
from actions.store.forget_requests import (
    ForgetRequest,
    ForgetRequestStore,
    sql_forget_request_store,
    utc_now,
)
from channels.namespaces import channel_of

logger = logging.getLogger(__name__)

# Set by action_forget_me to a random token; seeing it in the tracker store
# proves that Rasa has saved the turn, so the deletion can run.
FORGET_MARKER_SLOT = "forget_me_marker"
# The Sanic app `rasa run actions` creates before it builds the actions (rasa_sdk.endpoint).
ACTION_SERVER_APP = "rasa_sdk"

ConversationStoreFactory = Callable[[str], AbstractContextManager[ConversationStore]]
ForgetRequestStoreFactory = Callable[[], AbstractContextManager[ForgetRequestStore]]


class ConversationEraser:
    """Deletes a conversation from Rasa's SQL tracker store after Rasa saved the turn,
    retrying until it is done; every request is recorded first (``forget_requests``).

    The action server cannot delete the rows while its action runs: Rasa saves
    the tracker after the action returns, and ``SQLTrackerStore.save`` writes
    every event beyond the number of rows it finds, so it would write the whole
    conversation back. Instead the action sets a random marker slot and this
    eraser, in the background, waits until the marker is in the table (the
    turn is saved: Rasa commits a turn at once), deletes every row of the
    sender, then keeps watching for ``forget_watch_seconds`` in case a message
    already being processed re-saves its stale copy, and deletes that too. Only
    then is the request marked done. A failure is counted in the request and
    retried with a growing pause; a request left pending by a restart is picked
    up by :meth:`resume_pending` (action-server start-up, ``purge-conversations``).
    """

    def __init__(
        self,
        settings: SafetySettings | None = None,
        store_factory: ConversationStoreFactory | None = None,
        requests_factory: ForgetRequestStoreFactory | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._settings = settings
        self._store_factory = store_factory or sql_conversation_store
        self._requests_factory = requests_factory or sql_forget_request_store
        self._clock = clock
        self._running: set[int] = set()  # request ids this eraser is working on

    @property
    def settings(self) -> SafetySettings:
        return self._settings or get_safety_settings()

    # Blocking calls (run them with run_blocking).
    def _store(self) -> AbstractContextManager[ConversationStore]:
        return self._store_factory(self.settings.tracker_store_url)

    def event_count(self, sender_id: str) -> int:
        with self._store() as store:
            return store.event_count(sender_id)

    def _marker_saved(self, sender_id: str, marker: str) -> bool:
        with self._store() as store:
            return store.has_slot_value(sender_id, FORGET_MARKER_SLOT, marker)

    def _delete(self, sender_id: str, record: bool = False) -> int:
        with self._store() as store:
            deleted = store.delete_conversation(sender_id)
            if record and deleted:
                # Counted for the staff report: the day and the channel, nothing else.
                store.record_erasure(channel_of(sender_id), time.time())
            return deleted

    def record_request(self, sender_id: str, marker: str) -> ForgetRequest:
        with self._requests_factory() as requests:
            return requests.record(sender_id, marker, self._clock())

    def pending_requests(self) -> list[ForgetRequest]:
        with self._requests_factory() as requests:
            return requests.pending()

    def _record_failure(self, request_id: int, error: str) -> None:
        with self._requests_factory() as requests:
            requests.record_failure(request_id, error)

    def _mark_done(self, request_id: int) -> None:
        with self._requests_factory() as requests:
            requests.mark_done(request_id, self._clock())

    # The event loop's side.
    def start(self, request: ForgetRequest) -> asyncio.Task[Any] | None:
        """Erase in the background (None if this eraser is already on it)."""
        if request.id in self._running:
            return None
        self._running.add(request.id)
        task = _start_background(self.erase(request))
        task.add_done_callback(lambda _task: self._running.discard(request.id))
        return task

    async def resume_pending(self) -> int:
        """Start every pending request in the background; return how many were started."""
        try:
            pending = await run_blocking(self.pending_requests)
        except DataUnavailable:
            logger.error("forget-me: pending deletion requests could not be read; retried at the next start")
            return 0
        started = sum(1 for request in pending if self.start(request) is not None)
        if started:
            logger.info("forget-me: %d pending deletion requests resumed", started)
        return started

    async def erase(self, request: ForgetRequest, max_attempts: int | None = None) -> bool:
        """Delete the conversation of ``request``, retrying until it is done (or
        ``max_attempts`` failed); True once the request is marked done."""
        settings = self.settings
        sender_id = request.conversation_id
        await self._wait_for_save(request)
        delay = settings.forget_retry_seconds
        failures = 0
        while True:
            try:
                deleted = await run_blocking(self._delete, sender_id, True)
                deleted += await self._delete_stale_copies(request)
                await run_blocking(self._mark_done, request.id)
            except DataUnavailable as error:
                failures += 1
                logger.error(
                    "forget-me: deleting the conversation failed (%s, attempt %d); retrying in %.1f s",
                    error,
                    failures,
                    delay,
                )
                try:
                    await run_blocking(self._record_failure, request.id, str(error))
                except DataUnavailable:
                    pass  # the request stays pending in the table all the same
                if max_attempts is not None and failures >= max_attempts:
                    return False
                await asyncio.sleep(delay)
                delay = min(delay * 2, settings.forget_retry_max_seconds)
                continue
            logger.info("forget-me: conversation deleted from the tracker store (%d events)", deleted)
            logger.debug("forget-me: sender %s", sender_id)
            return True

    async def _wait_for_save(self, request: ForgetRequest) -> None:
        """Wait until the turn carrying the marker is saved, at most ``forget_wait_seconds``
        after the request (a request resumed after a restart does not wait again)."""
        settings = self.settings
        loop = asyncio.get_running_loop()
        age = (self._clock() - request.requested_at).total_seconds()
        deadline = loop.time() + settings.forget_wait_seconds - max(age, 0.0)
        saved = False
        while True:
            try:
                saved = await run_blocking(self._marker_saved, request.conversation_id, request.marker)
            except DataUnavailable:
                saved = False
            if saved or loop.time() >= deadline:
                break
            await asyncio.sleep(settings.poll_seconds)
        if not saved:
            logger.warning(
                "forget-me: the turn was not seen in the tracker store within %.0f s; deleting "
                "what is there (is TRACKER_STORE_URL the tracker store of endpoints.yml?)",
                settings.forget_wait_seconds,
            )

    async def _delete_stale_copies(self, request: ForgetRequest) -> int:
        """Watch for a copy re-saved by a message already in progress; delete it too."""
        settings = self.settings
        loop = asyncio.get_running_loop()
        deleted = 0
        watch_until = loop.time() + settings.forget_watch_seconds
        while loop.time() < watch_until:
            await asyncio.sleep(settings.poll_seconds * 2)
            try:
                stale_copy = await run_blocking(self._marker_saved, request.conversation_id, request.marker)
            except DataUnavailable:
                continue
            if stale_copy:
                deleted += await run_blocking(self._delete, request.conversation_id)
        return deleted


# Running erasures, referenced so that they are not garbage-collected mid-way.
_ERASURES: set[asyncio.Task[Any]] = set()


def _start_background(coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    task = asyncio.get_running_loop().create_task(coroutine)
    _ERASURES.add(task)
    task.add_done_callback(_ERASURES.discard)
    return task


async def wait_for_erasures(timeout: float = 60.0) -> None:
    """Wait until every background erasure has finished (tests, shutdown)."""
    if _ERASURES:
        await asyncio.wait_for(asyncio.gather(*list(_ERASURES)), timeout)


def resume_when_the_action_server_starts(eraser: ConversationEraser) -> bool:
    """Resume pending deletion requests in each action-server worker once it serves.

    ``rasa run actions`` creates its Sanic app, then builds every action (so this runs
    from ``ActionForgetMe()``), then starts serving. Outside it (tests, scripts) there
    is no such app and nothing is registered.
    """
    from sanic import Sanic
    from sanic.exceptions import SanicException

    try:
        app = Sanic.get_app(ACTION_SERVER_APP)
    except SanicException:
        return False

    async def resume(_app: Any, _loop: Any = None) -> None:
        _start_background(eraser.resume_pending())

    app.register_listener(resume, "after_server_start")
    return True
