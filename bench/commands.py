"""Benchmark: does the cost of one command grow with its line's history?

On PostgreSQL it prints, measured in the same run on the same server:
  - plain single-row INSERT transactions per second through psycopg (the baseline);
  - disbursements per second on a fresh line;
  - disbursements per second on a line that already has 100,000 events;
each with the process's line cache on (a long-running process such as the API server) and
off (every command loads the line from its latest snapshot plus the events after it, as a
one-shot CLI process does), and the ratios the issue sets targets for.

Usage:
  .venv/bin/python bench/commands.py [--postgres URL] [--operations N] [--history N]

Without --postgres (or BUDGET_LEDGER_BENCH_POSTGRES) it starts a throwaway PostgreSQL with
scripts/pg-throwaway, with the server's default durability settings (fsync on), and stops it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pg import bench_database  # noqa: E402
from ledger.application import BudgetLedger, open_ledger  # noqa: E402
from ledger.domain.lines import BudgetLine  # noqa: E402
from ledger.domain.movements import Movement, movement  # noqa: E402
from ledger.domain.values import LineKey  # noqa: E402

PAY_DAY = date(2024, 6, 1)


def rate(operations: int, action: Callable[[int], None]) -> float:
    started = time.perf_counter()
    for number in range(operations):
        action(number)
    return operations / (time.perf_counter() - started)


def plain_inserts(url: str, operations: int) -> float:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "CREATE TABLE IF NOT EXISTS bench_plain (id bigserial PRIMARY KEY, body bytea NOT NULL)"
        )
        body = os.urandom(300)  # about the size of one stored movement event

        def insert(_: int) -> None:
            connection.execute("INSERT INTO bench_plain (body) VALUES (%s)", (body,))

        return rate(operations, insert)


def store_floor(url: str, operations: int) -> float:
    """The ledger's own write statement alone: two events (a movement and a posting) through
    the events table's insert function, with no domain code. What no command can beat."""
    line_id = uuid.uuid4()
    movement_state, posting_state = os.urandom(700), os.urandom(250)
    with psycopg.connect(url, autocommit=True) as connection:

        def insert(number: int) -> None:
            connection.execute(
                "SELECT * FROM ledger_events_insert_locked(%s, %s, %s, %s)",
                (
                    [uuid.uuid4(), line_id],
                    [1, number + 1],
                    ["bench", "bench"],
                    [movement_state, posting_state],
                ),
                prepare=True,
            ).fetchall()

        return rate(operations, insert)


def open_line(ledger: BudgetLedger, holder: str) -> LineKey:
    key = LineKey("GNBV", "DTPT", "NSTW", 2024, holder)
    ledger.register_holder(holder, f"Bench {holder}", "central", None, actor="bench")
    ledger.record(
        movement(
            "adjust",
            movement_id=f"{holder}-plan",
            effective_date=date(2024, 1, 2),
            line=key,
            amount_vnd=10**15,
            decision="bench",
        ),
        actor="bench",
    )
    return key


def grow_history(ledger: BudgetLedger, key: LineKey, events: int) -> None:
    """Give the line ``events`` more disbursements, saved in batches through the same domain
    code (a real history, written fast), then snapshot it as the ledger would have."""
    batch = 500
    line = ledger.repository.get(key.line_id)
    assert isinstance(line, BudgetLine)
    at = datetime.now(UTC)
    for start in range(0, events, batch):
        movements = []
        for number in range(start, min(start + batch, events)):
            mid = f"{key.holder}-h{number}"
            day = date(2024, 3, 1 + number % 28)
            line.disburse(mid, day, 1_000, at)
            request = movement(
                "disburse",
                movement_id=mid,
                effective_date=day,
                line=key,
                amount_vnd=1_000,
                voucher="bench",
            )
            lines = [{"line": key.__dict__, "available_vnd": line.available_vnd}]
            movements.append(
                Movement.record(
                    request, actor="bench", amount_vnd=1_000, lines=lines, recorded_at=at
                )
            )
        ledger.save(line, *movements)
    ledger.take_snapshot(key.line_id)


def disbursements(ledger: BudgetLedger, key: LineKey, operations: int) -> float:
    run = uuid.uuid4().hex[:8]

    def disburse(number: int) -> None:
        ledger.record(
            movement(
                "disburse",
                movement_id=f"{run}-{number}",
                effective_date=PAY_DAY,
                line=key,
                amount_vnd=1_000,
                voucher="bench",
            ),
            actor="bench",
        )

    return rate(operations, disburse)


def ledger_at(url: str, *, cache: bool) -> BudgetLedger:
    os.environ["AGGREGATE_CACHE_MAXSIZE"] = "20000" if cache else ""
    return open_ledger(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("BUDGET_LEDGER_BENCH_POSTGRES"))
    parser.add_argument("--operations", type=int, default=1000)
    parser.add_argument("--history", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with bench_database(args.postgres) as (url, admin_url):
        with psycopg.connect(admin_url, autocommit=True) as connection:
            settings = {
                name: connection.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
                for name in ("fsync", "synchronous_commit", "server_version")
            }
        open_ledger(url, create=True).close()
        setup = ledger_at(url, cache=True)
        hot = open_line(setup, "HOT")
        started = time.perf_counter()
        grow_history(setup, hot, args.history)
        print(
            f"setup: {args.history} events on line {hot.label} in "
            f"{time.perf_counter() - started:.1f} s"
        )
        setup.close()
        print(
            f"PostgreSQL {settings['server_version']}, fsync={settings['fsync']}, "
            f"synchronous_commit={settings['synchronous_commit']}; "
            f"{args.operations} operations per measurement, median of {args.rounds} rounds"
        )

        results: dict[str, list[float]] = {}
        for round_number in range(args.rounds):
            results.setdefault("plain", []).append(plain_inserts(url, args.operations))
            results.setdefault("floor", []).append(store_floor(url, args.operations))
            for cache in (True, False):
                ledger = ledger_at(url, cache=cache)
                fresh = open_line(ledger, f"F{round_number}{int(cache)}")
                label = "cache on" if cache else "cache off"
                results.setdefault(f"fresh {label}", []).append(
                    disbursements(ledger, fresh, args.operations)
                )
                results.setdefault(f"hot {label}", []).append(
                    disbursements(ledger, hot, args.operations)
                )
                ledger.close()
        median = {name: statistics.median(values) for name, values in results.items()}
        print(f"{'plain single-row INSERT transactions':<48} {median['plain']:>9.0f} /s")
        print(
            f"{'the ledger write statement alone (2 events)':<48} {median['floor']:>9.0f} /s"
            f"  ({median['floor'] / median['plain']:.2f} of plain)"
        )
        for label in ("cache on", "cache off"):
            fresh_rate, hot_rate = median[f"fresh {label}"], median[f"hot {label}"]
            print(f"{'disbursements, fresh line, ' + label:<48} {fresh_rate:>9.0f} /s")
            print(f"{'disbursements, line with history, ' + label:<48} {hot_rate:>9.0f} /s")
            print(
                f"  hot/fresh = {hot_rate / fresh_rate:.2f} (target >= 0.9); "
                f"fresh/plain = {fresh_rate / median['plain']:.2f} (target >= 0.5)"
            )


if __name__ == "__main__":
    main()
