"""The files of a report as a finance office files it, each rendered from one ``Document``
(``ledger/interchange/document.py``): a workbook to file and to work in (``write_xlsx``), a
PDF to sign and send (``write_pdf``, in ``report_pdf.py``) and CSV in the dialect of the
machine that opens it (``csv_text``); and the plain tables' workbook (``write_table_xlsx``:
movements, balances, any command's ``--format xlsx``).

Units (docs/decisions.md §23): the workbook and the PDF show amounts in the document's unit,
the workbook's cells holding the exact figure (đồng / scale) so its sums stay exact; CSV keeps
whole đồng, machine data, in both dialects, its headers naming the unit. Every text cell goes
through ``ledger.interchange.export``'s rules: text never becomes a formula; the only formulas
are the workbook's own sums and rates.

openpyxl and reportlab are imported where they are used: the CLI imports this module at start.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import tempfile
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from ledger.domain.values import grouped_number
from ledger.interchange.document import (
    NATIONAL_HEADING,
    SIGNATURES,
    Column,
    Document,
    Row,
    signing_line,
)
from ledger.interchange.export import CSV_BOM, spreadsheet_text, xlsx_value

# The decimals an amount shows in each unit: whole đồng; whole triệu, as the treasury's reports
# write them ("4,489,348 of 9,045,929 triệu đồng"); tỷ to the million ("24,372.898 tỷ").
UNIT_DECIMALS = {"dong": 0, "trieu": 0, "ty": 3}
NATIONAL_HEADING_EN = ("SOCIALIST REPUBLIC OF VIETNAM", "Independence - Freedom - Happiness")
# Under each signature: what the signer writes (Nghị định 30/2020/NĐ-CP's forms).
SIGNATURE_HINTS = {
    "vi": ("(Ký, ghi rõ họ tên)", "(Ký tên, đóng dấu)"),
    "en": ("(Signature and full name)", "(Signature and seal)"),
}
STT_HEADERS = {"vi": "STT", "en": "No."}
LABEL_HEADERS = {"vi": "Nội dung", "en": "Item"}
# The CSV's own columns before the document's: the row's kind (for scripts: take the details,
# or only the total), and the label split in two.
CSV_HEADERS = {
    "vi": ("STT", "Loại dòng", "Mã", "Tên"),
    "en": ("No.", "Row kind", "Code", "Name"),
}
ROW_KINDS = {
    "vi": {"total": "tổng cộng", "group": "nhóm", "detail": "chi tiết"},
    "en": {"total": "total", "group": "group", "detail": "detail"},
}
CSV_UNIT_SUFFIXES = {"vi": " (đồng)", "en": " (dong)"}
CSV_DIALECTS = ("standard", "vn")

SHEET_TITLE_LENGTH_MAX = 31  # Excel's limit
# Characters a sheet's name may not hold.
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
# Excel takes up to 255 arguments to a function; a SUM of more nests.
_SUM_ARGUMENTS_MAX = 255


# ---------------------------------------------------------------------------- shared words


def national_heading(lang: str) -> tuple[str, str]:
    return NATIONAL_HEADING_EN if lang == "en" else NATIONAL_HEADING


def issuer_lines(document: Document) -> list[str]:
    """The issuing body as the top left of a Vietnamese document writes it: one line per
    level ("UBND TỈNH QUẢNG NAM" / "SỞ TÀI CHÍNH"), capitals in Vietnamese."""
    lines = [line.strip() for line in document.issuer.splitlines() if line.strip()]
    return [line.upper() for line in lines] if document.lang == "vi" else lines


def signing_text(document: Document) -> str:
    """The place and date above the signatures; left for the pen when the document has no
    signing date ("Đà Nẵng, ngày ... tháng ... năm ...")."""
    if document.signed_on is not None:
        return signing_line(document.place, document.signed_on, document.lang)
    where = f"{document.place}, " if document.place else ""
    if document.lang == "en":
        return f"{where}date: ..."
    return f"{where}ngày ... tháng ... năm ..."


def sheet_title(text: str, day: date | None = None) -> str:
    """A worksheet's name of at most 31 characters, cut between words, never inside one:
    "Tình hình giải ngân 17-09-2024" for the title "Tình hình giải ngân ..." and its date."""
    suffix = f" {day.day:02}-{day.month:02}-{day.year}" if day else ""
    words = _SHEET_TITLE_FORBIDDEN.sub("-", text).split()
    room = SHEET_TITLE_LENGTH_MAX - len(suffix)
    kept: list[str] = []
    for word in words:
        if len(" ".join([*kept, word])) > room:
            break
        kept.append(word)
    if not kept and words:
        kept = [words[0][:room]]  # one word longer than a sheet's name: nothing else to do
    title = (" ".join(kept).rstrip(" -,;.") + suffix).strip()
    assert len(title) <= SHEET_TITLE_LENGTH_MAX, title
    return title or "Sheet"


def figure_text(document: Document, column: Column, value: Any) -> str:
    """A figure as the PDF prints it: the Vietnamese way (1.234.567,89) in Vietnamese, the
    English way (1,234,567.89) with ``lang="en"``, where a decimal comma would read as a
    thousands separator."""
    if value is None or value == "":
        return ""
    if column.kind == "flag":
        return "x" if value else ""
    if isinstance(value, date):
        return _day_text(value)
    if column.kind not in ("vnd", "pct", "count"):
        return str(value)
    number: float = value
    decimals = 0
    if column.kind == "vnd":
        assert isinstance(value, int), (column.key, value)
        number, decimals = value / document.scale, UNIT_DECIMALS[document.unit]
    elif column.kind == "pct":
        decimals = 2
    text = grouped_number(number, decimals, document.lang)
    return text + "%" if column.kind == "pct" else text


def _day_text(value: date) -> str:
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M:%S")
    return value.strftime("%d/%m/%Y")


def children_indexes(document: Document) -> list[list[int]]:
    """Each row's children, as indexes into ``document.rows``: ``Document.children`` in one
    pass (a child's path is its parent's and one more key)."""
    by_path: dict[tuple[str, ...], list[int]] = {}
    for index, row in enumerate(document.rows):
        if row.level > 0:
            by_path.setdefault(row.path[:-1], []).append(index)
    return [by_path.get(row.path, []) for row in document.rows]


# --------------------------------------------------------------------------------- CSV


def csv_text(document: Document, dialect: str = "standard") -> str:
    """The report as CSV, one header row and the rows in the document's order. Amounts are
    whole đồng in both dialects (machine data: the header names the unit), rates with two
    decimals. ``standard``: comma, decimal point, ISO dates, what any tool reads; ``vn``:
    ``;``, decimal comma and dd/mm/yyyy, what Excel on a Vietnamese-locale PC opens in
    columns. No byte-order mark: ``write_csv`` adds it to a file (Excel needs it)."""
    assert dialect in CSV_DIALECTS, dialect
    vn = dialect == "vn"
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if vn else ",", lineterminator="\r\n")
    lang = document.lang
    headers = [*CSV_HEADERS[lang], *(_csv_header(column, lang) for column in document.columns)]
    writer.writerow(headers)
    kinds = ROW_KINDS[lang]
    for row in document.rows:
        own = [row.stt, kinds[row.kind], row.code or "", row.name]
        figures = [_csv_cell(column, row.values.get(column.key), vn) for column in document.columns]
        writer.writerow([spreadsheet_text(text) for text in own] + figures)
    return buffer.getvalue()


def write_csv(document: Document, path: str | Path, dialect: str = "standard") -> None:
    """``csv_text`` to a file, UTF-8 with the byte-order mark Excel needs to read it as such."""
    text = CSV_BOM + csv_text(document, dialect)
    with _written(path) as target:
        assert isinstance(target, str)
        Path(target).write_text(text, encoding="utf-8", newline="")


def _csv_header(column: Column, lang: str) -> str:
    header = column.header(lang)
    if column.kind == "vnd":
        return header + CSV_UNIT_SUFFIXES[lang]
    if column.kind == "pct" and "%" not in header:
        return header + " (%)"
    return header


def _csv_cell(column: Column, value: Any, vn: bool) -> str:
    if value is None:
        return ""
    if column.kind == "flag":
        return "x" if value else ""
    if column.kind == "pct":
        text = f"{float(value):.2f}"
        return text.replace(".", ",") if vn else text
    if isinstance(value, bool):
        return "x" if value else ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = f"{value:.2f}"
        return text.replace(".", ",") if vn else text
    if isinstance(value, date):
        return _day_text(value) if vn else value.isoformat()
    return spreadsheet_text(str(value))


# ---------------------------------------------------------------------------------- PDF


def write_pdf(document: Document, path: str | Path | IO[bytes]) -> None:
    """The report as a PDF, landscape A4 (``report_pdf.py``: reportlab, imported on use)."""
    from ledger.interchange.report_pdf import render_pdf

    with _written(path) as target:
        render_pdf(document, target)


# ------------------------------------------------------------------------- the workbook


@contextmanager
def _written(path: str | Path | IO[bytes]) -> Iterator[str | IO[bytes]]:
    """Where to write ``path``: a new file beside it, moved into place once whole, so a
    folder that cannot be written to fails before any work and a failure leaves nothing
    half written (an open file object is written as it is)."""
    if not isinstance(path, (str, Path)):
        yield path
        return
    target = Path(path)
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(handle)
    try:
        yield temp
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_xlsx(document: Document, path: str | Path | IO[bytes]) -> None:
    """The report as a workbook to file: the national heading beside the issuer, the title,
    the unit, a banded header, STT and the labels, the figures in the unit; subtotals and
    totals as sums of their children's cells, every rate a formula of its row's cells; bold
    totals and groups, frozen header, filter, notes, signatures, and a landscape A4 page set
    up to print fitted to the width with the header on every page."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = sheet_title(document.title, document.as_of)
    layout = _Layout(document)
    header_first = _xlsx_heading(sheet, document, layout)
    first_data = _xlsx_header(sheet, document, layout, header_first)
    _xlsx_rows(sheet, document, layout, first_data)
    last_data = first_data + len(document.rows) - 1
    _xlsx_footer(sheet, document, layout, last_data + 2)
    for index, width in enumerate(layout.widths, start=1):
        sheet.column_dimensions[_letter(index)].width = width
    sheet.freeze_panes = f"C{first_data}"
    sheet.auto_filter.ref = f"A{first_data - 1}:{layout.last}{max(last_data, first_data - 1)}"
    _print_setup(sheet, document.lang, f"{header_first}:{first_data - 1}")
    with _written(path) as target:
        workbook.save(target)


