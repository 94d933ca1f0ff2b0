"""The tour in README.md works as written, on both stores."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

from api import create_app
from tests.e2e.cli_story import Cli

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
    cli = Cli(database)
    commands = tour_commands()
    assert len(commands) > 15
    for args in commands:
        cli.run(*args)
    rows = cli.balance(holder="504")
    assert rows[0]["deadline"] == "2025-12-31"
    assert rows[0]["available_vnd"] == rows[0]["extended_vnd"] == 150 * 10**9


def api_requests() -> list[tuple[str, str, dict[str, Any] | None]]:
    """(method, path, JSON body) of each curl in the README's HTTP API section."""
    text = README.read_text(encoding="utf-8")
    block = text.split("## The HTTP API", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    found = []
    for raw in block.splitlines():
        if not raw.startswith("curl "):
            continue
        words = shlex.split(raw)
        url = next(word for word in words if word.startswith("http://"))
        path = url.split("8080", 1)[1]
        body = json.loads(words[words.index("-d") + 1]) if "-d" in words else None
        found.append(("POST" if "-X" in words else "GET", path, body))
    return found


def test_the_readme_api_example_works(database: str) -> None:
    cli = Cli(database)
    for args in tour_commands():
        cli.run(*args, expect=None)
    token = cli.token("so-tai-chinh", "admin").output.strip().splitlines()[-1]
    requests = api_requests()
    assert len(requests) >= 4
    app = create_app(database)
    client = app.test_client()
    try:
        for method, path, body in requests:
            response = client.open(
                path, method=method, json=body, headers={"Authorization": f"Bearer {token}"}
            )
            assert response.status_code in (200, 201), (path, response.get_json())
        rows = client.get(
            "/balances?holder=504&as_of=2025-03-31", headers={"Authorization": f"Bearer {token}"}
        ).get_json()["balances"]
        assert rows[0]["disbursed_vnd"] == 5 * 10**9
    finally:
        app.extensions["budget_ledger"].close()


def test_the_readme_registers_the_merged_program_as_written(database: str) -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Programs, and the merged program of 2026-2035", 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    commands = [
        shlex.split(raw.split("  #", 1)[0])[1:]
        for raw in block.splitlines()
        if raw.startswith("budget-ledger ")
    ]
    assert [words[:2] for words in commands] == [
        ["programs", "add"],
        ["programs", "list"],
        ["adjust", "--program"],
    ]
    cli = Cli(database).init()
    cli.unit("TW", "Trung ương", "central")
    for args in commands:
        cli.run(*args)
    (row,) = cli.balance(program="MTQG2635")
    assert (row["year"], row["available_vnd"]) == (2026, 70 * 10**9)
    ntm = ["--program", "NTM", *commands[2][3:]]  # the same line, on NTM
    refused = cli.run("adjust", *ntm, expect=1)
    assert "refused (program-not-valid): program: program NTM is valid for plan years up to " in (
        refused.output
    )
    assert "for 2026 the valid programs are: MTQG2635 (Chương trình MTQG " in refused.output
