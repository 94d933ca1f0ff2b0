"""What an operator on call reads: /metrics, the server's logs as JSON, and where it listens,
against the real server (``budget-ledger serve``, 2 workers) and through the test client."""

from __future__ import annotations

import http.client
import io
import json
import logging
import re
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from api import create_app
from api.logs import JsonFormatter
from api.services import bootstrap
from ledger.application import open_ledger
from tests.e2e.cli_story import Cli
from tests.e2e.test_server import call, connection_owners, served, workers_of
from tests.story import LINE, TY, record, register_tree

CONNECTIONS = 24  # all on one of 2 workers: a chance of 1 in 8 million
REQUESTS_PER_CONNECTION = 5


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


def test_the_server_says_once_where_it_listens(database: str, tmp_path: Path) -> None:
    Cli(database).init()
    log = tmp_path / "server.log"
    with served(database, log) as (base, _):
        pass
    output = log.read_text()
    said = re.findall(r"listening on (\S+)$", output, re.MULTILINE)
    assert said == [base], output
    # gunicorn's own line names no address when the workers bind the port (SO_REUSEPORT).
    assert "Listening at:" not in output


def test_metrics_count_the_requests_of_every_worker(database: str, tmp_path: Path) -> None:
    """Each gunicorn worker counts in its own process; a scrape, answered by either worker,
    must sum them all."""
    Cli(database).init()
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
    cli = Cli(database).init()
    services = bootstrap(database)
    ledger = services.ledger
    register_tree(ledger)
    record(ledger, "adjust", "fund", date(2024, 1, 2), LINE, amount_vnd=500 * TY)
    token = cli.token("so-tai-chinh", "admin").output
    app = create_app(services=services)
    yield app, token.strip().splitlines()[-1]
    services.close()


def test_metrics_name_endpoints_refusals_the_head_and_the_read_model_lag(
    app: tuple[Flask, str], database: str
) -> None:
    flask_app, token = app
    client = flask_app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    # The CLI records behind the server's back: its read model trails the log until a read.
    Cli(database).disburse("TW", 1000, voucher="KB 1", date="2024-02-01", id="cli-1")
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


def test_an_unexpected_error_is_logged_as_one_json_line_with_its_request(
    app: tuple[Flask, str],
) -> None:
    flask_app, _ = app

    def fail() -> Any:
        raise RuntimeError("the disk\nis full")

    flask_app.add_url_rule("/health/fail", "fail", fail)  # an open path: no token needed
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("budget_ledger")
    logger.addHandler(handler)
    try:
        answer = flask_app.test_client().get("/health/fail", headers={"X-Request-Id": "req-42"})
    finally:
        logger.removeHandler(handler)
    assert answer.status_code == 500
    assert answer.headers["X-Request-Id"] == "req-42"
    lines = written.getvalue().splitlines()
    assert len(lines) == 1, lines
    entry = json.loads(lines[0])
    assert entry["level"] == "error" and entry["request_id"] == "req-42"
    assert entry["error"] == "RuntimeError: the disk\nis full"
    assert entry["traceback"].startswith("Traceback (most recent call last):")
    assert 'raise RuntimeError("the disk\\nis full")' in entry["traceback"]


def test_a_request_id_is_made_unless_a_plain_one_is_given(app: tuple[Flask, str]) -> None:
    client = app[0].test_client()
    made = {client.get("/health").headers["X-Request-Id"] for _ in range(3)}
    assert len(made) == 3 and all(re.fullmatch(r"[0-9a-f]{32}", found) for found in made)
    odd = client.get("/health", headers={"X-Request-Id": 'x" \u2028{"admin":true}'})
    assert re.fullmatch(r"[0-9a-f]{32}", odd.headers["X-Request-Id"])


def test_json_logs_are_one_object_per_line(database: str, tmp_path: Path) -> None:
    cli = Cli(database).init()
    cli.unit("TW", "Trung ương", "central")
    token = cli.token("so-tai-chinh", "admin").output.strip().splitlines()[-1]
    log = tmp_path / "server.log"
    adjustment = {
        "program": "NTM", "kind": "SN", "source": "NSTW", "year": 2025, "holder": "TW",
        "amount_vnd": 7 * TY, "decision": "QĐ 1/QĐ-TTg", "effective_date": "2025-01-02",
        "movement_id": "json-1",
    }  # fmt: skip
    with served(database, log, args=("--log-format", "json")) as (base, _):
        status, _, headers = call(f"{base}/adjustments", token=token, body=adjustment)
        assert status == 201
        written_id = headers["X-Request-Id"]
        assert call(f"{base}/movements/json-1")[0] == 401
        request = urllib.request.Request(f"{base}/metrics", headers={"X-Request-Id": "scrape-1"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
    lines = [line for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line, the server's own included
    assert all(isinstance(entry, dict) and entry["time"] for entry in entries)
    access = {entry["request_id"]: entry for entry in entries if entry["logger"] == "access"}
    write = access[written_id]
    assert write["method"] == "POST" and write["path"] == "/adjustments"
    assert write["status"] == 201 and write["actor"] == "so-tai-chinh"
    assert write["remote_addr"] == "127.0.0.1" and write["duration_ms"] >= 0
    assert access["scrape-1"]["path"] == "/metrics" and access["scrape-1"]["actor"] is None
    refused = [entry for entry in access.values() if entry["status"] == 401]
    assert [entry["path"] for entry in refused] == ["/movements/json-1"]
    listening = [entry for entry in entries if entry["message"].startswith("listening on")]
    assert [entry["address"] for entry in listening] == [base]