class _Layout:
    """Where things go: column A the STT, B the label, then one column per document column;
    the widths fitted to what the cells show; the heading's two blocks (issuer left, the
    national heading right), split after the label column."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.count = len(document.columns) + 2
        self.last = _letter(self.count)
        self.letters = {
            column.key: _letter(index) for index, column in enumerate(document.columns, start=3)
        }
        for column in document.columns:
            assert column.ratio is None or set(column.ratio) <= set(self.letters), column
        self.banded = any(column.band for column in document.columns)
        self.decimals = UNIT_DECIMALS[document.unit]
        self.widths = [6.0, self._label_width()] + [
            self._figure_width(column) for column in document.columns
        ]
        # The right block starts after the label, or after the first figure when the figures
        # are many (so the national heading sits over the right half of the page).
        self.right_first = 3 if self.count <= 6 else 4

    def _label_width(self) -> float:
        lang = self.document.lang
        longest = max(
            [len(row.label) + 2 * max(row.level - 1, 0) for row in self.document.rows]
            + [len(LABEL_HEADERS[lang]), *(len(line) for line in issuer_lines(self.document))],
        )
        return float(min(max(longest + 2, 24), 50))

    def _figure_width(self, column: Column) -> float:
        header = column.header(self.document.lang)
        longest_word = max((len(word) for word in header.split()), default=0)
        need = max(longest_word, math.ceil(len(header) / 3))
        for row in self.document.rows:
            need = max(need, len(self.shown(column, row.values.get(column.key))))
        return float(min(max(need + 3, 8), 45))

    def shown(self, column: Column, value: Any) -> str:
        """Roughly what a cell shows, to fit its column's width."""
        if value is None:
            return ""
        if column.kind == "vnd":
            return f"{value / self.document.scale:,.{self.decimals}f}"
        if column.kind == "pct":
            return "100.00%"
        if column.kind == "count":
            return f"{value:,}"
        if column.kind == "flag":
            return "x"
        if isinstance(value, date):
            return "00/00/0000"
        return str(value)


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(index))


