"""The benchmark's own measuring helpers (bench/ runs on demand; its tools are tested here)."""

from __future__ import annotations

from bench.loadgen import LoadResult


def test_load_summary_percentiles_and_worker_split():
    result = LoadResult(concurrency=10, latencies_ms=[float(n) for n in range(101)], wall_s=2.02)
    result.connections_per_worker = [8, 2]
    summary = result.summary()
    assert (summary["p50_ms"], summary["p95_ms"], summary["p99_ms"]) == (50.0, 95.0, 99.0)
    assert summary["msgs_per_s"] == 50.0
    assert summary["connections_per_worker"] == [8, 2]
