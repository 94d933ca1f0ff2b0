"""Balances at a date, as known at a time, and the progress report, through the CLI."""

from __future__ import annotations

import csv
import io
import json
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


def test_the_filed_report_in_every_format_and_month_by_month(demo: Cli, tmp_path: Path) -> None:
    asked = options(holder="12", as_of="17/09/2024", by="program,holder", reference="cả nước=32")
    rows = demo.progress(holder="12", as_of="2024-09-17", by="program,holder")
    total = rows[-1]
    assert total["program"] == "TOTAL" and total["rate_pct"] == 53.94
    groups = [row for row in rows if row["row_kind"] == "group"]
    assert [row["program"] for row in groups] == ["DTTS", "GNBV"]
    assert sum(row["plan_vnd"] for row in groups) == total["plan_vnd"] == 556_100_000_000
    # --output writes every format to the file, and says so (csv and json too).
    for output_format in ("csv", "json", "xlsx", "pdf"):
        path = tmp_path / f"report.{output_format}"
        said = demo.out(
            "report", "progress", *asked, "--format", output_format, "--output", str(path)
        )
        assert said == f"wrote {path}\n" and path.stat().st_size > 0
    assert json.loads((tmp_path / "report.json").read_text(encoding="utf-8")) == rows
    # The Vietnamese-locale dialect: semicolons and decimal commas, the same figures.
    vn = tmp_path / "report-vn.csv"
    demo.run(
        "report", "progress", *asked, "--format", "csv", "--dialect", "vn", "--output", str(vn)
    )
    text = vn.read_text(encoding="utf-8")
    assert text.startswith("\ufeff")
    read = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert read[0]["Tên"] == "Tổng cộng"
    assert read[0]["Tỷ lệ so KH địa phương giao (%)"] == "53,94"
    assert int(read[0]["Tổng (NSTW + NSĐP) (đồng)"]) == total["plan_vnd"]
    sheet = load_workbook(tmp_path / "report.xlsx").active
    assert sheet is not None
    texts = [cell.value for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)]
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in texts and "Đơn vị tính: triệu đồng" in texts
    assert any(text.startswith("Tham chiếu: cả nước 32,00%") for text in texts)
    table = demo.out("report", "progress", *asked, "--unit", "ty")
    assert "ĐẾN NGÀY 17/9/2024" in table and "53,94%" in table and "Đơn vị tính: tỷ đồng" in table
    refused = demo.run("report", "progress", "--by", "district", expect=1)
    assert "by: 'district': must be one or more of holder, program" in refused.output
    months = demo.progress(holder="12", from_="2024-01-01", to="2024-09-17", by="program")
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


def test_a_report_that_cannot_be_written_is_one_line(demo: Cli, tmp_path: Path) -> None:
    asked = ("report", "progress", "--holder", "12", "--as-of", "17/09/2024")
    missing = tmp_path / "no-such-folder" / "report"
    for output_format in ("csv", "json", "xlsx", "pdf"):
        target = f"{missing}.{output_format}"
        refused = demo.run(*asked, "--format", output_format, "--output", target, expect=1)
        said = (
            f"cannot write {target}: No such file or directory; name a file in a folder that "
            "exists and you may write to"
        )
        if output_format == "json":  # errors are JSON too when JSON is asked for
            assert json.loads(refused.output)["error"]["detail"] == said
        else:
            assert refused.output.strip().splitlines() == [f"Error: {said}"]
    folder = demo.run(*asked, "--format", "pdf", "--output", str(tmp_path), expect=1)
    assert "Traceback" not in folder.output and f"cannot write {tmp_path}" in folder.output
    table = demo.run(*asked, "--output", str(tmp_path / "t.txt"), expect=2)
    assert "--output writes csv, json, xlsx or pdf: add --format" in table.output
    assert not (tmp_path / "t.txt").exists() and not missing.parent.exists()
    exported = demo.export(
        format="csv", what="progress", holder="12", as_of="2024-09-17", by="program,holder"
    )
    assert exported == demo.out(*asked, "--by", "program,holder", "--format", "csv")


def test_an_export_that_cannot_be_written_is_one_line(demo: Cli, tmp_path: Path) -> None:
    target = str(tmp_path / "no-such-folder" / "out")
    for output_format, what in [("csv", "movements"), ("xlsx", "balances"), ("xlsx", "progress")]:
        refused = demo.run(
            "export", "--format", output_format, "--what", what, "--output", target, expect=1
        )
        assert refused.output.startswith(f"Error: cannot write {target}: No such file"), what
    package = demo.run("export", "--format", "datapackage", "--output", f"{target}.zip", expect=1)
    assert package.output.startswith(f"Error: cannot write {target}.zip")