def _styles() -> dict[str, Any]:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    thin = Side(style="thin", color="808080")
    return {
        "border": Border(left=thin, right=thin, top=thin, bottom=thin),
        "bold": Font(bold=True),
        "plain": Font(bold=False),
        "group": Font(bold=True, italic=True),
        "title": Font(bold=True, size=13),
        "italic": Font(italic=True),
        "motto": Font(bold=True, underline="single"),
        "center": Alignment(horizontal="center", vertical="center", wrap_text=True),
        "right": Alignment(horizontal="right", vertical="center"),
        "header_fill": PatternFill("solid", fgColor="E7E6E6"),
    }


def _merged(
    sheet: Any, row: int, first: int, last: int, text: str, font: Any, alignment: Any
) -> Any:
    cell = sheet.cell(row=row, column=first)
    _set_text(cell, text)
    cell.font = font
    cell.alignment = alignment
    if last > first:
        sheet.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)
    return cell


def _set_text(cell: Any, text: Any) -> None:
    """Text as a text cell, neutralised: openpyxl would make text that begins with = a formula."""
    cell.value = xlsx_value(text)
    if isinstance(cell.value, str):
        cell.data_type = "s"


def _xlsx_heading(sheet: Any, document: Document, layout: _Layout) -> int:
    """The heading, title, subtitle and unit line; returns the first header row."""
    styles = _styles()
    left_last, right_first = layout.right_first - 1, layout.right_first
    issuer = issuer_lines(document)
    heading = national_heading(document.lang)
    for offset in range(max(len(issuer), 2)):
        row = 1 + offset
        if offset < len(issuer):
            _merged(sheet, row, 1, left_last, issuer[offset], styles["bold"], styles["center"])
        if offset < 2:
            font = styles["bold"] if offset == 0 else styles["motto"]
            _merged(sheet, row, right_first, layout.count, heading[offset], font, styles["center"])
    row = max(len(issuer), 2) + 2
    _merged(sheet, row, 1, layout.count, document.title, styles["title"], styles["center"])
    _fit_height(sheet, row, document.title, sum(layout.widths), points=18)
    row += 1
    if document.subtitle:
        _merged(sheet, row, 1, layout.count, document.subtitle, styles["italic"], styles["center"])
        row += 1
    _merged(sheet, row, 1, layout.count, document.unit_line, styles["italic"], styles["right"])
    return row + 1


