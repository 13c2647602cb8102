"""The benchmark's own measuring helpers (bench/ runs on demand; its tools are tested here)."""

from __future__ import annotations

import os
import socket
import sys

import pytest

from bench.loadgen import LoadResult
from bench.servers import connections_per_process


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux only)")
def test_connections_are_counted_on_the_accepting_process():
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
        accepted = [server.accept()[0] for _ in clients]
        try:
            # Only the server side of each connection has the port as its local port.
            assert connections_per_process(port, os.getpid()) == {os.getpid(): 3}
        finally:
            for sock in [*clients, *accepted]:
                sock.close()


def test_no_connections_on_an_unused_port():
    with socket.create_server(("127.0.0.1", 0)) as server:
        assert connections_per_process(server.getsockname()[1], os.getpid()) == {}


def test_load_summary_percentiles_and_worker_split():
    result = LoadResult(concurrency=10, latencies_ms=[float(n) for n in range(101)], wall_s=2.02)
    result.connections_per_worker = [8, 2]
    summary = result.summary()
    assert (summary["p50_ms"], summary["p95_ms"], summary["p99_ms"]) == (50.0, 95.0, 99.0)
    assert summary["msgs_per_s"] == 50.0
    assert summary["connections_per_worker"] == [8, 2]
