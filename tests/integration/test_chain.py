"""The hash chain on both stores: written with every event, recomputed by verify, and any
change made behind the ledger's back (as the database's superuser) found."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from cli import main
from ledger.application import BudgetLedger
from ledger.storage.chain import GENESIS, link
from ledger.storage.config import is_postgres
from ledger.storage.integrity import Log
from ledger.storage.sql import ViewStore
from tests.story import worked_example


@pytest.fixture
def log(stored_ledger: BudgetLedger, database: str) -> Iterator[Log]:
    worked_example(stored_ledger)
    store = ViewStore(database)
    yield Log(store, stored_ledger.recorder)
    store.close()


def superuser(database: str, statement: str, *parameters: Any) -> None:
    """Change the stored log directly, as a database administrator could: on PostgreSQL a
    superuser must first switch off the insert-only triggers for the session."""
    if is_postgres(database):
        with psycopg.connect(database, autocommit=True) as connection:
            connection.execute("SET session_replication_role = replica")
            connection.execute(statement.replace("?", "%s"), parameters)
        return
    connection = sqlite3.connect(database)
    with connection:
        connection.execute(statement.replace("ledger_events", "stored_events"), parameters)
    connection.close()


def events_position(database: str) -> str:
    return "notification_id" if is_postgres(database) else "rowid"


def verify(database: str, *args: str) -> Any:
    return CliRunner().invoke(main, ["verify", *args, "--database", database])


def test_the_writers_chain_matches_the_definition(log: Log) -> None:
    """PostgreSQL computes the chain in SQL, SQLite in Python: both must be
    ledger/storage/chain.py's."""
    previous, count = GENESIS, 0
    for row, (position, digest) in zip(log.rows(), log.chain(), strict=True):
        assert row.position == position
        previous = link(previous, row.position, row.aggregate_id, row.version, row.topic, row.state)
        assert digest == previous, position
        count += 1
    assert count > 20
    assert log.verify().finding is None


def test_verify_names_the_first_altered_position(log: Log, database: str) -> None:
    result = verify(database)
    assert result.exit_code == 0, result.output
    assert "OK:" in result.output
    column = events_position(database)
    superuser(
        database,
        f"UPDATE ledger_events SET state = ? WHERE {column} = 17",
        b'{"amount_vnd": 1}',
    )
    result = verify(database)
    assert result.exit_code == 1
    assert "altered at position 17" in result.output
    assert "16 events" in result.output


def test_verify_finds_a_removed_event(log: Log, database: str) -> None:
    superuser(database, f"DELETE FROM ledger_events WHERE {events_position(database)} = 9")
    result = verify(database)
    assert result.exit_code == 1
    assert "removed at position 9" in result.output


def test_a_kept_digest_proves_the_prefix(log: Log, database: str) -> None:
    digest = CliRunner().invoke(main, ["digest", "--database", database]).output.strip()
    position = int(digest.split(":")[0])
    assert position == log.head()[0] > 0
    # The ledger goes on: the kept prefix still checks out.
    worked_example_more(database)
    result = verify(database, "--against", digest)
    assert result.exit_code == 0, result.output
    assert f"prefix up to position {position}" in result.output
    # Someone alters an early event and recomputes the whole chain to hide it.
    column = events_position(database)
    superuser(database, f"UPDATE ledger_events SET state = ? WHERE {column} = 3", b"{}")
    rechain(database, log)
    assert verify(database).exit_code == 0  # the chain alone is consistent again...
    result = verify(database, "--against", digest)  # ...but not with the digest kept outside
    assert result.exit_code == 1
    assert f"up to position {position} is not the one" in result.output
    for malformed in ("12:nothex", "１２:" + digest.split(":")[1]):  # full-width digits
        bad = verify(database, "--against", malformed)
        assert bad.exit_code == 2 and "POSITION:DIGEST" in bad.output


def worked_example_more(database: str) -> None:
    result = CliRunner().invoke(
        main,
        [
            "units",
            "add",
            "506",
            "Huyện Nam Giang",
            "--level",
            "district",
            "--parent",
            "49",
            "--database",
            database,
        ],
    )
    assert result.exit_code == 0, result.output


def rechain(database: str, log: Log) -> None:
    superuser(database, "DELETE FROM ledger_chain")
    with log.store.transaction():
        log.seal()


def test_init_chains_a_ledger_from_before_the_chain(log: Log, database: str) -> None:
    superuser(database, "DELETE FROM ledger_chain")
    assert verify(database).exit_code == 1
    result = CliRunner().invoke(main, ["init", "--database", database])
    assert result.exit_code == 0, result.output
    assert "chained" in result.output
    assert verify(database).exit_code == 0
