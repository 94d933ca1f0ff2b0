"""Balances at a date, as known at a time, and the progress report, through the CLI."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.e2e.cli_story import Cli, options


@pytest.fixture
def demo(database: str) -> Cli:
    """The demo's ledger: Quảng Nam's mountain districts and seed 000's province (12)."""
    cli = Cli(database)
    cli.run("demo")
    return cli


def test_the_demo_reproduces_seed_000(demo: Cli) -> None:
    rows = demo.progress(holder="12", as_of="2024-09-17", by="program")
    by_program = {row["program"]: row for row in rows}
    total = by_program["TOTAL"]
    assert total["plan_vnd"] > 556 * 10**9 and round(total["rate_pct"], 1) == 53.9
    assert round(total["rate_dtpt_pct"], 1) == 78.5 and round(total["rate_sn_pct"], 1) == 29.4
    assert by_program["GNBV"]["plan_vnd"] > 196 * 10**9
    assert by_program["DTTS"]["plan_vnd"] > 359 * 10**9
    assert total["plan_extended_vnd"] > 0


def test_rows_below_the_tables_average_are_flagged(demo: Cli) -> None:
    rows = demo.progress(holder="12", as_of="2024-09-17")
    average = rows[-1]["rate_pct"]
    for row in rows[:-1]:
        assert row["below_average"] == (row["rate_pct"] < average)
    assert {row["holder"] for row in rows if row["below_average"]} == {"107", "112"}
    assert sum(row["plan_vnd"] for row in rows[:-1]) == rows[-1]["plan_vnd"]


def test_subtree_plan_is_what_entered_from_outside(demo: Cli) -> None:
    rows = demo.balance(holder="12", subtree=True, year=2024, program="DTTS", kind="DTPT")
    assert [row["assigned_vnd"] for row in rows] == [165 * 10**9]  # the 3 tỷ move cancels
    assert rows[0]["allocated_on_vnd"] == 0


def test_as_of_a_date_and_as_known_at_a_time(database: str) -> None:
    cli = Cli(database).init()
    line = ("--program", "GNBV", "--kind", "SN", "--source", "NSTW", "--year", "2024")
    cli.unit("TW", "Trung ương", "central")
    cli.adjust("TW", 1000, decision="QĐ 1", date="2024-01-02", line=line)
    cli.disburse("TW", 300, voucher="KB 1", date="2024-09-10", line=line)
    time.sleep(0.01)
    meeting = datetime.now(UTC)
    time.sleep(0.01)
    # The treasury confirms later a payment made before the meeting.
    cli.disburse("TW", 200, voucher="KB 2", date="2024-09-12", line=line)

    def disbursed(as_of: str, known_at: str | None = None) -> int:
        return int(cli.balance(holder="TW", as_of=as_of, known_at=known_at)[0]["disbursed_vnd"])

    assert disbursed("2024-09-17") == 500
    assert disbursed("2024-09-17", known_at=meeting.isoformat()) == 300
    assert disbursed("2024-09-11") == 300
    assert disbursed("2024-01-01") == 0


def test_progress_as_xlsx_and_month_by_month(demo: Cli, tmp_path: Path) -> None:
    path = tmp_path / "progress.xlsx"
    xlsx = options(holder="12", as_of="2024-09-17", format="xlsx", output=str(path))
    demo.run("report", "progress", *xlsx)
    sheet = load_workbook(path).active
    assert sheet is not None
    header = [cell.value for cell in sheet[1]]
    last = [cell.value for cell in sheet[sheet.max_row]]
    assert last[0] == "TOTAL" and last[header.index("plan, all")] == 556_100_000_000
    months = demo.progress(
        holder="12", period="month", from_="2024-01-01", to="2024-09-17", by="program"
    )
    totals = [row for row in months if row["program"] == "TOTAL"]
    assert [row["as_of"] for row in totals][-2:] == ["2024-08-31", "2024-09-17"]
    paid = [row["disbursed_vnd"] for row in totals]
    assert paid == sorted(paid) and paid[0] == 0 and totals[-1]["rate_pct"] == 53.94


def test_projection_status_and_rebuild(demo: Cli) -> None:
    report = ("report", "progress", "--holder", "12", "--as-of", "2024-09-17", "--format", "json")
    before = demo.out(*report)
    assert "rebuilt as generation 2" in demo.out("projections", "rebuild")
    status = demo.json("projections", "status")
    assert [(s["generation"], s["active"], s["behind"]) for s in status] == [(2, True, 0)]
    after = demo.out(*report)
    assert after == before
