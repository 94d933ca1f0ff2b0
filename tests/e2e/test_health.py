"""Liveness and readiness, on both stores: /health/live answers whatever the database does,
/health/ready (and /health, kept as it) names each store and whether it answers. What they
answer while PostgreSQL is down is in test_outage.py."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from psycopg_pool import PoolTimeout

from api import create_app
from cli import main
from ledger.storage.sql import ViewStore


def test_live_and_ready_answer_when_every_store_does(database: str) -> None:
    result = CliRunner().invoke(main, ["init", "--database", database])
    assert result.exit_code == 0, result.output
    app = create_app(database)
    try:
        client = app.test_client()
        live = client.get("/health/live")
        assert (live.status_code, live.get_json()) == (200, {"status": "ok"})
        ready = client.get("/health/ready")
        assert ready.status_code == 200
        assert ready.get_json() == {
            "status": "ok",
            "head": 3,  # a new ledger's built-in programs
            "stores": {"event_log": "ok", "read_models": "ok"},
        }
        assert client.get("/health").get_json() == ready.get_json()

        # Documented: live never says 503; ready and /health may say 503, as a problem.
        paths = client.get("/openapi.json").get_json()["paths"]
        assert "503" not in paths["/health/live"]["get"]["responses"]
        for path in ("/health/ready", "/health"):
            responses = paths[path]["get"]["responses"]
            assert {"200", "503"} <= set(responses), responses
    finally:
        app.extensions["budget_ledger"].close()


def test_an_app_made_while_postgres_is_down_starts_and_answers_503() -> None:
    """A server worker that gunicorn (re)starts during an outage must load the application
    without touching the database: if loading fails, the worker fails to boot and gunicorn
    stops the whole server. Nothing listens on port 1: every connection is refused."""
    app = create_app("postgresql://postgres@127.0.0.1:1/ledger")
    try:
        client = app.test_client()
        assert client.get("/health/live").status_code == 200
        ready = client.get("/health/ready")
        assert ready.status_code == 503, ready.get_data(as_text=True)
        assert ready.headers["Retry-After"]
        read = client.get("/balances", headers={"Authorization": "Bearer blt_x"})
        assert read.status_code == 503, read.get_data(as_text=True)
        assert read.get_json()["rule"] == "unavailable"
    finally:
        app.extensions["budget_ledger"].close()


def test_a_store_found_down_is_remembered_so_the_next_requests_wait_less() -> None:
    """While the read models' pool is known to have found the database down, callers wait a
    moment (DOWN_WAIT_S), not the whole connection wait: a server's threads are not held
    while the requests behind them queue for ever longer."""
    store = ViewStore("postgresql://postgres@127.0.0.1:1/ledger")
    try:
        assert not store.known_down()
        with pytest.raises(PoolTimeout):
            store.one("SELECT 1")
        assert store.known_down()
        with pytest.raises(PoolTimeout):
            store.one("SELECT 1")
        assert store.known_down()
    finally:
        store.close()
