"""Opening an import file safely, before a row of it is read: which text encoding a CSV is in
(or a one-line refusal naming the file, the problem and what to do), and whether an xlsx can
be read within bounded memory (or a refusal, before it is decompressed). The choices are in
docs/import.md.

CSV encodings, tried in this order:
- a byte-order mark names the encoding: UTF-8 (Excel's "CSV UTF-8"), UTF-16 or UTF-32;
- otherwise UTF-8, if the whole file decodes as UTF-8 (strictly);
- otherwise Windows-1258, what Excel on a Vietnamese Windows writes as "CSV": accepted if every
  byte is a Windows-1258 character and every combining tone mark follows a vowel, as in
  Vietnamese; its text is normalised to NFC (the code page writes tone marks as separate
  combining characters), so it compares equal to the same text typed or read from UTF-8.
  Latin-1 text is read this way too where the two code pages agree (à, é, ô, ü, ...);
- anything else is refused: save the file as CSV UTF-8.

xlsx files are bounded before openpyxl opens them (openpyxl streams the sheet's rows in read-only
mode, but holds a whole row, the shared strings and the other parts in memory): the zip's
declared sizes and compression ratios are checked, then every XML part is scanned once, as a
stream, for what would make it expensive to hold. Past a limit the file is refused.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

from ledger.domain.errors import InvalidInput

SAVE_AS_UTF8 = "save it as CSV UTF-8 (in Excel: Save As, CSV UTF-8) and import it again"
WINDOWS_1258 = "cp1258"
# Longer marks first: a UTF-32 LE mark begins with the UTF-16 LE one.
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
SCAN_BYTES = 1 << 16  # what a scan reads at a time
# A physical line of a CSV file; a row's longest field is a 1,000-character note.
LINE_CHARS_MAX = 100_000

# Vietnamese tone marks as Windows-1258 writes them (combining), and the letters they sit on.
_VOWELS = "aăâeêioôơuưyAĂÂEÊIOÔƠUƯY"
_STRAY_MARK = re.compile(f"(?<![{_VOWELS}])[\u0300\u0301\u0303\u0309\u0323]")

# xlsx bounds (measured against openpyxl 3.1 in read-only mode: docs/import.md). It streams a
# sheet row by row and the shared strings string by string, so a part's size bounds the
# import's time; what it holds at once is bounded here: one row or string (its bytes; Excel's
# own limits on columns and characters), what it keeps of each (the strings themselves, a
# small shell per row), and every other element, which it keeps whole (styles, the workbook,
# a sheet's parts outside its rows).
XLSX_PART_BYTES_MAX = 256 * 2**20  # one XML part, uncompressed: ~700,000 rows of 18 columns
XLSX_BYTES_MAX = 512 * 2**20  # all parts, uncompressed
XLSX_RATIO_MAX = 100  # uncompressed / compressed, for parts over 1 MB: beyond is a zip bomb
XLSX_ROWS_MAX = 1_048_576  # Excel's
XLSX_COLUMNS_MAX = 16_384  # Excel's (column XFD)
XLSX_CELL_CHARS_MAX = 32_767  # Excel's
XLSX_RECORD_BYTES_MAX = 2 * 2**20  # one row or one shared string, as XML
XLSX_STRINGS_MAX = 500_000  # distinct texts in the shared strings
XLSX_HELD_ELEMENTS_MAX = 100_000  # per part, outside rows and strings
XLSX_HELD_CHARS_MAX = 16 * 2**20  # per part, all but the rows' text and attributes
XLSX_TAG_BYTES_MAX = 2**20  # bytes without a '>': a tag or text longer than any cell's
_RECORDS = {"row": XLSX_ROWS_MAX, "si": XLSX_STRINGS_MAX}


def _refuse(path: Path, problem: str, advice: str = SAVE_AS_UTF8) -> InvalidInput:
    return InvalidInput(f"{path.name}: {problem}; {advice}", field="file")


def text_encoding(path: Path) -> str:
    """The CSV file's encoding, by the rules above, after reading it whole once (streaming);
    or InvalidInput."""
    with path.open("rb") as handle:
        start = handle.read(4)
    for mark, encoding, name in BYTE_ORDER_MARKS:
        if start.startswith(mark):
            _scan(path, encoding, f"starts with a {name} byte-order mark but is not {name}")
            return encoding
    try:
        _scan(path, "utf-8", "")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    _scan(path, WINDOWS_1258, "is neither UTF-8 nor Windows-1258 text")
    return WINDOWS_1258


def _scan(path: Path, encoding: str, not_it: str) -> None:
    """Decode the whole file, a chunk at a time. UTF-8 without a mark raises
    UnicodeDecodeError (the caller tries Windows-1258 next); any other failure, a NUL
    character or (for Windows-1258) text that is not Vietnamese is InvalidInput."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    last = ""
    buffer = bytearray(SCAN_BYTES)
    with path.open("rb") as handle:
        while True:
            chunk = memoryview(buffer)[: handle.readinto(buffer)]
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as error:
                if encoding == "utf-8":
                    raise
                problem = f"{not_it} ({error.reason} at byte {offset + error.start})"
                raise _refuse(path, problem) from None
            if "\x00" in text:
                raise _refuse(
                    path,
                    "holds NUL characters: it is UTF-16 without a byte-order mark, or not text",
                )
            if encoding == WINDOWS_1258:
                stray = _STRAY_MARK.search(last + text)
                if stray is not None:
                    # One byte a character: the match's place is the byte's.
                    at = offset + stray.start() - len(last)
                    raise _refuse(path, f"{not_it} (a tone mark on no vowel at byte {at})")
                last = text[-1:]
            if not chunk:
                return
            offset += len(chunk)


