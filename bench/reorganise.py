"""Benchmark: a national reorganisation (10,000 old communes with 10 lines each into 3,321) in
one transaction, against the import's rows per second in the same run.

Sets up a ledger with 63 old provinces, their districts and COMMUNES communes (registered in
bulk), then, in the same run, each in a child process (its time and peak memory, max RSS):
  - imports a file funding LINES lines per commune (one ``adjust`` row per line, which opens
    it), then a file of one payment per line (bench/import.py's rows: every row checked and
    recorded, in one pass and one transaction): the import's rows per second;
  - ``budget-ledger units reorganise`` with a list of successors mapping the communes to
    SUCCESSORS new communes in 34 provinces (each new commune keeps the code of one of its
    old ones), the districts into the new provinces, 29 old provinces into others: every line
    passes on, in one transaction.
It prints lines passed on per second against the import's rows per second (target >= 0.5x)
and both peak memories.

Usage:
  .venv/bin/python bench/reorganise.py --sqlite [--communes 10000]
  .venv/bin/python bench/reorganise.py --postgres URL [--communes 10000]
  .venv/bin/python bench/reorganise.py               # starts and stops its own PostgreSQL
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pg import bench_database  # noqa: E402
from ledger.application import open_ledger, utc_now  # noqa: E402
from ledger.domain.holders import Holder  # noqa: E402
from ledger.interchange.importer import COLUMNS  # noqa: E402
from ledger.interchange.successors import COLUMNS as LIST_COLUMNS  # noqa: E402

PROVINCES_OLD, PROVINCES_NEW = 63, 34
DISTRICTS_PER_PROVINCE = 11
LINES = [
    (program, kind, source)
    for program in ("NTM", "GNBV", "DTTS")
    for kind in ("DTPT", "SN")
    for source in ("NSTW", "NSDP")
][:10]
YEAR = 2025
DAY = date(2025, 7, 1)


def province(number: int) -> str:
    return f"{number:02d}"


def commune_codes(communes: int) -> list[tuple[int, int, str]]:
    """(old province, district, commune code) of every old commune, in order."""
    found = []
    for number in range(communes):
        old = number * PROVINCES_OLD // communes + 1
        district = (number * PROVINCES_OLD * DISTRICTS_PER_PROVINCE // communes) % (
            DISTRICTS_PER_PROVINCE
        )
        found.append((old, district, f"{number + 1:05d}"))
    return found


def set_up(url: str, communes: int) -> None:
    """The old tree, registered in bulk (a save of a thousand holders at a time)."""
    ledger = open_ledger(url, create=True)
    try:
        at = utc_now()
        centre = Holder.register("TW", "Trung ương", "central", None, actor="bench", recorded_at=at)
        made = [centre]
        provinces = {}
        districts = {}
        for old in range(1, PROVINCES_OLD + 1):
            provinces[old] = Holder.register(
                province(old), f"Tỉnh {old}", "province", centre, actor="bench", recorded_at=at
            )
            made.append(provinces[old])
            for district in range(DISTRICTS_PER_PROVINCE):
                code = f"{old:02d}{district:02d}"
                districts[(old, district)] = Holder.register(
                    code, f"Huyện {code}", "district", provinces[old], actor="bench",
                    recorded_at=at,
                )  # fmt: skip
                made.append(districts[(old, district)])
        for old, district, code in commune_codes(communes):
            made.append(
                Holder.register(
                    code,
                    f"Xã {code}",
                    "commune",
                    districts[(old, district)],
                    actor="bench",
                    recorded_at=at,
                )  # fmt: skip
            )
        for start in range(0, len(made), 1000):
            ledger.save(*made[start : start + 1000])
    finally:
        ledger.close()


def write_funding(path: Path, communes: int) -> int:
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for _, _, code in commune_codes(communes):
            for program, kind, source in LINES:
                cells = {
                    "action": "adjust",
                    "effective_date": date(YEAR, 1, 2).isoformat(),
                    "program": program,
                    "kind": kind,
                    "source": source,
                    "year": str(YEAR),
                    "holder": code,
                    "amount_vnd": str(10**10),
                    "decision": "QĐ bench",
                }
                writer.writerow([cells.get(name, "") for name in COLUMNS])
                rows += 1
    return rows


def write_payments(path: Path, communes: int) -> int:
    """One payment on every line, before the reorganisation's day: bench/import.py's
    workload (disbursements on funded lines), the import's usual rows."""
    rng = random.Random(5)
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for _, _, code in commune_codes(communes):
            for program, kind, source in LINES:
                day = date(YEAR, rng.randint(2, 6), rng.randint(1, 28))
                cells = {
                    "effective_date": day.isoformat(),
                    "program": program,
                    "kind": kind,
                    "source": source,
                    "year": str(YEAR),
                    "holder": code,
                    "amount_vnd": str(rng.randint(1, 1000) * 1000),
                    "voucher": f"KB {rows}",
                }
                writer.writerow([cells.get(name, "") for name in COLUMNS])
                rows += 1
    return rows


