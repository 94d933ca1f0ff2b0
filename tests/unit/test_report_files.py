"""The report's files, rendered from a document built by hand (tests/report_sample.py): the
workbook's cells, formulas, formats and print setup read back with openpyxl; the PDF's pages
drawn to images and read back as text with pypdfium2; both CSV dialects read back."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from typing import Any

import pypdfium2
import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from ledger.interchange.document import Column, Document, Row
from ledger.interchange.report_files import (
    csv_text,
    sheet_title,
    write_pdf,
    write_table_xlsx,
    write_xlsx,
)
from tests.report_sample import COLUMNS, LONG_NAME, TOTAL, sample_document

# Where the sample lands in the sheet: heading rows 1-2, title 4, subtitle 5, unit 6, the
# banded header 7-8, the rows from 9 (A: STT, B: label, C..I: the document's columns).
HEADER_ROWS = (7, 8)
FIRST_ROW = 9
LETTERS = {column.key: "CDEFGHI"[index] for index, column in enumerate(COLUMNS)}


def workbook(document: Document) -> Worksheet:
    buffer = io.BytesIO()
    write_xlsx(document, buffer)
    buffer.seek(0)
    sheet = load_workbook(buffer).active
    assert isinstance(sheet, Worksheet)
    return sheet


def evaluate(sheet: Worksheet, reference: str) -> Any:
    """A cell's value, its formula computed the way a spreadsheet would: the workbook holds
    only SUM and IF(den=0,"",num/den), so this small reader is enough."""
    value = sheet[reference].value
    if isinstance(value, str) and value.startswith("="):
        return _formula(sheet, value[1:])
    return value


def _formula(sheet: Worksheet, text: str) -> Any:
    rate = re.fullmatch(r'IF\(([A-Z]+\d+)=0,"",([A-Z]+\d+)/([A-Z]+\d+)\)', text)
    if rate:
        denominator = evaluate(sheet, rate.group(1)) or 0
        return "" if denominator == 0 else (evaluate(sheet, rate.group(2)) or 0) / denominator
    inner = re.fullmatch(r"SUM\((.*)\)", text)
    assert inner, text
    return sum(_argument(sheet, argument) for argument in _arguments(inner.group(1)))


def _arguments(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    return [*parts, text[start:]]


def _argument(sheet: Worksheet, argument: str) -> Any:
    if argument.startswith("SUM("):
        return _formula(sheet, argument)
    if ":" in argument:
        return sum(evaluate(sheet, cell.coordinate) or 0 for row in sheet[argument] for cell in row)
    return evaluate(sheet, argument) or 0


def referenced_rows(formula: str) -> set[int]:
    """The rows a SUM formula reads, ranges expanded."""
    rows: set[int] = set()
    for first, last in re.findall(r"[A-Z]+(\d+)(?::[A-Z]+(\d+))?", formula):
        rows.update(range(int(first), int(last or first) + 1))
    return rows


def test_the_workbook_opens_with_the_heading_title_and_unit() -> None:
    sheet = workbook(sample_document())
    assert sheet["A1"].value == "UBND TỈNH QUẢNG NAM" and sheet["A2"].value == "SỞ TÀI CHÍNH"
    assert sheet["D1"].value == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert sheet["D2"].value == "Độc lập - Tự do - Hạnh phúc"
    for cell in ("A1", "A2", "D1", "D2"):
        assert sheet[cell].font.b and sheet[cell].alignment.horizontal == "center"
    merged = {str(cells) for cells in sheet.merged_cells.ranges}
    assert {"A1:C1", "D1:I1", "D2:I2", "A4:I4", "A6:I6"} <= merged
    title = "Tình hình giải ngân vốn các chương trình mục tiêu quốc gia năm 2024"
    assert sheet["A4"].value == title and sheet["A4"].font.b
    assert sheet["A5"].value == "Số liệu đến ngày 17/9/2024"
    assert sheet["A6"].value == "Đơn vị tính: triệu đồng"
    assert sheet["A6"].alignment.horizontal == "right"
    assert sheet.title == "Tình hình giải ngân 17-09-2024"


def test_the_header_has_its_bands_merged_above_the_columns() -> None:
    sheet = workbook(sample_document())
    band, header = HEADER_ROWS
    assert [sheet.cell(band, column).value for column in range(1, 10)] == [
        "STT", "Nội dung", "Kế hoạch vốn năm 2024", None, "Giải ngân lũy kế",
        "Tỷ lệ giải ngân", None, "Đơn vị đã phân bổ hết", "Thấp hơn bình quân",
    ]  # fmt: skip
    assert [sheet.cell(header, column).value for column in (3, 4, 6, 7)] == [
        "NSTW", "NSTW + NSĐP", "Tỷ lệ so với KH NSTW", "Tỷ lệ so với KH giao",
    ]  # fmt: skip
    merged = {str(cells) for cells in sheet.merged_cells.ranges}
    assert {"A7:A8", "B7:B8", "C7:D7", "E7:E8", "F7:G7", "H7:H8", "I7:I8"} <= merged
    tops = [*(f"{letter}7" for letter in "ABCEFHI"), *(f"{letter}8" for letter in "CDFG")]
    assert all(sheet[cell].font.b and sheet[cell].alignment.wrap_text for cell in tops)


def test_one_header_row_where_no_column_has_a_band() -> None:
    document = sample_document()
    plain = [Column(c.key, c.vi, c.en, c.kind, ratio=c.ratio) for c in document.columns]
    sheet = workbook(Document(**{**document.__dict__, "columns": plain}))
    assert sheet["A7"].value == "STT" and sheet["C7"].value == "NSTW"
    assert sheet["B8"].value == "Tổng cộng"
    assert sheet.freeze_panes == "C8" and sheet.print_title_rows == "$7:$7"
    assert evaluate(sheet, "C8") == pytest.approx(TOTAL["plan_central_vnd"] / 10**6)


def test_rows_carry_stt_labels_and_figures_in_the_unit() -> None:
    document = sample_document()
    sheet = workbook(document)
    for index, row in enumerate(document.rows):
        number = FIRST_ROW + index
        assert (sheet.cell(number, 1).value or "") == row.stt
        for column in COLUMNS:
            value = row.values[column.key]
            shown = evaluate(sheet, f"{LETTERS[column.key]}{number}")
            if column.kind == "vnd":
                assert shown == pytest.approx(value / 10**6, abs=1e-9), (number, column.key)
            elif column.kind == "pct":
                assert shown == ("" if value is None else pytest.approx(value / 100, abs=5e-5))
            elif column.kind == "count":
                assert shown == value
            else:
                assert shown == ("x" if value else None)
    labels = [sheet.cell(FIRST_ROW + index, 2).value for index in range(len(document.rows))]
    assert labels[:4] == [
        "Tổng cộng", "GNBV - Giảm nghèo bền vững", "DA1 - Hỗ trợ đầu tư phát triển hạ tầng",
        "505 - Huyện Đông Giang",
    ]  # fmt: skip
    assert labels[4] == f"506 - {LONG_NAME}"


def test_subtotals_and_the_total_are_sums_of_their_children() -> None:
    document = sample_document()
    sheet = workbook(document)
    for index, row in enumerate(document.rows):
        number = FIRST_ROW + index
        children = {FIRST_ROW + document.rows.index(child) for child in document.children(row)}
        for key in ("plan_central_vnd", "plan_vnd", "disbursed_vnd", "allocated_count"):
            cell = sheet[f"{LETTERS[key]}{number}"]
            if row.kind == "detail":
                assert not str(cell.value).startswith("="), cell.coordinate
            else:
                assert cell.data_type == "f" and cell.value.startswith("=SUM(")
                assert referenced_rows(cell.value) == children, (cell.coordinate, cell.value)
    # The total sums the programs only (rows 10 and 16), not their components and holders.
    assert sheet["C9"].value == "=SUM(C10,C16)"
    assert sheet["C11"].value == "=SUM(C12:C13)"


def test_every_rate_is_a_formula_of_its_row_and_blank_on_a_zero_plan() -> None:
    document = sample_document()
    sheet = workbook(document)
    for index in range(len(document.rows)):
        number = FIRST_ROW + index
        assert sheet[f"F{number}"].value == f'=IF(C{number}=0,"",E{number}/C{number})'
        assert sheet[f"G{number}"].value == f'=IF(D{number}=0,"",E{number}/D{number})'
    zero = FIRST_ROW + len(document.rows) - 1
    assert evaluate(sheet, f"C{zero}") == 0 and evaluate(sheet, f"F{zero}") == ""
    assert evaluate(sheet, "G9") == pytest.approx(TOTAL["disbursed_vnd"] / TOTAL["plan_vnd"])


def test_a_figure_that_is_not_the_sum_of_its_children_stays_the_documents() -> None:
    """A count of distinct holders (one holder in two programs counts once in the total):
    the workbook keeps the document's figure rather than a sum that would say otherwise."""
    document = sample_document()
    total = document.rows[0]
    rows = [Row(total.kind, total.path, total.stt, total.code, total.name,
                {**total.values, "allocated_count": 2}), *document.rows[1:]]  # fmt: skip
    sheet = workbook(Document(**{**document.__dict__, "rows": rows}))
    assert sheet["H9"].value == 2
    assert sheet["C9"].value == "=SUM(C10,C16)"


