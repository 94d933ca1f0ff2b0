"""Terminal tables that never cut a number: every command's table (``cli.common.emit``) and
the progress report print through ``print_table``.

A column says what it holds (``Kind``), which decides how its cells are written and whether
they may wrap: amounts, rates, counts, dates and flags never wrap and are never cut; words
wrap (and a word longer than its column folds onto the next line, whole); a time may wrap
between its date and its clock. On a terminal narrower than the table, ``fit`` leaves out
whole columns, from the right: first those the caller marked ``optional``, then the other
words, then the other figures, never the first column (the row's label); a line under the
table names what was left out and how to see it. Piped output (not a terminal) has no width
to fit unless COLUMNS is set: it prints every column on one line per row, for grep and for
scripts that read tables (docs/decisions.md §22).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ledger.domain.values import format_vnd, grouped_number

# vnd: whole đồng, shown in the table's unit; pct: a percentage; count: a whole number
# written plainly (a year, a log position); date: dd/mm/yyyy; time: dd/mm/yyyy HH:MM:SS;
# flag: a mark or blank; text: words. The first five are figures (right-aligned, never
# wrapped); the names follow ledger/interchange/document.py's ColumnKind.
Kind = Literal["text", "vnd", "pct", "count", "date", "time", "flag"]
FIGURES = ("vnd", "pct", "count", "date", "flag")
UNITS = {"dong": (1, 0), "trieu": (10**6, 2), "ty": (10**9, 3)}
TEXT_WIDTH_MIN = 10  # a column of words is not squeezed below this (unless all are shorter)
DATE_FORMAT = "%d/%m/%Y"  # as Vietnamese offices write a date: 17/09/2024
TIME_FORMAT = "%d/%m/%Y %H:%M:%S"


@dataclass(frozen=True)
class TableColumn:
    """One column: the key of its cells in each row, its header, what it holds, whether a
    narrow terminal may leave it out before the others, and (a flag) the mark of a true
    cell."""

    key: str
    header: str
    kind: Kind = "text"
    optional: bool = False
    mark: str = "x"


@dataclass(frozen=True)
class Fit:
    """How a table fits a width: the columns kept (in order) and the width of each, the
    columns left out, and the width that shows every column at its narrowest."""

    kept: list[TableColumn]
    widths: list[int]
    left_out: list[TableColumn]
    needed: int


def cell_text(column: TableColumn, value: Any, unit: str = "dong", lang: str = "vi") -> str:
    """A cell as the table writes it: amounts grouped in the unit, rates with a comma (in
    English, the English way), dates and times as dd/mm/yyyy (JSON and CSV keep ISO)."""
    if value is None:
        return ""
    if column.kind == "flag":
        return column.mark if value else ""
    if column.kind == "vnd" and isinstance(value, int):
        scale, decimals = UNITS[unit]
        if scale == 1 and lang == "vi":
            return format_vnd(value).removesuffix(" đồng")
        return grouped_number(value / scale, decimals, lang)
    if column.kind == "pct" and isinstance(value, (int, float)):
        return grouped_number(value, 2, lang) + "%"
    if isinstance(value, datetime):
        return display_time(value)
    if isinstance(value, date):
        return display_date(value)
    return str(value)


def display_date(day: date) -> str:
    """A date as a table or its title writes it: 17/09/2024."""
    return day.strftime(DATE_FORMAT)


def display_time(moment: datetime) -> str:
    """A time as a table or its title writes it: 17/09/2024 14:00:00 (in its own offset)."""
    return moment.strftime(TIME_FORMAT)


def _natural(column: TableColumn, cells: Sequence[str]) -> int:
    """The width that shows the header and every cell on one line."""
    return max([cell_len(column.header), *(cell_len(cell) for cell in cells)])


def _minimum(column: TableColumn, cells: Sequence[str]) -> int:
    """The narrowest the column may be: a figure's widest cell (its header may wrap
    between words), a time's date or clock, some words."""
    words = [cell_len(word) for word in column.header.split()] or [0]
    if column.kind in FIGURES:
        return max([*words, *(cell_len(cell) for cell in cells)])
    if column.kind == "time":
        parts = [cell_len(part) for cell in cells for part in cell.split()]
        return max([*words, *parts])
    return min(_natural(column, cells), TEXT_WIDTH_MIN)


def table_width(widths: Sequence[int]) -> int:
    """The printed width of columns this wide: a border before each and after the last,
    and a space either side of each cell."""
    return sum(widths) + 3 * len(widths) + 1


