"""Lock store chosen by the environment.

``REDIS_URL`` set: Redis, needed with more than one Rasa server replica or
Sanic worker. Unset: the in-memory lock store (one process).

Rasa's own RedisLockStore updates a conversation's lock with
read-modify-write steps that are not atomic across replicas (the fix went to
Rasa Pro only), so two replicas receiving messages of one conversation at the
same moment can both be served. :class:`AtomicRedisLockStore` does each of
those steps in a Redis WATCH/MULTI transaction.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, LockStore, RedisLockStore

from server_plugins import speedups

logger = logging.getLogger(__name__)
T = TypeVar("T")
Mutation = Callable[[TicketLock | None], tuple[TicketLock | None, T]]


class AtomicRedisLockStore(RedisLockStore):
    """RedisLockStore whose ticket operations are atomic transactions."""

    def _atomic(self, conversation_id: str, mutate: Mutation[T]) -> T:
        key = self.key_prefix + conversation_id
        results: list[T] = []

        def transaction(pipe: Any) -> None:
            results.clear()
            raw = pipe.get(key)
            lock = TicketLock.from_dict(json.loads(raw)) if raw else None
            new_lock, result = mutate(lock)
            pipe.multi()
            if new_lock is None:
                pipe.delete(key)
            else:
                pipe.set(key, new_lock.dumps())
            results.append(result)

        self.red.transaction(transaction, key)
        return results[-1]

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def mutate(lock: TicketLock | None) -> tuple[TicketLock | None, int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._atomic(conversation_id, mutate)
        except Exception as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        def mutate(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._atomic(conversation_id, mutate)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        def mutate(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return lock, None

        self._atomic(conversation_id, mutate)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        def mutate(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return (lock if lock.is_someone_waiting() else None), None

        self._atomic(conversation_id, mutate)


def redis_lock_store(url: str) -> AtomicRedisLockStore:
    """``redis://[:password@]host[:port][/db]`` -> an atomic Redis lock store."""
    parsed = urlsplit(url)
    return AtomicRedisLockStore(
        host=parsed.hostname or "localhost",
        port=parsed.port or 6379,
        db=int(parsed.path.strip("/") or 1),
        password=parsed.password,
        key_prefix=os.environ.get("REDIS_LOCK_PREFIX", "faqbot"),
        socket_timeout=float(os.environ.get("REDIS_SOCKET_TIMEOUT", "5")),
    )


class LockStoreConfigError(ValueError):
    """The environment asks for a set-up the chosen lock store cannot serve safely."""


def sanic_workers() -> int:
    """Rasa reads SANIC_WORKERS to start several worker processes (default 1)."""
    raw = os.environ.get("SANIC_WORKERS", "").strip() or "1"
    try:
        return int(raw)
    except ValueError:
        return 1  # Rasa itself would fail on it first


class EnvLockStore(LockStore):
    """Delegates every lock operation to Redis or memory, chosen once from the environment."""

    def __init__(self, endpoint_config: Any = None) -> None:
        url = os.environ.get("REDIS_URL", "").strip()
        if not url and sanic_workers() > 1:
            # Each worker would have its own in-memory locks: two messages of one
            # conversation could then be processed at once and a turn lost.
            raise LockStoreConfigError(
                f"SANIC_WORKERS={sanic_workers()} needs a shared lock store: set REDIS_URL "
                "(for example redis://127.0.0.1:6379/1) or run a single worker."
            )
        self.backend: LockStore = redis_lock_store(url) if url else InMemoryLockStore()
        logger.info("lock store: %s", type(self.backend).__name__)
        speedups.install()

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        return self.backend.get_lock(conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        self.backend.delete_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        self.backend.save_lock(lock)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        return self.backend.issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: str) -> None:
        self.backend.update_lock(conversation_id)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self.backend.finish_serving(conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        self.backend.cleanup(conversation_id, ticket_number)