@pytest.mark.parametrize(
    ("unit", "amount_format", "scale"),
    [("dong", "#,##0", 1), ("trieu", "#,##0", 10**6), ("ty", "#,##0.000", 10**9)],
)
def test_amounts_are_scaled_and_formatted_for_the_unit(
    unit: str, amount_format: str, scale: int
) -> None:
    sheet = workbook(sample_document(unit=unit))
    detail = FIRST_ROW + 3
    assert sheet[f"C{detail}"].value == pytest.approx(60_123_456_789 / scale)
    if scale == 1:
        assert isinstance(sheet[f"C{detail}"].value, int)
    for letter in "CDE":
        assert sheet[f"{letter}{detail}"].number_format == amount_format
        assert sheet[f"{letter}{FIRST_ROW}"].number_format == amount_format
    assert sheet[f"F{detail}"].number_format == "0.00%"
    assert sheet[f"H{detail}"].number_format == "#,##0"


def test_totals_and_groups_are_bold_and_details_indented() -> None:
    document = sample_document()
    sheet = workbook(document)
    for index, row in enumerate(document.rows):
        number = FIRST_ROW + index
        label = sheet.cell(number, 2)
        assert label.font.b == (row.kind != "detail"), number
        assert sheet.cell(number, 3).font.b == (row.kind != "detail"), number
        assert label.alignment.indent == max(row.level - 1, 0)
        assert label.alignment.wrap_text


