"""Lock store chosen by the environment.

``REDIS_URL`` set: Redis, needed with more than one Rasa server replica or
Sanic worker. Unset: the in-memory lock store (one process).

Rasa's own RedisLockStore updates a conversation's lock with
read-modify-write steps that are not atomic across replicas (the fix went to
Rasa Pro only), so two replicas receiving messages of one conversation at the
same moment can both be served. :class:`AtomicRedisLockStore` makes each step
atomic. The two steps of every turn (take a ticket; give it back) are Lua
scripts that Redis runs as one command: one round trip each, where a WATCH/MULTI
transaction needs three, and the event loop waits on every round trip of the
synchronous client (the lock store was 10% of a worker's busy time under load).
Taking the ticket also tells whether it is served at once, which saves the read
Rasa's ``lock()`` makes next. In ``lock()`` (every turn) the two scripts go through
redis-py's asyncio client, so a worker serves other conversations while Redis
answers instead of blocking its event loop; the rarer steps (waiting behind another
message of the same conversation, Rasa's other lock-store methods) stay synchronous
WATCH/MULTI transactions. Each asyncio step runs to its end even when the turn is
cancelled meanwhile (Sanic cancels it when the visitor disconnects), so no ticket is
left behind. The lock is stored exactly as Rasa stores it, so Rasa's own code can
read it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import Any, NamedTuple, TypeVar

import redis
import redis.asyncio
import redis.connection
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, LockStore, RedisLockStore

from server_plugins import speedups

logger = logging.getLogger(__name__)
T = TypeVar("T")
Mutation = Callable[[TicketLock | None], tuple[TicketLock | None, T]]


# Rasa's format: {"conversation_id": ..., "tickets": ["{\"number\": 0, \"expires\": ...}", ...]}
# (each ticket a JSON string inside the JSON object). A ticket has expired when now > expires.
_LUA_ENCODE = """
local function encode_lock(conversation_id, encoded_tickets)
  local parts = {}
  for i, encoded in ipairs(encoded_tickets) do parts[i] = cjson.encode(encoded) end
  return '{"conversation_id": ' .. cjson.encode(conversation_id) .. ', "tickets": [' ..
    table.concat(parts, ', ') .. ']}'
end
"""

# KEYS[1] lock key; ARGV now, lifetime, conversation id.
# Drops expired tickets, appends the next ticket; returns {ticket, the stored lock}.
ISSUE_TICKET_SCRIPT = (
    _LUA_ENCODE
    + """
