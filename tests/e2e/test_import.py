"""Importing treasury files: checked whole, recorded whole or not at all, safe to repeat."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import pytest

from ledger.application import open_ledger
from ledger.interchange.importer import COLUMNS, Importer
from tests.e2e.cli_story import TY, Cli, funded, quang_nam

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "treasury-confirmations.csv"


@pytest.fixture
def cli(database: str) -> Cli:
    """The worked example's holders, funded: 505 has 150 tỷ, 504 has 100."""
    return funded(quang_nam(Cli(database).init()))


def head(database: str) -> int:
    ledger = open_ledger(database)
    try:
        return ledger.head_position()
    finally:
        ledger.close()


def balance(cli: Cli, holder: str) -> dict[str, Any]:
    return cli.balance(holder=holder)[0]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    path.write_text(
        "\n".join(",".join(row) for row in [list(COLUMNS), *rows]) + "\n", encoding="utf-8"
    )
    return path


def row(**cells: str) -> list[str]:
    base = {
        "effective_date": "2024-07-01",
        "program": "GNBV",
        "kind": "DTPT",
        "source": "NSTW",
        "year": "2024",
        "holder": "505",
        "voucher": "KB",
    }
    base.update(cells)
    return [base.get(name, "") for name in COLUMNS]


def test_the_sample_file_records_once(cli: Cli) -> None:
    database = cli.database
    result = cli.run("import", str(SAMPLE))
    assert "5 recorded" in result.output
    assert balance(cli, "505")["disbursed_vnd"] == int(7.2 * TY)
    assert balance(cli, "504")["disbursed_vnd"] == int(4.25 * TY)
    before = head(database)
    again = cli.run("import", str(SAMPLE))
    assert "nothing new was recorded" in again.output
    assert head(database) == before
    cli.run("verify")


def test_every_bad_row_is_reported_and_nothing_recorded(cli: Cli, tmp_path: Path) -> None:
    database = cli.database
    before = head(database)
    path = write_csv(
        tmp_path / "bad.csv",
        [
            row(amount_vnd="1000000000"),  # row 2: fine
            row(amount_vnd="lots"),  # row 3: not an amount
            row(amount_vnd="1000000000", holder="999"),  # row 4: unknown holder
            row(amount_vnd=str(10**6 * TY)),  # row 5: more than there is
            row(amount_vnd="1000000000", effective_date="2024-13-01"),  # row 6: no such date
            row(amount_vnd="1000000000", movement_id="p-1"),  # row 7
            row(amount_vnd="2000000000", movement_id="p-1"),  # row 8: same id, other content
        ],
    )
    result = cli.run("import", str(path), expect=1)
    for number, what in (
        (3, "amount_vnd"),
        (4, "holder"),
        (5, "amount_vnd"),
        (6, "effective_date"),
        (8, "movement_id"),
    ):
        assert f"row {number}: {what}" in result.output, (number, result.output)
    assert "row 2:" not in result.output and "row 7:" not in result.output
    assert "5 bad row(s)" in result.output and "nothing was recorded" in result.output
    assert head(database) == before
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("effective_date,colour\n2024-01-01,red\n", encoding="utf-8")
    refused = cli.run("import", str(unknown), expect=1)
    assert "unknown column(s) colour" in refused.output


def test_values_the_cli_refuses_are_refused_in_a_file_with_their_row(
    cli: Cli, tmp_path: Path
) -> None:
    """The rules of ledger/domain/values.py hold for a file as for an option: nothing half-read."""
    database = cli.database
    before = head(database)
    rows = [
        row(amount_vnd="1.000.000"),  # row 2: fine
        row(amount_vnd="1.000,000"),  # row 3: two grouping characters
        row(amount_vnd="1,000,000"),  # row 4: a comma is a decimal mark
        row(amount_vnd="１２３"),  # row 5: full-width digits
        row(amount_vnd="١٢٣"),  # row 6: Arabic-Indic digits
        row(amount_vnd="5", year="２０２４"),  # row 7
        row(amount_vnd="5", effective_date="２０２４-07-01"),  # row 8
        row(amount_vnd="5", voucher="KB\x070123"),  # row 9: BEL (a NUL refuses the whole file)
        row(amount_vnd="5", voucher="KB\n0123"),  # row 10: a newline in a one-line field
        row(amount_vnd="5", voucher="KB \x1b[31m0123"),  # row 11: ANSI escape
        row(amount_vnd="5", note="dòng 1\x0bdòng 2"),  # row 12: a vertical tab in a note
        row(amount_vnd="5", note="dòng 1\ndòng 2\tx"),  # row 13: fine, a note may
        row(amount_vnd="9" * 9999),  # row 14: more digits than Python converts
    ]
    path = tmp_path / "values.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([list(COLUMNS), *rows])
    result = cli.run("import", str(path), expect=1)
    for number, what in (
        (3, "amount_vnd"),
        (4, "amount_vnd"),
        (5, "amount_vnd"),
        (6, "amount_vnd"),
        (7, "year"),
        (8, "effective_date"),
        (9, "voucher"),
        (10, "voucher"),
        (11, "voucher"),
        (12, "note"),
        (14, "amount_vnd"),
    ):
        assert f"row {number}: {what}: " in result.output, (number, result.output)
    assert "row 2:" not in result.output and "row 13:" not in result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "11 bad row(s)" in result.output
    assert head(database) == before