def test_the_header_is_frozen_and_filtered_and_the_page_set_up() -> None:
    sheet = workbook(sample_document())
    last = FIRST_ROW + len(sample_document().rows) - 1
    assert sheet.freeze_panes == f"C{FIRST_ROW}"
    assert sheet.auto_filter.ref == f"A8:I{last}"
    setup = sheet.page_setup
    assert setup.orientation == "landscape" and setup.paperSize == 9  # A4
    assert (setup.fitToWidth, setup.fitToHeight) == (1, 0)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$7:$8"
    assert sheet.page_margins.left <= 0.5 and sheet.page_margins.right <= 0.5
    assert "&P" in sheet.oddFooter.center.text and "&N" in sheet.oddFooter.center.text


def test_columns_are_as_wide_as_what_they_show() -> None:
    sheet = workbook(sample_document(unit="dong"))
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCDEFGHI"}
    assert widths["B"] >= 40  # the names, wrapping beyond
    assert all(widths[letter] >= len("223,173,456,789") for letter in "CDE")
    assert all(widths[letter] <= 20 for letter in "CDEFGHI"), widths


def test_notes_then_place_date_and_signatures_follow_the_table() -> None:
    sheet = workbook(sample_document())
    texts = {cell.coordinate: cell.value for row in sheet.iter_rows(min_row=19) for cell in row
             if cell.value}  # fmt: skip
    assert texts == {
        "A20": "Số liệu giải ngân theo xác nhận của Kho bạc Nhà nước tỉnh.",
        "D22": "Quảng Nam, ngày 18 tháng 9 năm 2024",
        "A23": "NGƯỜI LẬP BIỂU",
        "D23": "THỦ TRƯỞNG ĐƠN VỊ",
        "A24": "(Ký, ghi rõ họ tên)",
        "D24": "(Ký tên, đóng dấu)",
    }
    assert sheet["A23"].font.b and sheet["D23"].font.b


