"""Terminal tables on the demo at ordinary widths: every amount and rate a table shows is
whole, on its row, and the columns a narrow terminal leaves out are named under it.

The demo is loaded once on SQLite: the tables are printed from what the commands read, the
same on either store (tests/e2e/test_reports.py reads the demo on both)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli.reads import BALANCE_FIGURES, HISTORY_COLUMNS
from cli.report import document_table, progress_document
from cli.tables import TableColumn, cell_text
from projections.progress_document import Question
from tests.e2e.cli_story import Cli

COMMANDS = {
    "balance": (["balance", "--holder", "49", "--subtree"],
                [TableColumn("line", "line"), *BALANCE_FIGURES], "dong"),
    "history": (["history", "--holder", "105"], HISTORY_COLUMNS, "dong"),
    "report": (["report", "progress", "--holder", "12", "--as-of", "2024-09-17"], [], "trieu"),
}  # fmt: skip


def report_table(database: str) -> tuple[list[dict[str, Any]], list[TableColumn]]:
    """The rows and columns ``report progress --holder 12 --as-of 2024-09-17`` prints."""
    from api.services import bootstrap

    services = bootstrap(database)
    try:
        _, filed = progress_document(services, Question(as_of=date(2024, 9, 17), holder="12"))
    finally:
        services.close()
    rows, columns, _ = document_table(filed)
    return rows, columns


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> str:
    database = str(tmp_path_factory.mktemp("tables") / "demo.sqlite3")
    Cli(database).run("demo")
    return database


def shown(database: str, args: list[str], columns: str | None) -> str:
    runner = CliRunner(env={"COLUMNS": columns, "TTY_COMPATIBLE": None, "FORCE_COLOR": None})
    return Cli(database, runner).out(*args)


@pytest.mark.parametrize("width", ["80", "120", None], ids=["80", "120", "piped"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_amount_a_table_shows_is_whole_on_its_row(
    demo: str, command: str, width: str | None
) -> None:
    args, columns, unit = COMMANDS[command]
    rows: list[dict[str, Any]] = Cli(demo).json(*args) if columns else []
    if not columns:
        rows, columns = report_table(demo)
    text = shown(demo, args, width)
    assert "…" not in text
    if width is not None:
        assert max(len(line) for line in text.splitlines()) <= int(width), text
    note = " ".join(text.split("Left out to fit", 1)[1].split()) if "Left out" in text else ""
    left_out = set(re.findall(r'"([^"]+)"', note.split("; widen", 1)[0]))
    kept = [c for c in columns if c.header not in left_out]
    figures = [i for i, c in enumerate(kept) if c.kind in ("vnd", "pct")]
    assert figures, text
    # A row's first line holds its figures (only words wrap onto the lines below).
    lines = [line.split("│")[1:-1] for line in text.splitlines() if line.startswith("│")]
    assert all(len(line) == len(kept) for line in lines), text
    first_lines = [line for line in lines if any(line[i].strip() for i in figures)]
    assert len(first_lines) == len(rows), text
    for row, line in zip(rows, first_lines, strict=True):
        for i in figures:
            value = row[kept[i].key]
            assert line[i].strip() == cell_text(kept[i], value, unit), (kept[i].key, row, text)
    if width is None:
        assert left_out == set() and "Left out" not in text
    elif left_out:
        assert "widen the terminal to" in note and "--format csv|" in note


def test_a_table_too_wide_for_a_terminal_names_the_width_that_shows_it_all(demo: str) -> None:
    args = COMMANDS["balance"][0]
    narrow = " ".join(shown(demo, args, "80").split())
    needed = re.search(r"COLUMNS=([0-9]+)", narrow)
    assert needed is not None, narrow
    wide = shown(demo, args, needed.group(1))
    assert "Left out" not in wide and "…" not in wide
    assert max(len(line) for line in wide.splitlines()) <= int(needed.group(1))


def test_dates_in_tables_are_day_first_and_json_and_csv_keep_iso(demo: str) -> None:
    args = ["history", "--holder", "105", "--program", "GNBV", "--kind", "DTPT"]
    table = shown(demo, args, None)
    first = Cli(demo).json(*args)[0]
    year, month, day = first["effective_date"].split("-")
    assert f"│ {day}/{month}/{year} │" in table
    recorded = first["recorded_at"]  # ISO in JSON
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}.*", recorded)
    when = f"{recorded[8:10]}/{recorded[5:7]}/{recorded[:4]} {recorded[11:19]}"
    assert when in table
    csv_text = Cli(demo).out(*args, "--format", "csv")
    assert first["effective_date"] in csv_text and f"{day}/{month}/{year}" not in csv_text


def test_a_demo_table_prints_whole_in_a_narrow_terminal_too(tmp_path: Path) -> None:
    database = str(tmp_path / "demo.sqlite3")
    printed = shown(database, ["demo"], "80")
    assert "…" not in printed and "check: OK" in printed
    assert max(len(line) for line in printed.splitlines() if "│" in line) <= 80


def test_a_terminal_too_narrow_for_a_label_and_a_figure_is_told_to_widen(demo: str) -> None:
    said = " ".join(shown(demo, COMMANDS["balance"][0], "30").split())
    assert "┃" not in said and "…" not in said
    assert "the terminal has 30: widen it" in said and "--format csv|json" in said
