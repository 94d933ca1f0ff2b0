"""Import files as offices write them: every encoding Excel and other tools save a CSV in is
read or refused in one line, and no file, however built, makes an import hold more than
500 MB of memory (the xlsx and CSV bombs run in a child process whose peak RSS is read)."""

from __future__ import annotations

import csv
import io
import os
import random
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.application import open_ledger
from ledger.interchange.importer import COLUMNS
from tests.e2e.cli_story import Cli

DECISION = "QĐ 1204/QĐ-UBND huyện Đông Giang"
NOTE = "Bổ sung kế hoạch vốn, xác nhận KBNN tháng 6: Nguyễn Thị Hường ký"
TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"
RSS_MAX_MB = 500


@pytest.fixture
def cli(database: str) -> Cli:
    """Quảng Nam (49) with 1 tỷ to give its district Đông Giang (505)."""
    cli = Cli(database).init()
    cli.unit("TW", "Trung ương", "central")
    cli.unit("49", "Tỉnh Quảng Nam", "province", parent="TW")
    cli.unit("505", "Huyện Đông Giang", "district", parent="49")
    cli.adjust("49", 1_000_000_000, decision="QĐ 1", date="2024-01-02")
    return cli


def head(database: str) -> int:
    ledger = open_ledger(database)
    try:
        return ledger.head_position()
    finally:
        ledger.close()


def table() -> str:
    """An allocation decision and a payment, in Vietnamese, as CSV text."""
    cells = [
        {
            "action": "allocate", "effective_date": "2024-06-20", "holder": "49",
            "to_holder": "505", "amount_vnd": "5.000.000", "decision": DECISION, "note": NOTE,
        },
        {
            "effective_date": "2024-06-28", "holder": "505", "amount_vnd": "1.000.000",
            "voucher": "KB 0204 Đông Giang", "note": NOTE,
        },
    ]  # fmt: skip
    line = {"program": "GNBV", "kind": "DTPT", "source": "NSTW", "year": "2024"}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in cells:
        writer.writerow([{**line, **row}.get(name, "") for name in COLUMNS])
    return buffer.getvalue()


def windows_1258(text: str) -> bytes:
    """Text as Excel on a Vietnamese Windows saves it: letters with circumflex, breve or horn
    precomposed, tone marks as combining characters after them."""
    out = []
    for char in text:
        try:
            out.append(char.encode("cp1258"))
        except UnicodeEncodeError:
            marks = unicodedata.normalize("NFD", char)
            base = unicodedata.normalize("NFC", "".join(m for m in marks if m not in TONE_MARKS))
            tones = "".join(m for m in marks if m in TONE_MARKS)
            out.append((base + tones).encode("cp1258"))
    return b"".join(out)


def entries(cli: Cli) -> list[dict[str, object]]:
    return cli.history()


def latin_1(text: str) -> bytes:
    plain = text.replace(DECISION, "QD 7").replace("Đông Giang", "Dong Giang")
    return plain.encode("latin-1")


ENCODINGS = {
    "utf-8": lambda text: text.encode("utf-8"),
    "utf-8 with BOM": lambda text: text.encode("utf-8-sig"),
    "utf-16 LE with BOM": lambda text: text.encode("utf-16"),  # little-endian, as Windows
    "utf-16 BE with BOM": lambda text: b"\xfe\xff" + text.encode("utf-16-be"),
    "utf-32 with BOM": lambda text: text.encode("utf-32"),
    "windows-1258": windows_1258,
}


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_each_encoding_reads_as_the_same_movements(cli: Cli, tmp_path: Path, encoding: str) -> None:
    data = ENCODINGS[encoding](table())
    if encoding == "windows-1258":
        assert "\u0323".encode("cp1258") in data  # the tone marks really are combining
    path = tmp_path / "kbnn.csv"
    path.write_bytes(data)
    result = cli.run("import", str(path))
    assert "2 recorded" in result.output
    rows = entries(cli)
    assert {row["reference"] for row in rows} >= {DECISION, "KB 0204 Đông Giang"}
    assert {row.get("note") for row in rows} >= {NOTE}
    found = cli.history(decision=DECISION)
    assert len(found) == 2  # both lines of the allocation
    # The same file saved as UTF-8 is the same movements: nothing new is recorded.
    utf8 = tmp_path / "kbnn-utf8.csv"
    utf8.write_text(table(), encoding="utf-8")
    again = cli.run("import", str(utf8))
    assert "nothing new was recorded" in again.output, again.output