def open_text(path: Path, encoding: str) -> IO[str]:
    # newline="": the csv module reads line ends itself (a quoted field may hold one).
    return path.open(encoding=encoding, newline="")


def text_lines(handle: IO[str], path: Path, encoding: str) -> Iterator[str]:
    """The file's lines for the csv module, each at most LINE_CHARS_MAX characters (a longer
    one is refused: no file makes the import hold a huge line), in NFC when the file is
    Windows-1258."""
    number = 0
    while True:
        line = handle.readline(LINE_CHARS_MAX + 1)
        if not line:
            return
        number += 1
        if len(line) > LINE_CHARS_MAX:
            raise _refuse(
                path,
                f"line {number} is longer than {LINE_CHARS_MAX:,} characters",
                "a row of an import file is a movement: check the file's line ends",
            )
        yield unicodedata.normalize("NFC", line) if encoding == WINDOWS_1258 else line


def csv_records(
    path: Path, header: Callable[[list[str]], list[str]]
) -> Iterator[tuple[int, dict[str, str]]]:
    """A CSV file's rows as (row number, {column: cell}), its encoding detected, its
    separator told from the header row (``separator``), the header read by ``header``
    (which names the columns or refuses); blank rows skipped, a row that is not CSV refused
    naming it. The one reader of the import and of the list of successors."""
    encoding = text_encoding(path)
    with open_text(path, encoding) as handle:
        lines = text_lines(handle, path, encoding)
        first = next(lines, "")
        reader = csv.reader(itertools.chain([first], lines), delimiter=separator(first))
        number = 1
        try:
            names = header(next(reader, []))
            for number, cells in enumerate(reader, start=2):
                if any(cell.strip() for cell in cells):
                    yield number, dict(zip(names, (c.strip() for c in cells), strict=False))
        except csv.Error as error:
            raise InvalidInput(
                f"{path.name}: row {number + 1} is not CSV ({error}); check its quotes",
                field="file",
            ) from None


def separator(header: str) -> str:
    """A CSV file's separator, from its header row: ``;`` (what Excel writes as CSV where the
    comma is the decimal mark, as in Vietnam) when the header holds more of them than
    commas, else ``,``. No column name holds either."""
    return ";" if header.count(";") > header.count(",") else ","


def check_xlsx(path: Path) -> None:
    """Refuse an xlsx file that would take more than bounded memory (or unbounded time) to
    read, before openpyxl opens it: the zip's declared sizes and ratios first (zipfile
    never inflates a part past its declared size), then each XML part, streamed."""
    advice = "save it again from Excel, or as CSV UTF-8, and import it again"
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            total = sum(part.file_size for part in parts)
            if total > XLSX_BYTES_MAX:
                raise _refuse(
                    path, f"unpacks to {_mb(total)}; at most {_mb(XLSX_BYTES_MAX)}", advice
                )
            for part in parts:
                if part.file_size > XLSX_PART_BYTES_MAX:
                    raise _refuse(
                        path,
                        f"its part {part.filename} unpacks to {_mb(part.file_size)}; at most "
                        f"{_mb(XLSX_PART_BYTES_MAX)} (use CSV for bigger files)",
                        "split it, or save it as CSV UTF-8, and import it again",
                    )
                ratio = part.file_size / max(part.compress_size, 1)
                if part.file_size > 2**20 and ratio > XLSX_RATIO_MAX:
                    raise _refuse(
                        path,
                        f"its part {part.filename} unpacks {ratio:.0f} times its size (at most "
                        f"{XLSX_RATIO_MAX}): not a spreadsheet but a zip bomb",
                        advice,
                    )
            for part in parts:
                # Every part that holds XML, whatever its name: openpyxl finds a sheet by the
                # names the workbook gives, and a sheet called sheet1.bin is read all the same.
                if _is_xml(archive, part):
                    with archive.open(part) as stream:
                        problem = _xml_problem(stream)
                    if problem:
                        raise _refuse(path, f"{part.filename}: {problem}", advice)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError) as error:
        raise _refuse(path, f"is not a readable .xlsx file ({error})", advice) from None


