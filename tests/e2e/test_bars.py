"""Long work shows how far it has got: import, export, verify, check, projections rebuild
and demo draw a bar with a total on stderr when it is a terminal, and nothing when it is not
or with --quiet.

A terminal is forced as rich allows it (TTY_COMPATIBLE=1, rich.console.Console.is_terminal);
the bar's frames are then in the captured stderr, done/total among them."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger.application import open_ledger
from tests.e2e.cli_story import Cli, funded, quang_nam

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "treasury-confirmations.csv"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def head(database: str) -> int:
    ledger = open_ledger(database)
    try:
        return ledger.head_position()
    finally:
        ledger.close()


# Each command: its arguments (given the test's directory) and the total its bar shows
# (given the database before it runs).
COMMANDS: dict[str, tuple[Callable[[Path], list[str]], Callable[[str], str]]] = {
    "import": (lambda _: ["import", str(SAMPLE)], lambda _: "/5 rows"),
    "export": (
        lambda where: ["export", "--format", "xlsx", "--output", str(where / "out.xlsx")],
        lambda database: f"/{head(database)} events",
    ),
    "verify": (lambda _: ["verify"], lambda database: f"/{3 * head(database)} events read"),
    "check": (lambda _: ["check"], lambda database: f"/{2 * head(database)} events read"),
    "rebuild": (lambda _: ["projections", "rebuild"], lambda database: f"/{head(database)} events"),
    "demo": (lambda _: ["demo"], lambda _: " steps"),
}


@pytest.fixture
def ledger(tmp_path: Path) -> str:
    """The worked example's holders, funded (SQLite: what is shown does not depend on the
    store)."""
    database = str(tmp_path / "ledger.sqlite3")
    funded(quang_nam(Cli(database).init()))
    return database


def run(database: str, args: list[str], terminal: bool) -> tuple[str, str]:
    """The command's stdout and stderr (ANSI codes removed), stderr a terminal or not."""
    env = {"TTY_COMPATIBLE": "1" if terminal else None, "FORCE_COLOR": None, "COLUMNS": "120"}
    result = Cli(database, CliRunner(env=env)).run(*args)
    return ANSI.sub("", result.stdout), ANSI.sub("", result.stderr)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_on_a_terminal_long_work_shows_a_bar_with_its_total(
    command: str, ledger: str, tmp_path: Path
) -> None:
    args, total = COMMANDS[command]
    database = str(tmp_path / "demo.sqlite3") if command == "demo" else ledger
    expected = total(database)
    out, err = run(database, args(tmp_path), terminal=True)
    assert expected in err, err[-500:]
    if command == "demo":  # the total is the demo's steps, known once it begins
        assert re.search(r"\b([0-9]+)/\1 steps", err), err[-500:]
    assert "━" in err and "%" in err
    assert expected not in out


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("how", ["quiet", "not-a-terminal"])
def test_quiet_or_not_on_a_terminal_no_bar_is_drawn(
    command: str, how: str, ledger: str, tmp_path: Path
) -> None:
    args, total = COMMANDS[command]
    database = str(tmp_path / "demo.sqlite3") if command == "demo" else ledger
    quiet = ["--quiet"] if how == "quiet" else []
    out, err = run(database, [*args(tmp_path), *quiet], terminal=how == "quiet")
    assert err == ""
    assert total(database) not in out
    assert out.strip()  # the command's own result is still printed


def test_an_export_shows_the_rows_it_writes_of_the_rows_it_has(ledger: str, tmp_path: Path) -> None:
    rows = len(Cli(ledger).json("history"))
    _, err = run(ledger, COMMANDS["export"][0](tmp_path), terminal=True)
    assert f"{rows}/{rows} rows" in err