def test_text_in_the_workbook_never_becomes_a_formula() -> None:
    """The only formulas are the workbook's own sums and rates: a name that begins with =
    is text, shown with the apostrophe of the export rule."""
    document = sample_document()
    sheet = workbook(document)
    label = sheet.cell(FIRST_ROW + len(document.rows) - 1, 2)
    assert label.value == '\'=HYPERLINK("x")' and label.data_type == "s"
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                assert re.fullmatch(r"=(SUM|IF)\(.*\)", cell.value), cell.coordinate
                assert cell.column >= 3 and FIRST_ROW <= cell.row, cell.coordinate


def test_english_words_with_lang_en() -> None:
    sheet = workbook(sample_document(lang="en"))
    assert sheet["A1"].value == "UBND tỉnh Quảng Nam"
    assert sheet["D1"].value == "SOCIALIST REPUBLIC OF VIETNAM"
    assert sheet["A6"].value == "Unit: million dong"
    assert [sheet["A7"].value, sheet["B7"].value, sheet["C7"].value, sheet["C8"].value] == [
        "No.", "Item", "2024 plan", "Central",
    ]  # fmt: skip
    assert sheet["A23"].value == "PREPARED BY" and sheet["D23"].value == "HEAD OF UNIT"


def test_an_unsigned_document_leaves_the_date_for_the_pen() -> None:
    document = Document(**{**sample_document().__dict__, "signed_on": None})
    assert workbook(document)["D22"].value == "Quảng Nam, ngày ... tháng ... năm ..."


@pytest.mark.parametrize(
    ("text", "day", "expected"),
    [
        ("Tình hình giải ngân vốn các chương trình", date(2024, 9, 17),
         "Tình hình giải ngân 17-09-2024"),
        ("Disbursement of the national target programs", None,
         "Disbursement of the national"),
        ("Số dư", None, "Số dư"),
        ("Balances [2024/2025]: all", None, "Balances -2024-2025-- all"),
        ("Supercalifragilisticexpialidocious-and-more", None, "Supercalifragilisticexpialidoci"),
    ],
    ids=["with-date", "words", "short", "forbidden", "one-long-word"],
)  # fmt: skip
def test_sheet_names_are_cut_between_words(text: str, day: date | None, expected: str) -> None:
    assert sheet_title(text, day) == expected
    assert len(expected) <= 31


def pdf_pages(document: Document) -> pypdfium2.PdfDocument:
    buffer = io.BytesIO()
    write_pdf(document, buffer)
    return pypdfium2.PdfDocument(buffer.getvalue())


def page_text(page: pypdfium2.PdfPage) -> str:
    """The page's text, its lines (wrapped cells among them) joined by single spaces."""
    return " ".join(str(page.get_textpage().get_text_range()).split())


