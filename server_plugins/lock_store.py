"""Lock store chosen by the environment: Redis when ``REDIS_URL`` is set
(needed with more than one Rasa server replica or Sanic worker), otherwise the
in-memory lock store (one process)."""

from __future__ import annotations

import logging
import os
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)


def _redis_store(url: str) -> RedisLockStore:
    """``redis://[:password@]host[:port][/db]`` -> RedisLockStore."""
    parsed = urlsplit(url)
    return RedisLockStore(
        host=parsed.hostname or "localhost",
        port=parsed.port or 6379,
        db=int(parsed.path.strip("/") or 1),
        password=parsed.password,
        key_prefix=os.environ.get("REDIS_LOCK_PREFIX", "faqbot"),
        socket_timeout=float(os.environ.get("REDIS_SOCKET_TIMEOUT", "5")),
    )


class EnvLockStore(LockStore):
    """Delegates to Redis or memory, decided once from the environment."""

    def __init__(self, endpoint_config: Any = None) -> None:
        url = os.environ.get("REDIS_URL", "").strip()
        self.backend: LockStore = _redis_store(url) if url else InMemoryLockStore()
        logger.info("lock store: %s", type(self.backend).__name__)

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        return self.backend.get_lock(conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        self.backend.delete_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        self.backend.save_lock(lock)
