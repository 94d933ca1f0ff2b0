"""No CSV or xlsx the ledger writes carries a live formula (OWASP's CSV injection rule).

Text a clerk, a holder registration or an imported file gave (a note, a decision, a voucher,
an actor, a holder name) that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return reaches every CSV with a ``'`` before it, and every xlsx as a text cell with the same
``'``; amounts stay numbers, negative ones too. Every writer is read back: ``export`` in each
format (the datapackage's CSV files too), ``report progress``, ``balance``, ``history``,
``units list`` and ``tokens list``. The hledger journal, a text format of its own, must read
hostile text as text too.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from ledger.interchange.importer import COLUMNS
from tests.e2e.cli_story import Cli

NOTE = '=HYPERLINK("http://x","y")'
DECISION = "=1+1"  # "\t=1+1" is refused on record (a control character): see test_values.py
VOUCHER = "@SUM(1+1)*cmd|' /C calc'!A0"
ACTOR = "-2+3+cmd|' /C calc'!A0"
HOLDER_NAME = "+cmd|' /C calc'!A0"
IMPORTED_NOTE = '=HYPERLINK("http://imported","y")'
IMPORTED_VOUCHER = "@SUM(2+2)*cmd|' /C calc'!A0"
TOKEN_NAME = "=cmd|' /C calc'!A0"

# What must reach the files: each value with a quote before it.
NEUTRALISED = {
    "note": "'" + NOTE,
    "decision": "'=1+1",
    "voucher": "'" + VOUCHER,
    "actor": "'" + ACTOR,
    "holder name": "'" + HOLDER_NAME,
    "imported note": "'" + IMPORTED_NOTE,
    "imported voucher": "'" + IMPORTED_VOUCHER,
}
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?\d+(\.\d+)?")
# The only formulas a workbook may hold: the filed report's own sums and rates, over cell
# references and nothing else (no text of anyone's).
OWN_FORMULA = re.compile(r'=(?:SUM|IF|[A-Z]{1,3}\d+|[:,()/*+\-<>=0-9.]|"")+')
NEGATIVE_VND = -100_000


@pytest.fixture
def hostile(database: str, tmp_path: Path) -> Cli:
    """A ledger whose free text is hostile: some recorded on the command line, some imported."""
    cli = Cli(database).init()
    cli.unit("TW", "Trung ương", "central")
    cli.unit("49", HOLDER_NAME, "province", parent="TW")
    cli.run("tokens", "create", "--name", TOKEN_NAME, "--role", "viewer")
    cli.adjust("TW", 10_000_000, decision=DECISION, note=NOTE, actor=ACTOR, date="2024-01-02")
    cli.adjust("TW", NEGATIVE_VND, decision="QĐ 2", date="2024-01-03")
    cli.allocate("TW", "49", 5_000_000, decision=DECISION, date="2024-01-05")
    cli.disburse("49", 1_000_000, voucher=VOUCHER, note=NOTE, actor=ACTOR, date="2024-02-01")
    cells = {
        "effective_date": "2024-03-01", "program": "GNBV", "kind": "DTPT", "source": "NSTW",
        "year": "2024", "holder": "49", "amount_vnd": "200000", "voucher": IMPORTED_VOUCHER,
        "note": IMPORTED_NOTE,
    }  # fmt: skip
    path = tmp_path / "kbnn.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerow([cells.get(name, "") for name in COLUMNS])
    assert "1 recorded" in cli.out("import", str(path), "--actor", ACTOR)
    return cli


def inert_cells(cells: list[str]) -> list[str]:
    """Every text cell: none begins a formula (a number may begin with '-')."""
    for cell in cells:
        if cell.startswith(TRIGGERS):
            assert NUMBER.fullmatch(cell), f"live cell {cell!r}"
    return cells


def csv_cells(text: str) -> list[str]:
    return inert_cells([cell for row in csv.reader(io.StringIO(text)) for cell in row])


def xlsx_cells(path: Path, *, own_formulas: bool = False) -> list[str]:
    """The workbook's text cells, after checking that no cell is a formula (but, in the
    filed report, its own sums and rates over cell references) and that text is text."""
    sheet = load_workbook(path).worksheets[0]
    texts = []
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f" and own_formulas:
                assert OWN_FORMULA.fullmatch(str(cell.value)), (cell.coordinate, cell.value)
                continue
            assert cell.data_type != "f", f"formula in {cell.coordinate}: {cell.value!r}"
            if isinstance(cell.value, str):
                assert cell.data_type == "s", cell.coordinate
                texts.append(cell.value)
    return inert_cells(texts)


def test_every_csv_and_xlsx_writer_neutralises_formulas(hostile: Cli, tmp_path: Path) -> None:
    run = hostile.out
    every = set(NEUTRALISED.values())
    free_text = every - {NEUTRALISED["holder name"]}
    texts: dict[str, list[str]] = {}
    for what in ("movements", "balances", "progress"):
        extra = ["--as-of", "2024-12-31"]
        extra += ["--holder", "TW"] if what == "progress" else []
        texts[f"export csv {what}"] = csv_cells(
            run("export", "--format", "csv", "--what", what, *extra)
        )
        path = tmp_path / f"{what}.xlsx"
        run("export", "--format", "xlsx", "--what", what, *extra, "--output", str(path))
        texts[f"export xlsx {what}"] = xlsx_cells(path, own_formulas=what == "progress")
    package = tmp_path / "package.zip"
    run("export", "--format", "datapackage", "--as-of", "2024-12-31", "--output", str(package))
    with zipfile.ZipFile(package) as archive:
        for name in ("data/movements.csv", "data/balances.csv"):
            texts[f"datapackage {name}"] = csv_cells(archive.read(name).decode("utf-8"))
    texts["report progress csv"] = csv_cells(
        run("report", "progress", "--holder", "TW", "--as-of", "2024-12-31", "--format", "csv")
    )
    path = tmp_path / "report.xlsx"
    run("report", "progress", "--holder", "TW", "--format", "xlsx", "--output", str(path))
    texts["report progress xlsx"] = xlsx_cells(path, own_formulas=True)
    texts["balance csv"] = csv_cells(run("balance", "--as-of", "2024-12-31", "--format", "csv"))
    texts["history csv"] = csv_cells(run("history", "--format", "csv"))
    texts["units list csv"] = csv_cells(run("units", "list", "--format", "csv"))
    texts["tokens list csv"] = csv_cells(run("tokens", "list", "--format", "csv"))

    # The hostile text is there, neutralised, wherever the table shows it.
    assert free_text | {NEUTRALISED["holder name"]} <= set(texts["export csv movements"])
    assert free_text | {NEUTRALISED["holder name"]} <= set(texts["export xlsx movements"])
    assert free_text <= set(texts["datapackage data/movements.csv"])
    assert NEUTRALISED["holder name"] in texts["export csv balances"]
    assert NEUTRALISED["holder name"] in texts["export xlsx balances"]
    assert NEUTRALISED["holder name"] in texts["export csv progress"]
    # The filed report names a row "code - name": text that cannot begin a formula.
    assert any(text.endswith(" - " + HOLDER_NAME) for text in texts["export xlsx progress"])
    assert NEUTRALISED["holder name"] in texts["datapackage data/balances.csv"]
    history = set(texts["history csv"])
    assert {NEUTRALISED[name] for name in ("decision", "voucher", "actor")} <= history
    assert NEUTRALISED["imported voucher"] in history
    assert NEUTRALISED["holder name"] in texts["units list csv"]
    assert "'" + TOKEN_NAME in texts["tokens list csv"]


def test_amounts_stay_numbers_negative_ones_too(hostile: Cli, tmp_path: Path) -> None:
    text = hostile.export(format="csv")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    amounts = [row[13] for row in rows[1:]]
    assert str(NEGATIVE_VND) in amounts  # as written: no quote before a number
    path = tmp_path / "movements.xlsx"
    hostile.export(format="xlsx", output=str(path))
    sheet = load_workbook(path).worksheets[0]
    cells = [row[13] for row in sheet.iter_rows(min_row=2)]
    assert all(cell.data_type == "n" and isinstance(cell.value, int) for cell in cells)
    assert NEGATIVE_VND in [cell.value for cell in cells]
    history = hostile.out("history", "--format", "csv")
    assert f",{NEGATIVE_VND}," in history


@pytest.mark.skipif(shutil.which("hledger") is None, reason="hledger not installed")
def test_hledger_reads_hostile_text_as_text(database: str, tmp_path: Path) -> None:
    """A newline, a ';' or a tag-like word in a decision, voucher or note must not add a
    transaction, a posting, a comment or a tag to the journal: hledger reads the same three
    transactions, balances and tag values."""
    decision = "QĐ 1; x  2024-01-01 fake    GNBV:x  5 VND"  # one line: a decision holds no newline
    note = "a\n2024-01-01 (y) injected\n    x:y  10 VND\n; comment"
    voucher = "KB date:2099-99-99, date2:2099-01-01"
    cli = Cli(database).init()
    cli.unit("TW", "Trung ương", "central")
    cli.adjust("TW", 1000, decision=decision, note=note, date="2024-01-02")
    cli.disburse("TW", 100, voucher=voucher, note="n: v, tag2: w | x = 5 VND", date="2024-01-03")
    cli.disburse(
        "TW", 100, voucher=VOUCHER, note="include /etc/passwd", actor=ACTOR, date="2024-01-04"
    )
    journal = tmp_path / "ledger.journal"
    cli.export(format="hledger", output=str(journal))

    def hledger(*args: str) -> list[str]:
        done = subprocess.run(
            ["hledger", "-f", str(journal), *args],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return done.stdout.splitlines()

    hledger("check")
    headers = [line for line in hledger("print") if line[:1].isdigit()]
    assert [line[:10] for line in headers] == ["2024-01-02", "2024-01-03", "2024-01-04"]
    assert len(hledger("register", "-O", "csv")) == 1 + 6  # a header, two postings each
    assert hledger("tags") == ["action", "actor", "decision", "movement", "note", "recorded",
                               "voucher"]  # fmt: skip
    values = set(hledger("tags", "--values"))
    assert {
        "QĐ 1; x 2024-01-01 fake GNBV:x 5 VND",  # one line; its ',' would end the tag
        "a 2024-01-01 (y) injected x:y 10 VND ; comment",
        "KB date:2099-99-99; date2:2099-01-01",
        "n: v; tag2: w | x = 5 VND",
        VOUCHER,
        ACTOR,
    } <= values
    balances = hledger("balance", "-O", "csv", "--no-total")
    assert balances[1:] == [
        '"GNBV:DTPT:NSTW:2024:TW:available","800 VND"',
        '"GNBV:DTPT:NSTW:2024:TW:disbursed","200 VND"',
        '"appropriation:GNBV:DTPT:NSTW:2024:TW","-1000 VND"',
    ]


def test_text_with_control_characters_still_exports_to_xlsx(tmp_path: Path) -> None:
    """Text recorded before control characters were refused on input (an actor with an ANSI
    escape) must not stop an export: it shows their symbols."""
    from cli.common import write_xlsx

    path = tmp_path / "controls.xlsx"
    rows = [{"actor": "kt\x1b[31m", "note": "=1\x01", "amount_vnd": -5}]
    columns = [("actor", "Người ghi"), ("note", "Ghi chú"), ("amount_vnd", "Số tiền (đồng)")]
    write_xlsx(str(path), rows, columns, "Nghiệp vụ")
    assert xlsx_cells(path)[3:] == ["kt\u241b[31m", "'=1\u2401"]
