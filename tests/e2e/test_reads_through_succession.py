"""Reading across the reorganisation from the command line and the API: Quảng Nam (49) ends
into Đà Nẵng (48) on 1/7/2025; 2024 read as the tree stood and restated under the new map."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from api import create_app
from api.services import Services
from ledger.application import open_ledger
from ledger.domain.movements import Succeed
from tests.e2e.cli_story import TY, Cli, funded, quang_nam

END_2024, AFTER = "2024-12-31", "2025-08-01"


@pytest.fixture
def merged(database: str) -> Cli:
    cli = funded(quang_nam(Cli(database).init()))
    cli.unit("48", "Thành phố Đà Nẵng", "province", parent="TW")
    cli.allocate("TW", "48", 50 * TY, decision="QĐ 1", date="2024-01-05")
    cli.disburse("48", 20 * TY, voucher="KB 1", date="2024-03-01")
    cli.disburse("505", 60 * TY, voucher="KB 2", date="2024-03-01")
    # The succession itself is recorded as the edges' `units succeed` will: here through the
    # ledger, the reads being what this file tries.
    ledger = open_ledger(database)
    try:
        ledger.record(
            Succeed(
                movement_id="s-48",
                effective_date=date(2025, 7, 1),
                from_holders=("49",),
                to_holder="48",
                decision="NQ 202/2025/QH15",
            ),
            actor="sotaichinh",
        )
    finally:
        ledger.close()
    return cli


def totals(rows: list[dict[str, Any]]) -> tuple[int, ...]:
    names = ("assigned_vnd", "disbursed_vnd", "passed_on_vnd", "received_vnd", "available_vnd")
    return tuple(sum(row[name] for row in rows) // TY for name in names)


def test_balance_reads_a_subtree_as_it_stood_or_restated(merged: Cli) -> None:
    stood = merged.balance(holder="48", subtree=True, as_of=END_2024)
    assert totals(stood) == (50, 20, 0, 0, 30)
    restated = merged.balance(holder="48", subtree=True, as_of=END_2024, restated=True)
    assert totals(restated) == (450, 80, 0, 0, 370)
    assert totals(merged.balance(holder="48", subtree=True, as_of=AFTER)) == (450, 80, 0, 0, 370)
    # The province that ended: its line holds nothing from D, its successor's received it.
    [ended] = merged.balance(holder="49", as_of=AFTER)
    assert (ended["available_vnd"], ended["passed_on_vnd"]) == (0, 150 * TY)
    [successor] = merged.balance(holder="48", as_of=AFTER)
    assert (successor["received_vnd"], successor["available_vnd"]) == (150 * TY, 180 * TY)
    assert "OK" in merged.check()


def test_progress_compares_2024_with_2025_under_the_new_map(merged: Cli) -> None:
    def plans(**more: Any) -> dict[str, tuple[int, int]]:
        rows = merged.progress(holder="TW", **more)
        return {row["holder"]: (row["plan_vnd"] // TY, row["disbursed_vnd"] // TY) for row in rows}

    assert plans(as_of=END_2024) == {
        "TW": (50, 0),
        "48": (50, 20),
        "49": (400, 60),
        "TOTAL": (500, 80),
    }
    assert plans(as_of=END_2024, restated=True) == {
        "TW": (50, 0),
        "48": (450, 80),
        "TOTAL": (500, 80),
    }
    table = merged.out("report", "progress", "--holder", "TW", "--as-of", END_2024, "--restated")
    assert "theo địa giới hiện nay" in table


def test_restated_without_a_subtree_is_refused_in_one_line(merged: Cli) -> None:
    refused = merged.run("balance", "--holder", "48", "--restated", expect=2)
    assert "give --holder and --subtree" in refused.output
    assert "Traceback" not in refused.output


def test_the_api_reads_restated_too(merged: Cli, services: Services) -> None:
    # ``services`` opens the same database (the ``database`` fixture) as the CLI wrote.
    secret = services.tokens().create("auditor", "viewer", None)[1]
    app = create_app(services=services)
    app.config["TESTING"] = True
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    query = {"holder": "48", "subtree": "true", "as_of": END_2024}
    stood = client.get("/balances", query_string=query, headers=headers)
    assert stood.status_code == 200, stood.get_json()
    assert totals(stood.get_json()["balances"]) == (50, 20, 0, 0, 30)
    restated = client.get("/balances", query_string={**query, "restated": "true"}, headers=headers)
    assert totals(restated.get_json()["balances"]) == (450, 80, 0, 0, 370)
    report = client.get(
        "/reports/progress",
        query_string={"holder": "TW", "as_of": END_2024, "restated": "true"},
        headers=headers,
    )
    rows = {row["holder"]: row["plan_vnd"] // TY for row in report.get_json()["rows"]}
    assert rows == {"TW": 50, "48": 450, "TOTAL": 500}
    refused = client.get("/balances", query_string={**query, "restated": "maybe"}, headers=headers)
    assert refused.status_code == 422
    lines_only = {"holder": "48", "restated": "true"}
    refused = client.get("/balances", query_string=lines_only, headers=headers)
    assert refused.status_code == 422
    assert "give holder and subtree=true" in refused.get_json()["detail"]
