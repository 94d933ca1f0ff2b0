"""The tour in README.md works as written, on both stores."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from click.testing import CliRunner

from cli import main

README = Path(__file__).resolve().parents[2] / "README.md"


def tour_commands() -> list[list[str]]:
    text = README.read_text(encoding="utf-8")
    block = text.split("## A short tour", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    line_options = re.search(r'^L="(.*)"$', block, re.MULTILINE)
    assert line_options is not None
    commands = []
    for raw in block.splitlines():
        command = raw.split("  #", 1)[0].strip()
        if not command.startswith("budget-ledger "):
            continue
        words = shlex.split(command.replace("$L", line_options.group(1)))
        commands.append(words[1:])
    return commands


def test_the_readme_tour_runs_and_checks_out(database: str) -> None:
    runner = CliRunner()
    commands = tour_commands()
    assert len(commands) > 15
    for args in commands:
        result = runner.invoke(main, [*args, "--database", database], catch_exceptions=False)
        assert result.exit_code == 0, (args, result.output)
    rows = json.loads(
        runner.invoke(
            main, ["balance", "--holder", "504", "--format", "json", "--database", database]
        ).output
    )
    assert rows[0]["deadline"] == "2025-12-31"
    assert rows[0]["available_vnd"] == rows[0]["extended_vnd"] == 150 * 10**9