def _drop_order(columns: Sequence[TableColumn]) -> list[int]:
    """Which columns a narrow terminal leaves out first: the optional ones, then words,
    then figures, each from the right; never the first (the row's label)."""
    rest = list(range(len(columns) - 1, 0, -1))
    optional = [i for i in rest if columns[i].optional]
    words = [i for i in rest if not columns[i].optional and columns[i].kind == "text"]
    figures = [i for i in rest if not columns[i].optional and columns[i].kind != "text"]
    return optional + words + figures


def fit(columns: Sequence[TableColumn], cells: Sequence[Sequence[str]], width: int | None) -> Fit:
    """The columns kept and their widths for a table of these cells (one list per row, in
    column order) on ``width`` columns (None: as wide as it needs). Leaves out whole columns
    until the rest fit at their narrowest, keeping at least the first two; then gives the
    room left to each column up to its natural width, words first. ``kept`` is empty when
    even the first two do not fit."""
    assert columns, "a table has columns"
    by_column = [[row[i] for row in cells] for i in range(len(columns))]
    natural = [_natural(c, by_column[i]) for i, c in enumerate(columns)]
    minimum = [_minimum(c, by_column[i]) for i, c in enumerate(columns)]
    needed = table_width(minimum)
    if width is None:
        return Fit(list(columns), natural, [], needed)
    kept = list(range(len(columns)))
    order = _drop_order(columns)
    while table_width([minimum[i] for i in kept]) > width:
        if len(kept) <= 2 or not order:
            return Fit([], [], list(columns), needed)
        kept.remove(order.pop(0))
    widths = {i: minimum[i] for i in kept}
    room = width - table_width(list(widths.values()))
    words_first = sorted(kept, key=lambda i: columns[i].kind in FIGURES)
    for i in words_first:
        grow = min(room, natural[i] - widths[i])
        widths[i] += grow
        room -= grow
    left_out = [c for i, c in enumerate(columns) if i not in widths]
    return Fit([columns[i] for i in kept], [widths[i] for i in kept], left_out, needed)


def terminal_width(console: Console) -> int | None:
    """The width to fit: the terminal's, or COLUMNS when set (a terminal or not); None for
    piped output without COLUMNS, which has no width to fit (rich would assume 80)."""
    if os.environ.get("COLUMNS", "").isdigit() or console.is_terminal:
        return console.width
    return None


def print_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[TableColumn],
    *,
    title: str | None = None,
    unit: str = "dong",
    formats: str | None = "csv|json",
    bold_rows: Sequence[int] = (),
    width: int | None = None,
    console: Console | None = None,
    lang: str = "vi",
) -> None:
    """Print ``rows`` (cells by column key) as a table that fits the terminal (``width``:
    the console's, see ``terminal_width``) without cutting a number. ``formats`` names the
    --format choices that show every column (None: the command has none); ``bold_rows``
    are the indices of rows to print in bold (totals)."""
    console = console or Console(highlight=False)
    if width is None:
        width = terminal_width(console)
    cells = [
        [cell_text(column, row.get(column.key), unit, lang) for column in columns] for row in rows
    ]
    laid = fit(columns, cells, width)
    see = f" or use --format {formats}" if formats else ""
    if not laid.kept:
        console.print(
            Text(
                f"This table needs at least {laid.needed} columns to show a row's label and "
                f"one figure whole; the terminal has {width}: widen it (or set "
                f"COLUMNS={laid.needed}){see}."
            )
        )
        return
    table = Table(title=title, box=box.HEAVY_HEAD, padding=(0, 1), expand=False)
    positions = [columns.index(column) for column in laid.kept]
    for column, column_width in zip(laid.kept, laid.widths, strict=True):
        figure = column.kind in FIGURES
        table.add_column(
            Text(column.header, no_wrap=False, overflow="fold"),
            justify="right" if figure or column.kind == "time" else "left",
            width=column_width,
            no_wrap=figure,
            overflow="fold",
        )
    for index, row in enumerate(cells):
        style = "bold" if index in bold_rows else ""
        table.add_row(
            *(Text(row[i], no_wrap=columns[i].kind in FIGURES, overflow="fold") for i in positions),
            style=style,
        )
    console.width = width or table_width(laid.widths)
    console.print(table)
    if laid.left_out:
        names = ", ".join(f'"{column.header}"' for column in laid.left_out)
        console.print(
            Text(
                f"Left out to fit {width} columns: {names}; widen the terminal to "
                f"{laid.needed} columns (or set COLUMNS={laid.needed}){see} to see them."
            ),
            width=max(width or 0, 20),
        )
