"""Reading many aggregates' stored events in one query each, for an import (the library reads
one aggregate per query: a few milliseconds a line on PostgreSQL). Each function returns the
store's rows (originator_id, originator_version, topic, state), for the application to turn
into domain events."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ledger.storage.log import events_table, postgres_recorder

COLUMNS = "originator_id, originator_version, topic, state"


def latest_events(recorder: Any, aggregate_ids: list[UUID]) -> list[Any]:
    """The latest stored event of each aggregate (given the snapshot store's recorder: the
    latest snapshot of each)."""
    table = events_table(recorder)
    if postgres_recorder(recorder):
        return _fetch(
            recorder,
            f"SELECT DISTINCT ON (originator_id) {COLUMNS}"
            f" FROM {table} WHERE originator_id = ANY(%s)"
            " ORDER BY originator_id, originator_version DESC",
            (aggregate_ids,),
        )
    return _fetch(
        recorder,
        f"SELECT {COLUMNS} FROM {table} s WHERE originator_id IN ({_marks(aggregate_ids)})"
        " AND originator_version = (SELECT max(originator_version)"
        f" FROM {table} t WHERE t.originator_id = s.originator_id)",
        [i.hex for i in aggregate_ids],
    )


def events_after(recorder: Any, versions: list[tuple[UUID, int]]) -> list[Any]:
    """The events of each aggregate after the given version, in version order."""
    table = events_table(recorder)
    columns = ", ".join(f"e.{name}" for name in COLUMNS.split(", "))
    join = "ON e.originator_id = w.id AND e.originator_version > w.after"
    order = "ORDER BY e.originator_id, e.originator_version"
    if postgres_recorder(recorder):
        return _fetch(
            recorder,
            f"SELECT {columns} FROM {table} e"
            f" JOIN unnest(%b::uuid[], %b::bigint[]) AS w(id, after) {join} {order}",
            ([i for i, _ in versions], [v for _, v in versions]),
        )
    values = ", ".join("(?, ?)" for _ in versions)
    return _fetch(
        recorder,
        f"WITH w(id, after) AS (VALUES {values})"
        f" SELECT {columns} FROM {table} e JOIN w {join} {order}",
        [value for i, v in versions for value in (i.hex, v)],
    )


def first_events(recorder: Any, aggregate_ids: list[UUID]) -> list[Any]:
    """The first event (version 1) of each of these aggregates that exists."""
    if not aggregate_ids:
        return []
    table = events_table(recorder)
    if postgres_recorder(recorder):
        where, parameters = "originator_id = ANY(%s)", (aggregate_ids,)
    else:
        where = f"originator_id IN ({_marks(aggregate_ids)})"
        parameters = [i.hex for i in aggregate_ids]  # type: ignore[assignment]
    return _fetch(
        recorder,
        f"SELECT {COLUMNS} FROM {table} WHERE {where} AND originator_version = 1",
        parameters,
    )


def _marks(items: list[Any]) -> str:
    return ", ".join("?" for _ in items)


def _fetch(recorder: Any, statement: str, parameters: Any) -> list[Any]:
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(statement, parameters)
        return list(cursor.fetchall())
