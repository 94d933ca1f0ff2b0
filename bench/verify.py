"""Benchmark: how long ``budget-ledger verify`` takes per million events, on PostgreSQL.

Generates a history with bench/asof.py's generator (movements through the domain's own rules,
saved in batches through the ledger's insert function, which writes the hash chain), then
times, in the same run:
  - a plain sequential read of the events table (the floor);
  - recomputing the hash chain from every stored event (ledger/storage/integrity.py);
  - the whole verify: the chain, then the ledger's rules over the stored events.
and prints each as seconds per million events.

Usage:
  .venv/bin/python bench/verify.py [--postgres URL] [--events 1000000]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.asof import generate  # noqa: E402
from bench.pg import bench_database  # noqa: E402
from ledger.application import open_ledger  # noqa: E402
from ledger.domain.audit import check  # noqa: E402
from ledger.storage.integrity import Log  # noqa: E402
from ledger.storage.sql import ViewStore  # noqa: E402


def plain_read(url: str) -> float:
    started = time.perf_counter()
    with psycopg.connect(url) as connection, connection.cursor(name="plain") as cursor:
        cursor.itersize = 5000
        cursor.execute("SELECT * FROM ledger_events ORDER BY notification_id")
        for _ in cursor:
            pass
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=os.environ.get("BUDGET_LEDGER_BENCH_POSTGRES"))
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    with bench_database(args.postgres) as (url, _):
        ledger = open_ledger(url, create=True)
        started = time.perf_counter()
        events = generate(ledger, args.events, random.Random(1), {})
        print(f"generated {events:,} events in {time.perf_counter() - started:.0f} s", flush=True)
        per_million = 1_000_000 / events
        plain_s = plain_read(url)
        store = ViewStore(url)
        try:
            started = time.perf_counter()
            result = Log(store, ledger.recorder).verify()
            chain_s = time.perf_counter() - started
            assert result.finding is None and result.count == events, result
            started = time.perf_counter()
            problems = check(ledger.journal(), ledger.replay_lines())
            rules_s = time.perf_counter() - started
            assert problems == [], problems[:3]
        finally:
            store.close()
            ledger.close()
    print(f"{'':<34} {'seconds':>9} {'s per million events':>22}")
    for name, seconds in (
        ("plain read of the events table", plain_s),
        ("hash chain recomputed", chain_s),
        ("rules (conservation, overdraws)", rules_s),
        ("verify in all (chain + rules)", chain_s + rules_s),
    ):
        print(f"{name:<34} {seconds:>9.1f} {seconds * per_million:>22.1f}")
    print(f"chain / plain read: {chain_s / plain_s:.2f}")


if __name__ == "__main__":
    main()