local now = tonumber(ARGV[1])
local kept, last = {}, -1
local raw = redis.call('GET', KEYS[1])
if raw then
  for _, encoded in ipairs(cjson.decode(raw)['tickets'] or {}) do
    local ticket = cjson.decode(encoded)
    if ticket['expires'] >= now then
      kept[#kept + 1] = encoded
      last = ticket['number']
    end
  end
end
local number = last + 1
kept[#kept + 1] = string.format('{"number": %d, "expires": %.6f}', number, now + tonumber(ARGV[2]))
local stored = encode_lock(ARGV[3], kept)
redis.call('SET', KEYS[1], stored)
return {number, stored}
"""
)

# KEYS[1] lock key; ARGV now, ticket. Removes that ticket and expired ones; deletes
# the lock when no ticket is left (Rasa's finish_serving + cleanup). Returns tickets left.
CLEANUP_SCRIPT = (
    _LUA_ENCODE
    + """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local lock = cjson.decode(raw)
local now, mine = tonumber(ARGV[1]), tonumber(ARGV[2])
local kept = {}
for _, encoded in ipairs(lock['tickets'] or {}) do
  local ticket = cjson.decode(encoded)
  if ticket['expires'] >= now and ticket['number'] ~= mine then kept[#kept + 1] = encoded end
end
if #kept == 0 then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], encode_lock(lock['conversation_id'], kept))
end
return #kept
"""
)


@contextmanager
def _as_lock_error() -> Iterator[None]:
    """Any failure while taking a ticket becomes Rasa's ``LockError`` (Rasa turns it into
    a clear failure of the turn)."""
    try:
        yield
    except Exception as error:
        raise LockError(f"Error while acquiring lock. Error:\n{error}") from error


def _issued(reply: Any) -> tuple[int, TicketLock]:
    """The ticket number and the stored lock that ISSUE_TICKET_SCRIPT returned."""
    number, stored = reply
    return int(number), TicketLock.from_dict(json.loads(stored))


class _LoopClient(NamedTuple):
    """One event loop's asyncio Redis client and the two scripts registered on it."""

    client: Any
    issue: Any
    cleanup: Any


async def _run_to_completion(step: Awaitable[T]) -> tuple[T, bool]:
    """Await ``step`` to its end even if this task is cancelled meanwhile; return its
    result and whether a cancellation arrived (the step itself being cancelled, as when
    the event loop shuts down, still raises)."""
    task = asyncio.ensure_future(step)
    cancelled = False
    while True:
        try:
            return await asyncio.shield(task), cancelled
        except asyncio.CancelledError:
            if task.cancelled():
                raise
            cancelled = True


class AtomicRedisLockStore(RedisLockStore):
    """RedisLockStore whose ticket operations are atomic (Lua scripts, transactions)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # register_script sends EVALSHA and loads the script again if Redis lost it.
        self._issue_script = self.red.register_script(ISSUE_TICKET_SCRIPT)
        self._cleanup_script = self.red.register_script(CLEANUP_SCRIPT)
        # One asyncio client per event loop, made on first use inside that loop (a
        # Sanic worker has one loop; tests start several). Nothing connects here.
        self._async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopClient]
        self._async_clients = weakref.WeakKeyDictionary()

    def _async_client_kwargs(self) -> dict[str, Any]:
        """The synchronous client's connection settings, for redis-py's asyncio client."""
        pool = self.red.connection_pool
        settings = pool.connection_kwargs
        kwargs = {
            key: settings[key]
            for key in ("host", "port", "db", "username", "password", "socket_timeout")
            if key in settings
        }
        if issubclass(pool.connection_class, redis.SSLConnection):
            kwargs["ssl"] = True
            for key in ("ssl_certfile", "ssl_keyfile", "ssl_ca_certs"):
                if settings.get(key):
                    kwargs[key] = settings[key]
        return kwargs

    def _loop_client(self) -> _LoopClient:
        """The running loop's asyncio client and scripts, made on first use."""
        loop = asyncio.get_running_loop()
        entry = self._async_clients.get(loop)
        if entry is None:
            client = redis.asyncio.Redis(**self._async_client_kwargs())
            entry = _LoopClient(
                client, client.register_script(ISSUE_TICKET_SCRIPT), client.register_script(CLEANUP_SCRIPT)
            )
            self._async_clients[loop] = entry
        return entry

    async def aclose(self) -> None:
        """Close the running loop's asyncio client and its connections (a worker stopping)."""
        entry = self._async_clients.pop(asyncio.get_running_loop(), None)
        if entry is not None:
            await entry.client.close(close_connection_pool=True)

    def _issue_arguments(self, conversation_id: str, lock_lifetime: float) -> tuple[list[str], list[str]]:
        return [self.key_prefix + conversation_id], [repr(time.time()), repr(lock_lifetime), conversation_id]

    def _cleanup_arguments(self, conversation_id: str, ticket: int) -> tuple[list[str], list[Any]]:
        return [self.key_prefix + conversation_id], [repr(time.time()), ticket]

    def _issue(self, conversation_id: str, lock_lifetime: float) -> tuple[int, TicketLock]:
        """A new ticket and the lock as stored with it; any failure is Rasa's ``LockError``."""
        keys, args = self._issue_arguments(conversation_id, lock_lifetime)
        with _as_lock_error():
            return _issued(self._issue_script(keys=keys, args=args))

    async def _issue_async(self, conversation_id: str, lock_lifetime: float) -> tuple[int, TicketLock]:
        """:meth:`_issue` without blocking the event loop."""
        keys, args = self._issue_arguments(conversation_id, lock_lifetime)
        with _as_lock_error():
            return _issued(await self._loop_client().issue(keys=keys, args=args))

    @asynccontextmanager
    async def lock(
        self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = 1
    ) -> AsyncGenerator[TicketLock, None]:
        """Rasa's ``LockStore.lock``: no second read when the ticket is served at once,
        and the event loop is free while Redis answers."""
        # Sanic cancels a turn when the visitor disconnects. Each Redis step runs to its
        # end regardless, or a ticket could be left behind and hold the conversation's
        # next message back until it expires; the cancellation is raised after it.
        issued, cancelled = await _run_to_completion(self._issue_async(conversation_id, lock_lifetime))
        ticket, lock = issued
        try:
            if cancelled:
                raise asyncio.CancelledError
            if lock.is_locked(ticket):
                lock = await self._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
            yield lock
        finally:
            _, cancelled = await _run_to_completion(self._cleanup_async(conversation_id, ticket))
            if cancelled:
                raise asyncio.CancelledError

    async def _cleanup_async(self, conversation_id: str, ticket: int) -> int:
        """:meth:`cleanup` without blocking the event loop; returns the tickets left."""
        keys, args = self._cleanup_arguments(conversation_id, ticket)
        return int(await self._loop_client().cleanup(keys=keys, args=args))

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
        return self._issue(conversation_id, lock_lifetime)[0]

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
        keys, args = self._cleanup_arguments(conversation_id, ticket_number)
        self._cleanup_script(keys=keys, args=args)


# Query options of a Redis URL that the lock store passes on (its other settings
# come from the URL itself or the environment).
_SSL_URL_OPTIONS = ("ssl_certfile", "ssl_keyfile", "ssl_ca_certs")


def redis_lock_store(url: str) -> AtomicRedisLockStore:
    """A Redis URL -> an atomic Redis lock store.

    ``redis://[[user]:password@]host[:port][/db]``, or ``rediss://`` for TLS, read by
    redis-py's own parser: %-escaped user names and passwords are decoded; db 1 when
    the URL names none. ``?ssl_ca_certs=``, ``?ssl_certfile=`` and ``?ssl_keyfile=`` are
    passed on; other query options are ignored with a warning.
    """
    options = redis.connection.parse_url(url)
    connection_class = options.pop("connection_class", None)
    if connection_class is redis.UnixDomainSocketConnection:
        raise ValueError("REDIS_URL: unix:// sockets are not supported; use redis:// or rediss://")
    ssl_options = {key: options.pop(key) for key in _SSL_URL_OPTIONS if key in options}
    known = {"host", "port", "db", "username", "password"}
    if ignored := sorted(set(options) - known):
        logger.warning("REDIS_URL: option(s) %s ignored by the lock store", ", ".join(ignored))
    return AtomicRedisLockStore(
        host=options.get("host", "localhost"),
        port=options.get("port", 6379),
        db=options.get("db", 1),
        username=options.get("username"),
        password=options.get("password"),
        use_ssl=connection_class is redis.SSLConnection,
        **ssl_options,
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

    def lock(
        self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = 1
    ) -> AbstractAsyncContextManager[TicketLock]:
        # The backend's own lock(): the Redis one saves a read and a blocking wait per turn.
        return self.backend.lock(conversation_id, lock_lifetime, wait_time_in_seconds)

    async def aclose(self) -> None:
        close = getattr(self.backend, "aclose", None)
        if close is not None:
            await close()

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