def ink(image: Any, box: tuple[int, int, int, int]) -> float:
    """The share of dark pixels in a box of a page's image."""
    histogram = image.crop(box).convert("L").histogram()
    return sum(histogram[:128]) / sum(histogram)


def test_the_pdf_is_a_landscape_page_with_the_heading_table_and_signatures() -> None:
    pdf = pdf_pages(sample_document())
    assert len(pdf) == 1
    page = pdf[0]
    width, height = page.get_size()
    assert width > height and round(width) == 842  # A4 landscape, in points
    image = page.render(scale=1).to_pil()
    assert ink(image, (0, 0, image.width, image.height)) > 0.01  # not blank
    assert ink(image, (40, 200, 800, 470)) > 0.02  # the table's region has ink
    assert ink(image, (image.width - 20, 0, image.width, image.height)) == 0  # fits the width
    text = page_text(page)
    for expected in [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "UBND TỈNH QUẢNG NAM",
        "Tình hình giải ngân vốn các chương trình mục tiêu quốc gia năm 2024",
        "Đơn vị tính: triệu đồng",
        "205.623",  # the total plan, in triệu, the Vietnamese way
        "58,98%",
        "NGƯỜI LẬP BIỂU",
        "(Ký tên, đóng dấu)",
        "Trang 1/1",
    ]:
        assert expected in text, expected


def test_an_english_pdf_writes_figures_the_english_way() -> None:
    text = page_text(pdf_pages(sample_document(lang="en"))[0])
    for expected in [
        "SOCIALIST REPUBLIC OF VIETNAM",
        "Unit: million dong",
        "205,623",
        "58.98%",
        "PREPARED BY",
        "Page 1/1",
    ]:
        assert expected in text, expected


def test_a_long_pdf_repeats_the_header_on_every_page() -> None:
    document = sample_document()
    details = [
        Row("detail", ("NTM", f"{600 + n}"), str(n), f"{600 + n}", f"Xã số {n}",
            {column.key: None for column in COLUMNS} | {"plan_vnd": 10**9 * n})
        for n in range(1, 90)
    ]  # fmt: skip
    pdf = pdf_pages(Document(**{**document.__dict__, "rows": document.rows + details}))
    assert len(pdf) >= 3
    for index in range(len(pdf)):
        text = page_text(pdf[index])
        assert "Kế hoạch vốn năm 2024" in text and "NSTW + NSĐP" in text, index
        assert f"Trang {index + 1}/{len(pdf)}" in text


def test_a_wide_table_still_fits_the_page_width() -> None:
    columns = [Column(f"c{n}_vnd", f"Cột số {n}", f"Column {n}", "vnd") for n in range(22)]
    rows = [
        Row("total", (), "", None, "Tổng cộng", {c.key: 123_456_789_012_345 for c in columns}),
        Row("detail", ("1",), "1", "1", LONG_NAME, {c.key: 123_456_789_012_345 for c in columns}),
    ]
    document = Document(
        **{**sample_document(unit="dong").__dict__, "columns": columns, "rows": rows}
    )
    page = pdf_pages(document)[0]
    image = page.render(scale=1).to_pil()
    assert ink(image, (image.width - 20, 0, image.width, image.height)) == 0
    text = page_text(page)
    assert "Cột số 21" in text and text.count("123.456.789.012.345") == 2 * len(columns)