def test_latin_1_is_read_where_windows_1258_agrees_and_refused_where_it_cannot(
    cli: Cli, tmp_path: Path
) -> None:
    database = cli.database
    shared = tmp_path / "tai-chinh.csv"
    # Latin-1 cannot hold Vietnamese; these letters are the same bytes in both code pages.
    shared.write_bytes(latin_1(table().replace(NOTE, "Tài chính")))
    cli.run("import", str(shared))
    assert {row.get("note") for row in entries(cli)} >= {"Tài chính"}
    before = head(database)
    foreign = tmp_path / "thorshofn.csv"
    # Þ is a combining tilde in Windows-1258: a tone mark on no vowel is not Vietnamese.
    foreign.write_bytes(latin_1(table().replace(NOTE, "Þórshöfn")))
    refused = cli.run("import", str(foreign), expect=1)
    message = refused.output.strip()
    assert "\n" not in message and "Traceback" not in message
    assert "thorshofn.csv" in message and "UTF-8" in message
    assert head(database) == before


@pytest.mark.parametrize(
    "data, says",
    [
        (table().encode("utf-16-le"), "UTF-16 without a byte-order mark"),
        (b"\xff\xfe" + table().encode("utf-16-le")[:-1], "UTF-16"),  # an odd byte at the end
        (table().encode("utf-8") + b"\x81\x8d\x9d", "UTF-8"),  # bytes Windows-1258 lacks
        (b"\x00\x01\x02" * 1000, "NUL"),
    ],
)
def test_an_unreadable_encoding_is_refused_in_one_line(
    cli: Cli, tmp_path: Path, data: bytes, says: str
) -> None:
    database = cli.database
    before = head(database)
    path = tmp_path / "kbnn.csv"
    path.write_bytes(data)
    result = cli.run("import", str(path), expect=1)
    message = result.output.strip()
    assert "\n" not in message and "Traceback" not in message, message
    assert "kbnn.csv" in message and says in message and "save it as" in message, message
    assert head(database) == before


# The bombs: each imported by the real command in a child process, whose peak memory is read.

WORKBOOK_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
        '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
        '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.'
        'org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships"><sheets><sheet name="KBNN" sheetId="1" '
        'r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        'Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}
SHEET_START = (
    b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
    b'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
    b'effective_date</t></is></c></row><row r="2">'
)
SHEET_END = b"</row></sheetData></worksheet>"