def write_list(path: Path, communes: int, successors: int) -> None:
    """Old province p goes to new province ((p - 1) % 34) + 1; the communes, in order, are
    cut into ``successors`` runs within a province, each run's first code its new commune's."""
    codes = commune_codes(communes)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(LIST_COLUMNS)
        successor = None
        last_group = -1
        for number, (old, district, code) in enumerate(codes):
            group = number * successors // communes
            if group != last_group or successor is None or successor[0] != old:
                successor, last_group = (old, code), group
            new = (old - 1) % PROVINCES_NEW + 1
            writer.writerow(
                [
                    province(old), f"Tỉnh {old}", f"{old:02d}{district:02d}",
                    f"Huyện {old:02d}{district:02d}", code, f"Xã {code}", province(new),
                    f"Tỉnh {new}", successor[1], f"Xã {successor[1]}", "",
                ]
            )  # fmt: skip


def run_child(command: list[str]) -> tuple[float, float, str]:
    """(seconds, peak memory in MB, what it printed) of a child process."""
    started = time.perf_counter()
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as child:
        output = child.stdout.read() if child.stdout else ""
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])} failed ({child.returncode}): {output}")
    return elapsed, usage.ru_maxrss / 1024, output


@contextmanager
def database(args: argparse.Namespace) -> Iterator[str]:
    if args.sqlite:
        with tempfile.TemporaryDirectory() as folder:
            yield str(Path(folder) / "ledger.sqlite3")
        return
    with bench_database(args.postgres) as (url, _):
        yield url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=os.environ.get("BUDGET_LEDGER_BENCH_POSTGRES"))
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file instead")
    parser.add_argument("--communes", type=int, default=10_000)
    args = parser.parse_args()
    successors = round(args.communes * 3321 / 10_000)
    command = str(Path(sys.executable).parent / "budget-ledger")
    with database(args) as url, tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        set_up(url, args.communes)
        funding, listing = Path(folder) / "funding.csv", Path(folder) / "successors.csv"
        payments = Path(folder) / "payments.csv"
        rows = write_funding(funding, args.communes)
        write_payments(payments, args.communes)
        write_list(listing, args.communes, successors)
        print(
            f"{'SQLite' if args.sqlite else 'PostgreSQL'}: {args.communes:,} communes "
            f"({time.perf_counter() - started:.0f} s to register), {rows:,} lines, "
            f"{successors:,} successors",
            flush=True,
        )
        base = ["--database", url, "--actor", "bench"]
        funding_s, _, _ = run_child([command, "import", str(funding), *base])
        import_s, import_mb, _ = run_child([command, "import", str(payments), *base])
        reorganise_s, reorganise_mb, said = run_child(
            [command, "units", "reorganise", str(listing), "--date", DAY.isoformat(),
             "--decision", "NQ bench", *base]
        )  # fmt: skip
        check_s, _, checked = run_child([command, "check", "--database", url])
    found = re.search(r"(\d+) succession\(s\) recorded \((\d+) line\(s\) passed on", said)
    assert found is not None, said
    recorded, passed = int(found.group(1)), int(found.group(2))
    import_per_s, passed_per_s = rows / import_s, passed / reorganise_s
    print(f"import of the funding (each row opens a line): {rows / funding_s:,.0f} rows/s")
    print(
        f"import of payments (bench/import.py's rows): {import_per_s:,.0f} rows/s "
        f"({import_s:.1f} s)"
    )
    print(
        f"reorganise ({recorded:,} successions, one transaction): {passed_per_s:,.0f} lines "
        f"passed on/s ({passed:,} lines in {reorganise_s:.1f} s)"
    )
    print(
        f"ratio reorganise / import of payments: {passed_per_s / import_per_s:.2f} "
        f"(target >= 0.5); against the funding's: {passed_per_s * funding_s / rows:.2f}"
    )
    print(f"peak memory (max RSS): import {import_mb:.0f} MB, reorganise {reorganise_mb:.0f} MB")
    print(f"check afterwards ({check_s:.1f} s): {checked.strip()}")


if __name__ == "__main__":
    main()
