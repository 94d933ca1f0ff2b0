"""A file or a database the command cannot use is one line saying what and where, never a
traceback: an import file that is missing, a directory or unreadable; a --database that is
a directory, not SQLite, unreadable, or a PostgreSQL server that does not answer."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli import main
from tests.e2e.cli_story import Cli

AS_ROOT = os.geteuid() == 0


def one_line(result: Result) -> str:
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


@pytest.fixture
def ledger(tmp_path: Path) -> Cli:
    return Cli(str(tmp_path / "ledger.sqlite3")).init()


def test_an_import_file_that_is_missing_or_a_directory_is_named(
    ledger: Cli, tmp_path: Path
) -> None:
    missing = one_line(ledger.run("import", str(tmp_path / "khong-co.csv"), expect=2))
    assert "khong-co.csv" in missing and "does not exist" in missing
    directory = one_line(ledger.run("import", str(tmp_path), expect=2))
    assert str(tmp_path) in directory and "directory" in directory


def test_a_list_of_successors_that_is_missing_is_named(ledger: Cli, tmp_path: Path) -> None:
    words = ["units", "reorganise", str(tmp_path / "ds.csv"), "--date", "1/7/2025",
             "--decision", "NQ 1"]  # fmt: skip
    line = one_line(ledger.run(*words, expect=2))
    assert "ds.csv" in line and "does not exist" in line


@pytest.mark.skipif(AS_ROOT, reason="root reads every file")
def test_an_import_file_that_cannot_be_read_is_named(ledger: Cli, tmp_path: Path) -> None:
    locked = tmp_path / "khoa.csv"
    locked.write_text("effective_date\n")
    locked.chmod(0)
    line = one_line(ledger.run("import", str(locked), expect=2))
    assert "khoa.csv" in line and "not readable" in line


def test_a_directory_given_as_the_database_is_named(tmp_path: Path) -> None:
    for command in (["balance"], ["init"]):
        line = one_line(Cli(str(tmp_path)).run(*command, expect=1))
        assert f"{tmp_path} is a directory" in line
        assert "budget-ledger init" not in line  # init cannot make a ledger of a directory


def test_the_ledger_s_own_export_given_as_the_database_is_refused(
    ledger: Cli, tmp_path: Path
) -> None:
    workbook = tmp_path / "so-cai.xlsx"
    ledger.run("export", "--what", "movements", "--format", "xlsx", "--output", str(workbook))
    before = workbook.read_bytes()
    line = one_line(Cli(str(workbook)).run("balance", expect=1))
    assert f"{workbook} is not a ledger" in line and "SQLite" in line
    assert "budget-ledger init" not in line  # never an invitation to init over a spreadsheet
    assert workbook.read_bytes() == before


@pytest.mark.skipif(AS_ROOT, reason="root reads every file")
def test_a_database_file_that_cannot_be_read_is_named(ledger: Cli) -> None:
    Path(ledger.database).chmod(0)
    line = one_line(ledger.run("balance", expect=1))
    assert ledger.database in line and "permission denied" in line


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # nothing listens on it once the probe is closed


@pytest.mark.parametrize("command", [["balance"], ["history", "--format", "json"], ["init"]])
def test_an_unreachable_postgresql_is_named_by_host_and_port(command: list[str]) -> None:
    port = free_port()
    url = f"postgresql://postgres@127.0.0.1:{port}/ledger"
    result = CliRunner().invoke(main, [*command, "--database", url])
    assert result.exit_code == 75, result.output
    said = one_line(result)
    assert f"cannot reach PostgreSQL at 127.0.0.1:{port}: connection refused" in said
    assert "is the server running?" in said


def test_a_write_to_an_unreachable_postgresql_names_the_id_to_send_again() -> None:
    port = free_port()
    url = f"postgresql://postgres@localhost:{port}/ledger"
    result = CliRunner().invoke(
        main,
        ["disburse", "--program", "GNBV", "--kind", "DTPT", "--source", "NSTW", "--year", "2024",
         "--holder", "505", "--amount", "1000", "--voucher", "KB 1", "--database", url],
    )  # fmt: skip
    assert result.exit_code == 75, result.output
    said = one_line(result)
    assert f"cannot reach PostgreSQL at localhost:{port}" in said
