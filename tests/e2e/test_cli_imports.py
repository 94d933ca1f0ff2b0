"""A command imports what it needs when it runs: ``--help`` loads no part of the ledger, and
a balance or a history on a SQLite file loads neither the web application (Flask, jinja2,
marshmallow) nor psycopg, nor the workbook and password libraries; a balance that the read
models answer (up to date with the log) loads neither the library's application nor the
domain's event classes (decisions §28). Structural, not timed: bench/cli.py measures the
time (a command's import of the rest is most of it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import cli
from tests.e2e.cli_story import TY, Cli, funded, quang_nam

ROOT = Path(cli.__file__).resolve().parents[1]
# Runs the command line in a fresh interpreter, then prints the modules it loaded.
PROBE = """
import json, sys
from cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""
NOT_FOR_A_READ = (
    "flask",
    "flask_smorest",
    "werkzeug",
    "jinja2",
    "marshmallow",
    "psycopg",
    "psycopg_pool",
    "eventsourcing.postgres",
    "openpyxl",
    "ledger.interchange.report_files",  # the workbooks and the PDF
    "rich.progress",  # a bar shows only on a terminal
    "argon2",
    "gunicorn",
    "api.app",
)
NOT_FOR_HELP = (*NOT_FOR_A_READ, "rich", "api", "ledger", "projections", "eventsourcing")
# What a read of up-to-date read models does without: the library's application and event
# machinery, the domain's aggregates and their events, and the read models' writer.
NOT_WHEN_CURRENT = (
    "eventsourcing",
    "eventsourcing.application",
    "eventsourcing.domain",
    "eventsourcing.persistence",
    "ledger.application",
    "ledger.domain.holders",
    "ledger.domain.lines",
    "ledger.domain.movements",
    "ledger.domain.programs",
    "projections.balances.writer",
)
BALANCE = ("balance", "--holder", "49", "--subtree", "--as-of", "2024-09-17")


def loaded_by(*args: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stderr
    modules: set[str] = set(json.loads(result.stderr.splitlines()[-1]))
    return modules


def test_help_loads_click_and_the_table_of_commands_only() -> None:
    loaded = loaded_by("--help")
    assert "click" in loaded
    assert loaded.isdisjoint(NOT_FOR_HELP), sorted(loaded & set(NOT_FOR_HELP))


@pytest.mark.parametrize(
    "read",
    [BALANCE, ("history", "--holder", "505")],
)
def test_a_read_on_a_sqlite_file_loads_no_web_application_nor_psycopg(
    tmp_path: Path, read: tuple[str, ...]
) -> None:
    database = str(tmp_path / "ledger.sqlite3")
    funded(quang_nam(Cli(database).init()))
    loaded = loaded_by(*read, "--database", database)
    assert "projections.queries" in loaded  # it did read the ledger
    assert loaded.isdisjoint(NOT_FOR_A_READ), sorted(loaded & set(NOT_FOR_A_READ))


def test_a_balance_of_up_to_date_read_models_loads_neither_the_application_nor_the_domain(
    tmp_path: Path,
) -> None:
    database = str(tmp_path / "ledger.sqlite3")
    cli = funded(quang_nam(Cli(database).init()))
    cli.balance()  # brings the read models up to the log's head
    loaded = loaded_by(*BALANCE, "--database", database)
    assert "projections.queries" in loaded
    assert loaded.isdisjoint(NOT_WHEN_CURRENT), sorted(loaded & set(NOT_WHEN_CURRENT))
    # Behind the log, the same command catches up first, with what that needs.
    cli.disburse("505", 1 * TY, voucher="UNC 1", date="2024-02-01")
    loaded = loaded_by(*BALANCE, "--database", database)
    assert {"ledger.application", "projections.balances.writer"} <= loaded
    assert loaded.isdisjoint(NOT_FOR_A_READ), sorted(loaded & set(NOT_FOR_A_READ))
