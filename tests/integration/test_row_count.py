"""The rows an import file holds, counted before it is read, for the import's progress bar:
the count matches the rows the importer then reads, and a file that cannot be counted gives
None rather than an error (the import itself refuses it, with its own message)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from ledger.interchange.importer import COLUMNS, read_rows
from ledger.interchange.row_count import count_rows

ROW = ["disburse", "", "2024-03-01", "GNBV", "DTPT", "NSTW", "2024", "", "505", "", "1000"]


def test_a_csv_counts_its_lines_less_the_header(tmp_path: Path) -> None:
    lines = [",".join(COLUMNS[:11])] + [",".join(ROW)] * 2500
    ended = tmp_path / "ended.csv"
    ended.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    unended = tmp_path / "unended.csv"
    unended.write_text("\n".join(lines), encoding="utf-8")
    header_only = tmp_path / "header.csv"
    header_only.write_text(lines[0], encoding="utf-8")
    assert count_rows(ended) == count_rows(unended) == 2500 == len(list(read_rows(ended)))
    assert count_rows(header_only) == 0


def test_an_xlsx_counts_the_rows_of_its_first_sheet_or_the_one_named(tmp_path: Path) -> None:
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    first.append(list(COLUMNS[:11]))
    for number in range(3000):
        first.append([*ROW[:10], str(1000 + number)])
    other = workbook.create_sheet("other")
    for _ in range(4):
        other.append(["x"])
    path = tmp_path / "movements.xlsx"
    workbook.save(path)
    assert count_rows(path) == 3000 == len(list(read_rows(path)))
    assert count_rows(path, sheet="other") == 3
    assert count_rows(path, sheet="missing") is None
    # Small reads cut row tags between chunks: each is still counted once.
    for read_bytes in (5, 6, 7, 997):
        assert count_rows(path, read_bytes=read_bytes) == 3000


def test_an_xlsx_whose_rows_carry_a_namespace_prefix_is_counted(tmp_path: Path) -> None:
    path = tmp_path / "prefixed.xlsx"
    Workbook().save(path)
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    rows = "".join(f'<x:row r="{n}"><x:c r="A{n}"/></x:row>' for n in range(1, 8))
    parts["xl/worksheets/sheet1.xml"] = (
        '<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<x:sheetData>{rows}</x:sheetData></x:worksheet>"
    ).encode()
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)
    assert count_rows(path) == count_rows(path, read_bytes=7) == 6


@pytest.mark.parametrize(
    "name, content",
    [("broken.xlsx", b"PK\x03\x04 not really a zip"), ("notes.txt", b"a,b\n1,2\n")],
)
def test_a_file_that_cannot_be_counted_gives_none(
    tmp_path: Path, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert count_rows(path) is None
    assert count_rows(tmp_path / "missing.csv") is None
