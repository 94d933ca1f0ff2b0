"""``projections status`` against what a real store does to it: positions with gaps
(PostgreSQL's sequence keeps values that rolled-back writes took). On SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import date, timedelta

import psycopg

from ledger.application import BudgetLedger
from ledger.config import is_postgres
from ledger.movements import MovementRequest
from ledger.storage import log_tables
from projections.runner import Projections
from tests.integration.test_projection import record_history
from tests.unit.test_properties import LINE

PAYMENTS = [
    ("disburse", date(2024, 3, 1) + timedelta(days=n % 200), ("505", "504", "110")[n % 3], None, 1)
    for n in range(60)
]


def leave_gaps(ledger: BudgetLedger, database: str, count: int) -> None:
    """``count`` inserts into the event log, each rolled back: PostgreSQL's sequence keeps
    the values they took, SQLite's rowid does not."""
    events = log_tables(ledger.recorder).events
    statement = (
        f"INSERT INTO {events} (originator_id, originator_version, topic, state) "
        "VALUES ({mark}, 1, 'gap', {mark})"
    )
    if is_postgres(database):
        with psycopg.connect(database) as connection:
            for _ in range(count):
                connection.execute(statement.format(mark="%s"), (uuid.uuid4(), b"{}"))
                connection.rollback()
        return
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        for _ in range(count):
            connection.execute("BEGIN")
            connection.execute(statement.format(mark="?"), (str(uuid.uuid4()), b"{}"))
            connection.execute("ROLLBACK")
    finally:
        connection.close()


def test_status_counts_the_events_behind_not_the_positions(
    stored_ledger: BudgetLedger, database: str
) -> None:
    record_history(stored_ledger, PAYMENTS[:10])
    projections = Projections(stored_ledger, database)
    try:
        projections.catch_up()
        [caught_up] = projections.status()
        assert caught_up["behind"] == 0
        leave_gaps(stored_ledger, database, 40)
        record_history_more(stored_ledger)
        [row] = projections.status()
        after = stored_ledger.recorder.select_notifications(
            start=caught_up["position"] + 1, limit=10**6
        )
        assert row["behind"] == len(after) > 0
        if is_postgres(database):  # the gaps are real: positions overcount
            assert row["head"] - row["position"] >= row["behind"] + 40
        projections.catch_up()
        assert projections.status()[0]["behind"] == 0
    finally:
        projections.close()


def record_history_more(ledger: BudgetLedger) -> None:
    for n in range(3):
        ledger.record(
            MovementRequest(
                action="disburse",
                movement_id=f"late-{n}",
                effective_date=date(2024, 6, 1),
                line=LINE.with_holder("505"),
                amount_vnd=1,
                voucher="v",
            ),
            actor="test",
        )