def test_rows_build_on_the_rows_before_them(cli: Cli, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "chain.csv",
        [
            row(
                action="allocate",
                holder="49",
                to_holder="505",
                amount_vnd=str(100 * TY),
                voucher="",
                decision="QĐ 3",
            ),
            # 505 had 150 tỷ; with the allocation above it can pay 240.
            row(amount_vnd=str(240 * TY)),
            row(amount_vnd=str(240 * TY)),  # identical: a second payment, not a replay
        ],
    )
    result = cli.run("import", str(path), expect=1)
    assert "row 4: amount_vnd" in result.output
    path = write_csv(
        tmp_path / "chain.csv",
        [
            row(
                action="allocate",
                holder="49",
                to_holder="505",
                amount_vnd=str(100 * TY),
                voucher="",
                decision="QĐ 3",
            ),
            row(amount_vnd=str(120 * TY)),
            row(amount_vnd=str(120 * TY)),
        ],
    )
    cli.run("import", str(path))
    assert balance(cli, "505")["disbursed_vnd"] == 240 * TY


def test_a_movement_given_twice_in_a_file_is_recorded_once(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The two rows in different chunks.
    monkeypatch.setattr("ledger.interchange.importer.CHUNK_ROWS", 1)
    database = cli.database
    before = head(database)
    same = row(amount_vnd=str(TY), movement_id="kb-1")
    result = cli.run("import", str(write_csv(tmp_path / "twice.csv", [same, same])))
    assert "1 recorded (2 events), 1 already recorded before" in result.output
    assert head(database) == before + 2
    assert balance(cli, "505")["disbursed_vnd"] == TY


def test_an_xlsx_file_imports_like_a_csv(cli: Cli, tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(COLUMNS))
    sheet.append(row(amount_vnd="3000000000", voucher="KB X1"))
    sheet.append(row(amount_vnd=2_000_000_000, voucher="KB X2", holder="504"))  # type: ignore[arg-type]
    path = tmp_path / "kbnn.xlsx"
    workbook.save(path)
    cli.run("import", str(path))
    assert balance(cli, "505")["disbursed_vnd"] == 3 * TY
    assert balance(cli, "504")["disbursed_vnd"] == 2 * TY


def test_a_bad_row_after_batches_were_written_rolls_them_back(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows are written in batches as they are checked, inside one transaction: a bad row
    after batches were written (one row per batch here) rolls every one of them back, and
    the rows after it are still checked and reported."""
    monkeypatch.setattr("ledger.interchange.importer.CHUNK_ROWS", 1)
    database = cli.database
    before = head(database)
    path = write_csv(
        tmp_path / "late.csv",
        [
            row(amount_vnd=str(TY)),
            row(amount_vnd=str(TY)),
            row(amount_vnd=str(10**6 * TY)),  # row 4: more than there is
            row(amount_vnd=str(TY), holder="999"),  # row 5: unknown holder
        ],
    )
    ledger = open_ledger(database)
    try:
        outcome = Importer(ledger, "kb").run(path)
    finally:
        ledger.close()
    assert outcome.written == 4  # two rows, two events each, sent before row 4 was checked
    assert [(bad.row, bad.field) for bad in outcome.bad] == [(4, "amount_vnd"), (5, "holder")]
    assert outcome.events == 0
    assert head(database) == before
    assert balance(cli, "505")["disbursed_vnd"] == 0
    cli.run("verify")


def test_memory_grows_with_the_lines_touched_not_with_the_rows(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file four times as long over the same lines needs no more memory: what is kept of
    every row (ids, fingerprints, counts) lives in a temporary file, not in memory."""
    import tracemalloc

    monkeypatch.setattr("ledger.interchange.importer.CHUNK_ROWS", 50)
    database = cli.database
    peaks = []
    for rows in (400, 1600):
        path = write_csv(
            tmp_path / f"{rows}.csv",
            [
                row(amount_vnd="1000", voucher=f"KB {rows}-{n}", holder=("505", "504")[n % 2])
                for n in range(rows)
            ],
        )
        ledger = open_ledger(database)
        try:
            tracemalloc.start()
            outcome = Importer(ledger, "kb").run(path)
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
        finally:
            ledger.close()
        assert outcome.recorded == rows and not outcome.bad
    # 1,200 more rows kept in memory would take well over 400 KB (about 350 bytes a row).
    assert peaks[1] - peaks[0] < 150_000, peaks


def test_a_dry_run_checks_the_whole_file_and_records_nothing(cli: Cli, tmp_path: Path) -> None:
    before, shown = head(cli.database), balance(cli, "505")
    tried = cli.run("import", str(SAMPLE), "--dry-run")
    assert "5 would be recorded" in tried.output and "Dry run: nothing was recorded." in (
        tried.output
    )
    assert head(cli.database) == before and balance(cli, "505") == shown
    # A bad file is refused the same way, row by row.
    bad = write_csv(tmp_path / "bad.csv", [row(amount_vnd="10"), row(amount_vnd="-5")])
    refused = cli.run("import", str(bad), "--dry-run", expect=1)
    assert "row 3" in refused.output and "nothing was recorded" in refused.output
    # Then the real import records what the dry run said.
    done = cli.run("import", str(SAMPLE))
    assert "5 recorded" in done.output
    events = re.compile(r"\((\d+) events\)")
    assert events.findall(done.output) == events.findall(tried.output) != []
