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
Rasa's ``lock()`` makes next. In ``lock()`` (every turn) the scripts go through
redis-py's asyncio client, so a worker serves other conversations while Redis
answers instead of blocking its event loop; Rasa's other lock-store methods run the
same scripts synchronously. Each asyncio step runs to its end even when the turn is
cancelled meanwhile (Sanic cancels it when the visitor disconnects), so no ticket is
left behind. The lock is stored exactly as Rasa stores it, so Rasa's own code can
read it.

Issue 19 (finding 6): ticket numbers come from a counter that is never reset (a turn
that overran its expired ticket cannot return the next holder's ticket), expiry is
judged by Redis's clock (``TIME``), not each replica's, and every lock key has a TTL.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from collections.abc import AsyncGenerator, Awaitable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import Any, NamedTuple, TypeVar

import redis
import redis.asyncio
import redis.connection
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, LockStore, RedisLockStore

from actions.settings import check_deployment, redis_lock_prefix, redis_socket_timeout, redis_url
from server_plugins import speedups

logger = logging.getLogger(__name__)
T = TypeVar("T")


# Rasa's format: {"conversation_id": ..., "tickets": ["{\"number\": 0, \"expires\": ...}", ...]}
# (each ticket a JSON string inside the JSON object). A ticket has expired when now > expires.
# Every script reads "now" from Redis (TIME), never from a replica's clock: replicas whose
# clocks disagree would otherwise expire each other's tickets early or late. Every write
# gives the key a TTL a second past its last ticket's expiry, so a lock whose holders all
# died disappears by itself.
_LUA_COMMON = """
local function encode_lock(conversation_id, encoded_tickets)
  local parts = {}
  for i, encoded in ipairs(encoded_tickets) do parts[i] = cjson.encode(encoded) end
  return '{"conversation_id": ' .. cjson.encode(conversation_id) .. ', "tickets": [' ..
    table.concat(parts, ', ') .. ']}'
end
local function redis_now()
  local clock = redis.call('TIME')
  return tonumber(clock[1]) + tonumber(clock[2]) / 1000000
end
local function store(key, conversation_id, encoded_tickets, latest, now)
  local stored = encode_lock(conversation_id, encoded_tickets)
  redis.call('SET', key, stored, 'PX', math.ceil((latest - now) * 1000) + 1000)
  return stored
end
"""

# KEYS[1] lock key, KEYS[2] ticket counter; ARGV lifetime, conversation id.
# Drops expired tickets, appends a new ticket; returns {ticket, the stored lock, 1 if it
# is served at once}. Numbers come from a counter that is never reset, so a turn that
# overran its ticket can never return the ticket of whoever came next (with numbers
# restarting at 0 once every ticket had expired, it could). A lock written by other code
# (Rasa's own, numbered from 0) is continued above its highest number.
ISSUE_TICKET_SCRIPT = (
    _LUA_COMMON
    + """
local now = redis_now()
local kept, first, highest, latest = {}, nil, 0, now
local raw = redis.call('GET', KEYS[1])
if raw then
  for _, encoded in ipairs(cjson.decode(raw)['tickets'] or {}) do
    local ticket = cjson.decode(encoded)
    if ticket['expires'] >= now then
      kept[#kept + 1] = encoded
      first = first or ticket['number']
      highest = math.max(highest, ticket['number'])
      latest = math.max(latest, ticket['expires'])
    end
  end
end
local number = redis.call('INCR', KEYS[2])
if number <= highest then
  number = highest + 1
  redis.call('SET', KEYS[2], number)
end
local expires = now + tonumber(ARGV[1])
kept[#kept + 1] = string.format('{"number": %d, "expires": %.6f}', number, expires)
local stored = store(KEYS[1], ARGV[2], kept, math.max(latest, expires), now)
return {number, stored, (first == nil) and 1 or 0}
"""
)

# KEYS[1] lock key; ARGV ticket to remove ("" for none), ticket to look for ("" for none).
# Drops expired tickets and the removed one; deletes the lock when no ticket is left
# (Rasa's finish_serving + cleanup, and its update_lock). Returns {tickets left, number
# of the ticket now served (-1 if none), 1 if the looked-for ticket is still there,
# the stored lock or ""}.
CLEANUP_SCRIPT = (
    _LUA_COMMON
    + """
local raw = redis.call('GET', KEYS[1])
if not raw then return {0, -1, 0, ''} end
local now = redis_now()
local lock = cjson.decode(raw)
local remove, wanted = tonumber(ARGV[1]), tonumber(ARGV[2])
local kept, first, present, latest = {}, -1, 0, now
for _, encoded in ipairs(lock['tickets'] or {}) do
  local ticket = cjson.decode(encoded)
  if ticket['expires'] >= now and ticket['number'] ~= remove then
    kept[#kept + 1] = encoded
    if first == -1 then first = ticket['number'] end
    if ticket['number'] == wanted then present = 1 end
    latest = math.max(latest, ticket['expires'])
  end
end
if #kept == 0 then
  redis.call('DEL', KEYS[1])
  return {0, -1, 0, ''}
end
return {#kept, first, present, store(KEYS[1], lock['conversation_id'], kept, latest, now)}
"""
)


class _Tidied(NamedTuple):
    """What CLEANUP_SCRIPT left: how many tickets, which is served, whether the ticket
    looked for is among them, and the lock as stored (None when deleted)."""

    left: int
    serving: int
    present: bool
    lock: TicketLock | None


def _tidied(reply: Any) -> _Tidied:
    left, serving, present, stored = reply
    lock = TicketLock.from_dict(json.loads(stored)) if stored else None
    return _Tidied(int(left), int(serving), bool(int(present)), lock)


@contextmanager
def _as_lock_error() -> Iterator[None]:
    """Any failure while taking a ticket becomes Rasa's ``LockError`` (Rasa turns it into
    a clear failure of the turn)."""
    try:
        yield
    except Exception as error:
        raise LockError(f"Error while acquiring lock. Error:\n{error}") from error


def _issued(reply: Any) -> tuple[int, TicketLock, bool]:
    """The ticket number, the stored lock and whether the ticket is served at once,
    as ISSUE_TICKET_SCRIPT returned them."""
    number, stored, served = reply
    return int(number), TicketLock.from_dict(json.loads(stored)), bool(int(served))


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

    @property
    def counter_key(self) -> str:
        """The ticket counter: next to the locks' keys, never one of them ("faqbot:lock-counter")."""
        return self.key_prefix.rstrip(":") + "-counter"

    def _issue_arguments(self, conversation_id: str, lock_lifetime: float) -> tuple[list[str], list[str]]:
        return [self.key_prefix + conversation_id, self.counter_key], [repr(lock_lifetime), conversation_id]

    @staticmethod
    def _cleanup_arguments(
        key: str, remove: int | None = None, wanted: int | None = None
    ) -> tuple[list[str], list[str]]:
        return [key], ["" if remove is None else str(remove), "" if wanted is None else str(wanted)]

    def _issue(self, conversation_id: str, lock_lifetime: float) -> tuple[int, TicketLock, bool]:
        """A new ticket, the lock as stored with it, and whether it is served at once; any
        failure is Rasa's ``LockError``."""
        keys, args = self._issue_arguments(conversation_id, lock_lifetime)
        with _as_lock_error():
            return _issued(self._issue_script(keys=keys, args=args))

    async def _issue_async(self, conversation_id: str, lock_lifetime: float) -> tuple[int, TicketLock, bool]:
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
        ticket, lock, served = issued
        try:
            if cancelled:
                raise asyncio.CancelledError
            if not served:
                lock = await self._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
            yield lock
        finally:
            _, cancelled = await _run_to_completion(self._cleanup_async(conversation_id, ticket))
            if cancelled:
                raise asyncio.CancelledError

    async def _acquire_lock(
        self, conversation_id: str, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        """Rasa's wait for the ticket's turn, with expiry judged by Redis's clock (Rasa's
        own loop drops expired tickets with the local clock)."""
        key = self.key_prefix + conversation_id
        while True:
            keys, args = self._cleanup_arguments(key, wanted=ticket)
            tidied = _tidied(await self._loop_client().cleanup(keys=keys, args=args))
            if not tidied.present or tidied.lock is None:
                # The ticket expired while it waited: the turn must not run unlocked.
                raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
            if tidied.serving == ticket:
                return tidied.lock
            await asyncio.sleep(wait_time_in_seconds)

    async def _cleanup_async(self, conversation_id: str, ticket: int) -> int:
        """:meth:`cleanup` without blocking the event loop; returns the tickets left."""
        keys, args = self._cleanup_arguments(self.key_prefix + conversation_id, remove=ticket)
        return _tidied(await self._loop_client().cleanup(keys=keys, args=args)).left

    def _tidy(self, conversation_id: str, remove: int | None = None) -> None:
        keys, args = self._cleanup_arguments(self.key_prefix + conversation_id, remove=remove)
        self._cleanup_script(keys=keys, args=args)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        return self._issue(conversation_id, lock_lifetime)[0]

    def update_lock(self, conversation_id: str) -> None:
        self._tidy(conversation_id)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self._tidy(conversation_id, remove=ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        self._tidy(conversation_id, remove=ticket_number)

    def save_lock(self, lock: TicketLock) -> None:
        """Rasa's save, with the key's TTL (nothing on a turn's path calls it)."""
        latest = max((ticket.expires for ticket in lock.tickets), default=time.time())
        milliseconds = max(1000, int((latest - time.time()) * 1000) + 1000)
        self.red.set(self.key_prefix + lock.conversation_id, lock.dumps(), px=milliseconds)


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
        key_prefix=redis_lock_prefix(),
        socket_timeout=redis_socket_timeout(),
    )


class EnvLockStore(LockStore):
    """Delegates every lock operation to Redis or memory, chosen once from the environment."""

    def __init__(self, endpoint_config: Any = None) -> None:
        # Several workers or replicas on in-memory locks would each lock only their own
        # copy of a conversation; production also refuses placeholder secrets.
        check_deployment("rasa")
        url = redis_url()
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
