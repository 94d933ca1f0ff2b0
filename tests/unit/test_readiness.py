"""/health/ready asks its stores at once: while the database is down each probe waits as long
as its pool does, and asked in turn the waits added up past a monitor's (and the outage
test's) timeout."""

from __future__ import annotations

import sqlite3
import threading

import psycopg
import pytest

from api.meta import ask_stores


def test_the_stores_are_asked_at_once() -> None:
    # Each probe returns only once the other is under way too; asked in turn, the first
    # would wait for ever (here: until the barrier's timeout breaks it).
    both_asked = threading.Barrier(2, timeout=5)

    def head(position: int) -> int:
        both_asked.wait()
        return position

    assert ask_stores({"event_log": lambda: head(7), "read_models": lambda: head(5)}) == (7, [])


def test_a_store_that_does_not_answer_is_named_and_the_other_still_answers() -> None:
    def down() -> int:
        raise psycopg.OperationalError("connection refused")

    assert ask_stores({"event_log": down, "read_models": lambda: 5}) == (5, ["event_log"])
    assert ask_stores({"event_log": down, "read_models": down}) == (0, ["event_log", "read_models"])


def test_a_fault_is_raised_not_taken_for_an_outage() -> None:
    def fault() -> int:
        raise sqlite3.OperationalError("no such table: stored_events")

    with pytest.raises(sqlite3.OperationalError):
        ask_stores({"event_log": fault, "read_models": lambda: 5})
