"""Benchmark: importing a treasury file of disbursements, against COPY, on PostgreSQL.

Sets up a ledger with LINES funded lines (communes of one province, two programs, two kinds),
writes a CSV of ROWS disbursements spread over them, then, in the same run:
  - imports it with ``budget-ledger import`` in a child process (every row checked and
    recorded, in one pass and one transaction), timing it and reading the child's peak
    memory (max RSS);
  - COPYs the same rows into a plain table with psycopg (the floor for moving the file in).
It prints rows per second for both, their ratio, and the importer's peak memory; then the
storage floor: the rate at which PostgreSQL alone takes the events and chain rows the import
stored (encoded already, COPYed into empty tables like the log's), the most any importer of
this layout could reach (docs/import.md).
Targets (issue 17): >= 0.5 x the storage floor on 1,000,000 rows; peak memory under 500 MB
whatever the file's size. ``--catch-up`` also times the read models catching up with the
imported events afterwards (the first read after an import waits for it; the import does not).

Usage:
  .venv/bin/python bench/import.py [--postgres URL] [--rows 1000000] [--catch-up]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pg import bench_database  # noqa: E402
from ledger.application import open_ledger  # noqa: E402
from ledger.domain.movements import movement  # noqa: E402
from ledger.domain.values import LineKey  # noqa: E402
from ledger.interchange.importer import COLUMNS  # noqa: E402
from ledger.storage.log import log_tables  # noqa: E402

COMMUNES = 250
PROGRAMS, KINDS = ("NTM", "GNBV"), ("DTPT", "SN")
YEAR = 2025


def set_up(url: str, rows: int) -> list[LineKey]:
    ledger = open_ledger(url, create=True)
    try:
        ledger.register_holder("TW", "Trung ương", "central", None, actor="bench")
        ledger.register_holder("49", "Tỉnh", "province", "TW", actor="bench")
        lines = []
        for c in range(COMMUNES):
            code = f"2{c:04d}"
            ledger.register_holder(code, f"Xã {c}", "commune", "49", actor="bench")
            for program in PROGRAMS:
                for kind in KINDS:
                    key = LineKey(program, kind, "NSTW", YEAR, code)
                    ledger.record(
                        movement(
                            "adjust",
                            movement_id=f"fund-{key.label.replace('/', '-')}",
                            effective_date=date(YEAR, 1, 2),
                            line=key,
                            amount_vnd=10**13,
                            decision="QĐ bench",
                        ),
                        actor="bench",
                    )
                    lines.append(key)
    finally:
        ledger.close()
    return lines


def write_file(path: Path, lines: list[LineKey], rows: int) -> None:
    rng = random.Random(5)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for number in range(rows):
            key = rng.choice(lines)
            cells = {
                "effective_date": date(YEAR, rng.randint(2, 12), rng.randint(1, 28)).isoformat(),
                "program": key.program,
                "kind": key.kind,
                "source": key.source,
                "year": str(key.year),
                "holder": key.holder,
                "amount_vnd": str(rng.randint(1, 1000) * 1000),
                "voucher": f"KB {number}",
            }
            writer.writerow([cells.get(name, "") for name in COLUMNS])


def copy_rate(url: str, path: Path) -> float:
    with psycopg.connect(url) as connection:
        connection.execute(
            "CREATE TABLE bench_copy (" + ", ".join(f"{name} text" for name in COLUMNS) + ")"
        )
        started = time.perf_counter()
        with connection.cursor() as cursor, path.open("rb") as handle:
            with cursor.copy("COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                while data := handle.read(1 << 20):
                    copy.write(data)
        connection.commit()
        elapsed = time.perf_counter() - started
        count = connection.execute("SELECT count(*) FROM bench_copy").fetchone()
    assert count is not None
    return int(count[0]) / elapsed


def storage_floor(url: str, after: int, rows: int) -> float:
    """Rows of the file per second at which PostgreSQL alone takes what the import stored
    for them: its events and chain rows, already encoded, COPYed (binary) into empty
    tables shaped like the log's, indexes included. No import of this storage layout can
    beat it; it shows how much of the gap to the plain COPY is the layout's, not the code's."""
    ledger = open_ledger(url)
    tables = log_tables(ledger.recorder)
    ledger.close()
    elapsed = 0.0
    with psycopg.connect(url) as connection, tempfile.TemporaryDirectory() as folder:
        for source, key in ((tables.events, tables.position), (tables.chain, "position")):
            copy = f"bench_floor_{len(source)}_{key}"
            connection.execute(f"CREATE TABLE {copy} (LIKE {source} INCLUDING ALL)")
            dump = Path(folder) / copy
            with connection.cursor() as cursor, dump.open("wb") as handle:
                select = f"SELECT * FROM {source} WHERE {key} > {after} ORDER BY {key}"
                with cursor.copy(f"COPY ({select}) TO STDOUT (FORMAT binary)") as out:
                    for data in out:
                        handle.write(data)
            connection.commit()
            started = time.perf_counter()
            with connection.cursor() as cursor, dump.open("rb") as handle:
                with cursor.copy(f"COPY {copy} FROM STDIN (FORMAT binary)") as into:
                    while data := handle.read(1 << 20):
                        into.write(data)
            connection.commit()
            elapsed += time.perf_counter() - started
    return rows / elapsed


def _children_cpu_s() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def catch_up_rate(url: str) -> tuple[int, float]:
    """(events, seconds) for the read models to catch up with the import's events: what the
    first read after an import waits for (``budget-ledger import`` itself does not; the
    next balance, history or API read brings them up to the log's head)."""
    from api.services import bootstrap

    services = bootstrap(url)
    try:
        projections = services.projections()
        started = time.perf_counter()
        events = projections.catch_up()
        return events, time.perf_counter() - started
    finally:
        services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=os.environ.get("BUDGET_LEDGER_BENCH_POSTGRES"))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--catch-up",
        action="store_true",
        help="also time the read models catching up with the imported events afterwards",
    )
    args = parser.parse_args()
    with bench_database(args.postgres) as (url, _), tempfile.TemporaryDirectory() as folder:
        lines = set_up(url, args.rows)
        path = Path(folder) / "kbnn.csv"
        write_file(path, lines, args.rows)
        size_mb = path.stat().st_size / 1e6
        print(
            f"{args.rows:,} disbursements over {len(lines)} lines, {size_mb:.0f} MB of CSV",
            flush=True,
        )
        command = [
            str(Path(sys.executable).parent / "budget-ledger"),
            "import",
            str(path),
            "--database",
            url,
            "--actor",
            "bench",
        ]
        if args.catch_up:
            catch_up_rate(url)  # the set-up's events, so that only the import's are timed
        ledger = open_ledger(url)
        before = ledger.head_position()
        ledger.close()
        cpu_before = _children_cpu_s()
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        import_s = time.perf_counter() - started
        import_cpu_s = _children_cpu_s() - cpu_before
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        caught_up = catch_up_rate(url) if args.catch_up else None
        copy_per_s = copy_rate(url, path)
        ledger = open_ledger(url)
        events = ledger.head_position()
        ledger.close()
        floor_per_s = storage_floor(url, before, args.rows)
    import_per_s = args.rows / import_s
    print(
        f"import (checked and recorded, one transaction): {import_per_s:,.0f} rows/s "
        f"({import_s:.1f} s; {events:,} events in the log)"
    )
    print(
        f"importer CPU (user + system, its own process): {import_cpu_s:.1f} s, "
        f"{import_cpu_s / args.rows * 1e6:.0f} us a row (less swayed by other load than the rate)"
    )
    print(f"COPY into a plain table:                       {copy_per_s:,.0f} rows/s")
    print(f"ratio import / COPY: {import_per_s / copy_per_s:.3f} (target >= 0.25)")
    print(
        f"storage floor (the import's events and chain rows, encoded, COPYed into empty "
        f"tables like the log's): {floor_per_s:,.0f} rows/s of the file, "
        f"ratio to COPY {floor_per_s / copy_per_s:.3f}"
    )
    print(f"ratio import / storage floor: {import_per_s / floor_per_s:.3f} (target >= 0.5)")
    print(f"importer peak memory (max RSS): {peak_mb:.0f} MB (target < 500)")
    if caught_up is not None:
        events_read, seconds = caught_up
        print(
            f"read models caught up afterwards (not part of the import's time): "
            f"{events_read:,} events in {seconds:.1f} s, {events_read / seconds:,.0f} events/s"
        )


if __name__ == "__main__":
    main()
