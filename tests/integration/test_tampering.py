"""Someone with access to the database alters a stored event: `check` must notice."""

from __future__ import annotations

import json
import sqlite3
import uuid

import psycopg

from ledger.application import BudgetLedger, open_ledger
from ledger.domain.audit import check
from ledger.storage.config import is_postgres
from tests.story import TAY_GIANG, TY, worked_example


def alter_amount(database: str, originator_id: uuid.UUID, version: int, amount_vnd: int) -> None:
    """Rewrite one stored event's amount behind the ledger's back."""
    if is_postgres(database):
        with psycopg.connect(database, autocommit=True) as connection:
            # The log is insert-only; a superuser can switch that off for a session.
            connection.execute("SET session_replication_role = replica")
            row = connection.execute(
                "SELECT state FROM ledger_events"
                " WHERE originator_id = %s AND originator_version = %s",
                (originator_id, version),
            ).fetchone()
            assert row is not None
            state = json.loads(bytes(row[0]))
            state["amount_vnd"] = amount_vnd
            connection.execute(
                "UPDATE ledger_events SET state = %s"
                " WHERE originator_id = %s AND originator_version = %s",
                (json.dumps(state).encode(), originator_id, version),
            )
        return
    connection = sqlite3.connect(database)
    with connection:
        (raw,) = connection.execute(
            "SELECT state FROM stored_events WHERE originator_id = ? AND originator_version = ?",
            (originator_id.hex, version),
        ).fetchone()
        state = json.loads(raw)
        state["amount_vnd"] = amount_vnd
        connection.execute(
            "UPDATE stored_events SET state = ? WHERE originator_id = ? AND originator_version = ?",
            (json.dumps(state).encode(), originator_id.hex, version),
        )
    connection.close()


def test_an_altered_allocation_is_found_by_check(
    stored_ledger: BudgetLedger, database: str
) -> None:
    worked_example(stored_ledger)
    assert check(stored_ledger.journal(), stored_ledger.list_lines()) == []
    # Version 2 of Tây Giang's line is the 100 tỷ it received from Quảng Nam: make it 200.
    alter_amount(database, TAY_GIANG.line_id, 2, 200 * TY)
    other = open_ledger(database)
    try:
        problems = check(other.journal(), other.list_lines())
    finally:
        other.close()
    assert any("money is not conserved" in p for p in problems)
    assert any("GNBV/DTPT/NSTW/2024/504: assigned_vnd" in p for p in problems)
