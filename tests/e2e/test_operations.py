"""What an operator on call reads: /metrics, against the real server (``budget-ledger serve``,
2 workers) and through the test client."""

from __future__ import annotations

import http.client
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from api import create_app
from cli import main
from ledger.application import open_ledger
from tests.e2e.test_server import connection_owners, served, workers_of
from tests.story import LINE, TY, record, register_tree

CONNECTIONS = 24  # all on one of 2 workers: a chance of 1 in 8 million
REQUESTS_PER_CONNECTION = 5


def cli(database: str, *args: str) -> str:
    result = CliRunner().invoke(main, [*args, "--database", database])
    assert result.exit_code == 0, result.output
    return result.output


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape by (name, sorted labels)."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def scrape(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        return samples(response.read().decode())


def total(found: dict[tuple[str, Any], float], name: str, **labels: str) -> float:
    """The sum of ``name`` over the samples carrying ``labels``."""
    return sum(
        value
        for (sample, sample_labels), value in found.items()
        if sample == name and set(labels.items()) <= set(sample_labels)
    )


def test_metrics_count_the_requests_of_every_worker(database: str, tmp_path: Path) -> None:
    """Each gunicorn worker counts in its own process; a scrape, answered by either worker,
    must sum them all."""
    cli(database, "init")
    with served(database, tmp_path / "server.log", workers=2) as (base, arbiter):
        port = int(base.rsplit(":", 1)[1])
        before = total(scrape(base), "budget_ledger_http_requests_total", endpoint="/health")
        connections = [http.client.HTTPConnection("127.0.0.1", port) for _ in range(CONNECTIONS)]
        try:
            for connection in connections:
                for _ in range(REQUESTS_PER_CONNECTION):
                    connection.request("GET", "/health")
                    answer = connection.getresponse()
                    answer.read()
                    assert answer.status == 200
            owners = connection_owners(port, workers_of(arbiter))
            assert len(owners) == 2, owners  # both workers served some of them
        finally:
            for connection in connections:
                connection.close()
        sent = CONNECTIONS * REQUESTS_PER_CONNECTION
        for _ in range(4):  # each scrape may be answered by either worker
            found = scrape(base)
            counted = total(found, "budget_ledger_http_requests_total", endpoint="/health")
            assert counted - before == sent
            observed = total(
                found, "budget_ledger_http_request_duration_seconds_count", endpoint="/health"
            )
            assert observed == counted


@pytest.fixture
def app(database: str) -> Iterator[tuple[Flask, str]]:
    """The API on a ledger with a funded line, and an admin token."""
    cli(database, "init")
    ledger = open_ledger(database)
    register_tree(ledger)
    record(ledger, "adjust", "fund", date(2024, 1, 2), LINE, amount_vnd=500 * TY)
    token = cli(database, "tokens", "create", "--name", "so-tai-chinh", "--role", "admin")
    app = create_app(ledger=ledger)
    yield app, token.strip().splitlines()[-1]
    app.extensions["budget_ledger"].close()


def test_metrics_name_endpoints_refusals_the_head_and_the_read_model_lag(
    app: tuple[Flask, str], database: str
) -> None:
    flask_app, token = app
    client = flask_app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    # The CLI records behind the server's back: its read model trails the log until a read.
    cli(database, "disburse", "--program", "GNBV", "--kind", "DTPT", "--source", "NSTW",
        "--year", "2024", "--holder", "TW", "--amount", "1000", "--voucher", "KB 1",
        "--date", "2024-02-01", "--id", "cli-1")  # fmt: skip
    found = samples(client.get("/metrics").get_data(as_text=True))
    head = found[("budget_ledger_log_head_position", ())]
    assert head == open_ledger(database).head_position() > 0
    assert found[("budget_ledger_read_model_lag_positions", ())] > 0

    assert client.get("/movements/cli-1", headers=bearer).status_code == 200
    assert client.get("/movements/nope", headers=bearer).status_code == 404
    assert client.get("/movements/cli-1").status_code == 401
    assert client.get("/no/such/path", headers=bearer).status_code == 404
    assert client.open("/health", method="BREW").status_code == 405
    overdraw = {
        "program": "GNBV", "kind": "DTPT", "source": "NSTW", "year": 2024, "holder": "TW",
        "amount_vnd": 600 * TY, "voucher": "KB 2", "effective_date": "2024-03-01",
        "movement_id": "too-much",
    }  # fmt: skip
    assert client.post("/disbursements", json=overdraw, headers=bearer).status_code == 409
    assert client.get("/balances?holder=TW", headers=bearer).status_code == 200  # catches up

    found = samples(client.get("/metrics").get_data(as_text=True))
    movement = "/movements/<string:movement_id>"  # the route's template, not the raw path
    requests = "budget_ledger_http_requests_total"
    assert total(found, requests, endpoint=movement, method="GET", status="200") == 1
    assert total(found, requests, endpoint=movement, method="GET", status="404") == 1
    assert total(found, requests, endpoint=movement, method="GET", status="401") == 1
    assert total(found, requests, endpoint="unmatched", status="404") == 1
    assert total(found, requests, endpoint="/disbursements", status="409") == 1
    assert total(found, requests, endpoint="unmatched", method="other", status="405") == 1
    assert not [labels for _, labels in found if "nope" in str(labels) or "BREW" in str(labels)]
    assert total(found, "budget_ledger_http_request_duration_seconds_count", endpoint=movement) == 3
    refusals = {
        dict(labels)["rule"]: value
        for (name, labels), value in found.items()
        if name == "budget_ledger_refusals_total"
    }
    assert refusals == {
        "not-found": 2,
        "method-not-allowed": 1,
        "unauthenticated": 1,
        "available-never-negative": 1,
    }, refusals
    # The balance read caught the read model up; the refused write recorded nothing.
    assert found[("budget_ledger_log_head_position", ())] == head
    assert found[("budget_ledger_read_model_lag_positions", ())] == 0
