"""``budget-ledger export`` on the demo data: every format is read back and its figures are
checked against the ledger's own answers (``balance``, ``report progress``), on SQLite and on
PostgreSQL. The hledger test runs hledger itself (skipped when it is not installed;
``scripts/test`` installs it when it can)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import zipfile
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from ledger.application import open_ledger
from ledger.interchange.export import MOVEMENT_COLUMNS
from tests.e2e.cli_story import TY, Cli, Option, options
from tests.story import LINE, record, register_tree
from tests.succession_story import ENDED_ON, chained, succession_example

HEADERS = dict(MOVEMENT_COLUMNS)
# Dates around the demo's deadlines, extensions and lapses: before anything, mid-year, the
# seed's report day, year ends, the base deadline of 2024 lines, after the extended ones.
DATES = [
    date(2021, 12, 31),
    date(2023, 6, 30),
    date(2024, 1, 31),
    date(2024, 9, 17),
    date(2024, 12, 31),
    date(2025, 1, 31),
    date(2025, 2, 1),
    date(2026, 12, 31),
]


@pytest.fixture
def demo(database: str) -> Cli:
    cli = Cli(database)
    cli.run("demo")
    return cli


def balances(cli: Cli, day: date, **filters: Option) -> list[dict[str, Any]]:
    return cli.balance(as_of=day.isoformat(), **filters)


def touched(row: dict[str, Any]) -> bool:
    """Whether a balance row's line had any movement by its date (the demo's lines of later
    plan years are listed at zero before their first movement, which no export row shows)."""
    figures = ("assigned_vnd", "allocated_on_vnd", "disbursed_vnd", "lapsed_vnd")
    return any(int(row[name]) for name in figures)


def identity(row: dict[str, Any]) -> tuple[str, ...]:
    names = ("program", "kind", "source", "year", "holder", "project")
    return tuple(str(row[name] or "") for name in names)


def available_from_movements(rows: list[dict[str, str]], names: dict[str, str]) -> dict[Any, int]:
    """Each line's available amount: the sum of its changes, and (checked) its last running
    balance."""
    summed: dict[Any, int] = defaultdict(int)
    last: dict[Any, int] = {}
    for row in rows:
        key = identity({name: row[names[name]] for name in names})
        summed[key] += int(row[names["available_change_vnd"]])
        last[key] = int(row[names["available_after_vnd"]])
    assert summed == last
    return dict(summed)


def test_movements_as_csv_and_xlsx_sum_to_the_balances(demo: Cli, tmp_path: Path) -> None:
    day = date(2024, 9, 17)
    text = demo.export(format="csv", as_of=day.isoformat(), holder="505")
    assert text.startswith("\ufeffNgày hiệu lực,Thời điểm ghi sổ,Người ghi,")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    assert rows and all(row["Đơn vị"] == "505" for row in rows)
    assert all(date.fromisoformat(row["Ngày hiệu lực"]) <= day for row in rows)
    assert {row["Tên đơn vị"] for row in rows} == {"Huyện Đông Giang"}
    expected = {
        identity(row): row["available_vnd"]
        for row in balances(demo, day, holder="505")
        if touched(row)
    }
    assert available_from_movements(rows, _names()) == expected

    path = tmp_path / "movements.xlsx"
    demo.export(format="xlsx", output=str(path), as_of=day.isoformat(), holder="505")
    sheet = load_workbook(path).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    header = [str(cell) for cell in values[0]]
    assert header == [title for _, title in MOVEMENT_COLUMNS]
    cells = [
        {title: "" if cell is None else str(cell) for title, cell in zip(header, row, strict=True)}
        for row in values[1:]
    ]
    assert len(cells) == len(rows)
    assert available_from_movements(cells, _names()) == expected


def _names() -> dict[str, str]:
    wanted = ("program", "kind", "source", "year", "holder", "project")
    return {
        **{name: HEADERS[name] for name in wanted},
        "available_change_vnd": HEADERS["available_change_vnd"],
        "available_after_vnd": HEADERS["available_after_vnd"],
    }


def test_progress_export_is_the_report_s_own_file(demo: Cli, tmp_path: Path) -> None:
    """``export --what progress`` writes exactly what ``report progress`` writes, and its
    figures are the report's JSON rows (the total first, as filed)."""
    asked = {"holder": "12", "as_of": "2024-09-17", "by": "program"}
    report = demo.progress(**asked)
    exported = demo.export(format="csv", what="progress", **asked)
    assert exported == demo.out("report", "progress", "--format", "csv", *options(**asked))
    rows = list(csv.DictReader(io.StringIO(exported.removeprefix("\ufeff"), newline="")))
    in_print_order = [report[-1], *report[:-1]]
    assert [row["Mã"] for row in rows] == ["", *(r["program"] for r in report[:-1])]
    assert rows[0]["Tên"] == "Tổng cộng" and rows[0]["Loại dòng"] == "tổng cộng"
    for row, expected in zip(rows, in_print_order, strict=True):
        assert int(row["Tổng (NSTW + NSĐP) (đồng)"]) == expected["plan_vnd"]
        assert int(row["GN lũy kế tổng (đồng)"]) == expected["disbursed_vnd"]
        assert float(row["Tỷ lệ so KH địa phương giao (%)"]) == expected["rate_pct"]
        assert int(row["KH vốn năm trước kéo dài (đồng)"]) == expected["plan_extended_vnd"]
    assert round(float(rows[0]["Tỷ lệ ĐTPT (%)"]), 1) == 78.5  # seed 000
    assert round(float(rows[0]["Tỷ lệ SN (%)"]), 1) == 29.4

    exported_xlsx, reported_xlsx = tmp_path / "export.xlsx", tmp_path / "report.xlsx"
    demo.export(format="xlsx", what="progress", output=str(exported_xlsx), **asked)
    demo.run("report", "progress", *options(**asked, format="xlsx", output=str(reported_xlsx)))
    exported_cells = list(load_workbook(exported_xlsx).active.iter_rows(values_only=True))
    reported_cells = list(load_workbook(reported_xlsx).active.iter_rows(values_only=True))
    # The signing line carries today's date in both: everything else is the same.
    assert exported_cells == reported_cells


