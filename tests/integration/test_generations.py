"""``projections status`` and ``rebuild`` against what a real store does to them: positions
with gaps (PostgreSQL's sequence keeps values that rolled-back writes took), and a rebuild
killed with SIGKILL, whose half-built tables the next status or rebuild removes while one
still running in another process keeps its own. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import sys
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from cli import main
from ledger.application import BudgetLedger, open_ledger
from ledger.domain.movements import movement
from ledger.storage.config import is_postgres
from ledger.storage.log import log_tables
from projections.balances.writer import BalancesWriter
from projections.generations import RebuildRefused
from projections.runner import Projections
from tests.integration.test_hardening import APP_ROLE, as_role, hardened  # noqa: F401
from tests.integration.test_projection import record_history
from tests.properties.test_random_histories import LINE

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
            movement(
                "disburse",
                movement_id=f"late-{n}",
                effective_date=date(2024, 6, 1),
                line=LINE.with_holder("505"),
                amount_vnd=1,
                voucher="v",
            ),
            actor="test",
        )


# A real `budget-ledger projections rebuild`, reading 20 events a batch, that stops after its
# second batch has committed (says so on stderr) until it is killed.
PAUSING_REBUILD = """
import sys
from projections import runner
from cli import main
runner.REBUILD_BATCH_EVENTS_MAX = 20
batch = runner.Projections._batch
calls = [0]
def pausing(self, *args, **kwargs):
    read = batch(self, *args, **kwargs)
    calls[0] += 1
    if calls[0] == 2:
        print("paused", file=sys.stderr, flush=True)
        sys.stdin.read()
    return read
