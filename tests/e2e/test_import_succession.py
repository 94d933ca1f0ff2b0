"""Importing across a succession (issue 14), on SQLite and PostgreSQL: rows on a holder that
ended are refused from the day it ended, naming its successor; rows effective before it are
recorded and change what passed on, on the successor's line too; extended money moved by a row
keeps its deadline."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.application import BudgetLedger, open_ledger
from ledger.domain.values import LineKey
from ledger.interchange.importer import COLUMNS
from tests.e2e.cli_story import TY, Cli
from tests.story import LINE
from tests.succession_story import (
    EXPECTED,
    LINE_2025,
    SUCCESSION,
    SUCCESSOR,
    before_the_succession,
)


@pytest.fixture
def cli(database: str) -> Cli:
    """504 and 505 ended on 1/7/2025 into 506 (tests/succession_story.py), nothing after."""
    cli = Cli(database).init()
    ledger = open_ledger(database)
    try:
        before_the_succession(ledger)
        ledger.record(SUCCESSION, actor="tester")
    finally:
        ledger.close()
    return cli


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    lines = [",".join(COLUMNS)]
    lines += [",".join(row.get(name, "") for name in COLUMNS) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def cells(line: LineKey, **more: str) -> dict[str, str]:
    identity = {n: str(v) for n, v in line.as_dict().items() if v is not None}
    return {**identity, **more}


def state(database: str) -> tuple[int, dict[LineKey, dict[str, object]]]:
    ledger = open_ledger(database)
    try:
        return ledger.head_position(), {line.key: line.figures() for line in ledger.list_lines()}
    finally:
        ledger.close()


def read(database: str, key: LineKey) -> dict[str, object]:
    ledger: BudgetLedger = open_ledger(database)
    try:
        line = ledger.get_line(key)
        assert line is not None, key
        return line.figures()
    finally:
        ledger.close()


def test_rows_on_an_ended_holder_from_its_end_are_bad_rows_naming_the_successor(
    cli: Cli, tmp_path: Path
) -> None:
    before = state(cli.database)
    path = write_csv(
        tmp_path / "after.csv",
        [
            # row 2: fine, on the successor's line
            cells(LINE_2025.with_holder(SUCCESSOR), effective_date="2025-07-02",
                  amount_vnd="1000000000", voucher="KB 1"),
            # row 3: a payment of 504 on the day it ended
            cells(LINE_2025.with_holder("504"), effective_date="2025-07-01",
                  amount_vnd="1000000000", voucher="KB 2"),
            # row 4: an allocation to 505 after it ended
            cells(LINE_2025.with_holder("49"), action="allocate", to_holder="505",
                  effective_date="2025-08-01", amount_vnd="1000000000", decision="QĐ 1"),
        ],
    )  # fmt: skip
    result = cli.run("import", str(path), expect=1)
    assert "row 2" not in result.output
    assert "row 3: effective_date: holder 504 ended on 2025-07-01; its lines pass to 506" in (
        result.output
    )
    assert "row 4: effective_date: holder 505 ended on 2025-07-01; its lines pass to 506" in (
        result.output
    )
    assert state(cli.database) == before  # nothing recorded


def test_rows_before_the_end_are_recorded_and_settle_on_the_successors_lines(
    cli: Cli, tmp_path: Path
) -> None:
    # tests/succession_story.py's after_the_succession, as a treasury file.
    path = write_csv(
        tmp_path / "late.csv",
        [
            cells(LINE_2025.with_holder("504"), effective_date="2025-06-20",
                  amount_vnd=str(15 * TY), voucher="REF late1"),
            cells(LINE_2025.with_holder("49"), action="allocate", to_holder="505",
                  effective_date="2025-06-01", amount_vnd=str(5 * TY), decision="REF late2"),
            cells(LINE.with_holder(SUCCESSOR), effective_date="2025-08-01",
                  amount_vnd=str(10 * TY), voucher="REF after1"),
        ],
    )  # fmt: skip
    result = cli.run("import", str(path))
    assert "3 recorded" in result.output
    # Read afresh from the store: the successor's lines were saved with the rows.
    for key, expected in EXPECTED.items():
        got = read(cli.database, key)
        assert {n: got[n] for n in expected} == {
            n: v * TY if isinstance(v, int) else v for n, v in expected.items()
        }, key
    cli.check()
    cli.run("verify")
    after = state(cli.database)
    assert "nothing new was recorded" in cli.run("import", str(path)).output
    assert state(cli.database) == after
    # The history of the successor's 2025 line shows what each late row changed.
    rows = [e for e in cli.history(holder=SUCCESSOR, year=2025) if e["movement_id"] != "s1"]
    assert sorted((e["changes"]["received_vnd"], e["effective_date"]) for e in rows) == [
        (-15 * TY, "2025-07-01"),
        (5 * TY, "2025-07-01"),
    ]


def test_a_row_moving_extended_money_carries_its_deadline(cli: Cli, tmp_path: Path) -> None:
    # 506's 2024 line holds the 30 tỷ 504 could pay until 31/12/2025. A reallocation of 40
    # to 110 takes those 30 with their deadline, so 110 can pay them late in the same file.
    path = write_csv(
        tmp_path / "moved.csv",
        [
            cells(LINE.with_holder(SUCCESSOR), action="reallocate", to_holder="110",
                  effective_date="2025-08-05", amount_vnd=str(40 * TY), decision="QĐ 9"),
            cells(LINE.with_holder("110"), effective_date="2025-09-01",
                  amount_vnd=str(30 * TY), voucher="KB 110"),
        ],
    )  # fmt: skip
    result = cli.run("import", str(path))
    assert "2 recorded" in result.output
    given, taken = (
        read(cli.database, LINE.with_holder(SUCCESSOR)),
        read(cli.database, LINE.with_holder("110")),
    )
    assert (given["extended_vnd"], given["available_vnd"]) == (0, 40 * TY)
    assert (taken["extended_vnd"], taken["deadline"]) == (30 * TY, given["deadline"])
    assert (taken["disbursed_vnd"], taken["available_vnd"]) == (30 * TY, 10 * TY)
    cli.check()
