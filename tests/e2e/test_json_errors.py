"""With ``--format json`` a command's errors are JSON on stderr too, with the keys of the API's
problem bodies and the exit code the text would have had; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import click
import pytest
from click.testing import CliRunner

from cli import asks_json, main
from tests.e2e.cli_story import LINE, TY, Cli, funded, quang_nam


def commands_with_json(group: click.Group, words: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command line (as words) whose --format takes json."""
    found = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            found += commands_with_json(command, (*words, name))
            continue
        for param in command.params if command is not None else ():
            choices = getattr(param.type, "choices", ())
            if "--format" in getattr(param, "opts", ()) and "json" in choices:
                found.append((*words, name))
    return found


def error_of(stderr: str) -> dict[str, Any]:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    document: dict[str, Any] = json.loads(lines[0])["error"]
    return document


def test_the_command_line_is_read_for_format_json_as_written() -> None:
    assert asks_json(["balance", "--format", "json"])
    assert asks_json(["balance", "--format=json", "--as-of", "x"])
    assert not asks_json(["balance", "--format", "csv"])
    assert not asks_json(["serve", "--log-format", "json"])
    assert not asks_json(["balance", "--", "--format", "json"])


def test_every_command_with_format_json_tells_a_malformed_line_as_json() -> None:
    found = commands_with_json(main)
    assert {("balance",), ("history",), ("report", "progress"), ("disburse",)} <= set(found)
    runner = CliRunner()
    for words in found:
        text = runner.invoke(main, [*words, "--no-such-option"])
        asked = runner.invoke(main, [*words, "--format", "json", "--no-such-option"])
        assert asked.exit_code == text.exit_code == 2, (words, asked.output)
        assert asked.stdout == ""
        error = error_of(asked.stderr)
        assert error["rule"] == "usage" and error["exit_code"] == 2
        assert "--no-such-option" in error["detail"]


@pytest.fixture
def cli(database: str) -> Cli:
    return funded(quang_nam(Cli(database).init()))


def test_a_refusal_is_json_with_its_rule_and_field_and_nothing_is_recorded(cli: Cli) -> None:
    before = cli.history(holder="505")
    result = cli.run(
        "disburse", *LINE, "--holder", "505", "--amount", str(151 * TY), "--voucher", "KB 1",
        "--date", "01/03/2024", "--format", "json", expect=1,
    )  # fmt: skip
    assert result.stdout == ""
    error = error_of(result.stderr)
    assert error["rule"] == "available-never-negative"
    assert error["type"] == "/problems/available-never-negative"
    assert error["title"] == "Available amount would be negative"
    assert list(error["errors"]) == ["amount_vnd"]
    assert "Nothing was recorded" in error["detail"]
    assert error["exit_code"] == 1
    assert cli.history(holder="505") == before


def test_a_value_that_cannot_be_read_is_json_naming_the_option(cli: Cli) -> None:
    # The bad date comes before --format: the error is found before --format is read.
    result = cli.run(
        "report", "progress", "--holder", "49", "--as-of", "31/02/2024", "--format", "json",
        expect=2,
    )  # fmt: skip
    error = error_of(result.stderr)
    assert error["rule"] == "invalid-input"
    assert list(error["errors"]) == ["--as-of"]
    assert "dd/mm/yyyy" in error["errors"]["--as-of"][0]


def test_without_format_json_errors_stay_text(cli: Cli) -> None:
    result = cli.run("balance", "--as-of", "31/02/2024", expect=2)
    assert result.stderr.startswith("Error: Invalid value for '--as-of'")


def test_an_unreachable_database_is_json_with_exit_code_75() -> None:
    result = CliRunner().invoke(
        main,
        ["balance", "--format", "json", "--database", "postgresql://postgres@127.0.0.1:1/ledger"],
    )
    assert result.exit_code == 75, result.output
    error = error_of(result.stderr)
    assert error["rule"] == "unavailable"
    assert error["type"] == "/problems/unavailable"
    assert "cannot reach PostgreSQL at 127.0.0.1:1" in error["detail"]