def test_balances_as_csv_match_the_balance_command(demo: Cli) -> None:
    day = date(2025, 2, 1)
    text = demo.export(format="csv", what="balances", as_of=day.isoformat(), year=2024)
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    expected = {identity(row): row for row in balances(demo, day, year=2024)}
    assert len(rows) == len(expected)
    for row in rows:
        key = identity(
            {
                "program": row["Chương trình"],
                "kind": row["Loại vốn"],
                "source": row["Nguồn vốn"],
                "year": row["Năm kế hoạch"],
                "holder": row["Đơn vị"],
                "project": row["Dự án thành phần"],
            }
        )
        assert int(row["Số dư khả dụng (đồng)"]) == expected[key]["available_vnd"]
        assert int(row["Đã giải ngân (đồng)"]) == expected[key]["disbursed_vnd"]
        assert int(row["Đã hủy dự toán (đồng)"]) == expected[key]["lapsed_vnd"]


@pytest.mark.parametrize("container", ["directory", "zip"])
def test_the_fiscal_data_package_reads_back_to_the_balances(
    demo: Cli, tmp_path: Path, container: str
) -> None:
    day = date(2024, 12, 31)
    output = tmp_path / ("package.zip" if container == "zip" else "package")
    demo.export(format="datapackage", output=str(output), as_of=day.isoformat())
    if container == "zip":
        with zipfile.ZipFile(output) as archive:
            files = {name: archive.read(name).decode("utf-8") for name in archive.namelist()}
    else:
        files = {
            str(path.relative_to(output)): path.read_text(encoding="utf-8")
            for path in output.rglob("*")
            if path.is_file()
        }
    descriptor = json.loads(files["datapackage.json"])
    tables = {}
    for resource in descriptor["resources"]:
        text = files[resource["path"]]
        reader = csv.DictReader(io.StringIO(text, newline=""))
        assert reader.fieldnames == [field["name"] for field in resource["schema"]["fields"]]
        tables[resource["name"]] = list(reader)
    expected = {identity(row): row for row in balances(demo, day)}
    assert {identity(row) for row in tables["balances"]} == set(expected)
    for row in tables["balances"]:
        for name in ("assigned_vnd", "allocated_on_vnd", "disbursed_vnd", "available_vnd"):
            assert int(row[name]) == expected[identity(row)][name]
    names = {name: name for name in ("program", "kind", "source", "year", "holder", "project")}
    names |= {"available_change_vnd": "available_change_vnd"}
    names |= {"available_after_vnd": "available_after_vnd"}
    from_movements = available_from_movements(tables["movements"], names)
    assert from_movements == {
        key: row["available_vnd"] for key, row in expected.items() if touched(row)
    }
    assert all(row["recorded_at"].endswith("Z") for row in tables["movements"])


needs_hledger = pytest.mark.skipif(shutil.which("hledger") is None, reason="hledger not installed")


