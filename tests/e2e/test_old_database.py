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

from api import create_app
from tests.e2e.cli_story import Cli

DATA = Path(__file__).resolve().parents[1] / "data"
DUMP = DATA / "ledger-before-issue-13.sql"
ANSWERS = DATA / "before-issue-13"


# What later code added to the answers (issue 14): the passed-on and received figures of a
# line, 0 on the old ledger, which had no successions; and a registration's ``since``
# (Holder.Registered v2), None in the audit feed's upcast old events. The rest of each answer
# is as it was.
ADDED = {"passed_on_vnd": 0, "received_vnd": 0, "since": None}


def answered(name: str) -> Any:
    """What the code before issue 13 answered, kept as ``before-issue-13/<name>.json``."""
    return json.loads((ANSWERS / f"{name}.json").read_text(encoding="utf-8"))


def as_before(answer: Any) -> Any:
    """``answer`` without what was added since (each with its value on an old ledger)."""
    if isinstance(answer, list):
        return [as_before(item) for item in answer]
    if isinstance(answer, dict):
        for name, value in ADDED.items():
            assert answer.get(name, value) == value, (name, answer)
        return {key: as_before(item) for key, item in answer.items() if key not in ADDED}
    return answer


@pytest.fixture
def old_ledger(tmp_path: Path) -> Cli:
    """The old ledger loaded from its dump into a fresh SQLite file."""
    path = tmp_path / "ledger.sqlite3"
    connection = sqlite3.connect(path)
    try:
        connection.executescript(DUMP.read_text(encoding="utf-8"))
    finally:
        connection.close()
    return Cli(str(path))


def test_the_old_ledger_verifies_against_the_digest_it_printed(old_ledger: Cli) -> None:
    head = answered("digest")
    assert head.startswith("55:")

    verified = old_ledger.out("verify", "--against", head)

    assert head.split(":")[1] in verified
    assert old_ledger.out("digest").strip() == head
    old_ledger.check()


@pytest.mark.parametrize("rebuilt", [False, True], ids=["old-read-models", "rebuilt"])
def test_the_old_ledger_answers_as_it_did(old_ledger: Cli, rebuilt: bool) -> None:
    # Its read models as the old code left them (generation 2, at the head), then rebuilt by
    # this code from the events alone: both give the old answers.
    if rebuilt:
        old_ledger.run("projections", "rebuild")

    for name, args in answered("questions").items():
        assert as_before(json.loads(old_ledger.out(*args))) == answered(name), name
    # The old tables (generation 2) had an older layout than issue 14's (holders' lives,
    # passed-on and received figures): opened, they were started over from the events as
    # generation 3 (and a rebuild made 4), at the same head.
    status = json.loads(old_ledger.out("projections", "status", "--format", "json"))
    generation = 4 if rebuilt else 3
    assert [(s["generation"], s["state"], s["position"]) for s in status] == [
        (generation, "active", 55)
    ]

    # The token made by the old code still opens the API, which answers as it did.
    headers = {"Authorization": f"Bearer {answered('viewer-token')}"}
    app = create_app(old_ledger.database)
    try:
        client = app.test_client()
        for name, path in answered("api-questions").items():
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.get_json())
            assert as_before(response.get_json()) == answered(name), name
    finally:
        app.extensions["budget_ledger"].close()


def test_a_movement_recorded_on_the_old_ledger_chains_on(old_ledger: Cli) -> None:
    head = answered("digest")
    before = answered("api-balances-504")["balances"][0]

    old_ledger.disburse(
        "504", "7.000.000.000", voucher="KB 0301", date="2025-03-03", id="pay-504-2"
    )

    new_head = old_ledger.out("digest").strip()
    assert new_head.startswith("57:")  # the line's posting and the journal entry
    old_ledger.run("verify", "--against", head)  # the old prefix is still there, unchanged
    old_ledger.run("verify", "--against", new_head)
    old_ledger.check()
    (after,) = old_ledger.balance(holder="504", as_of="2025-03-31")
    assert after["disbursed_vnd"] == before["disbursed_vnd"] + 7 * 10**9
    assert after["available_vnd"] == before["available_vnd"] - 7 * 10**9
    history = old_ledger.history(holder="504")
    assert history[-1]["movement_id"] == "pay-504-2"
    assert history[-1]["position"] > 55
