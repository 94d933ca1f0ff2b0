"""A ledger written before issue 13's refactor opens, verifies and answers as it did.

``tests/data/ledger-before-issue-13.sql`` is a SQLite ledger made by the code of commit
d62c919 (how: ``tests/data/make_ledger_before_issue_13.py``): every movement kind, an import,
a read-model rebuild, tokens. ``tests/data/before-issue-13/`` holds what that code answered.
Later code must read the same events, the same chain and the same token table, answer the same
(with the names added since: ``ADDED``), and chain a new movement onto the old head; a
succession (issue 14) recorded on it must check, verify and rebuild.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from api import create_app
from ledger.application import open_ledger
from ledger.domain.movements import Succeed
from tests.e2e.cli_story import Cli

DATA = Path(__file__).resolve().parents[1] / "data"
DUMP = DATA / "ledger-before-issue-13.sql"
ANSWERS = DATA / "before-issue-13"


def answered(name: str) -> Any:
    """What the code before issue 13 answered, kept as ``before-issue-13/<name>.json``."""
    return json.loads((ANSWERS / f"{name}.json").read_text(encoding="utf-8"))


# What answers gained since (issue 14): names may be added, never changed or taken away. On a
# ledger without successions the new figures are 0, a holder registered before dates were
# kept has none, and each history row says what it did to its line.
ADDED = {"passed_on_vnd": 0, "received_vnd": 0, "since": None}
# What issue 17 added to the lists' bodies: the next page's address, none after one page.
ADDED["next"] = None
ADDED_SHAPES: dict[str, Any] = {"changes": dict, "movement_action": str}
# What issue 15 added to the progress report's rows (the old keys answer as before).
ADDED_SHAPES.update(
    dict.fromkeys(
        [
            "row_kind", "path", "stt", "code", "name", "plan_central_vnd",
            "disbursed_central_vnd", "rate_central_pct", "unspent_vnd", "proposed_extension_vnd",
            "proposed_lapse_vnd", "plan_assigned_vnd", "plan_allocated_vnd", "allocated_pct",
            "allocated_all_count", "units_count", "plan_current_central_vnd", "counterpart_vnd",
            "counterpart_pct", "counterpart_required_vnd", "counterpart_short",
            # GET /reports/progress's body around the rows
            "plan", "period", "target_pct", "average_pct", "references", "title", "columns",
            "notes",
        ],
        (int, float, bool, str, list, type(None)),
    )
)  # fmt: skip
# What issue 18 added to every body with metadata: the log position the answer reflects.
ADDED_SHAPES["position"] = int


def differences(now: Any, before: Any, where: str = "") -> list[str]:
    """Where ``now`` does not answer what ``before`` did (names ADDED since aside)."""
    if isinstance(before, dict) and isinstance(now, dict):
        found = []
        for name in now.keys() - before.keys():
            if name in ADDED_SHAPES and isinstance(now[name], ADDED_SHAPES[name]):
                continue
            if name not in ADDED or now[name] != ADDED[name]:
                found.append(f"{where}.{name}: added as {now[name]!r}")
        for name in before:
            if name not in now:
                found.append(f"{where}.{name}: gone")
            else:
                found += differences(now[name], before[name], f"{where}.{name}")
        return found
    if isinstance(before, list) and isinstance(now, list):
        if len(now) != len(before):
            return [f"{where}: {len(now)} items, not {len(before)}"]
        return [
            d
            for i, (n, b) in enumerate(zip(now, before, strict=True))
            for d in differences(n, b, f"{where}[{i}]")
        ]
    return [] if now == before else [f"{where}: {now!r}, not {before!r}"]


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
    # Its read models as the old code left them (generation 2, layout 4, at the head): the
    # layout changed since (issue 14 added two figures), so the first read builds generation
    # 3 from the events; then rebuilt again on demand: both give the old answers.
    if rebuilt:
        old_ledger.run("projections", "rebuild")

    for name, args in answered("questions").items():
        assert differences(json.loads(old_ledger.out(*args)), answered(name)) == [], name
    # The old tables (generation 2) had layout 4: opening them with layout 5 (issue 14's
    # succession figures) built generation 3 from the log; a rebuild makes generation 4.
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
            assert differences(response.get_json(), answered(name)) == [], name
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


def test_the_old_ledger_holds_the_built_in_programs_without_having_recorded_them(
    old_ledger: Cli,
) -> None:
    """Made before programs were data, it records no registration: the three built-in
    programs are its programs (valid up to 2025, no actor), its lines go on, and the merged
    program is registered on it like on any other."""
    programs = old_ledger.json("programs", "list")
    assert [(p["code"], p["to_year"], p["actor"]) for p in programs] == [
        ("DTTS", 2025, None),
        ("GNBV", 2025, None),
        ("NTM", 2025, None),
    ]
    ntm_2026 = ("--program", "NTM", "--kind", "DTPT", "--source", "NSTW", "--year", "2026")
    refused = old_ledger.adjust("TW", 5, decision="Q", date="2026-01-05", line=ntm_2026, expect=1)
    assert "program NTM is valid for plan years up to 2025" in refused.output
    assert old_ledger.out("digest").strip() == answered("digest")  # nothing was recorded

    old_ledger.run(
        "programs", "add", "MTQG2635", "Chương trình MTQG giai đoạn 2026-2035",
        "--from-year", "2026", "--to-year", "2035", "--decision", "NQ 257/2025/QH15",
    )  # fmt: skip
    merged_2026 = ("--program", "MTQG2635", *ntm_2026[2:])
    old_ledger.adjust("TW", 5, decision="Q", date="2026-01-05", line=merged_2026)
    assert [p["code"] for p in old_ledger.json("programs", "list")] == [
        "DTTS",
        "GNBV",
        "MTQG2635",
        "NTM",
    ]
    old_ledger.run("verify", "--against", answered("digest"))
    old_ledger.check()


def test_a_succession_recorded_on_the_old_ledger_checks_verifies_and_rebuilds(
    old_ledger: Cli,
) -> None:
    head = answered("digest")
    ended_on = date(2025, 7, 1)

    def by_line(day: date) -> dict[tuple[Any, ...], dict[str, Any]]:
        return {
            (row["program"], row["kind"], row["source"], row["year"], row["holder"]): row
            for row in old_ledger.balance(as_of=day.isoformat())
        }

    before = by_line(ended_on - timedelta(days=1))
    passing = {key: row for key, row in before.items() if key[4] == "504"}
    assert passing and any(row["available_vnd"] for row in passing.values())
    ledger = open_ledger(old_ledger.database)
    try:
        # Holders registered before they had a life (Holder.Registered v1) end and succeed.
        ledger.record(
            Succeed(
                movement_id="s-504",
                effective_date=ended_on,
                from_holders=("504",),
                to_holder="505",
                decision="NQ 1/2025/UBTVQH15",
            ),
            actor="tester",
        )
    finally:
        ledger.close()

    old_ledger.run("verify", "--against", head)  # the old prefix is still there, unchanged
    old_ledger.check()
    after = by_line(ended_on)
    for key, row in passing.items():
        successor = (*key[:4], "505")
        assert after[key]["available_vnd"] == 0
        assert after[key]["passed_on_vnd"] == row["available_vnd"]
        kept = before[successor]["available_vnd"] if successor in before else 0
        assert after[successor]["available_vnd"] == kept + row["available_vnd"]
        assert after[successor]["received_vnd"] == row["available_vnd"]
    rows = [entry for entry in old_ledger.history(holder="504") if entry["movement_id"] == "s-504"]
    assert {entry["effective_date"] for entry in rows} == {"2025-07-01"}
    assert sum(entry["changes"]["passed_on_vnd"] for entry in rows) == sum(
        row["available_vnd"] for row in passing.values()
    )
    assert all(entry["available_after_vnd"] == 0 for entry in rows)
    old_ledger.run("projections", "rebuild")
    assert by_line(ended_on) == after
