"""Files as a user gets them on disk. ``export --format xlsx`` writes a table an office can
work in: the header frozen and filtered, columns as wide as what they show (the names wider
than the numbers), dates as dd/mm/yyyy, the sheet named without cutting a word. The report's
files open as what they say they are: CSV with the byte-order mark Excel needs, a workbook,
a PDF. The rendering does not depend on the store, so this runs on SQLite only."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from ledger.interchange.export import BALANCE_COLUMNS, MOVEMENT_COLUMNS
from ledger.interchange.report_files import write_csv, write_pdf, write_xlsx
from tests.e2e.cli_story import Cli
from tests.report_sample import sample_document


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    cli = Cli(str(tmp_path_factory.mktemp("demo") / "ledger.sqlite3"))
    cli.run("demo")
    return cli


def sheet_of(path: Path) -> Worksheet:
    sheet = load_workbook(path).active
    assert isinstance(sheet, Worksheet)
    return sheet


def letter(sheet: Worksheet, header: str) -> str:
    return str(next(cell.column_letter for cell in sheet[1] if cell.value == header))


def width(sheet: Worksheet, header: str) -> float:
    return float(sheet.column_dimensions[letter(sheet, header)].width)


def test_movements_workbook_is_frozen_filtered_and_fitted(demo: Cli, tmp_path: Path) -> None:
    path = tmp_path / "movements.xlsx"
    demo.export(format="xlsx", output=str(path), as_of="2024-09-17", holder="505")
    sheet = sheet_of(path)
    assert sheet.title == "Nghiệp vụ"
    headers = [header for _, header in MOVEMENT_COLUMNS]
    assert [cell.value for cell in sheet[1]] == headers and all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{sheet[1][-1].column_letter}{sheet.max_row}"
    assert sheet.max_row > 2
    effective = sheet["A2"]
    assert isinstance(effective.value, datetime) and effective.number_format == "dd/mm/yyyy"
    assert sheet["B2"].number_format == "dd/mm/yyyy hh:mm:ss"
    amount = width(sheet, "Số tiền (đồng)")
    amounts = sheet[letter(sheet, "Số tiền (đồng)")][1:]
    longest = max(len(f"{cell.value:,}") for cell in amounts if cell.value is not None)
    assert longest + 2 <= amount < 26  # as wide as the amounts, not the old 39
    assert width(sheet, "Tên đơn vị") >= len("Huyện Đông Giang")  # not the old 12
    assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows == "$1:$1"


def test_balances_workbook_shows_deadlines_as_dates(demo: Cli, tmp_path: Path) -> None:
    path = tmp_path / "balances.xlsx"
    demo.export(format="xlsx", what="balances", output=str(path), as_of="2024-09-17")
    sheet = sheet_of(path)
    assert sheet.title == "Số dư"
    column = [header for _, header in BALANCE_COLUMNS].index("Hạn giải ngân") + 1
    deadlines = [sheet.cell(row, column) for row in range(2, sheet.max_row + 1)]
    assert deadlines and all(cell.number_format == "dd/mm/yyyy" for cell in deadlines)
    assert {cell.value.date() for cell in deadlines} >= {date(2024, 12, 31)}
    assert sheet["A2"].number_format == "dd/mm/yyyy"


def test_the_report_files_open_as_what_they_are(tmp_path: Path) -> None:
    document = sample_document()
    write_csv(document, tmp_path / "bao-cao.csv", "vn")
    raw = (tmp_path / "bao-cao.csv").read_bytes()
    assert raw.startswith("\ufeffSTT;Loại dòng;Mã;Tên;".encode())
    assert raw.count(b"\r\n") == len(document.rows) + 1
    write_xlsx(document, tmp_path / "bao-cao.xlsx")
    assert sheet_of(tmp_path / "bao-cao.xlsx")["A4"].value == document.title
    write_pdf(document, str(tmp_path / "bao-cao.pdf"))
    assert (tmp_path / "bao-cao.pdf").read_bytes().startswith(b"%PDF-")