def _xlsx_header(sheet: Any, document: Document, layout: _Layout, first: int) -> int:
    """One header row, or two where columns have a band (its cell merged over them, the
    other columns' headers merged down both rows); returns the first data row."""
    styles = _styles()
    last = first + 1 if layout.banded else first
    lang = document.lang
    headers = [STT_HEADERS[lang], LABEL_HEADERS[lang]]
    headers += [column.header(lang) for column in document.columns]
    bands = [None, None] + [column.band_header(lang) for column in document.columns]
    for index, header in enumerate(headers, start=1):
        band = bands[index - 1] if layout.banded else None
        if band is None:
            _header_cell(sheet, first, index, header, styles)
            if last > first:
                _header_cell(sheet, last, index, None, styles)
                sheet.merge_cells(
                    start_row=first, start_column=index, end_row=last, end_column=index
                )
        else:
            _header_cell(sheet, last, index, header, styles)
            starts = index == 1 or bands[index - 2] != band
            if starts:
                span = 1
                while index + span <= len(headers) and bands[index + span - 1] == band:
                    span += 1
                for column in range(index, index + span):
                    _header_cell(sheet, first, column, band if column == index else None, styles)
                if span > 1:
                    sheet.merge_cells(
                        start_row=first,
                        start_column=index,
                        end_row=first,
                        end_column=index + span - 1,
                    )
    for row in range(first, last + 1):
        lines = 1
        for index, width in enumerate(layout.widths, start=1):
            value = sheet.cell(row=row, column=index).value
            if isinstance(value, str) and (row == last or bands[index - 1] is None):
                # Bold header text takes about a fifth more room than the width's characters.
                fits = max(int((width - 1) * 0.8), 1)
                lines = max(lines, len(textwrap.wrap(value, fits)))
        if row == first and last > first:
            lines = max(1, math.ceil(lines / 2))  # a header merged down shares both rows
        sheet.row_dimensions[row].height = 15 * lines + 2
    return last + 1


