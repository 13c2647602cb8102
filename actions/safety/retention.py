"""The retention purge (``purge-conversations``): conversations idle longer than the
retention period, pending forget-me requests, and the record of finished ones."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta

from actions.base import run_blocking
from actions.safety.eraser import ConversationEraser, ConversationStoreFactory, ForgetRequestStoreFactory
from actions.settings import SafetySettings, get_safety_settings
from actions.store.conversations import sql_conversation_store
from actions.store.forget_requests import sql_forget_request_store, utc_now

logger = logging.getLogger(__name__)


def purge_expired_conversations(
    settings: SafetySettings | None = None,
    store_factory: ConversationStoreFactory | None = None,
    now: float | None = None,
) -> int:
    """Delete conversations whose last message is older than the retention period."""
    settings = settings or get_safety_settings()
    factory = store_factory or sql_conversation_store
    cutoff = (time.time() if now is None else now) - settings.retention_days * 86400
    with factory(settings.tracker_store_url) as store:
        deleted = store.delete_inactive_before(cutoff)
    logger.info("retention: %d conversations older than %d days deleted", deleted, settings.retention_days)
    return deleted


def complete_pending_requests(
    eraser: ConversationEraser | None = None, max_attempts: int = 3
) -> tuple[int, int]:
    """Run every pending deletion request here and now (``purge-conversations``, outside the
    action server's loop); return (done, still pending). Safe while the action server works
    on the same requests: deleting twice deletes nothing more."""
    eraser = eraser or ConversationEraser()

    async def complete() -> tuple[int, int]:
        pending = await run_blocking(eraser.pending_requests)
        results = await asyncio.gather(*(eraser.erase(request, max_attempts) for request in pending))
        return sum(results), len(results) - sum(results)

    return asyncio.run(complete())


def forget_done_requests(
    settings: SafetySettings | None = None,
    requests_factory: ForgetRequestStoreFactory | None = None,
    now: datetime | None = None,
) -> int:
    """Drop the record of deletions done more than the retention period ago (the record
    holds the conversation id, e.g. a phone number, so it is not kept for ever)."""
    settings = settings or get_safety_settings()
    factory = requests_factory or sql_forget_request_store
    cutoff = (now or utc_now()) - timedelta(days=settings.retention_days)
    with factory() as requests:
        return requests.delete_done_before(cutoff)