def workbook(path: Path, cells: Iterator[bytes], sheet_name: str = "sheet1.xml") -> Path:
    """An xlsx whose sheet's second row holds ``cells``, written as a stream (the sheet is
    never whole in memory, nor on disk uncompressed); ``sheet_name``: its part's file name,
    which the workbook's parts name (openpyxl follows them, whatever the name)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in WORKBOOK_PARTS.items():
            archive.writestr(name, text.replace("sheet1.xml", sheet_name))
        with archive.open(f"xl/worksheets/{sheet_name}", "w", force_zip64=True) as sheet:
            sheet.write(SHEET_START)
            for chunk in cells:
                sheet.write(chunk)
            sheet.write(SHEET_END)
    return path


def import_in_child(path: Path, database: str) -> tuple[int, str, float]:
    """``budget-ledger import`` in a child process: its exit code, output and peak RSS (MB)."""
    command = [str(Path(sys.executable).parent / "budget-ledger"), "import", str(path)]
    with tempfile.TemporaryFile() as output:
        child = subprocess.Popen(
            [*command, "--database", database], stdout=output, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(child.pid, 0)  # this child's own peak, not the others'
        child.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode("utf-8", errors="replace")
    return child.returncode, text, usage.ru_maxrss / 1024  # Linux counts it in KB


def assert_refused_lightly(cli: Cli, path: Path, says: str) -> None:
    database = cli.database
    before = head(database)
    code, output, peak_mb = import_in_child(path, database)
    message = output.strip()
    assert peak_mb < RSS_MAX_MB, (peak_mb, message[-300:])
    assert code == 1, message[-2000:]
    assert "\n" not in message and "Traceback" not in message, message[-2000:]
    assert path.name in message and says in message, message
    assert head(database) == before


def test_an_xlsx_bomb_is_refused_before_it_is_unpacked(cli: Cli, tmp_path: Path) -> None:
    """The issue's file: a few hundred kilobytes holding hundreds of megabytes of sheet XML
    (one row of 20 million cells), which openpyxl would hold whole (gigabytes)."""
    cell = b"<c><v>1</v></c>" * 100_000
    path = workbook(tmp_path / "bomb.xlsx", (cell for _ in range(200)))  # 300 MB of XML
    assert path.stat().st_size < 2 * 2**20
    assert_refused_lightly(cli, path, "unpacks to")


def test_a_row_too_wide_to_hold_is_refused(cli: Cli, tmp_path: Path) -> None:
    """Within the size and ratio limits (random numbers do not compress much), one row of a
    million cells, 22 MB of XML, would still take openpyxl over 600 MB: the scan refuses it."""
    digits = bytes.maketrans(bytes(range(256)), b"0123456789" * 25 + b"012345")
    rng = random.Random(12)

    def cells() -> Iterator[bytes]:
        for _ in range(100):
            numbers = rng.randbytes(80_000).translate(digits)
            yield b"".join(
                b"<c><v>%s</v></c>" % numbers[i : i + 8] for i in range(0, len(numbers), 8)
            )

    path = workbook(tmp_path / "wide.xlsx", cells())
    with zipfile.ZipFile(path) as archive:
        sheet = archive.getinfo("xl/worksheets/sheet1.xml")
        assert sheet.file_size > 20 * 2**20 and sheet.file_size / sheet.compress_size < 10
    assert_refused_lightly(cli, path, "a row of more than 16,384 columns")
    # The same sheet in a part not named .xml: openpyxl reads it all the same.
    renamed = workbook(tmp_path / "wide-renamed.xlsx", cells(), sheet_name="sheet1.bin")
    assert_refused_lightly(cli, renamed, "a row of more than 16,384 columns")


def test_a_csv_line_too_long_to_hold_is_refused(cli: Cli, tmp_path: Path) -> None:
    """A CSV file of one 300 MB line: reading it a line at a time would hold it whole."""
    path = tmp_path / "one-line.csv"
    with path.open("wb") as handle:
        handle.write(b"effective_date,note\n2024-07-01,")
        block = b"x" * 2**20
        for _ in range(300):
            handle.write(block)
    try:
        assert_refused_lightly(cli, path, "line 2 is longer than")
    finally:
        path.unlink()  # pytest keeps the last runs' temporary directories


@pytest.mark.parametrize(
    "parts, says",
    [
        (None, "not a readable .xlsx file"),  # not a zip at all
        ({"[Content_Types].xml": WORKBOOK_PARTS["[Content_Types].xml"]}, "not a readable"),
        ({**WORKBOOK_PARTS, "xl/worksheets/sheet1.xml": "<worksheet><sheetData>"}, "XML"),
        (
            {
                **WORKBOOK_PARTS,
                "xl/worksheets/sheet1.xml": (SHEET_START + b"<c><v>abc</v></c>" + SHEET_END),
            },
            "not a readable",
        ),
        (
            {**WORKBOOK_PARTS, "xl/styles.xml": '<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'},
            "document type",
        ),
    ],
)
def test_a_broken_xlsx_is_refused_in_one_line(
    cli: Cli, tmp_path: Path, parts: dict[str, str | bytes] | None, says: str
) -> None:
    database = cli.database
    before = head(database)
    path = tmp_path / "kbnn.xlsx"
    if parts is None:
        path.write_bytes(b"effective_date\n2024-07-01\n")
    else:
        with zipfile.ZipFile(path, "w") as archive:
            for name, text in parts.items():
                archive.writestr(name, text)
    result = cli.run("import", str(path), expect=1)
    message = result.output.strip()
    assert "\n" not in message and "Traceback" not in message, message
    assert "kbnn.xlsx" in message and says in message, message
    assert head(database) == before
