"""Benchmark: reads of a merged province against an unmerged province of the same size.

Builds, in one ledger, a province "10" that absorbed four provinces on 1/7/2025 (their
districts then sit under it) and whose communes were merged two by two the same day, and a
province "30" that never changed, with as many districts, communes and lines. Both are
funded from the centre (investment and recurrent capital of 2025), allocated down to the
communes, which pay before and after the reorganisation. Then, in the same run and
interleaved, it times a subtree balance read (every group of the province's subtree) and a
progress report (one row per child) of each on 1/9/2025, and prints the medians and the
ratio unmerged / merged (1.0: as fast; the issue's target is at least 0.8).

Usage:
  .venv/bin/python bench/merged_reads.py [--store sqlite|postgres] [--postgres URL] [--repeat 50]
(SQLite: a file in a temporary directory; PostgreSQL: --postgres, or a throwaway server)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pg import bench_database  # noqa: E402
from ledger.application import BudgetLedger, open_ledger  # noqa: E402
from ledger.domain.movements import Succeed, movement  # noqa: E402
from ledger.domain.values import LineKey  # noqa: E402
from projections.progress import progress  # noqa: E402
from projections.queries import subtree_balances  # noqa: E402
from projections.runner import Projections  # noqa: E402

PREDECESSORS = ("20", "21", "22", "23")  # provinces that end into "10"
DISTRICTS, COMMUNES = 3, 12  # per province that merges; "30" has five times as many districts
KINDS = ("DTPT", "SN")
D, READ = date(2025, 7, 1), date(2025, 9, 1)
TY = 10**9


class Recorder:
    def __init__(self, ledger: BudgetLedger) -> None:
        self.ledger = ledger
        self.count = 0

    def __call__(self, action: str, day: date, key: LineKey, **fields: Any) -> None:
        self.count += 1
        reference = {"allocate": "decision", "adjust": "decision", "disburse": "voucher"}[action]
        request = movement(
            action,
            movement_id=f"m{self.count}",
            effective_date=day,
            line=key,
            **{reference: f"REF {self.count}"},
            **fields,
        )
        self.ledger.record(request, actor="bench")


def province(ledger: BudgetLedger, code: str, districts: int) -> list[str]:
    """Register a province, its districts and communes; returns its communes."""
    ledger.register_holder(code, f"Tỉnh {code}", "province", "TW", actor="bench")
    communes = []
    for d in range(districts):
        district = f"{code}{d:02d}"
        ledger.register_holder(district, f"Huyện {district}", "district", code, actor="bench")
        for c in range(COMMUNES):
            commune = f"{district}{c:02d}"
            ledger.register_holder(commune, f"Xã {commune}", "commune", district, actor="bench")
            communes.append(commune)
    return communes


def fund(record: Recorder, province_code: str, communes: list[str]) -> None:
    """Plan from the centre down to every commune; each commune pays in March."""
    for kind in KINDS:
        top = LineKey("NTM", kind, "NSTW", 2025, "TW")
        per_commune = 10 * TY
        record(
            "allocate",
            date(2025, 1, 5),
            top,
            counterpart=province_code,
            amount_vnd=per_commune * len(communes),
        )
        by_district: dict[str, list[str]] = {}
        for commune in communes:
            by_district.setdefault(commune[:-2], []).append(commune)
        for district, below in by_district.items():
            record(
                "allocate",
                date(2025, 1, 10),
                top.with_holder(province_code),
                counterpart=district,
                amount_vnd=per_commune * len(below),
            )
            for commune in below:
                record(
                    "allocate",
                    date(2025, 1, 15),
                    top.with_holder(district),
                    counterpart=commune,
                    amount_vnd=per_commune,
                )
                record("disburse", date(2025, 3, 1), top.with_holder(commune), amount_vnd=3 * TY)


def build(ledger: BudgetLedger) -> None:
    record = Recorder(ledger)
    ledger.register_holder("TW", "Trung ương", "central", None, actor="bench")
    for kind in KINDS:
        record(
            "adjust",
            date(2025, 1, 2),
            LineKey("NTM", kind, "NSTW", 2025, "TW"),
            amount_vnd=10**6 * TY,
        )
    merged = {code: province(ledger, code, DISTRICTS) for code in ("10", *PREDECESSORS)}
    unmerged = province(ledger, "30", DISTRICTS * (1 + len(PREDECESSORS)))
    for code, communes in [*merged.items(), ("30", unmerged)]:
        fund(record, code, communes)
    ledger.record(
        Succeed(
            movement_id="s-10",
            effective_date=D,
            from_holders=PREDECESSORS,
            to_holder="10",
            decision="NQ 202/2025/QH15",
        ),
        actor="bench",
    )
    communes = [commune for below in merged.values() for commune in below]
    for index in range(0, len(communes) - 1, 2):
        first, second = communes[index], communes[index + 1]
        ledger.record(
            Succeed(
                movement_id=f"s-{first}",
                effective_date=D,
                from_holders=(first, second),
                to_holder=first,
                decision="NQ 1670/NQ-UBTVQH15",
            ),
            actor="bench",
        )
    for below in (communes[::2], unmerged):
        for commune in below:
            key = LineKey("NTM", "DTPT", "NSTW", 2025, commune)
            record("disburse", date(2025, 8, 1), key, amount_vnd=1 * TY)
    print(f"recorded {record.count} movements and {1 + len(communes) // 2} successions")


def timed(read: Callable[[str], Any], code: str, times: list[float]) -> None:
    started = time.perf_counter()
    read(code)
    times.append((time.perf_counter() - started) * 1000)


def run(database: str, repeat: int) -> None:
    ledger = open_ledger(database, create=True)
    projections = Projections(ledger, database)
    try:
        started = time.perf_counter()
        build(ledger)
        print(f"built in {time.perf_counter() - started:.1f} s")
        projections.catch_up()
        reads: dict[str, Callable[[str], Any]] = {
            "subtree balance": lambda code: subtree_balances(projections, code, {}, READ, None),
            "progress": lambda code: progress(projections, as_of=READ, known_at=None, holder=code),
        }
        merged_rows = subtree_balances(projections, "10", {}, READ, None)
        unmerged_rows = subtree_balances(projections, "30", {}, READ, None)
        assert [row["assigned_vnd"] for row in merged_rows] == [
            row["assigned_vnd"] for row in unmerged_rows
        ], "the two provinces should hold the same plan"
        for name, read in reads.items():
            timings: dict[str, list[float]] = {"10": [], "30": []}
            for _ in range(repeat):
                for code in ("10", "30"):  # interleaved: both see the same machine
                    timed(read, code, timings[code])
            merged_ms = statistics.median(timings["10"])
            unmerged_ms = statistics.median(timings["30"])
            print(
                f"{name}: merged 10 {merged_ms:.2f} ms, unmerged 30 {unmerged_ms:.2f} ms (p50 of "
                f"{repeat}); unmerged / merged = {unmerged_ms / merged_ms:.2f}x (target >= 0.8x)"
            )
    finally:
        projections.close()
        ledger.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--postgres", default=None, help="An admin URL (default: a throwaway server)."
    )
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    if args.store == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            run(os.path.join(directory, "bench.sqlite3"), args.repeat)
        return
    with bench_database(args.postgres) as (url, _):
        run(url, args.repeat)


if __name__ == "__main__":
    main()
