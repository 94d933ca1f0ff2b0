"""A ledger written before issue 13's refactor opens, verifies and answers as it did.

``tests/data/ledger-before-issue-13.sql`` is a SQLite ledger made by the code of commit
d62c919 (how: ``tests/data/make_ledger_before_issue_13.py``): every movement kind, an import,
a read-model rebuild, tokens. ``tests/data/before-issue-13/`` holds what that code answered.
Later code must read the same events, the same chain, the same read-model tables and the same
token table, answer the same, and chain a new movement onto the old head.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from api import create_app
from cli import main

DATA = Path(__file__).resolve().parents[1] / "data"
DUMP = DATA / "ledger-before-issue-13.sql"
ANSWERS = DATA / "before-issue-13"


def answered(name: str) -> Any:
    """What the code before issue 13 answered, kept as ``before-issue-13/<name>.json``."""
    return json.loads((ANSWERS / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def old_ledger(tmp_path: Path) -> str:
    """The old ledger loaded from its dump into a fresh SQLite file."""
    path = tmp_path / "ledger.sqlite3"
    connection = sqlite3.connect(path)
    try:
        connection.executescript(DUMP.read_text(encoding="utf-8"))
    finally:
        connection.close()
    return str(path)


def run(database: str, *args: str) -> Result:
    result = CliRunner().invoke(main, [*args, "--database", database], catch_exceptions=False)
    assert result.exit_code == 0, (args, result.output)
    return result


def test_the_old_ledger_verifies_against_the_digest_it_printed(old_ledger: str) -> None:
    head = answered("digest")
    assert head.startswith("55:")

    verified = run(old_ledger, "verify", "--against", head)

    assert head.split(":")[1] in verified.output
    assert run(old_ledger, "digest").output.strip() == head
    run(old_ledger, "check")


@pytest.mark.parametrize("rebuilt", [False, True], ids=["old-read-models", "rebuilt"])
def test_the_old_ledger_answers_as_it_did(old_ledger: str, rebuilt: bool) -> None:
    # Its read models as the old code left them (generation 2, at the head), then rebuilt by
    # this code from the events alone: both give the old answers.
    if rebuilt:
        run(old_ledger, "projections", "rebuild")

    for name, args in answered("questions").items():
        assert json.loads(run(old_ledger, *args).output) == answered(name), name

    # The token made by the old code still opens the API, which answers as it did.
    headers = {"Authorization": f"Bearer {answered('viewer-token')}"}
    app = create_app(old_ledger)
    try:
        client = app.test_client()
        for name, path in answered("api-questions").items():
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.get_json())
            assert response.get_json() == answered(name), name
    finally:
        app.extensions["budget_ledger"].close()


def test_a_movement_recorded_on_the_old_ledger_chains_on(old_ledger: str) -> None:
    head = answered("digest")
    before = answered("api-balances-504")["balances"][0]

    run(
        old_ledger,
        "disburse",
        *("--program", "GNBV", "--kind", "DTPT", "--source", "NSTW", "--year", "2024"),
        *("--holder", "504", "--amount", "7.000.000.000", "--voucher", "KB 0301"),
        *("--date", "2025-03-03", "--id", "pay-504-2"),
    )

    new_head = run(old_ledger, "digest").output.strip()
    assert new_head.startswith("57:")  # the line's posting and the journal entry
    run(old_ledger, "verify", "--against", head)  # the old prefix is still there, unchanged
    run(old_ledger, "verify", "--against", new_head)
    run(old_ledger, "check")
    after = json.loads(
        run(
            old_ledger, "balance", "--holder", "504", "--as-of", "2025-03-31", "--format", "json"
        ).output
    )[0]
    assert after["disbursed_vnd"] == before["disbursed_vnd"] + 7 * 10**9
    assert after["available_vnd"] == before["available_vnd"] - 7 * 10**9
    history = json.loads(run(old_ledger, "history", "--holder", "504", "--format", "json").output)
    assert history[-1]["movement_id"] == "pay-504-2"
    assert history[-1]["position"] > 55
