"""Balances at a date, as known at a time, and the progress report, through the CLI."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from cli import main


@pytest.fixture
def demo(database: str) -> CliRunner:
    runner = CliRunner()
    result = runner.invoke(main, ["demo", "--database", database])
    assert result.exit_code == 0, result.output
    return runner


def invoke(runner: CliRunner, database: str, *args: str) -> str:
    result = runner.invoke(main, [*args, "--database", database], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_demo_reproduces_seed_000(demo: CliRunner, database: str) -> None:
    rows = json.loads(
        invoke(
            demo,
            database,
            "report",
            "progress",
            "--holder",
            "12",
            "--as-of",
            "2024-09-17",
            "--by",
            "program",
            "--format",
            "json",
        )
    )
    by_program = {row["program"]: row for row in rows}
    total = by_program["TOTAL"]
    assert total["plan_vnd"] > 556 * 10**9 and round(total["rate_pct"], 1) == 53.9
    assert round(total["rate_dtpt_pct"], 1) == 78.5 and round(total["rate_sn_pct"], 1) == 29.4
    assert by_program["GNBV"]["plan_vnd"] > 196 * 10**9
    assert by_program["DTTS"]["plan_vnd"] > 359 * 10**9
    assert total["plan_extended_vnd"] > 0


def test_rows_below_the_tables_average_are_flagged(demo: CliRunner, database: str) -> None:
    rows = json.loads(
        invoke(
            demo,
            database,
            "report",
            "progress",
            "--holder",
            "12",
            "--as-of",
            "2024-09-17",
            "--format",
            "json",
        )
    )
    average = rows[-1]["rate_pct"]
    for row in rows[:-1]:
        assert row["below_average"] == (row["rate_pct"] < average)
    assert {row["holder"] for row in rows if row["below_average"]} == {"107", "112"}
    assert sum(row["plan_vnd"] for row in rows[:-1]) == rows[-1]["plan_vnd"]


def test_subtree_plan_is_what_entered_from_outside(demo: CliRunner, database: str) -> None:
    rows = json.loads(
        invoke(
            demo,
            database,
            "balance",
            "--holder",
            "12",
            "--subtree",
            "--year",
            "2024",
            "--program",
            "DTTS",
            "--kind",
            "DTPT",
            "--format",
            "json",
        )
    )
    assert [row["assigned_vnd"] for row in rows] == [165 * 10**9]  # the 3 tỷ move cancels
    assert rows[0]["allocated_on_vnd"] == 0


def test_as_of_a_date_and_as_known_at_a_time(database: str, tmp_path: Path) -> None:
    runner = CliRunner()
    line = ["--program", "GNBV", "--kind", "SN", "--source", "NSTW", "--year", "2024"]
    invoke(runner, database, "init")
    invoke(runner, database, "units", "add", "TW", "Trung ương", "--level", "central")
    invoke(
        runner,
        database,
        "adjust",
        *line,
        "--holder",
        "TW",
        "--amount",
        "1000",
        "--decision",
        "QĐ 1",
        "--date",
        "2024-01-02",
    )
    invoke(
        runner,
        database,
        "disburse",
        *line,
        "--holder",
        "TW",
        "--amount",
        "300",
        "--voucher",
        "KB 1",
        "--date",
        "2024-09-10",
    )
    time.sleep(0.01)
    meeting = datetime.now(UTC)
    time.sleep(0.01)
    # The treasury confirms later a payment made before the meeting.
    invoke(
        runner,
        database,
        "disburse",
        *line,
        "--holder",
        "TW",
        "--amount",
        "200",
        "--voucher",
        "KB 2",
        "--date",
        "2024-09-12",
    )

    def disbursed(*args: str) -> int:
        rows = json.loads(
            invoke(runner, database, "balance", "--holder", "TW", "--format", "json", *args)
        )
        return int(rows[0]["disbursed_vnd"])

    assert disbursed("--as-of", "2024-09-17") == 500
    assert disbursed("--as-of", "2024-09-17", "--known-at", meeting.isoformat()) == 300
    assert disbursed("--as-of", "2024-09-11") == 300
    assert disbursed("--as-of", "2024-01-01") == 0


def test_progress_as_xlsx_and_month_by_month(
    demo: CliRunner, database: str, tmp_path: Path
) -> None:
    path = tmp_path / "progress.xlsx"
    invoke(
        demo,
        database,
        "report",
        "progress",
        "--holder",
        "12",
        "--as-of",
        "2024-09-17",
        "--format",
        "xlsx",
        "--output",
        str(path),
    )
    sheet = load_workbook(path).active
    assert sheet is not None
    header = [cell.value for cell in sheet[1]]
    last = [cell.value for cell in sheet[sheet.max_row]]
    assert last[0] == "TOTAL" and last[header.index("plan, all")] == 556_100_000_000
    months = json.loads(
        invoke(
            demo,
            database,
            "report",
            "progress",
            "--holder",
            "12",
            "--period",
            "month",
            "--from",
            "2024-01-01",
            "--to",
            "2024-09-17",
            "--by",
            "program",
            "--format",
            "json",
        )
    )
    totals = [row for row in months if row["program"] == "TOTAL"]
    assert [row["as_of"] for row in totals][-2:] == ["2024-08-31", "2024-09-17"]
    paid = [row["disbursed_vnd"] for row in totals]
    assert paid == sorted(paid) and paid[0] == 0 and totals[-1]["rate_pct"] == 53.94


def test_projection_status_and_rebuild(demo: CliRunner, database: str) -> None:
    before = invoke(
        demo,
        database,
        "report",
        "progress",
        "--holder",
        "12",
        "--as-of",
        "2024-09-17",
        "--format",
        "json",
    )
    assert "rebuilt as generation 2" in invoke(demo, database, "projections", "rebuild")
    status = json.loads(invoke(demo, database, "projections", "status", "--format", "json"))
    assert [(s["generation"], s["active"], s["behind"]) for s in status] == [(2, True, 0)]
    after = invoke(
        demo,
        database,
        "report",
        "progress",
        "--holder",
        "12",
        "--as-of",
        "2024-09-17",
        "--format",
        "json",
    )
    assert after == before
