"""Benchmark: as-of queries and projection rebuilds at national scale, on PostgreSQL.

Generates a history (3 programs x 2 kinds x 2 sources x 3 plan years over about 700 holders
in a centre/province/district/commune tree): plans enter at the centre and are allocated down
to communes, which pay through the year; each movement is recorded 0 to 20 days after its
effective date, so many are back-dated. The movements go through the domain's own rules (an
overdraw is refused and left out) and are saved in batches.

At each checkpoint (10,000, 100,000 and 1,000,000 events by default) it brings the balances
read model up to date and prints p50 and p95 latency of:
  - an as-of balance query for one line,
  - one province's subtree (every program/kind/source/year row),
  - the progress report for one province,
at random past dates and known-at times. At the end it times a full rebuild of the read model
against a plain sequential read of the stored events table in the same run.

Usage:
  .venv/bin/python bench/asof.py [--postgres URL] [--checkpoints 10000,100000,1000000]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pg import bench_database  # noqa: E402
from ledger.application import BudgetLedger, open_ledger  # noqa: E402
from ledger.domain.errors import LedgerError  # noqa: E402
from ledger.domain.lines import BudgetLine  # noqa: E402
from ledger.domain.movements import Movement, MovementRequest, movement  # noqa: E402
from ledger.domain.values import LineKey  # noqa: E402
from projections.progress import progress  # noqa: E402
from projections.queries import line_balances, subtree_balances  # noqa: E402
from projections.runner import Projections  # noqa: E402

PROGRAMS, KINDS, SOURCES, YEARS = (
    ("NTM", "GNBV", "DTTS"),
    ("DTPT", "SN"),
    ("NSTW", "NSDP"),
    (2023, 2024, 2025),
)
PROVINCES, DISTRICTS, COMMUNES = 2, 8, 43
QUERIES = 200
SAVE_BATCH = 400


Holder = tuple[str, str, str, str | None]  # code, name, level, parent


def province_tree(province: str, districts: int, communes: int) -> list[Holder]:
    """Province ``province`` (under TW), its ``districts`` and each one's ``communes``."""
    holders: list[Holder] = [(province, f"Tỉnh {province}", "province", "TW")]
    for d in range(districts):
        district = f"{province}{d:02d}"
        holders.append((district, f"Huyện {district}", "district", province))
        for c in range(communes):
            holders.append((f"{district}{c:02d}", f"Xã {district}{c:02d}", "commune", district))
    return holders


def tree() -> list[Holder]:
    holders: list[Holder] = [("TW", "Trung ương", "central", None)]
    for p in range(PROVINCES):
        holders += province_tree(f"{10 + p}", DISTRICTS, COMMUNES)
    return holders


def plan(
    rng: random.Random,
    holders: list[Holder] | None = None,
    root: str = "TW",
) -> Iterator[tuple[datetime, MovementRequest]]:
    """(recorded_at, request) for every movement, unordered: plans enter at ``root`` and are
    allocated down ``holders`` (default: the whole tree, from the centre)."""
    holders = tree() if holders is None else holders
    children: dict[str, list[str]] = {}
    for code, _, _, parent in holders:
        if parent:
            children.setdefault(parent, []).append(code)
    number = 0

    def request(
        action: str, day: date, line: LineKey, **fields: Any
    ) -> tuple[datetime, MovementRequest]:
        nonlocal number
        number += 1
        recorded = datetime.combine(day, datetime.min.time(), UTC) + timedelta(
            days=rng.randrange(0, 21), seconds=rng.randrange(0, 86400)
        )
        reference = {"disburse": "voucher"}.get(action, "decision")
        return recorded, movement(
            action,
            movement_id=f"b{number}",
            effective_date=day,
            line=line,
            **{reference: "bench"},
            **fields,
        )

    for program in PROGRAMS:
        for kind in KINDS:
            for source in SOURCES:
                for year in YEARS:
                    top = LineKey(program, kind, source, year, root)
                    start = date(year, 1, 2)
                    yield request("adjust", start, top, amount_vnd=10**14)
                    stack = [(root, 10**14, start)]
                    while stack:
                        holder, amount, day = stack.pop()
                        kids = children.get(holder, [])
                        for kid in kids:
                            share = amount // (len(kids) + 1)
                            when = day + timedelta(days=rng.randrange(1, 10))
                            yield request(
                                "allocate",
                                when,
                                top.with_holder(holder),
                                counterpart=kid,
                                amount_vnd=share,
                            )
                            stack.append((kid, share, when))
                        if not kids:
                            for _ in range(rng.randrange(2, 6)):
                                when = date(year, 2, 1) + timedelta(days=rng.randrange(0, 320))
                                yield request(
                                    "disburse",
                                    when,
                                    top.with_holder(holder),
                                    amount_vnd=rng.randrange(10**6, 10**9),
                                )


