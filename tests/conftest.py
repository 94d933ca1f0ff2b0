"""Fixtures shared by every layer: stores (SQLite file, real PostgreSQL) and ledgers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import psycopg
import pytest

from ledger.application import BudgetLedger

if TYPE_CHECKING:
    from api.services import Services

POSTGRES_ENVVAR = "BUDGET_LEDGER_TEST_POSTGRES"


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
