"""Insert-only storage on PostgreSQL: nobody changes the log by accident, and the
application's own role cannot change it at all."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from click.testing import CliRunner

from cli import main
from ledger.application import BudgetLedger, open_ledger
from ledger.storage.integrity import Log
from ledger.storage.sql import ViewStore
from tests.story import worked_example

pytestmark = pytest.mark.postgres

APP_ROLE = "ledger_app_test"


def as_role(url: str, role: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{role}@{rest.split('@', 1)[1]}"


@pytest.fixture
def hardened(postgres_url: str) -> Iterator[str]:
    result = CliRunner().invoke(main, ["init", "--app-role", APP_ROLE, "--database", postgres_url])
    assert result.exit_code == 0, result.output
    assert f"role {APP_ROLE}" in result.output
    yield postgres_url


def refused(url: str, statement: str) -> str:
    with psycopg.connect(url, autocommit=True) as connection:
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as error:
            connection.execute(statement)
    return str(error.value)


def test_the_log_is_insert_only_even_for_its_owner(hardened: str) -> None:
    ledger = open_ledger(hardened)
    try:
        worked_example(ledger)
        head = ledger.head_position()
    finally:
        ledger.close()
    for statement in (
        "UPDATE ledger_events SET state = 'x'::bytea WHERE notification_id = 3",
        "DELETE FROM ledger_events WHERE notification_id = 3",
        "TRUNCATE ledger_events",
        "UPDATE ledger_chain SET digest = 'x'::bytea",
        "DELETE FROM ledger_chain",
    ):
        assert "insert-only" in refused(hardened, statement)
    store = ViewStore(hardened)
    try:
        ledger = open_ledger(hardened)
        result = Log(store, ledger.recorder).verify()
        ledger.close()
    finally:
        store.close()
    assert (result.finding, result.head_position) == (None, head)


def test_the_application_role_appends_but_cannot_change_the_log(hardened: str) -> None:
    app_url = as_role(hardened, APP_ROLE)
    ledger: BudgetLedger = open_ledger(app_url)
    try:
        worked_example(ledger)  # every movement goes through the insert function
        assert ledger.get_line(next(iter(ledger.list_line_keys()))) is not None
    finally:
        ledger.close()
    for statement in (
        "UPDATE ledger_events SET state = 'x'::bytea",
        "DELETE FROM ledger_events",
        "TRUNCATE ledger_events",
        "INSERT INTO ledger_events (originator_id, originator_version, topic, state)"
        " VALUES (gen_random_uuid(), 1, 'x', 'x'::bytea)",
        "DELETE FROM ledger_chain",
        "SET session_replication_role = replica",
    ):
        message = refused(app_url, statement)
        assert "permission denied" in message or "insert-only" in message, message
    # It runs the rest of the product: read models, tokens, verify.
    runner = CliRunner()
    for args in (
        ["balance", "--holder", "504"],
        ["verify"],
        ["tokens", "create", "--name", "kb", "--role", "clerk"],
        ["projections", "status"],
    ):
        result = runner.invoke(main, [*args, "--database", app_url])
        assert result.exit_code == 0, (args, result.output)
    assert (
        "available"
        in runner.invoke(main, ["balance", "--holder", "504", "--database", app_url]).output
    )
