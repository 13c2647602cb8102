"""Time the licence importer on 100,000 rows, on SQLite and (if reachable) PostgreSQL.

    .venv/bin/python bench/import_licences.py [--rows 100000] [--postgres-url URL]

Writes a generated board export (canonical header, fictional names, a few states and
cities) to a temporary folder, then for each database times:

1. the first import (every row inserted),
2. the same file again (every row unchanged: nothing written),
3. a file with 10% of the rows changed (those rows updated).

Prints the figures and the peak memory of this process. Nothing in the project's own
database is touched: SQLite uses a temporary file, PostgreSQL a temporary database.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from actions.store.database import build_engine
from actions.store.licence_csv import CANONICAL_HEADER
from actions.store.licence_import import import_licences
from scripts.throwaway_db import POSTGRES_ADMIN_URL, postgres_available, throwaway_database

STATES = {
    "TX": ["Austin", "Houston", "Dallas", "San Antonio", "El Paso"],
    "CA": ["Los Angeles", "San Francisco", "San Diego", "Sacramento", "Oakland"],
    "NY": ["New York", "Buffalo", "Rochester", "Albany"],
    "FL": ["Miami", "Tampa", "Orlando", "Jacksonville"],
    "WA": ["Seattle", "Spokane", "Tacoma"],
}
STATUSES = ["active"] * 8 + ["expired", "inactive", "suspended", "revoked", "probation"]
FIRST = ["Jane", "Alex", "Sam", "Rosa", "Lee", "Morgan", "Avery", "Chris", "Pat", "Casey", "Jordan", "Robin"]
LAST = ["Example", "Sample", "Placeholder", "Testcase", "Mockworth", "Dummyfield", "Fictional", "Notreal"]


def generate(path: Path, rows: int, seed: int, change_every: int = 0) -> None:
    """A fictional board export; with change_every=N, every Nth row has a different status."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CANONICAL_HEADER)
        states = list(STATES)
        for index in range(rows):
            state = states[index % len(states)]
            status = rng.choice(STATUSES)
            if change_every and index % change_every == 0:
                status = "suspended" if status != "suspended" else "active"
            writer.writerow(
                [
                    state,
                    f"BENCH-AC-{index:07d}",
                    "Licensed Acupuncturist" if index % 7 else "Physical Therapist",
                    f"{rng.choice(FIRST)}{index % 97}",
                    f"{rng.choice(LAST)}{index % 1009}",
                    rng.choice(STATES[state]),
                    status,
                    f"20{rng.randint(0, 23):02d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                    f"2027-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                    "L.Ac." if index % 3 else "L.Ac., Dipl. O.M. (NCCAOM)",
                    "FICTIONAL benchmark data",
                    "2026-11-01",
                ]
            )


def run(label: str, url: str, files: dict[str, Path]) -> None:
    engine = build_engine(url)
    try:
        for step, path in files.items():
            started = time.perf_counter()
            report = import_licences(path, engine)
            seconds = time.perf_counter() - started
            rate = report.rows / seconds if seconds else float("inf")
            print(f"{label:<10} {step:<22} {seconds:7.2f} s  {rate:9,.0f} rows/s  " f"({report.summary()})")
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--postgres-url", default=POSTGRES_ADMIN_URL, help="an admin URL (a database is created)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="licence-bench-") as folder:
        work = Path(folder)
        first, changed = work / "export.csv", work / "export_changed.csv"
        started = time.perf_counter()
        generate(first, args.rows, seed=1)
        generate(changed, args.rows, seed=1, change_every=10)
        print(
            f"generated {args.rows:,} rows ({first.stat().st_size / 1e6:.1f} MB) "
            f"in {time.perf_counter() - started:.1f} s"
        )
        files = {"first import": first, "same file again": first, "10% of rows changed": changed}
        run("SQLite", f"sqlite:///{work / 'bench.db'}", files)
        reason = postgres_available(args.postgres_url)
        if reason:
            print(f"PostgreSQL skipped ({reason})")
        else:
            with throwaway_database("licence_bench", args.postgres_url) as url:
                run("PostgreSQL", url, files)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
