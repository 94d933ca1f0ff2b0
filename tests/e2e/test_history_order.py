"""Every view of the audit trail shows a day recorded out of order as a running balance that
adds up row by row and never dips below zero (a line's credits of a day before its debits):
``history`` as a table, JSON and CSV, ``GET /history``, the movements exported as CSV and xlsx,
and the hledger journal, whose assertions hledger itself checks. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from ledger.interchange.export import MOVEMENT_COLUMNS
from tests.e2e.cli_story import Cli
from tests.e2e.test_api import Api, api, move  # noqa: F401 (api is a fixture)

HEADERS = dict(MOVEMENT_COLUMNS)
DAY = "2024-03-10"


def record_a_day_out_of_order(api: Api) -> None:  # noqa: F811
    """505 pays out all it has on 10/3; a reallocation into 505 dated 10/3 is recorded later,
    then a payment back-dated to 5/3 that only that reallocation makes possible. In recording
    order 10/3 would read 70 − 100 = −30, then + 30 = 0."""
    for path, body in (
        ("/adjustments", move("a1", "2024-01-02", holder="TW", amount_vnd=1000, decision="d")),
        (
            "/allocations",
            move(
                "a2", "2024-01-02", from_holder="TW", to_holder="49", amount_vnd=1000, decision="d"
            ),
        ),
        (
            "/allocations",
            move(
                "a3", "2024-01-03", from_holder="49", to_holder="505", amount_vnd=100, decision="d"
            ),
        ),
        (
            "/allocations",
            move(
                "a4", "2024-01-03", from_holder="49", to_holder="504", amount_vnd=100, decision="d"
            ),
        ),
        ("/disbursements", move("p1", DAY, holder="505", amount_vnd=100, voucher="KB 1")),
        (
            "/reallocations",
            move("r1", DAY, from_holder="504", to_holder="505", amount_vnd=30, decision="QĐ r1"),
        ),
        ("/disbursements", move("p2", "2024-03-05", holder="505", amount_vnd=30, voucher="KB 2")),
    ):
        api.ok(api.post(path, "admin", body), 201)


def running(rows: list[tuple[str, int, int]]) -> dict[str, list[int]]:
    """(line, change, after) rows, in the order shown: each line's figures, checked to run
    (after = previous after + change)."""
    figures: dict[str, list[int]] = defaultdict(list)
    for line, change, after in rows:
        previous = figures[line][-1] if figures[line] else 0
        assert previous + change == after, (line, previous, change, after)
        figures[line].append(after)
    return dict(figures)


EXPECTED_505 = [100, 70, 100, 0]  # a3, p2 on 5/3, then 10/3: r1's credit, p1's debit


def line_of(entry: dict[str, Any]) -> str:
    return "/".join(str(v) for v in entry["line"].values() if v is not None)


def test_every_view_of_a_day_recorded_out_of_order_runs_without_going_negative(
    api: Api,  # noqa: F811
    database: str,
    tmp_path: Path,
) -> None:
    record_a_day_out_of_order(api)
    cli = Cli(database).out
    assert "OK" in cli("check")
    line_505 = "GNBV/DTPT/NSTW/2024/505"

    # GET /history
    entries = api.ok(api.get("/history", "auditor"))["entries"]
    figures = running(
        [(line_of(e), e["available_change_vnd"], e["available_after_vnd"]) for e in entries]
    )
    assert figures[line_505] == EXPECTED_505
    assert min(min(f) for f in figures.values()) >= 0

    # history: JSON, CSV, table
    as_json = json.loads(cli("history", "--format", "json"))
    assert [(e["movement_id"], e["available_after_vnd"]) for e in as_json] == [
        (e["movement_id"], e["available_after_vnd"]) for e in entries
    ]
    as_csv = list(csv.DictReader(io.StringIO(cli("history", "--format", "csv"))))
    figures = running(
        [(r["line"], int(r["available_change_vnd"]), int(r["available_after_vnd"])) for r in as_csv]
    )
    assert figures[line_505] == EXPECTED_505
    table = cli("history", "--holder", "505")
    cells = [line.split("│") for line in table.splitlines() if line.startswith("│")]
    shown = [row[-2].strip() for row in cells]  # the "available after" column
    assert shown == [f"{n:,}".replace(",", ".") for n in EXPECTED_505], table

    # the movements exported as CSV and xlsx
    exported = cli("export", "--format", "csv").lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(exported)))

    def export_rows(found: list[dict[str, Any]]) -> dict[str, list[int]]:
        return running(
            [
                (
                    str(r[HEADERS["holder"]]),
                    int(r[HEADERS["available_change_vnd"]]),
                    int(r[HEADERS["available_after_vnd"]]),
                )
                for r in found
            ]
        )

    assert export_rows(rows)["505"] == EXPECTED_505
    workbook_path = tmp_path / "so-cai.xlsx"
    cli("export", "--format", "xlsx", "--output", str(workbook_path))
    workbook = load_workbook(workbook_path, read_only=True)
    cells = [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    workbook.close()  # read-only mode keeps the file open until closed
    header_row = next(i for i, row in enumerate(cells) if HEADERS["holder"] in row)
    names = cells[header_row]
    sheet_rows = [dict(zip(names, row, strict=False)) for row in cells[header_row + 1 :]]
    assert export_rows([r for r in sheet_rows if r[HEADERS["holder"]]])["505"] == EXPECTED_505

    # the hledger journal: only day-end balances are asserted, none negative, all checked
    journal = tmp_path / "ledger.journal"
    cli("export", "--format", "hledger", "--output", str(journal))
    asserted = re.findall(r"= (-?\d+) VND", journal.read_text())
    assert asserted and all(int(value) >= 0 for value in asserted)
    if shutil.which("hledger") is None:
        pytest.skip("hledger not installed: the journal's assertions were not re-checked")
    subprocess.run(["hledger", "-f", str(journal), "check"], check=True, timeout=120)
