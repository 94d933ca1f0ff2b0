"""The composition root (api/services.py): one ``bootstrap`` makes the ledger and what lives
beside it in its database, for the API, the CLI and the tests alike."""

from __future__ import annotations

import os
import sqlite3

import pytest

from api.services import Services, bootstrap
from ledger.application import BudgetLedger
from ledger.domain.errors import NoLedger
from ledger.storage.config import is_postgres
from ledger.storage.log import log_tables, log_tables_of
from ledger.storage.sql import ViewStore
from tests.story import worked_example


def test_bootstrap_refuses_a_file_that_holds_no_ledger_unless_asked_to_create(
    tmp_path: os.PathLike[str],
) -> None:
    missing = os.path.join(tmp_path, "typo.sqlite3")
    with pytest.raises(NoLedger):
        bootstrap(missing)
    assert not os.path.exists(missing)
    bootstrap(missing, create=True).close()
    bootstrap(missing).close()


def test_the_read_models_tokens_and_log_share_the_services_one_store(services: Services) -> None:
    worked_example(services.ledger)
    store = services.store
    assert services.projections().store is store
    assert services.tokens().store is store
    assert services.current_projections().state().position == services.ledger.head_position()
    assert services.store is store, "made once, on first use"


def test_the_log_tables_named_without_the_recorder_are_the_recorders(
    stored_ledger: BudgetLedger, database: str
) -> None:
    # The read models' freshness check and bootstrap's check name the log's table without
    # opening the library's application (decisions §28).
    assert log_tables_of(database) == log_tables(stored_ledger.recorder)


def test_bootstrap_refuses_a_database_without_the_ledgers_log_and_makes_nothing_in_it(
    database: str,
) -> None:
    if not is_postgres(database):
        sqlite3.connect(database).close()  # an empty SQLite file
    with pytest.raises(NoLedger, match="holds no ledger"):
        bootstrap(database)
    store = ViewStore(database)
    try:
        assert not store.table_exists("projection_state")
    finally:
        store.close()
