"""The terminal table printer (cli/tables.py): whatever the width, a number is shown whole or
its column is left out and named; dates are written as Vietnamese offices write them."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from rich.console import Console

from cli.tables import TableColumn, cell_text, fit, print_table, table_width

COLUMNS = [
    TableColumn("name", "holder"),
    TableColumn("plan_vnd", "plan", "vnd"),
    TableColumn("note", "note", optional=True),
    TableColumn("disbursed_vnd", "disbursed", "vnd"),
    TableColumn("rate_pct", "% disbursed", "pct"),
    TableColumn("deadline", "deadline", "date", optional=True),
    TableColumn("reference", "decision"),
    TableColumn("below", "vs average", "flag", mark="▼ below"),
]
ROWS = [
    {
        "name": "Huyện Đông Giang, tỉnh Quảng Nam",
        "plan_vnd": 215_300_000_000,
        "note": "kế hoạch giao đầu năm theo quyết định",
        "disbursed_vnd": 128_815_123_456,
        "rate_pct": 59.83,
        "deadline": date(2025, 1, 31),
        "reference": "QĐ 95/QĐ-UBND ngày 10/01/2024",
        "below": True,
    },
    {
        "name": "Huyện Tây Giang",
        "plan_vnd": 9_000_000_000_000,
        "note": None,
        "disbursed_vnd": -1_000,
        "rate_pct": 0.0,
        "deadline": None,
        "reference": "[bold]QĐ 1850[/bold]",
        "below": False,
    },
]


def printed(width: int | None, rows: list[dict[str, object]] = ROWS) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=80, force_terminal=False, highlight=False)
    print_table(rows, COLUMNS, title="Balances (đồng)", width=width, console=console)
    return buffer.getvalue()


def cells(row: dict[str, object]) -> list[str]:
    return [cell_text(column, row.get(column.key)) for column in COLUMNS]


@pytest.mark.parametrize("width", [40, 60, 80, 100, 120, 160, None], ids=str)
def test_every_figure_shown_is_whole_and_no_line_is_wider_than_the_terminal(
    width: int | None,
) -> None:
    text = printed(width)
    assert "…" not in text
    if width is not None:
        assert max(len(line) for line in text.splitlines()) <= width
    laid = fit(COLUMNS, [cells(row) for row in ROWS], width)
    table_lines = [line for line in text.splitlines() if line.startswith("│")]
    for row in ROWS:
        for column, cell in zip(COLUMNS, cells(row), strict=True):
            if column in laid.kept and column.kind in ("vnd", "pct", "date") and cell:
                assert any(f" {cell} │" in line for line in table_lines), (column.key, text)
    if laid.left_out:
        note = " ".join(text.split("Left out to fit", 1)[1].split())
        assert all(f'"{c.header}"' in note for c in laid.left_out), text
        assert f"COLUMNS={laid.needed}" in note and "--format csv|json" in note
    else:
        assert "Left out" not in text


def test_a_narrow_terminal_leaves_out_optional_columns_then_words_then_figures() -> None:
    rows = [cells(row) for row in ROWS]
    wide = fit(COLUMNS, rows, None)
    assert wide.kept == COLUMNS and wide.left_out == []
    dropped: list[list[str]] = []
    for width in range(wide.needed, 0, -1):
        left_out = [c.key for c in fit(COLUMNS, rows, width).left_out]
        if left_out not in dropped:
            dropped.append(left_out)
    assert dropped == [  # in column order
        [],
        ["deadline"],
        ["note", "deadline"],
        ["note", "deadline", "reference"],
        ["note", "deadline", "reference", "below"],
        ["note", "rate_pct", "deadline", "reference", "below"],
        ["note", "disbursed_vnd", "rate_pct", "deadline", "reference", "below"],
        [c.key for c in COLUMNS],  # not even the label and one figure: nothing is printed
    ]


def test_kept_columns_fill_the_width_and_never_squeeze_a_figure() -> None:
    rows = [cells(row) for row in ROWS]
    for width in range(20, 200):
        laid = fit(COLUMNS, rows, width)
        if not laid.kept:
            continue
        assert laid.kept[0] == COLUMNS[0]
        assert table_width(laid.widths) <= width
        for column, column_width in zip(laid.kept, laid.widths, strict=True):
            index = COLUMNS.index(column)
            if column.kind != "text":
                assert column_width >= max(len(row[index]) for row in rows)


def test_too_narrow_for_the_label_and_one_figure_says_to_widen() -> None:
    text = " ".join(printed(30).split())
    assert "┃" not in text
    assert "needs at least" in text and "the terminal has 30: widen it" in text


def test_piped_output_keeps_each_row_on_one_line() -> None:
    text = printed(None)
    rows = [line for line in text.splitlines() if line.startswith("│")]
    assert len(rows) == len(ROWS)
    assert "Huyện Đông Giang, tỉnh Quảng Nam" in rows[0]


def test_dates_and_times_are_written_day_first_and_text_is_never_markup() -> None:
    deadline = TableColumn("deadline", "deadline", "date")
    recorded = TableColumn("recorded_at", "recorded", "time")
    assert cell_text(deadline, date(2024, 9, 7)) == "07/09/2024"
    assert cell_text(recorded, datetime(2024, 9, 17, 7, 5, 3, tzinfo=UTC)) == "17/09/2024 07:05:03"
    assert "[bold]QĐ 1850[/bold]" in printed(None)
    assert cell_text(COLUMNS[1], 1_234_567) == "1.234.567"
    assert cell_text(COLUMNS[1], 1_234_567_890, unit="ty") == "1,235"
    assert cell_text(COLUMNS[4], 53.9412) == "53,94%"
    # In English, the English way: a decimal comma would read as a thousands separator.
    assert cell_text(COLUMNS[1], 1_234_567_890, unit="ty", lang="en") == "1.235"
    assert cell_text(COLUMNS[1], 1_234_567, lang="en") == "1,234,567"
    assert cell_text(COLUMNS[4], 53.9412, lang="en") == "53.94%"
    assert cell_text(COLUMNS[-1], True) == "▼ below" and cell_text(COLUMNS[-1], False) == ""


def test_rows_asked_for_in_bold_are_bold_on_a_terminal() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, color_system="standard", width=200)
    print_table(ROWS, COLUMNS, width=200, console=console, bold_rows=[1])
    lines = [line for line in buffer.getvalue().splitlines() if "Huyện" in line]
    assert "\x1b[1m" not in lines[0] and "\x1b[1m" in lines[1]
