"""The readers of the log across a succession, on SQLite and PostgreSQL: ``check`` and
``verify`` find a succession's events altered or removed behind the ledger's back, the balances
read model rebuilds to the lines' own figures, and the audit feed and the history answer."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any
from uuid import UUID

import psycopg
import pytest
from click.testing import CliRunner, Result

from api import create_app
from api.services import Services
from cli import main
from ledger.application import BudgetLedger
from ledger.domain.journal import FIGURES, postings
from ledger.domain.lines import BudgetLine
from ledger.domain.values import LINE_FIELDS, LineKey
from ledger.storage.config import is_postgres
from projections.queries import line_balances
from projections.runner import Projections
from tests.story import LINE, TY
from tests.succession_story import ENDED_ON, LINE_2025, SUCCESSOR, succession_example

Change = Callable[[dict[str, Any]], None]


@pytest.fixture
def succeeded(services: Services) -> Services:
    succession_example(services.ledger)
    return services


def run(database: str, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--database", database])


def stored_events(database: str, topic: str) -> list[tuple[UUID, int, dict[str, Any]]]:
    """(aggregate id, version, state) of every stored event of ``topic``, in log order."""
    if is_postgres(database):
        with psycopg.connect(database) as connection:
            rows = connection.execute(
                "SELECT originator_id, originator_version, state FROM ledger_events"
                " WHERE topic = %s ORDER BY notification_id",
                (topic,),
            ).fetchall()
        return [(UUID(str(i)), int(v), json.loads(bytes(s))) for i, v, s in rows]
    connection = sqlite3.connect(database)
    try:
        rows = connection.execute(
            "SELECT originator_id, originator_version, state FROM stored_events"
            " WHERE topic = ? ORDER BY rowid",
            (topic,),
        ).fetchall()
    finally:
        connection.close()
    return [(UUID(i), int(v), json.loads(s)) for i, v, s in rows]


def behind_the_ledger(database: str, statement: str, *parameters: Any) -> None:
    """Change the stored log as a database administrator could (on PostgreSQL switching off
    the insert-only triggers for the session); ``?`` marks the parameters, ``ledger_events``
    names the events table."""
    if is_postgres(database):
        with psycopg.connect(database, autocommit=True) as connection:
            connection.execute("SET session_replication_role = replica")
            connection.execute(statement.replace("?", "%s"), parameters)
        return
    connection = sqlite3.connect(database)
    with connection:
        connection.execute(statement.replace("ledger_events", "stored_events"), parameters)
    connection.close()


def aggregate(database: str, aggregate_id: UUID) -> Any:
    return aggregate_id if is_postgres(database) else aggregate_id.hex


def rewrite(database: str, aggregate_id: UUID, version: int, change: Change) -> None:
    (state,) = [s for i, v, s in stored_events_of(database, aggregate_id) if v == version]
    change(state)
    behind_the_ledger(
        database,
        "UPDATE ledger_events SET state = ? WHERE originator_id = ? AND originator_version = ?",
        json.dumps(state).encode(),
        aggregate(database, aggregate_id),
        version,
    )


def stored_events_of(database: str, aggregate_id: UUID) -> Iterator[tuple[UUID, int, Any]]:
    if is_postgres(database):
        with psycopg.connect(database) as connection:
            rows = connection.execute(
                "SELECT originator_version, state FROM ledger_events WHERE originator_id = %s",
                (aggregate_id,),
            ).fetchall()
        return iter([(aggregate_id, int(v), json.loads(bytes(s))) for v, s in rows])
    connection = sqlite3.connect(database)
    try:
        rows = connection.execute(
            "SELECT originator_version, state FROM stored_events WHERE originator_id = ?",
            (aggregate_id.hex,),
        ).fetchall()
    finally:
        connection.close()
    return iter([(aggregate_id, int(v), json.loads(s)) for v, s in rows])


def found_by_check_and_verify(database: str) -> list[str]:
    """What ``check`` reports (it must fail), after ``verify`` found the change."""
    verified = run(database, "verify")
    assert verified.exit_code == 1, verified.output
    assert "altered at position" in verified.output or "removed at position" in verified.output
    checked = run(database, "check")
    assert checked.exit_code == 1, checked.output
    assert checked.exception is None or isinstance(checked.exception, SystemExit)
    return [line for line in checked.output.splitlines() if line.startswith("PROBLEM:")]


def test_a_succession_checks_and_verifies(succeeded: Services) -> None:
    database = succeeded.ledger.database
    assert database is not None
    assert run(database, "verify").exit_code == 0
    checked = run(database, "check")
    assert checked.exit_code == 0, checked.output


def test_an_altered_amount_passed_on_is_found(succeeded: Services) -> None:
    database = succeeded.ledger.database
    assert database is not None
    # What 504's 2024 line passed on to 506: 30 tỷ, made 20.
    (version,) = [
        v
        for i, v, s in stored_events(database, BudgetLine.PassedOn.TOPIC)
        if i == LINE.with_holder("504").line_id
    ]
    rewrite(
        database,
        LINE.with_holder("504").line_id,
        version,
        lambda state: state.update(amount_vnd=20 * TY),
    )
    problems = found_by_check_and_verify(database)
    assert any("GNBV/DTPT/NSTW/2024/504: passed_on_vnd" in p for p in problems), problems
    assert any("money is not conserved" in p for p in problems), problems


def test_a_removed_succession_receipt_is_found(succeeded: Services) -> None:
    database = succeeded.ledger.database
    assert database is not None
    # What the late allocation added to what 505 passed on, received on 506's 2025 line (the
    # line's last event).
    target = LINE_2025.with_holder(SUCCESSOR).line_id
    events = dict((v, s) for i, v, s in stored_events_of(database, target))
    last = max(events)
    assert events[last]["amount_vnd"] == 5 * TY and events[last]["from_holder"] == "505"
    behind_the_ledger(
        database,
        "DELETE FROM ledger_events WHERE originator_id = ? AND originator_version = ?",
        aggregate(database, target),
        last,
    )
    problems = found_by_check_and_verify(database)
    assert any(f"GNBV/DTPT/NSTW/2025/{SUCCESSOR}: received_vnd" in p for p in problems), problems
    assert any("money is not conserved" in p for p in problems), problems


def test_a_removed_receipt_before_later_events_of_its_line_is_found(succeeded: Services) -> None:
    database = succeeded.ledger.database
    assert database is not None
    # What 504 passed to 506's 2024 line, removed from between that line's other events.
    target = LINE.with_holder(SUCCESSOR).line_id
    (first,) = [
        v
        for i, v, s in stored_events(database, BudgetLine.SuccessionReceived.TOPIC)
        if i == target and s["from_holder"] == "504"
    ]
    behind_the_ledger(
        database,
        "DELETE FROM ledger_events WHERE originator_id = ? AND originator_version = ?",
        aggregate(database, target),
        first,
    )
    problems = found_by_check_and_verify(database)
    assert any(f"GNBV/DTPT/NSTW/2024/{SUCCESSOR}: received_vnd" in p for p in problems), problems


def test_an_altered_posting_in_a_movements_record_is_found(succeeded: Services) -> None:
    database = succeeded.ledger.database
    assert database is not None
    # The late payment's record lists what it took back from what 504 passed on (−15 tỷ on
    # the day 504 ended): made −10, the lines left as they are.
    late = succeeded.ledger.get_movement("late1")

    def change(state: dict[str, Any]) -> None:
        (listed,) = state["lines"][0]["postings"]
        assert listed["changes"] == {"passed_on_vnd": -15 * TY}
        listed["amount_vnd"] = -10 * TY
        listed["changes"] = {"passed_on_vnd": -10 * TY}

    rewrite(database, late.id, 1, change)
    problems = found_by_check_and_verify(database)
    assert any("GNBV/DTPT/NSTW/2025/504: passed_on_vnd" in p for p in problems), problems


def figures_on(ledger: BudgetLedger, day: date) -> dict[Any, dict[str, int]]:
    """Each line's figures on ``day``, from the movements' postings alone."""
    found: dict[Any, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    for position, movement in ledger.journal():
        for posting in postings(position, movement):
            if posting.effective_date <= day:
                for name, change in posting.changes.items():
                    found[posting.line][name] += change
    return found


def test_the_read_model_rebuilds_to_the_lines_figures(succeeded: Services) -> None:
    ledger = succeeded.ledger
    assert ledger.database is not None
    days = (date(2025, 6, 30), ENDED_ON, date(2025, 8, 1), date(2026, 12, 31))
    projections = Projections(ledger, ledger.database)
    try:
        projections.catch_up()

        def answers() -> list[list[dict[str, Any]]]:
            return [line_balances(projections, {}, day, None) for day in days]

        caught_up = answers()
        projections.rebuild()
        assert answers() == caught_up
    finally:
        projections.close()
    for day, rows in zip(days, caught_up, strict=True):
        # Each figure on each day, as the movements' postings have it ...
        # (a line opened later has nothing yet).
        expected = figures_on(ledger, day)
        assert set(expected) <= {identity(row) for row in rows}
        for row in rows:
            figures = expected.get(identity(row), dict.fromkeys(FIGURES, 0))
            assert {n: row[n] for n in FIGURES} == figures, (day, row)
    for row in caught_up[-1]:
        # ... and at the end, as each line has it, its carried extension included.
        line = ledger.get_line(identity(row))
        assert line is not None
        assert {name: row[name] for name in line.figures()} == line.figures(), row
    moved = {identity(row): row for row in caught_up[-1]}[LINE.with_holder(SUCCESSOR)]
    assert (moved["extended_vnd"], moved["deadline"]) == (30 * TY, date(2025, 12, 31))


def identity(row: dict[str, Any]) -> LineKey:
    return LineKey(**{name: row[name] for name in LINE_FIELDS})


def test_the_audit_feed_and_the_history_answer_with_the_new_events(succeeded: Services) -> None:
    _, secret = succeeded.tokens().create("auditor", "admin", None)
    app = create_app(services=succeeded)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    feed = client.get("/events?after=0&limit=1000", headers=headers)
    assert feed.status_code == 200, feed.get_json()
    events = feed.get_json()["events"]
    by_topic: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        by_topic[event["topic"]].append(event["data"])
    ended = by_topic["budget_ledger:Holder.Ended"]
    assert sorted((e["successor"], e["effective_date"]) for e in ended) == [
        (SUCCESSOR, "2025-07-01"),
        (SUCCESSOR, "2025-07-01"),
    ]
    (registered,) = [e for e in by_topic["budget_ledger:Holder.Registered"] if e["since"]]
    assert (registered["code"], registered["since"]) == (SUCCESSOR, "2025-07-01")
    for posting in (BudgetLine.PassedOn, BudgetLine.SuccessionReceived):
        assert by_topic[posting.TOPIC], posting.TOPIC
    (taken,) = by_topic[BudgetLine.ExtensionTaken.TOPIC]
    assert (taken["until"], taken["extended_vnd"]) == ("2025-12-31", 30 * TY)
    assert by_topic[BudgetLine.ExtensionGiven.TOPIC][0]["extended_vnd"] == 0
    (succession,) = [
        e for e in by_topic["budget_ledger:Movement.Recorded"] if e["action"] == "succeed"
    ]
    assert succession["request"]["from_holders"] == ["504", "505"]
    assert all("postings" in entry for entry in succession["lines"])

    recorded = client.get("/movements/s1", headers=headers)
    assert recorded.status_code == 200, recorded.get_json()
    assert len(recorded.get_json()["lines"]) == 6  # four lines passed on to two

    answer = client.get(f"/history?holder={SUCCESSOR}", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    entries = answer.get_json()["entries"]
    received = [e for e in entries if e["movement_id"] == "s1"]
    assert len(received) == 4
    assert all(set(e["changes"]) == {"assigned_vnd", "received_vnd"} for e in received)
    assert entries[-1]["available_after_vnd"] == 70 * TY  # 2024, after the payment of 1/8