def read_csv(text: str, delimiter: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


def test_both_csv_dialects_read_back_to_the_same_figures() -> None:
    document = sample_document()
    standard = read_csv(csv_text(document, "standard"), ",")
    vn = read_csv(csv_text(document, "vn"), ";")
    assert len(standard) == len(vn) == len(document.rows)
    for row, plain, local in zip(document.rows, standard, vn, strict=True):
        assert plain["STT"] == local["STT"] == row.stt
        assert plain["Mã"] == (row.code or "") and plain["Loại dòng"] == local["Loại dòng"]
        for column in COLUMNS:
            value = row.values[column.key]
            header = column.vi + {"vnd": " (đồng)", "pct": " (%)"}.get(column.kind, "")
            if column.kind in ("vnd", "count"):
                assert int(plain[header]) == int(local[header]) == value  # whole đồng
            elif column.kind == "pct":
                if value is None:
                    assert plain[header] == local[header] == ""
                else:
                    assert float(plain[header]) == float(local[header].replace(",", ".")) == value
                    assert "," in local[header] and "." in plain[header]
            else:
                assert plain[header] == local[header] == ("x" if value else "")
    assert [row["Loại dòng"] for row in standard[:4]] == ["tổng cộng", "nhóm", "nhóm", "chi tiết"]
    assert standard[-1]["Tên"] == '\'=HYPERLINK("x")'  # neutralised
    assert standard[0]["Tên"] == "Tổng cộng"


def test_csv_headers_in_english_and_dates_in_each_dialect() -> None:
    columns = [Column("deadline", "Hạn giải ngân", "Deadline", "text")]
    rows = [Row("detail", ("1",), "1", "1", "x", {"deadline": date(2024, 12, 31)})]
    document = Document(**{**sample_document(lang="en").__dict__, "columns": columns, "rows": rows})
    assert csv_text(document, "standard").splitlines() == [
        "No.,Row kind,Code,Name,Deadline",
        "1,detail,1,x,2024-12-31",
    ]
    assert csv_text(document, "vn").splitlines()[1] == "1;detail;1;x;31/12/2024"


def table(rows: list[dict[str, Any]], columns: list[tuple[str, str]], title: str) -> Worksheet:
    buffer = io.BytesIO()
    write_table_xlsx(buffer, rows, columns, title)
    buffer.seek(0)
    sheet = load_workbook(buffer).active
    assert isinstance(sheet, Worksheet)
    return sheet


def test_a_plain_table_has_a_frozen_filtered_header_and_fitted_columns() -> None:
    columns = [
        ("effective_date", "Ngày hiệu lực"),
        ("recorded_at", "Thời điểm ghi sổ"),
        ("holder_name", "Tên đơn vị"),
        ("amount_vnd", "Số tiền (đồng)"),
        ("rate_pct", "Tỷ lệ (%)"),
        ("note", "Ghi chú"),
    ]
    rows = [
        {"effective_date": date(2024, 9, 7), "recorded_at": datetime(2024, 9, 7, 8, 30),
         "holder_name": LONG_NAME, "amount_vnd": 1_250_000_000, "rate_pct": 53.94,
         "note": "=1+1"},
        {"effective_date": date(2024, 9, 8), "holder_name": "Xã A", "amount_vnd": -5},
    ]  # fmt: skip
    sheet = table(rows, columns, "Nghiệp vụ của các đơn vị trong tỉnh Quảng Nam năm 2024")
    assert sheet.title == "Nghiệp vụ của các đơn vị trong"
    assert [cell.value for cell in sheet[1]] == [header for _, header in columns]
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:F3"
    assert sheet["A2"].number_format == "dd/mm/yyyy"
    assert sheet["B2"].number_format == "dd/mm/yyyy hh:mm:ss"
    assert sheet["D2"].value == 1_250_000_000 and sheet["D2"].number_format == "#,##0"
    assert sheet["D3"].value == -5
    assert sheet["E2"].value == pytest.approx(0.5394) and sheet["E2"].number_format == "0.00%"
    assert sheet["F2"].value == "'=1+1" and sheet["F2"].data_type == "s"
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCDEF"}
    assert widths["C"] == 60  # names as wide as the longest, up to 60
    assert widths["D"] < 20 and widths["A"] < 20  # numbers and dates as wide as they show
    assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows == "$1:$1"
