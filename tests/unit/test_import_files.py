"""The xlsx part scan (ledger/interchange/import_files.py) on parts built in memory: what
openpyxl would
hold is counted as the part streams by, and the first bound passed is named."""

from __future__ import annotations

import io

import pytest

from ledger.interchange import import_files
from ledger.interchange.import_files import _column, _xml_problem

MAIN = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def sheet(rows: bytes) -> io.BytesIO:
    return io.BytesIO(b"<x:worksheet xmlns:x=" + MAIN[6:] + b"><x:sheetData>" + rows
                      + b"</x:sheetData></x:worksheet>")  # fmt: skip


def test_a_sheet_as_excel_writes_it_passes() -> None:
    rows = b"".join(
        b'<x:row r="%d"><x:c r="A%d" t="s"><x:v>%d</x:v></x:c><x:c r="XFD%d"><x:v>1</x:v></x:c>'
        b"</x:row>" % (n, n, n, n)
        for n in range(1, 2000)
    )
    assert _xml_problem(sheet(rows)) is None


@pytest.mark.parametrize(
    "rows, says",
    [
        (b"<x:row>" + b"<x:c><x:v>1</x:v></x:c>" * 16_385 + b"</x:row>", "16,384 columns"),
        (b'<x:row><x:c r="XFE1"><x:v>1</x:v></x:c></x:row>', "16,384 columns"),
        (b'<x:row><x:c r="AAAA1"><x:v>1</x:v></x:c></x:row>', "16,384 columns"),
        (b'<x:row r="1048577"/>', "1,048,576 rows"),
        (b"<x:row><x:c><x:v>" + b"9" * 32_768 + b"</x:v></x:c></x:row>", "32,767 characters"),
        (b"<x:row>" + b"<x:c><x:v>1</x:v><x:v>2</x:v></x:c>" * 16_000 + b"</x:row>", None),
        (
            b"<x:row>"
            + (b'<x:c s="1"><x:is><x:t>' + b"y" * 30_000 + b"</x:t></x:is></x:c>") * 80
            + b"</x:row>",
            "a row of more than 2 MB",
        ),  # fmt: skip
        (b"<x:cols>" + b"<x:col/>" * 100_001 + b"</x:cols>", "100,000 elements outside rows"),
        (b'<x:row><x:c r="A' + b"1" * (2**20 + 2**17) + b'"/></x:row>', "without the end of a tag"),
        (b"<x:row><x:c>", "not well-formed XML"),
    ],
)
def test_what_openpyxl_would_hold_is_bounded(rows: bytes, says: str | None) -> None:
    problem = _xml_problem(sheet(rows))
    if says is None:
        assert problem is None
    else:
        assert problem is not None and says in problem, problem


def test_shared_strings_are_counted_and_their_text_held(monkeypatch: pytest.MonkeyPatch) -> None:
    text = b"<si><t>" + b"z" * 30_000 + b"</t></si>"
    strings = b"<sst " + MAIN + b">" + text * 600 + b"</sst>"
    assert _xml_problem(io.BytesIO(strings)) == (
        f"more than {import_files.XLSX_HELD_CHARS_MAX:,} characters outside rows"
    )
    monkeypatch.setitem(import_files._RECORDS, "si", 1000)
    many = b"<sst " + MAIN + b">" + b"<si><t>a</t></si>" * 1001 + b"</sst>"
    assert _xml_problem(io.BytesIO(many)) == "more than 1,000 shared strings"


def test_no_document_type_and_so_no_entities() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]><x>&a;&a;</x>'
    assert "document type" in (_xml_problem(io.BytesIO(bomb)) or "")


def test_column_numbers() -> None:
    assert [_column(r) for r in ("A1", "Z9", "AA1", "XFD1048576", "", "12")] == [
        1, 26, 27, 16_384, 0, 0,
    ]  # fmt: skip