def _header_cell(
    sheet: Any, row: int, column: int, text: str | None, styles: dict[str, Any]
) -> None:
    cell = sheet.cell(row=row, column=column)
    if text is not None:
        _set_text(cell, text)
    cell.font = styles["bold"]
    cell.alignment = styles["center"]
    cell.border = styles["border"]
    cell.fill = styles["header_fill"]


def _xlsx_rows(sheet: Any, document: Document, layout: _Layout, first: int) -> None:
    from openpyxl.styles import Alignment

    styles = _styles()
    kids = children_indexes(document)
    formats = {column.key: _number_format(column, layout.decimals) for column in document.columns}
    label_width = layout.widths[1]
    for index, row in enumerate(document.rows):
        number = first + index
        font = _row_font(row, styles)
        indent = max(row.level - 1, 0)
        stt = sheet.cell(row=number, column=1)
        _set_text(stt, row.stt)
        stt.alignment = styles["center"]
        label = sheet.cell(row=number, column=2)
        _set_text(label, row.label)
        label.alignment = Alignment(vertical="center", wrap_text=True, indent=indent)
        lines = len(textwrap.wrap(row.label, max(int(label_width) - 2 - 2 * indent, 8)))
        if lines > 1:
            sheet.row_dimensions[number].height = 15 * lines
        child_rows = [first + kid for kid in kids[index]]
        for position, column in enumerate(document.columns, start=3):
            cell = sheet.cell(row=number, column=position)
            _figure_cell(cell, document, layout, column, row, number, child_rows, kids[index])
            if formats[column.key]:
                cell.number_format = formats[column.key]
            if column.kind == "flag":
                cell.alignment = styles["center"]
        for position in range(1, layout.count + 1):
            cell = sheet.cell(row=number, column=position)
            cell.font = font
            cell.border = styles["border"]


def _row_font(row: Row, styles: dict[str, Any]) -> Any:
    if row.kind == "total" or (row.kind == "group" and row.level <= 1):
        return styles["bold"]
    if row.kind == "group":
        return styles["group"]
    return styles["plain"]


def _number_format(column: Column, decimals: int) -> str | None:
    if column.kind == "vnd":
        return "#,##0" + ("." + "0" * decimals if decimals else "")
    if column.kind == "count":
        return "#,##0"
    if column.kind == "pct":
        return "0.00%"
    return None


