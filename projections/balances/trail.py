"""Questions asked of the audit trail's tables (``movements``, ``entries``, ``citations``):
which entries match, a page at a time in the trail's order, and each line's running
available amount at them. Every statement is an index walk: its cost grows with the answer
and the lines it touches, not with the log."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.storage.sql import ViewStore
from projections.balances.journal import matching
from projections.balances.schema import chunks, tables

# The trail's order (audit.order, then the holder; ``seq`` makes it total) and a page's key.
ORDER = ("day", "debit", "position", "holder", "seq")
Key = tuple[int, int, int, str, int]
ENTRY = (
    "position, seq, line, program, kind, source, year, holder, project, day, debit, action,"
    " amount_vnd, available_change_vnd, changes"
)
LINE_FIELDS = ("program", "kind", "source", "year", "holder", "project")


@dataclass(frozen=True)
class TrailQuestion:
    """Which entries: ``lines`` (line fields that must match), one ``line`` exactly (its
    ``journal.line_text``), ``holders`` (lines of these holders only; each collection given
    narrows further), one movement, a cited reference, an actor, and the recording times
    (clock text) in a closed range."""

    lines: Mapping[str, Any]
    line: str | None = None
    holders: Sequence[Collection[str]] = ()
    movement_id: str | None = None
    reference: str | None = None
    actor: str | None = None
    recorded_from: str | None = None
    recorded_to: str | None = None


class TrailReader:
    def __init__(self, store: ViewStore, generation: int) -> None:
        self.store = store
        self.t = tables(generation)

    def entries(
        self, question: TrailQuestion, after: Key | None, limit: int
    ) -> list[tuple[Any, ...]]:
        """At most ``limit`` matching entries after ``after``, in the trail's order."""
        where, parameters = self._where(question)
        if after is not None:
            where.append(f"({', '.join('e.' + c for c in ORDER)}) > (?, ?, ?, ?, ?)")
            parameters.extend(after)
        columns = ", ".join(f"e.{name.strip()}" for name in ENTRY.split(","))
        order = ", ".join(f"e.{name}" for name in ORDER)
        return self.store.execute(
            f"SELECT {columns} FROM {self.t['entries']} e"
            f" WHERE {' AND '.join(where) or '1 = 1'} ORDER BY {order} LIMIT ?",
            (*parameters, limit),
        )

    def _where(self, question: TrailQuestion) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        parameters: list[Any] = []
        for name in LINE_FIELDS:
            value = question.lines.get(name)
            if value is not None:
                where.append(f"e.{name} = ?")
                parameters.append(value)
        if question.line is not None:
            where.append("e.line = ?")
            parameters.append(question.line)
        for holders in question.holders:
            where.append(self._one_of("e.holder"))
            parameters.append(self._set(holders))
        # Holders given, the recording times are the entries' own (an index range per
        # holder); otherwise the movements recorded then are chosen first, by their time.
        by_entry = bool(question.holders)
        if by_entry:
            for compared, value in ((">=", question.recorded_from), ("<=", question.recorded_to)):
                if value is not None:
                    where.append(f"e.recorded_at {compared} ?")
                    parameters.append(value)
        chosen, more = self._movements(question, times=not by_entry)
        if chosen:
            # On PostgreSQL the positions as one array: an index probe per movement chosen,
            # where its planner joined a scan of every posting of the lines otherwise.
            found = f"SELECT m.position FROM {self.t['movements']} m WHERE {' AND '.join(chosen)}"
            if self.store.postgres:
                where.append(f"e.position = ANY(ARRAY({found}))")
            else:
                where.append(f"e.position IN ({found})")
            parameters.extend(more)
        return where, parameters

    def _movements(self, question: TrailQuestion, times: bool) -> tuple[list[str], list[Any]]:
        """The conditions on the movement (not the posting), its recording ``times`` too if
        asked: the movements they choose are found first, by their own indexes, and their
        postings by position."""
        where: list[str] = []
        parameters: list[Any] = []
        if question.reference is not None:
            where.append(
                f"m.position IN (SELECT position FROM {self.t['citations']}"
                " WHERE reference_key = ?)"
            )
            parameters.append(matching(question.reference))
        if question.movement_id is not None:
            where.append("m.movement_id = ?")
            parameters.append(question.movement_id)
        if question.actor is not None:
            where.append("m.actor_key = ?")
            parameters.append(matching(question.actor))
        if times and question.recorded_from is not None:
            where.append("m.recorded_at >= ?")
            parameters.append(question.recorded_from)
        if times and question.recorded_to is not None:
            where.append("m.recorded_at <= ?")
            parameters.append(question.recorded_to)
        return where, parameters

    def _one_of(self, column: str) -> str:
        """``column`` is one of a set given as one parameter (``_set``): however many
        holders a subtree has, one statement with one parameter."""
        if self.store.postgres:
            return f"{column} = ANY(?)"
        return f"{column} IN (SELECT value FROM json_each(?))"

    def _set(self, values: Collection[Any]) -> Any:
        return sorted(values) if self.store.postgres else json.dumps(sorted(values))

    def available_after(
        self, rows: Sequence[tuple[Any, ...]], opening: Mapping[str, int], first_day: int
    ) -> dict[tuple[int, int], int]:
        """Each entry's line's available amount after it (by (position, seq)): the line's
        amount at the end of the day before ``first_day`` (``opening``, by line; the page's
        first day or earlier), plus the changes of the line's postings from that day up to
        the entry in the trail's order, every posting of the line counted, matched or not.
        One statement per chunk of lines, reading each line's postings of those days from
        its index."""
        if not rows:
            return {}
        wanted = {(int(row[0]), int(row[1])) for row in rows}
        lines = sorted({str(row[2]) for row in rows})
        last_day = max(int(row[9]) for row in rows)
        positions = {position for position, _ in wanted}
        found: dict[tuple[int, int], int] = {}
        running = (
            "sum(available_change_vnd) OVER (ORDER BY day, debit, position, seq"
            " ROWS UNBOUNDED PRECEDING)"
        )
        for chunk in chunks(lines):
            if self.store.postgres:
                # Each line's own index range (its planner scanned the table for a list).
                statement = (
                    "SELECT w.line, w.position, w.seq, w.running FROM unnest(?::text[]) AS"
                    f" l(line) CROSS JOIN LATERAL (SELECT e.line, position, seq, {running} AS"
                    f" running FROM {self.t['entries']} e WHERE e.line = l.line"
                    f" AND e.day >= ? AND e.day <= ?) w WHERE {self._one_of('w.position')}"
                )
                parameters: tuple[Any, ...] = (chunk, first_day, last_day, self._set(positions))
            else:
                marks = ", ".join("?" for _ in chunk)
                statement = (
                    "SELECT w.line, w.position, w.seq, w.running FROM (SELECT line, position,"
                    f" seq, {running.replace('OVER (', 'OVER (PARTITION BY line ')} AS running"
                    f" FROM {self.t['entries']} WHERE line IN ({marks}) AND day >= ?"
                    f" AND day <= ?) w WHERE {self._one_of('w.position')}"
                )
                parameters = (*chunk, first_day, last_day, self._set(positions))
            for line, position, seq, total in self.store.execute(statement, parameters):
                key = (int(position), int(seq))
                if key in wanted:
                    found[key] = opening.get(str(line), 0) + int(total)
        return found

    def movements(self, positions: Collection[int]) -> dict[int, tuple[Any, ...]]:
        """(movement_id, action, actor, recorded_at, request) of the movements recorded at
        these positions."""
        found: dict[int, tuple[Any, ...]] = {}
        for chunk in chunks(sorted(positions)):
            marks = ", ".join("?" for _ in chunk)
            for position, *movement in self.store.execute(
                "SELECT position, movement_id, action, actor, recorded_at, request"
                f" FROM {self.t['movements']} WHERE position IN ({marks})",
                chunk,
            ):
                found[int(position)] = tuple(movement)
        return found
