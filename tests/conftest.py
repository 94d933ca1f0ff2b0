"""Fixtures shared by every layer: stores (SQLite file, real PostgreSQL) and ledgers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest

from ledger.application import BudgetLedger
from tests.replication import Replicated, on_database, restore_replica, wait_for_replay

if TYPE_CHECKING:
    from api.services import Services

POSTGRES_ENVVAR = "BUDGET_LEDGER_TEST_POSTGRES"
# A streaming replica of that server, and its directory (scripts/test starts both).
REPLICA_ENVVAR = "BUDGET_LEDGER_TEST_REPLICA"
REPLICA_DIR_ENVVAR = "BUDGET_LEDGER_TEST_REPLICA_DIR"


def _admin_url() -> str:
    url = os.environ.get(POSTGRES_ENVVAR)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENVVAR} is not set: CI must test PostgreSQL for real")
        pytest.skip(f"no PostgreSQL: set {POSTGRES_ENVVAR} (scripts/test starts one)")
    return url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    admin_url = _admin_url()
    name = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield admin_url.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def replicated(postgres_url: str) -> Iterator[Replicated]:
    """A fresh ledger on the PostgreSQL primary (made as 'budget-ledger init' makes one) and
    the same database on its streaming replica, which has replayed it when the test begins."""
    replica_admin_url = os.environ.get(REPLICA_ENVVAR)
    replica_dir = os.environ.get(REPLICA_DIR_ENVVAR)
    if not replica_admin_url or not replica_dir:
        wanted = f"{REPLICA_ENVVAR} and {REPLICA_DIR_ENVVAR}"
        if os.environ.get("CI"):
            pytest.fail(f"{wanted} are not set: CI must test a streaming replica for real")
        pytest.skip(f"no PostgreSQL replica: set {wanted} (scripts/test starts one)")
    # Imported here: the unit layer, which never asks for it, need not load the CLI.
    from click.testing import CliRunner

    from cli import main

    made = CliRunner().invoke(main, ["init", "--database", postgres_url])
    assert made.exit_code == 0, made.output
    replica_url = on_database(replica_admin_url, postgres_url.rsplit("/", 1)[1])
    wait_for_replay(postgres_url, replica_url)
    yield Replicated(postgres_url, replica_url, Path(replica_dir))
    restore_replica(replica_admin_url, Path(replica_dir))


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> str:
    """Each test that uses it runs once on a SQLite file and once on PostgreSQL."""
    if request.param == "sqlite":
        return os.path.join(tmp_path, "ledger.sqlite3")
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def services(database: str) -> Iterator[Services]:
    """A new ledger and what lives beside it (read models, tokens, log), made by the
    composition root the server and the CLI use."""
    # Imported here: the unit layer, which never asks for it, need not load the API.
    from api.services import bootstrap

    made = bootstrap(database, create=True)
    yield made
    made.close()


@pytest.fixture
def stored_ledger(services: Services) -> BudgetLedger:
    return services.ledger


@pytest.fixture
def memory_ledger() -> Iterator[BudgetLedger]:
    ledger = BudgetLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield ledger
    ledger.close()