def generate(
    ledger: BudgetLedger, events_target: int, rng: random.Random, state: dict[str, Any]
) -> int:
    """Record movements until the log holds ``events_target`` events; returns the count."""
    if "queue" not in state:
        for code, name, level, parent in tree():
            ledger.register_holder(code, name, level, parent, actor="bench")
        state["queue"] = iter(sorted(plan(random.Random(0)), key=lambda pair: pair[0]))
        state["seed"] = 0

    def next_pass() -> Iterator[tuple[datetime, MovementRequest]]:
        # Another pass of the whole plan, a year of movements later.
        state["seed"] += 1
        shift = state["seed"]
        generated = sorted(plan(random.Random(shift)), key=lambda pair: pair[0])
        return iter(
            [
                (at, dataclasses.replace(request, movement_id=f"{request.movement_id}-{shift}"))
                for at, request in generated
            ]
        )

    return record_until(ledger, events_target, state, next_pass)


def record_until(
    ledger: BudgetLedger,
    events_target: int,
    state: dict[str, Any],
    next_pass: Callable[[], Iterator[tuple[datetime, MovementRequest]]],
) -> int:
    """Record ``state["queue"]``'s movements, in batches, until the log holds
    ``events_target`` events; when the queue runs out, what is pending is saved and
    ``next_pass()`` gives the next. Returns the log's head."""
    lines: dict[LineKey, BudgetLine] = state.setdefault("lines", {})
    pending: list[Any] = []
    events = ledger.head_position()
    while events < events_target:
        try:
            recorded_at, request = next(state["queue"])
        except StopIteration:
            if pending:
                ledger.save(*pending)
                pending = []
            state["queue"] = next_pass()
            events = ledger.head_position()
            continue
        applied = apply(lines, request, recorded_at)
        if applied is None:
            continue
        pending.extend(applied[0])
        events += applied[1]
        if len(pending) >= SAVE_BATCH:
            ledger.save(*pending)
            pending = []
    if pending:
        ledger.save(*pending)
    return ledger.head_position()


def apply(
    lines: dict[LineKey, BudgetLine], request: MovementRequest, at: datetime
) -> tuple[list[Any], int] | None:
    """Run one movement through the lines' own rules: the aggregates to save and how many
    events they carry; None if the rules refuse it."""
    key = request.line
    assert key is not None and request.amount_vnd is not None
    day, mid, amount = request.effective_date, request.movement_id, request.amount_vnd
    source = lines.get(key)
    if source is None and request.action != "adjust":
        return None  # recorded before the money reached this line: refused
    opened: list[LineKey] = []

    def line(k: LineKey) -> BudgetLine:
        if k not in lines:
            lines[k] = BudgetLine.open(k, recorded_at=at)
            opened.append(k)
        return lines[k]

    try:
        if request.action == "adjust":
            touched = [line(key)]
            touched[0].adjust(mid, day, amount, at)
        elif request.action == "allocate":
            assert request.counterpart is not None and source is not None
            source.allocate(mid, day, amount, at, to_holder=request.counterpart)
            target = line(key.with_holder(request.counterpart))
            target.receive_allocation(mid, day, amount, at, from_holder=key.holder)
            touched = [source, target]
        else:
            assert source is not None
            source.disburse(mid, day, amount, at)
            touched = [source]
    except LedgerError:
        for k in opened:
            del lines[k]
        return None
    entries = [{"line": t.key.as_dict(), "available_vnd": t.available_vnd} for t in touched]
    movement = Movement.record(
        request, actor="bench", amount_vnd=amount, lines=entries, recorded_at=at
    )
    # The movement's event, one posting per line, and an opening event per new line.
    return [movement, *touched], 1 + len(touched) + len(opened)


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered) * 1000
    p95 = ordered[int(0.95 * (len(ordered) - 1))] * 1000
    return f"p50 {p50:7.2f} ms   p95 {p95:7.2f} ms"