def _is_xml(archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> bool:
    """Whether a part's first bytes are XML's (after a byte-order mark and blanks); an image
    or a printer's settings are not, and openpyxl does not parse them."""
    with archive.open(part) as stream:
        start = stream.read(64)
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True  # XML in UTF-16, which expat and openpyxl both read
    return start.removeprefix(codecs.BOM_UTF8).lstrip().startswith(b"<")


def _mb(size: int) -> str:
    return f"{size / 2**20:,.0f} MB"


def _xml_problem(stream: IO[bytes]) -> str | None:
    """What in this XML part would be costly to hold (None: nothing), read as a stream."""
    scan = _PartScan()
    parser = expat.ParserCreate(namespace_separator=" ")
    scan.parser = parser
    parser.StartElementHandler = scan.start
    parser.EndElementHandler = scan.end
    parser.CharacterDataHandler = scan.data
    parser.StartDoctypeDeclHandler = scan.doctype
    since_tag_end = 0  # expat holds a whole start tag, attributes included: bound it
    try:
        while not scan.problems:
            chunk = stream.read(SCAN_BYTES)
            end_of_tag = chunk.rfind(b">")
            if end_of_tag < 0:
                since_tag_end += len(chunk)
            else:
                since_tag_end = len(chunk) - end_of_tag
            if since_tag_end > XLSX_TAG_BYTES_MAX:
                return f"more than {_mb(XLSX_TAG_BYTES_MAX)} without the end of a tag"
            parser.Parse(chunk, not chunk)
            if not chunk:
                break
    except expat.ExpatError as error:
        return f"not well-formed XML ({expat.errors.messages[error.code]})"
    return scan.problems[0] if scan.problems else None


class _PartScan:
    """expat handlers counting what openpyxl would hold of one XML part. A record (a row, a
    shared string) is held one at a time; the rest is held whole."""

    parser: Any

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.records = dict.fromkeys(_RECORDS, 0)
        self.record: str | None = None  # the kind of record being read
        self.depth = 0  # inside the record
        self.record_start = 0  # its first byte
        self.cells = 0  # in the current row
        self.held_elements = 0
        self.held_chars = 0
        self.text = 0  # characters of the current element's text

    def start(self, name: str, attributes: dict[str, str]) -> None:
        local = name.rsplit(" ", 1)[-1]
        self.text = 0
        if self.record is not None:
            self.depth += 1
            if self.parser.CurrentByteIndex - self.record_start > XLSX_RECORD_BYTES_MAX:
                self._problem(f"a {self.record} of more than {_mb(XLSX_RECORD_BYTES_MAX)}")
            if self.record == "row" and local == "c" and self.depth == 2:
                self.cells += 1
                if self.cells > XLSX_COLUMNS_MAX or _column(attributes.get("r", "")) > (
                    XLSX_COLUMNS_MAX
                ):
                    self._problem(f"a row of more than {XLSX_COLUMNS_MAX:,} columns (XFD)")
            if self.record == "si":
                self._hold_chars(sum(len(k) + len(v) for k, v in attributes.items()))
            return
        if local in _RECORDS:
            self.record, self.depth, self.cells = local, 1, 0
            self.record_start = self.parser.CurrentByteIndex
            self.records[local] += 1
            index = attributes.get("r", "") if local == "row" else ""
            if self.records[local] > _RECORDS[local] or (
                index.isdigit() and int(index) > XLSX_ROWS_MAX
            ):
                what = "rows" if local == "row" else "shared strings"
                self._problem(f"more than {_RECORDS[local]:,} {what}")
            return
        self.held_elements += 1
        if self.held_elements > XLSX_HELD_ELEMENTS_MAX:
            self._problem(f"more than {XLSX_HELD_ELEMENTS_MAX:,} elements outside rows")
        self._hold_chars(sum(len(k) + len(v) for k, v in attributes.items()))

    def end(self, name: str) -> None:
        if self.record is not None:
            self.depth -= 1
            if self.depth == 0:
                self.record = None

    def data(self, chunk: str) -> None:
        self.text += len(chunk)
        if self.text > XLSX_CELL_CHARS_MAX:
            self._problem(f"a text of more than {XLSX_CELL_CHARS_MAX:,} characters")
        if self.record != "row":
            self._hold_chars(len(chunk))

    def doctype(self, *_: object) -> None:
        self._problem("a document type declaration (an xlsx part has none)")

    def _hold_chars(self, count: int) -> None:
        self.held_chars += count
        if self.held_chars > XLSX_HELD_CHARS_MAX:
            self._problem(f"more than {XLSX_HELD_CHARS_MAX:,} characters outside rows")

    def _problem(self, problem: str) -> None:
        if not self.problems:
            self.problems.append(problem)


def _column(reference: str) -> int:
    """The column number of a cell reference (``XFD1`` is 16384; 0 when there is none)."""
    letters = reference.rstrip("0123456789")
    if len(letters) > 3:
        return XLSX_COLUMNS_MAX + 1
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number