def hledger_balances(journal: Path, end: date) -> dict[str, int]:
    """``hledger balance --end END``: END is exclusive."""
    completed = subprocess.run(
        [
            "hledger",
            "-f",
            str(journal),
            "balance",
            "--end",
            end.isoformat(),
            "--flat",
            "--no-total",
            "--output-format",
            "csv",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    found = {}
    for row in list(csv.reader(io.StringIO(completed.stdout)))[1:]:
        account, amount = row
        number, commodity = amount.split()
        assert commodity == "VND"
        found[account] = int(number.replace(".", ""))
    return found


@needs_hledger
def test_hledger_balances_equal_the_ledgers_at_every_date(demo: Cli, tmp_path: Path) -> None:
    journal = tmp_path / "ledger.journal"
    demo.export(format="hledger", output=str(journal))
    # hledger re-checks every balance assertion (each running available amount) as it reads.
    subprocess.run(["hledger", "-f", str(journal), "check"], check=True, timeout=120)
    for day in DATES:
        # The ledger's --as-of D counts D; hledger's --end excludes it: D + 1 day.
        found = hledger_balances(journal, day + timedelta(days=1))
        expected: dict[str, int] = defaultdict(int)
        for row in balances(demo, day):
            line = ":".join(part for part in identity(row) if part)
            for figure in ("available", "disbursed", "lapsed"):
                if row[f"{figure}_vnd"]:
                    expected[f"{line}:{figure}"] = row[f"{figure}_vnd"]
        appropriated = {
            name: amount for name, amount in found.items() if name.startswith("appropriation:")
        }
        assert {k: v for k, v in found.items() if k not in appropriated} == expected, day
        # What came in from outside equals what the lines hold: money is conserved.
        assert -sum(appropriated.values()) == sum(expected.values())


@needs_hledger
def test_hledger_as_the_books_stood_at_a_time(database: str, tmp_path: Path) -> None:
    cli = Cli(database).init()
    line = ("--program", "GNBV", "--kind", "SN", "--source", "NSTW", "--year", "2024")
    cli.unit("TW", "Trung ương", "central")
    cli.adjust("TW", 1000, decision="QĐ 1, 2024", date="2024-01-02", line=line)
    cli.disburse("TW", 300, voucher="KB 1", date="2024-09-10", line=line)
    meeting = cli.history()[-1]["recorded_at"]
    # Confirmed after the meeting, back-dated before it.
    cli.disburse("TW", 200, voucher="KB 2", date="2024-09-09", line=line)
    journal = tmp_path / "then.journal"
    cli.export(format="hledger", output=str(journal), known_at=meeting)
    found = hledger_balances(journal, date(2024, 9, 18))
    assert found["GNBV:SN:NSTW:2024:TW:disbursed"] == 300
    assert found["GNBV:SN:NSTW:2024:TW:available"] == 700
    now = tmp_path / "now.journal"
    cli.export(format="hledger", output=str(now))
    assert hledger_balances(now, date(2024, 9, 18))["GNBV:SN:NSTW:2024:TW:disbursed"] == 500
    assert hledger_balances(now, date(2024, 9, 10))["GNBV:SN:NSTW:2024:TW:disbursed"] == 200
    # What was not paid by the deadline lapses: hledger moves it to the lapsed account.
    cli.close_year(2024, date="2025-02-01")
    cli.export(format="hledger", output=str(now))
    after = hledger_balances(now, date(2025, 2, 2))
    (row,) = balances(cli, date(2025, 2, 1))
    assert after["GNBV:SN:NSTW:2024:TW:lapsed"] == row["lapsed_vnd"] == 500
    assert "GNBV:SN:NSTW:2024:TW:available" not in after and row["available_vnd"] == 0
    assert "GNBV:SN:NSTW:2024:TW:lapsed" not in hledger_balances(now, date(2025, 2, 1))


def test_misuse_is_refused_before_anything_is_written(database: str, tmp_path: Path) -> None:
    cli = Cli(database).init()
    for misuse in (
        ["--format", "hledger", "--program", "GNBV"],
        ["--format", "hledger", "--what", "progress"],
        ["--format", "xlsx"],
        ["--format", "datapackage"],
        ["--format", "csv", "--what", "progress", "--program", "GNBV"],
    ):
        cli.run("export", *misuse, expect=2)
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine", encoding="utf-8")
    cli.run("export", "--format", "datapackage", "--output", str(taken), expect=2)
    assert (taken / "keep.txt").read_text(encoding="utf-8") == "mine"
    assert sorted(path.name for path in taken.iterdir()) == ["keep.txt"]


@needs_hledger
def test_hledger_balances_equal_the_ledgers_across_a_succession(
    database: str, tmp_path: Path
) -> None:
    cli = Cli(database).init()
    ledger = open_ledger(database)
    try:
        succession_example(ledger)
        chained(ledger)  # and on into the province, with a payment before both ends
    finally:
        ledger.close()
    journal = tmp_path / "ledger.journal"
    cli.export(format="hledger", output=str(journal))
    # hledger re-checks every balance assertion, the lines that ended and their successor's
    # on the day of the succession included.
    subprocess.run(["hledger", "-f", str(journal), "check"], check=True, timeout=120)
    for day in (
        date(2025, 6, 30),
        ENDED_ON,
        date(2025, 8, 1),
        date(2025, 10, 1),
        date(2025, 12, 31),
    ):
        found = hledger_balances(journal, day + timedelta(days=1))
        expected: dict[str, int] = defaultdict(int)
        for row in balances(cli, day):
            line = ":".join(part for part in identity(row) if part)
            for figure in ("available", "disbursed", "lapsed"):
                if row[f"{figure}_vnd"]:
                    expected[f"{line}:{figure}"] = row[f"{figure}_vnd"]
        appropriated = {
            name: amount for name, amount in found.items() if name.startswith("appropriation:")
        }
        assert {k: v for k, v in found.items() if k not in appropriated} == expected, day
        assert -sum(appropriated.values()) == sum(expected.values())
    assert found["GNBV:DTPT:NSTW:2024:49:available"] == (150 + 70) * TY
    assert "GNBV:DTPT:NSTW:2025:504:available" not in found
    assert "GNBV:DTPT:NSTW:2025:506:available" not in found


def test_exports_name_a_renamed_holder_by_its_name_now(database: str) -> None:
    cli = Cli(database).init()
    ledger = open_ledger(database)
    try:
        register_tree(ledger)
        record(ledger, "adjust", "w1", date(2024, 1, 2), LINE, amount_vnd=500 * TY)
        record(
            ledger, "allocate", "w2", date(2024, 1, 5), LINE, counterpart="49", amount_vnd=400 * TY
        )
        ledger.rename_holder(
            "49", "Thành phố Đà Nẵng", date(2025, 7, 1), decision="NQ 202/2025/QH15", actor="tester"
        )
    finally:
        ledger.close()
    for what in ("movements", "balances"):
        text = cli.export(format="csv", what=what, holder="49", as_of="2025-12-31")
        assert "Thành phố Đà Nẵng" in text and "Tỉnh Quảng Nam" not in text, what


def test_the_fiscal_data_package_reads_back_across_a_succession(
    database: str, tmp_path: Path
) -> None:
    cli = Cli(database).init()
    ledger = open_ledger(database)
    try:
        succession_example(ledger)
    finally:
        ledger.close()
    day = date(2025, 12, 31)
    output = tmp_path / "package"
    cli.export(format="datapackage", output=str(output), as_of=day.isoformat())
    descriptor = json.loads((output / "datapackage.json").read_text(encoding="utf-8"))
    tables = {}
    for resource in descriptor["resources"]:
        text = (output / resource["path"]).read_text(encoding="utf-8")
        reader = csv.DictReader(io.StringIO(text, newline=""))
        assert reader.fieldnames == [field["name"] for field in resource["schema"]["fields"]]
        tables[resource["name"]] = list(reader)
        for field in resource["schema"]["fields"]:
            allowed = field.get("constraints", {}).get("enum")
            if allowed:
                assert {row[field["name"]] for row in tables[resource["name"]]} <= set(allowed)
    expected = {identity(row): row for row in balances(cli, day)}
    for row in tables["balances"]:
        for name in ("assigned_vnd", "received_vnd", "passed_on_vnd", "available_vnd"):
            assert int(row[name]) == expected[identity(row)][name], (name, row)
    assert {row["holder"]: int(row["passed_on_vnd"]) for row in tables["balances"]}["504"] > 0
    names = {name: name for name in ("program", "kind", "source", "year", "holder", "project")}
    names |= {"available_change_vnd": "available_change_vnd"}
    names |= {"available_after_vnd": "available_after_vnd"}
    from_movements = available_from_movements(tables["movements"], names)
    assert from_movements == {key: row["available_vnd"] for key, row in expected.items()}
    assert "succeed" in {row["action"] for row in tables["movements"]}