def timed(action: Callable[[], Any], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


def measure(projections: Projections, rng: random.Random, events: int) -> None:
    reader = projections.reader()
    # The communes' lines (six-digit codes under the provinces 10 and 11), in the order the
    # read model numbered them.
    lines = sorted(
        (row[:6] for row in reader.lines({}) if len(row[5]) == 6 and row[5][0] == "1"),
        key=lambda row: int(row[0]),
    )
    recorded = reader.recorded_span()
    assert recorded is not None, "the read model has no versions"
    first, last = recorded
    span = (last - first).total_seconds()

    def random_time() -> datetime:
        return first + timedelta(seconds=rng.uniform(0, span))

    def random_day() -> date:
        return date(2023, 1, 1) + timedelta(days=rng.randrange(0, 3 * 365))

    def one_line() -> None:
        _, program, kind, source, year, holder = rng.choice(lines)
        line_balances(
            projections,
            {"program": program, "kind": kind, "source": source, "year": year, "holder": holder},
            random_day(),
            random_time(),
        )

    def subtree() -> None:
        subtree_balances(projections, rng.choice(["10", "11"]), {}, random_day(), random_time())

    def report() -> None:
        progress(
            projections,
            as_of=random_day(),
            known_at=random_time(),
            by="holder",
            holder=rng.choice(["10", "11"]),
        )

    print(f"  {events:>9} events  one line       {percentiles(timed(one_line, QUERIES))}")
    print(f"  {events:>9} events  province tree  {percentiles(timed(subtree, QUERIES // 4))}")
    print(f"  {events:>9} events  progress report{percentiles(timed(report, QUERIES // 10))}")


def plain_read(url: str) -> float:
    started = time.perf_counter()
    rows = 0
    with psycopg.connect(url) as connection, connection.cursor(name="bench_read") as cursor:
        cursor.itersize = 5000
        cursor.execute(
            "SELECT notification_id, originator_id, originator_version, topic, state"
            " FROM ledger_events ORDER BY notification_id"
        )
        for _ in cursor:
            rows += 1
    return rows / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("BUDGET_LEDGER_BENCH_POSTGRES"))
    parser.add_argument("--checkpoints", default="10000,100000,1000000")
    args = parser.parse_args()
    checkpoints = [int(n) for n in args.checkpoints.split(",")]
    with bench_database(args.postgres) as (url, _):
        open_ledger(url, create=True).close()
        os.environ["AGGREGATE_CACHE_MAXSIZE"] = ""
        ledger = open_ledger(url)
        projections = Projections(ledger, url)
        rng, state = random.Random(7), {}
        print(
            f"{len(tree())} holders; {QUERIES} one-line queries, {QUERIES // 4} subtree "
            f"queries and {QUERIES // 10} reports per checkpoint, at random dates and times"
        )
        for target in checkpoints:
            started = time.perf_counter()
            events = generate(ledger, target, rng, state)
            generated = time.perf_counter() - started
            started = time.perf_counter()
            projections.catch_up()
            caught_up = time.perf_counter() - started
            print(
                f"{events} events (generated in {generated:.0f} s; read model caught up in "
                f"{caught_up:.0f} s)"
            )
            measure(projections, rng, events)
        read_rate = plain_read(url)
        started = time.perf_counter()
        projections.rebuild()
        rebuild_rate = ledger.head_position() / (time.perf_counter() - started)
        print(
            f"rebuild: {rebuild_rate:,.0f} events/s; plain sequential read of the events "
            f"table: {read_rate:,.0f} rows/s; ratio {rebuild_rate / read_rate:.2f} "
            "(targets: >= 15,000 events/s and >= 0.3)"
        )
        projections.close()
        ledger.close()


if __name__ == "__main__":
    main()