def _figure_cell(
    cell: Any,
    document: Document,
    layout: _Layout,
    column: Column,
    row: Row,
    number: int,
    child_rows: list[int],
    kid_indexes: list[int],
) -> None:
    """One figure: a rate as a formula of its row's cells; a subtotal or total as the sum of
    its children's cells when they add up to its figure (a figure that is not a sum, such as
    a count of distinct holders, stays the document's value); anything else as it is."""
    value = row.values.get(column.key)
    if column.kind == "pct":
        if column.ratio is not None:
            numerator, denominator = (f"{layout.letters[key]}{number}" for key in column.ratio)
            cell.value = f'=IF({denominator}=0,"",{numerator}/{denominator})'
        elif value is not None:
            cell.value = float(value) / 100
        return
    if column.kind in ("vnd", "count"):
        kids = [document.rows[kid].values.get(column.key) for kid in kid_indexes]
        if value is not None and kids and sum(kid or 0 for kid in kids) == value:
            cell.value = _sum_formula(layout.letters[column.key], child_rows)
        elif value is not None and column.kind == "vnd":
            cell.value = value if document.scale == 1 else value / document.scale
        else:
            cell.value = value
        return
    if column.kind == "flag":
        _set_text(cell, "x" if value else None)
        return
    _set_text(cell, value)
    if isinstance(value, date):
        cell.number_format = "dd/mm/yyyy hh:mm:ss" if isinstance(value, datetime) else "dd/mm/yyyy"


def _sum_formula(letter: str, rows: list[int]) -> str:
    """=SUM over the given rows of one column, runs of neighbouring rows as ranges (C5:C9),
    nested when there are more arguments than Excel takes."""
    assert rows and rows == sorted(rows), rows
    runs: list[str] = []
    start = previous = rows[0]
    for number in [*rows[1:], None]:
        if number is not None and number == previous + 1:
            previous = number
            continue
        runs.append(
            f"{letter}{start}" if start == previous else f"{letter}{start}:{letter}{previous}"
        )
        if number is not None:
            start = previous = number
    while len(runs) > _SUM_ARGUMENTS_MAX:
        chunks = range(0, len(runs), _SUM_ARGUMENTS_MAX)
        runs = [f"SUM({','.join(runs[i : i + _SUM_ARGUMENTS_MAX])})" for i in chunks]
    return f"=SUM({','.join(runs)})"


def _xlsx_footer(sheet: Any, document: Document, layout: _Layout, first: int) -> None:
    """The notes under the table, then the place and date and the two signatures."""
    styles = _styles()
    from openpyxl.styles import Alignment

    note_alignment = Alignment(wrap_text=True, vertical="top")
    row = first
    for note in document.notes:
        _merged(sheet, row, 1, layout.count, note, styles["italic"], note_alignment)
        _fit_height(sheet, row, note, sum(layout.widths), points=15)
        row += 1
    row += 1 if document.notes else 0
    left_last, right_first = layout.right_first - 1, layout.right_first
    signed = signing_text(document)
    _merged(sheet, row, right_first, layout.count, signed, styles["italic"], styles["center"])
    titles = SIGNATURES[document.lang]
    hints = SIGNATURE_HINTS[document.lang]
    _merged(sheet, row + 1, 1, left_last, titles[0], styles["bold"], styles["center"])
    _merged(sheet, row + 1, right_first, layout.count, titles[1], styles["bold"], styles["center"])
    _merged(sheet, row + 2, 1, left_last, hints[0], styles["italic"], styles["center"])
    _merged(sheet, row + 2, right_first, layout.count, hints[1], styles["italic"], styles["center"])


def _fit_height(sheet: Any, row: int, text: str, width: float, points: int) -> None:
    lines = len(textwrap.wrap(text, max(int(width * 0.9), 10)))
    if lines > 1:
        sheet.row_dimensions[row].height = points * lines


