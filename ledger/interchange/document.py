"""A report as a finance office files it: a titled table of grouped rows with subtotals,
under the national heading, in a unit, with notes and a signature block. The progress
report builds one (``projections/report.py``); every format renders the same one
(``ledger/interchange/report_files.py``: xlsx, PDF, CSV; ``cli/tables.py``: the terminal),
so no format can show other columns or other figures.

Pure data: figures stay whole đồng (``vnd`` columns) and rates percentages; renderers scale
amounts to the document's unit and write subtotals and totals as formulas where the format
has them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

# What a column holds, which decides how it is scaled, aligned, summed and formatted.
# vnd: whole đồng (shown in the document's unit; subtotals are sums);
# pct: a percentage (subtotals recomputed from ``ratio``, never summed);
# count: a whole number (summed); flag: a mark ("x") or blank; text: words.
ColumnKind = Literal["text", "vnd", "pct", "count", "flag"]
RowKind = Literal["total", "group", "detail"]
UNITS: dict[str, tuple[int, str, str]] = {
    # unit: (đồng per unit, Vietnamese name, English name)
    "dong": (1, "đồng", "dong"),
    "trieu": (10**6, "triệu đồng", "million dong"),
    "ty": (10**9, "tỷ đồng", "billion dong"),
}
NATIONAL_HEADING = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
SIGNATURES = {
    "vi": ("NGƯỜI LẬP BIỂU", "THỦ TRƯỞNG ĐƠN VỊ"),
    "en": ("PREPARED BY", "HEAD OF UNIT"),
}


@dataclass(frozen=True)
class Column:
    """One column: its key in each row's ``values``, its header in Vietnamese and English,
    what it holds, and for a rate the (numerator, denominator) columns it is computed from,
    so a subtotal's rate (and a workbook's formula) divides the summed figures. ``band``
    groups neighbouring columns under a header above (``band_en`` in English); ``optional``
    columns are the first a narrow terminal leaves out."""

    key: str
    vi: str
    en: str
    kind: ColumnKind
    ratio: tuple[str, str] | None = None
    band: str | None = None
    band_en: str | None = None
    optional: bool = False

    def header(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi

    def band_header(self, lang: str) -> str | None:
        return self.band_en if lang == "en" else self.band


@dataclass(frozen=True)
class Row:
    """One row: ``path`` places it in the grouping (the total's is empty, a group's names
    its level's key, a detail row's the whole path), ``stt`` is its number as the report
    prints it (I, II / 1, 2 / a, b), ``code`` and ``name`` say what it is."""

    kind: RowKind
    path: tuple[str, ...]
    stt: str
    code: str | None
    name: str
    values: dict[str, Any]

    @property
    def level(self) -> int:
        return len(self.path)

    @property
    def label(self) -> str:
        """The code and the name, as offices write them: "505 - Huyện Đông Giang"."""
        if self.code and self.code != self.name:
            return f"{self.code} - {self.name}"
        return self.name

    def parent_of(self, other: Row) -> bool:
        """``other`` is one of this row's children (one level below, on its path)."""
        return other.level == self.level + 1 and other.path[: self.level] == self.path


@dataclass(frozen=True)
class Document:
    """The whole report: heading, title, unit, columns, rows in print order (the total
    first, then each group followed by its children), notes under the table, and the
    place and date above the signatures."""

    issuer: str
    title: str
    subtitle: str | None
    as_of: date
    known_at: datetime | None
    unit: str
    columns: list[Column]
    rows: list[Row]
    notes: list[str] = field(default_factory=list)
    lang: str = "vi"
    place: str | None = None
    signed_on: date | None = None

    def __post_init__(self) -> None:
        assert self.unit in UNITS, self.unit
        assert self.lang in SIGNATURES, self.lang

    @property
    def unit_line(self) -> str:
        _, vi, en = UNITS[self.unit]
        return f"Unit: {en}" if self.lang == "en" else f"Đơn vị tính: {vi}"

    @property
    def scale(self) -> int:
        return UNITS[self.unit][0]

    def children(self, row: Row) -> list[Row]:
        return [other for other in self.rows if row.parent_of(other)]

    def column(self, key: str) -> Column:
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(key)


def vietnamese_date(day: date) -> str:
    """17/9/2024, as report titles write a date (no leading zeros)."""
    return f"{day.day}/{day.month}/{day.year}"


def signing_line(place: str | None, day: date, lang: str) -> str:
    """ "Đà Nẵng, ngày 17 tháng 9 năm 2024", the line above the signatures."""
    if lang == "en":
        return f"{place + ', ' if place else ''}{day.isoformat()}"
    where = f"{place}, " if place else ""
    return f"{where}ngày {day.day} tháng {day.month} năm {day.year}"


def roman(number: int) -> str:
    """1 → I, 4 → IV: the numbering of a report's first grouping level."""
    assert 0 < number < 4000, number
    numerals = [
        (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
        (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
    ]  # fmt: skip
    text = ""
    for value, numeral in numerals:
        while number >= value:
            text, number = text + numeral, number - value
    return text
