"""Reading one generation of the balances read model: every question the queries and the
reports ask of its tables, each a few index lookups (see docs/projections.md, "Reading").
Nothing outside this package names the tables: a change of layout changes this module, the
schema and the writer, and no caller."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from ledger.domain.limits import LOG_POSITION_MAX
from ledger.domain.values import LINE_FIELDS
from ledger.storage.sql import ViewStore
from projections.balances.fold import ZERO, Values, add, values_of
from projections.balances.schema import BLOCK_DAYS, ERA_BLOCKS, chunks, tables
from projections.events import FIGURES, clock_text

# The fields of a line's identity that ``lines`` filters on, in its order.
COLUMNS = ", ".join(LINE_FIELDS)
GROUP_FIELDS = ("program", "kind", "source", "year")
# An extension row (node, position, until_day, amount_vnd) in the columns of a figures row
# (node, *FIGURES): zeros in the columns it lacks.
PADDING = ", ".join(["0"] * (len(FIGURES) - 3))
# How many answers of ``lines`` are kept at one position (a directory of a few lines each).
LINES_KEPT_MAX = 10_000
Rows = list[tuple[Any, ...]]


def _keep_latest(
    found: dict[int, tuple[int, date, int]], node: int, version: Any, until_day: Any, amount: Any
) -> None:
    """Keep the extension recorded last (the highest position) of each node."""
    if node not in found or int(version) > found[node][0]:
        found[node] = (int(version), date.fromordinal(int(until_day)), int(amount))


class KeptLines:
    """Answers of ``BalancesReader.lines`` at one log position of one generation, shared by
    the threads of a process (each has its own ``Projections``). Each step is one attribute
    read or write, whole under the GIL: two threads at different positions only cost each
    other a statement, never an answer of the wrong position."""

    def __init__(self) -> None:
        self._kept: tuple[tuple[int, int] | None, dict[tuple[Any, ...], Rows]] = (None, {})

    def get(self, at: tuple[int, int], key: tuple[Any, ...]) -> Rows | None:
        kept_at, found = self._kept
        return found.get(key) if kept_at == at else None

    def keep(self, at: tuple[int, int], key: tuple[Any, ...], rows: Rows) -> None:
        kept_at, found = self._kept
        if kept_at != at:
            found = {}
            self._kept = (at, found)
        if len(found) < LINES_KEPT_MAX:
            found[key] = rows


class BalancesReader:
    """Answers from one generation of the balances tables."""

    def __init__(self, store: ViewStore, generation: int, kept: KeptLines | None = None) -> None:
        self.store = store
        self.generation = generation
        self.t = tables(generation)
        # ``lines`` answers as of one log position (see there).
        self._kept = kept if kept is not None else KeptLines()

    # -- Directories -----------------------------------------------------------------------

    def lines(self, filters: Mapping[str, Any], *, at: int | None = None) -> Rows:
        """(node, program, kind, source, year, holder, project) of every line whose identity
        fields equal those given in ``filters`` (a None or missing field matches any), in
        identity order.

        ``at``: the log position the caller found this generation current at, this request.
        The answer is then kept and given again while callers find it at that position:
        lines only come with events, so a write anywhere moves the position and the next
        read asks afresh. (It may hold lines recorded after ``at``, as an answer read then
        would.) A balance read then costs one statement less (docs/decisions.md, 31)."""
        names = [name for name in LINE_FIELDS if filters.get(name) is not None]
        values = [filters[name] for name in names]
        key = (*names, *values)
        kept_at = (self.generation, at) if at is not None else None
        if kept_at is not None:
            found = self._kept.get(kept_at, key)
            if found is not None:
                return found
        where = f" WHERE {' AND '.join(f'{name} = ?' for name in names)}" if names else ""
        found = self.store.execute(
            f"SELECT node, {COLUMNS} FROM {self.t['lines']}{where} ORDER BY {COLUMNS}", values
        )
        if kept_at is not None:
            self._kept.keep(kept_at, key, found)
        return found

    def subtree_nodes(
        self, holders: Sequence[str], filters: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        """(holder, node, program, kind, source, year) of every group with postings in the
        static subtree of each of ``holders`` (the tree they were registered in), narrowed
        by the program, kind, source and year in ``filters``."""
        return self._by_holder(
            f"SELECT holder, node, program, kind, source, year FROM {self.t['subtrees']}",
            GROUP_FIELDS,
            holders,
            filters,
        )

    def line_nodes(
        self, holders: Sequence[str], filters: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        """(holder, node, program, kind, source, year) of every line of each of ``holders``,
        narrowed by the program, kind, source and year in ``filters``."""
        return self._by_holder(
            f"SELECT holder, node, program, kind, source, year FROM {self.t['lines']}",
            GROUP_FIELDS,
            holders,
            filters,
        )

    def lines_of(self, holders: Sequence[str], filters: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """(holder, node, program, kind, source, year, project) of every line of each of
        ``holders``, narrowed by the program, kind, source and year in ``filters``: what a
        read by component project needs (a subtree node sums over projects)."""
        return self._by_holder(
            f"SELECT holder, node, program, kind, source, year, project FROM {self.t['lines']}",
            GROUP_FIELDS,
            holders,
            filters,
        )

    def _by_holder(
        self,
        select: str,
        names: Sequence[str],
        holders: Sequence[str],
        filters: Mapping[str, Any],
    ) -> list[tuple[Any, ...]]:
        chosen = [name for name in names if filters.get(name) is not None]
        narrow = "".join(f" AND {name} = ?" for name in chosen)
        found: list[tuple[Any, ...]] = []
        for chunk in chunks(sorted(set(holders))):
            marks = ", ".join("?" for _ in chunk)
            found += self.store.execute(
                f"{select} WHERE holder IN ({marks}){narrow}",
                [*chunk, *(filters[name] for name in chosen)],
            )
        return found

    def holder_changes_head(self, position: int | None) -> int:
        """The position of the last holder change recorded at or before ``position`` (0:
        none): the lives a read sees are those of this position."""
        row = self.store.one(
            f"SELECT max(position) FROM {self.t['holders']} WHERE position <= ?",
            (position if position is not None else LOG_POSITION_MAX,),
        )
        return int(row[0]) if row and row[0] is not None else 0

    def holder_changes(self, position: int | None) -> list[tuple[Any, ...]]:
        """(code, change, day, parent, name) of every change of a holder's life recorded at
        or before ``position`` (everything when None), in log order."""
        return self.store.execute(
            f"SELECT code, change, day, parent, name FROM {self.t['holders']}"
            " WHERE position <= ? ORDER BY position",
            (position if position is not None else LOG_POSITION_MAX,),
        )

    def registrations(self, position: int | None) -> list[tuple[Any, ...]]:
        """(code, level, actor, recorded_at) of every holder registered at or before
        ``position`` (everything when None)."""
        return self.store.execute(
            f"SELECT code, level, actor, recorded_at FROM {self.t['holders']}"
            " WHERE change = 'registered' AND position <= ?",
            (position if position is not None else LOG_POSITION_MAX,),
        )

    def extended_lines(self, year: int) -> list[tuple[Any, ...]]:
        """(node, program, kind, source, holder, project) of every line of a plan year
        before ``year`` that has an extension, whenever recorded and effective."""
        return self.store.execute(
            f"SELECT DISTINCT l.node, l.program, l.kind, l.source, l.holder, l.project"
            f" FROM {self.t['extensions']} e JOIN {self.t['lines']} l ON l.node = e.node"
            " WHERE l.year < ?",
            (year,),
        )

    # -- Time ------------------------------------------------------------------------------

    def position_at(self, known_at: datetime | None) -> int | None:
        """The last log position whose version was recorded at or before ``known_at``."""
        if known_at is None:
            return None
        row = self.store.one(
            f"SELECT position FROM {self.t['clock']} WHERE recorded_at <= ?"
            " ORDER BY recorded_at DESC, position DESC LIMIT 1",
            (clock_text(known_at),),
        )
        return int(row[0]) if row else 0

    def recorded_span(self) -> tuple[datetime, datetime] | None:
        """The recorded times of the first and the last version (None: none yet)."""
        row = self.store.one(f"SELECT min(recorded_at), max(recorded_at) FROM {self.t['clock']}")
        if row is None or row[0] is None:
            return None
        return datetime.fromisoformat(str(row[0])), datetime.fromisoformat(str(row[1]))

    # -- Figures ---------------------------------------------------------------------------

    def values(self, node: int, as_of: date, position: int | None) -> Values:
        """One node's figures: two statements of index probes. (``values_many`` gives the
        same answers for many nodes; for one node these plan better: 1.7 ms against 4.1 ms
        p50 at 1,000,000 events in bench/asof.py, with layout 1.)"""
        day = as_of.toordinal()
        block = day // BLOCK_DAYS
        era = block // ERA_BLOCKS
        limit = position if position is not None else LOG_POSITION_MAX
        figures = ", ".join(FIGURES)
        before = self.store.one(
            f"SELECT {figures} FROM {self.t['eras']} WHERE node = ? AND era ="
            f" (SELECT max(era) FROM {self.t['era_starts']} WHERE node = ? AND era < ?"
            " AND position <= ?) AND position <= ? ORDER BY position DESC LIMIT 1",
            (node, node, era, limit, limit),
        )
        sums = ", ".join(f"sum({name})" for name in FIGURES)
        b_figures = ", ".join(f"b.{name}" for name in FIGURES)
        d_figures = ", ".join(f"d.{name}" for name in FIGURES)
        within = self.store.one(
            f"SELECT {sums} FROM (SELECT {b_figures} FROM {self.t['block_starts']} s"
            f" JOIN {self.t['blocks']} b ON b.node = s.node AND b.block = s.block"
            f" AND b.position = (SELECT max(x.position) FROM {self.t['blocks']} x"
            " WHERE x.node = s.node AND x.block = s.block AND x.position <= ?)"
            " WHERE s.node = ? AND s.block >= ? AND s.block < ? AND s.position <= ?"
            f" UNION ALL SELECT {d_figures} FROM {self.t['day_starts']} s"
            f" JOIN {self.t['days']} d ON d.node = s.node AND d.block = s.block"
            f" AND d.day = s.day AND d.position = (SELECT max(x.position) FROM {self.t['days']}"
            " x WHERE x.node = s.node AND x.block = s.block AND x.day = s.day"
            " AND x.position <= ?)"
            " WHERE s.node = ? AND s.block = ? AND s.day <= ? AND s.position <= ?) w",
            (limit, node, era * ERA_BLOCKS, block, limit, limit, node, block, day, limit),
        )
        if within is None or within[0] is None:
            within = ZERO
        return add(values_of(before or ZERO), values_of(within))

    def values_many(
        self, nodes: Sequence[int], as_of: date, position: int | None
    ) -> dict[int, Values]:
        """The figures of each node at ``as_of`` after ``position``, in one statement per
        chunk of nodes: per node, the latest version at or before the position of the last
        era before the date's era that existed then, plus the latest version of each block
        of the date's era before the date's block (at most ERA_BLOCKS - 1) and of each day
        of the date's block up to the date (at most BLOCK_DAYS), each found by an index
        seek. The rows of a node add up to its figures."""
        if len(nodes) == 1:
            return {nodes[0]: self.values(nodes[0], as_of, position)}
        found = dict.fromkeys(nodes, ZERO)  # a node asked for twice is counted once
        for chunk in chunks(list(found)):
            statement, parameters = self._values_statement(chunk, as_of, position)
            for node, *values in self.store.execute(statement, parameters):
                found[node] = add(found[node], values_of(values))
        return found

    def figures_many(
        self, nodes: Sequence[int], as_of: date, position: int | None
    ) -> tuple[dict[int, Values], dict[int, tuple[date, int]]]:
        """``values_many`` and every node's ``extension`` together, in one statement per
        chunk of nodes (a balance read's round trips are a good part of its cost): the extension
        rows ride along in the figures' columns, told apart by the first column."""
        if len(nodes) == 1:
            extension = self.extension(nodes[0], as_of, position)
            extensions = {nodes[0]: extension} if extension is not None else {}
            return {nodes[0]: self.values(nodes[0], as_of, position)}, extensions
        found = dict.fromkeys(nodes, ZERO)  # a node asked for twice is counted once
        latest: dict[int, tuple[int, date, int]] = {}
        for chunk in chunks(list(found)):
            figures, parameters = self._values_statement(chunk, as_of, position)
            extended, more = self._extensions_statement(chunk, as_of, position)
            rows = self.store.execute(
                f"SELECT 0, v.* FROM ({figures}) v UNION ALL SELECT 1, x.*, {PADDING}"
                f" FROM ({extended}) x",
                (*parameters, *more),
            )
            for part, node, *values_or_extension in rows:
                if part == 0:
                    found[node] = add(found[node], values_of(values_or_extension))
                else:
                    _keep_latest(latest, node, *values_or_extension[:3])
        return found, {node: (until, amount) for node, (_, until, amount) in latest.items()}

    def _values_statement(
        self, chunk: Sequence[int], as_of: date, position: int | None
    ) -> tuple[str, tuple[Any, ...]]:
        """The statement of ``values_many`` for one chunk: rows (node, *FIGURES)."""
        day = as_of.toordinal()
        block = day // BLOCK_DAYS
        era = block // ERA_BLOCKS
        limit = position if position is not None else LOG_POSITION_MAX
        e_figures = ", ".join(f"e.{name}" for name in FIGURES)
        b_figures = ", ".join(f"b.{name}" for name in FIGURES)
        d_figures = ", ".join(f"d.{name}" for name in FIGURES)
        sums = ", ".join(f"sum({name})" for name in FIGURES)
        marks = ", ".join("?" for _ in chunk)
        # The version wanted is found per node by a correlated max() (an index seek), then
        # fetched by its exact key: never a scan over a node's versions.
        before = (
            f"SELECT e.node, {e_figures} FROM (SELECT m.node, m.era,"
            f" (SELECT max(x.position) FROM {self.t['eras']} x WHERE x.node = m.node"
            " AND x.era = m.era AND x.position <= ?) AS position FROM"
            f" (SELECT node, max(era) AS era FROM {self.t['era_starts']}"
            f" WHERE node IN ({marks}) AND era < ? AND position <= ? GROUP BY node) m) k"
            f" JOIN {self.t['eras']} e ON e.node = k.node AND e.era = k.era"
            " AND e.position = k.position"
        )
        within = (
            f"SELECT node, {sums} FROM (SELECT b.node, {b_figures} FROM"
            " (SELECT s.node, s.block,"
            f" (SELECT max(x.position) FROM {self.t['blocks']} x WHERE x.node = s.node"
            " AND x.block = s.block AND x.position <= ?) AS position"
            f" FROM {self.t['block_starts']} s WHERE s.node IN ({marks}) AND s.block >= ?"
            " AND s.block < ? AND s.position <= ?) k"
            f" JOIN {self.t['blocks']} b ON b.node = k.node AND b.block = k.block"
            " AND b.position = k.position"
            f" UNION ALL SELECT d.node, {d_figures} FROM (SELECT s.node, s.block, s.day,"
            f" (SELECT max(x.position) FROM {self.t['days']} x WHERE x.node = s.node"
            " AND x.block = s.block AND x.day = s.day AND x.position <= ?) AS position"
            f" FROM {self.t['day_starts']} s WHERE s.node IN ({marks}) AND s.block = ?"
            " AND s.day <= ? AND s.position <= ?) k"
            f" JOIN {self.t['days']} d ON d.node = k.node AND d.block = k.block"
            " AND d.day = k.day AND d.position = k.position) w GROUP BY node"
        )
        return (
            f"SELECT * FROM ({before}) b UNION ALL SELECT * FROM ({within}) w",
            (
                *(limit, *chunk, era, limit),
                *(limit, *chunk, era * ERA_BLOCKS, block, limit, limit, *chunk, block, day, limit),
            ),
        )

    def _extensions_statement(
        self, chunk: Sequence[int], as_of: date, position: int | None
    ) -> tuple[str, tuple[Any, ...]]:
        """Every extension of these nodes in effect at ``as_of`` and recorded by
        ``position``: rows (node, position, until_day, amount_vnd)."""
        marks = ", ".join("?" for _ in chunk)
        return (
            f"SELECT node, position, until_day, amount_vnd FROM {self.t['extensions']}"
            f" WHERE node IN ({marks}) AND effective_day <= ? AND position <= ?",
            (*chunk, as_of.toordinal(), position if position is not None else LOG_POSITION_MAX),
        )

    def extension(self, node: int, as_of: date, position: int | None) -> tuple[date, int] | None:
        row = self.store.one(
            f"SELECT until_day, amount_vnd FROM {self.t['extensions']} WHERE node = ?"
            " AND effective_day <= ? AND position <= ? ORDER BY position DESC LIMIT 1",
            (node, as_of.toordinal(), position if position is not None else LOG_POSITION_MAX),
        )
        return (date.fromordinal(row[0]), int(row[1])) if row else None