runner.Projections._batch = pausing
main(["projections", "rebuild", "--database", sys.argv[1]])
"""


def start_pausing_rebuild(database: str) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", PAUSING_REBUILD, database],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stderr is not None
    said = child.stderr.readline()
    assert said == "paused\n", said + child.stderr.read()
    return child


def kill(child: subprocess.Popen[str]) -> None:
    child.send_signal(signal.SIGKILL)
    assert child.wait(timeout=60) == -signal.SIGKILL
    for pipe in (child.stdin, child.stderr):
        assert pipe is not None
        pipe.close()


def generation_tables(database: str) -> dict[int, int]:
    """How many tables of each generation of the balances read model the store holds."""
    if is_postgres(database):
        with psycopg.connect(database) as connection:
            names = [
                row[0]
                for row in connection.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                )
            ]
    else:
        connection_ = sqlite3.connect(database)
        try:
            names = [
                row[0]
                for row in connection_.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
        finally:
            connection_.close()
    found: dict[int, int] = {}
    for name in names:
        match = re.fullmatch(r"balances_[a-z_]+_g(\d+)", name)
        if match:
            found[int(match[1])] = found.get(int(match[1]), 0) + 1
    return found


def cli(database: str, *args: str, ok: bool = True) -> str:
    result = CliRunner().invoke(main, [*args, "--database", database])
    assert (result.exit_code == 0) == ok, result.output
    return result.output


def test_a_killed_rebuild_leaves_tables_that_the_next_status_or_rebuild_removes(
    stored_ledger: BudgetLedger, database: str
) -> None:
    record_history(stored_ledger, PAYMENTS)
    balances = ("balance", "--as-of", "2030-01-01", "--format", "json")
    before = cli(database, *balances)
    assert set(generation_tables(database)) == {1}

    child = start_pausing_rebuild(database)
    try:
        # While it runs, its generation is left alone by status, and a second rebuild waits
        # its turn (refused, nothing done).
        status: list[dict[str, Any]] = json.loads(
            cli(database, "projections", "status", "--format", "json")
        )
        assert [(s["generation"], s["state"]) for s in status] == [
            (1, "active"),
            (2, "being rebuilt"),
        ]
        assert 0 < status[1]["position"] < status[1]["head"]
        refused = cli(database, "projections", "rebuild", ok=False)
        assert "another rebuild is running" in refused
        assert set(generation_tables(database)) == {1, 2}
        assert cli(database, *balances) == before
    finally:
        kill(child)

    left = generation_tables(database)
    assert set(left) == {1, 2}  # killed mid-way: its half-built tables stay
    status = json.loads(cli(database, "projections", "status", "--format", "json"))
    assert [(s["generation"], s["state"], s["tables"]) for s in status] == [
        (1, "active", left[1]),
        (2, "removed: left by an interrupted rebuild", left[2]),
    ]
    assert set(generation_tables(database)) == {1}
    assert cli(database, *balances) == before
    assert [
        s["generation"]
        for s in json.loads(cli(database, "projections", "status", "--format", "json"))
    ] == [1]

    # Killed again: the next rebuild removes what it left (its number is free again), then
    # rebuilds.
    kill(start_pausing_rebuild(database))
    assert set(generation_tables(database)) == {1, 2}
    said = cli(database, "projections", "rebuild")
    assert "removed generation 2" in said and "rebuilt as generation 2" in said
    assert set(generation_tables(database)) == {2}
    assert cli(database, *balances) == before


def test_status_and_rebuild_work_when_nothing_was_left(tmp_path: Path) -> None:
    """No leftovers: status lists the active generation only, rebuild removes nothing."""
    database = str(tmp_path / "ledger.sqlite3")
    cli(database, "init")
    said = cli(database, "projections", "rebuild")
    assert "removed" not in said
    status = json.loads(cli(database, "projections", "status", "--format", "json"))
    assert [(s["generation"], s["state"], s["behind"]) for s in status] == [(2, "active", 0)]


def test_a_role_that_cannot_drop_the_leftovers_is_told_so(hardened: str) -> None:  # noqa: F811
    """On PostgreSQL the hardened application role cannot drop tables the owner's rebuild
    made: its status lists them as left, and the owner's status removes them."""
    ledger = open_ledger(hardened)
    try:
        record_history(ledger, PAYMENTS[:30])
    finally:
        ledger.close()
    cli(hardened, "balance")  # the active generation, made by the owner
    kill(start_pausing_rebuild(hardened))
    app_url = as_role(hardened, APP_ROLE)
    status = json.loads(cli(app_url, "projections", "status", "--format", "json"))
    assert [(s["generation"], s["state"]) for s in status] == [
        (1, "active"),
        (2, "left by an interrupted rebuild: not removed (owned by another role)"),
    ]
    assert set(generation_tables(hardened)) == {1, 2}
    status = json.loads(cli(hardened, "projections", "status", "--format", "json"))
    assert [s["state"] for s in status][1] == "removed: left by an interrupted rebuild"
    assert set(generation_tables(hardened)) == {1}


def test_a_rebuild_whose_generation_was_removed_meanwhile_does_not_switch(
    stored_ledger: BudgetLedger, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild whose lock went away under it (its PostgreSQL session ended in a restart)
    may find its generation removed by another process's status: it stops before switching,
    and readers keep the active generation."""
    record_history(stored_ledger, PAYMENTS[:10])
    balances = ("balance", "--as-of", "2030-01-01", "--format", "json")
    before = cli(database, *balances)
    rebuilding = Projections(stored_ledger, database)
    other = Projections(stored_ledger, database)
    index = BalancesWriter.index

    def index_then_lose_it(writer: BalancesWriter) -> None:
        index(writer)
        other._remove_leftovers()  # what another status does once the lock is free

    monkeypatch.setattr(BalancesWriter, "index", index_then_lose_it)
    try:
        with pytest.raises(RebuildRefused, match="was removed while it ran"):
            rebuilding.rebuild()
    finally:
        rebuilding.close()
        other.close()
    monkeypatch.undo()
    assert cli(database, *balances) == before
    status = json.loads(cli(database, "projections", "status", "--format", "json"))
    assert [(s["generation"], s["state"]) for s in status] == [(1, "active")]
