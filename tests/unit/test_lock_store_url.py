"""server_plugins.lock_store.redis_lock_store reads REDIS_URL with redis-py's own
parser (issue 19): TLS, user names, %-escaped passwords. Nothing connects here."""

from __future__ import annotations

import logging

import pytest
import redis

from server_plugins.lock_store import redis_lock_store

SETTINGS = ("host", "port", "db", "username", "password")


def settings(url: str) -> tuple[type, dict]:
    pool = redis_lock_store(url).red.connection_pool
    return pool.connection_class, {key: pool.connection_kwargs.get(key) for key in SETTINGS}


def test_rediss_with_a_user_and_an_escaped_password():
    connection_class, values = settings("rediss://user:example%40pw@host:6380/2")
    assert issubclass(connection_class, redis.SSLConnection)
    assert values == {"host": "host", "port": 6380, "db": 2, "username": "user", "password": "example@pw"}
    # The asyncio client (every turn's lock) gets the same settings, TLS included.
    asyncio_settings = redis_lock_store("rediss://user:example%40pw@host:6380/2")._async_client_kwargs()
    assert {key: asyncio_settings[key] for key in (*SETTINGS, "ssl")} == {**values, "ssl": True}


def test_plain_redis_urls_keep_their_meaning():
    connection_class, values = settings("redis://:example-secret@redis:6379/1")
    assert not issubclass(connection_class, redis.SSLConnection)
    assert values == {"host": "redis", "port": 6379, "db": 1, "username": None, "password": "example-secret"}
    # No db in the URL: db 1, as before.
    assert settings("redis://127.0.0.1")[1] == {
        "host": "127.0.0.1",
        "port": 6379,
        "db": 1,
        "username": None,
        "password": None,
    }
    assert "ssl" not in redis_lock_store("redis://127.0.0.1")._async_client_kwargs()


def test_tls_files_are_passed_on_and_unknown_options_named(caplog):
    with caplog.at_level(logging.WARNING, logger="server_plugins.lock_store"):
        store = redis_lock_store("rediss://redis:6380/3?ssl_ca_certs=/etc/ca.pem&health_check_interval=5")
    pool = store.red.connection_pool
    assert pool.connection_kwargs["ssl_ca_certs"] == "/etc/ca.pem"
    assert store._async_client_kwargs()["ssl_ca_certs"] == "/etc/ca.pem"
    assert [record.getMessage() for record in caplog.records] == [
        "REDIS_URL: option(s) health_check_interval ignored by the lock store"
    ]


@pytest.mark.parametrize("url", ["unix:///run/redis.sock", "http://redis:6379/1"])
def test_other_schemes_are_refused(url):
    with pytest.raises(ValueError):
        redis_lock_store(url)