def _print_setup(sheet: Any, lang: str, title_rows: str) -> None:
    """Landscape A4, fitted to one page wide and as many tall as it takes, small margins,
    the header rows on every page, and the page number in the footer."""
    from openpyxl.worksheet.page import PageMargins
    from openpyxl.worksheet.properties import PageSetupProperties
    from openpyxl.worksheet.worksheet import Worksheet

    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.page_margins = PageMargins(
        left=0.4, right=0.4, top=0.5, bottom=0.6, header=0.2, footer=0.3
    )
    sheet.print_options.horizontalCentered = True
    sheet.print_title_rows = title_rows
    sheet.oddFooter.center.text = "Page &P of &N" if lang == "en" else "Trang &P/&N"


# ----------------------------------------------------------------- the plain tables' workbook


def write_table_xlsx(
    path: str | Path | IO[bytes],
    rows: Sequence[dict[str, Any]],
    columns: Sequence[tuple[str, str]],
    title: str,
    *,
    advance: Callable[[int], None] | None = None,
) -> None:
    """A plain table (movements, balances, any command's ``--format xlsx``): a bold header
    row, frozen, with a filter; columns as wide as what they show; amounts as whole-đồng
    numbers, rates as percentages, dates as dd/mm/yyyy; text as text cells, neutralised
    (``ledger.interchange.export.xlsx_value``), never a formula. Written row by row
    (openpyxl's write-only mode): an export of 50,000 movements stays in little memory.
    ``advance(n)`` is told of the rows written, a thousand at a time (a progress bar's)."""
    # Into a new file beside the target from the start: a folder that cannot be written
    # fails before openpyxl has begun its rows (see ``_written``).
    with _written(path) as target:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell

        styles = _styles()
        shaped = [[_table_value(name, row.get(name)) for name, _ in columns] for row in rows]
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(sheet_title(title))
        for index, (_, header) in enumerate(columns, start=1):
            lengths = [len(header)] + [_table_shown(line[index - 1]) for line in shaped]
            sheet.column_dimensions[_letter(index)].width = float(min(max(lengths) + 2, 60))
        last = _letter(max(len(columns), 1))
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = f"A1:{last}{len(shaped) + 1}"
        _print_setup(sheet, "vi", "1:1")
        header_cells = []
        for _, header in columns:
            cell = WriteOnlyCell(sheet, value=xlsx_value(header))
            cell.data_type = "s"
            cell.font = styles["bold"]
            cell.alignment = styles["center"]
            header_cells.append(cell)
        sheet.append(header_cells)
        formats = [_table_format(name) for name, _ in columns]
        for number, line in enumerate(shaped, start=1):
            cells = []
            for value, number_format in zip(line, formats, strict=True):
                cell = WriteOnlyCell(sheet, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"
                elif isinstance(value, datetime):
                    cell.number_format = "dd/mm/yyyy hh:mm:ss"
                elif isinstance(value, date):
                    cell.number_format = "dd/mm/yyyy"
                elif number_format and isinstance(value, (int, float)):
                    cell.number_format = number_format
                cells.append(cell)
            sheet.append(cells)
            if advance is not None and number % 1000 == 0:
                advance(1000)
        if advance is not None:
            advance(len(shaped) % 1000)
        workbook.save(target)


def _table_value(name: str, value: Any) -> Any:
    shaped = xlsx_value(value)
    if name.endswith("_pct") and isinstance(shaped, (int, float)) and not isinstance(shaped, bool):
        return shaped / 100
    return shaped


def _table_format(name: str) -> str | None:
    if name.endswith("_vnd"):
        return "#,##0"
    if name.endswith("_pct"):
        return "0.00%"
    return None


def _table_shown(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 19
    if isinstance(value, date):
        return 10
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return len(f"{value:,}")
    if isinstance(value, float):
        return len(f"{value:,.2f}") + 1
    return max((len(line) for line in str(value).splitlines()), default=0)
