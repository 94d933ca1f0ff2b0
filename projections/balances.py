"""The balances read model: every figure of every line and every holder's subtree, at any
effective date and as the books stood after any log position, each an index lookup.

For each node (a line, or a holder's subtree within one program/kind/source/year) the model
keeps figures versioned by log position, in three levels:

- ``days``: the figures of each effective day that has postings (that day's total);
- ``blocks``: the same for each block of ``BLOCK_DAYS`` days that has postings (its total);
- ``eras``: per era of ``ERA_BLOCKS`` blocks that has postings, the cumulative figures from
  the beginning through the era's end.

The figures at (date D, position P) are the latest version at or before P of the last era
before D's era, plus the latest version at or before P of each block of D's era before D's
block, plus that of each day up to D in D's block: at most ERA_BLOCKS + BLOCK_DAYS index
seeks, whatever the history. A posting writes one version of its day, of its block and of
its era, plus one of each later era that already has postings (rarely any: an era is about
eight months). Two postings of one movement are one version, so moves inside a subtree
cancel and write nothing there.

Known-at times map to log positions through ``clock``: the recorded time of each version,
made non-decreasing along the log (see docs/projections.md).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ledger.holders import ancestors
from ledger.limits import LOG_POSITION_MAX
from projections.events import (
    EFFECTS,
    EXTENDED,
    Event,
    Opened,
    Posting,
    Registered,
    clock_text,
)
from projections.sql import Insert, ViewStore

NAME = "balances"
# The shape of the tables. A generation stores the layout it was built with; one built with
# another is rebuilt from the log when the projections are opened (see docs/projections.md).
LAYOUT = 4
BLOCK_DAYS = 32
# Cumulative figures are kept per era, not per block, so that a back-dated posting rewrites
# the later eras of its nodes rather than every later block: at 1,000,000 events of
# bench/asof.py, 13.2 M of the 17.7 M rows were such block rewrites. Longer eras write less
# but make queries read more block totals: with 16 blocks the rebuild ran 15% faster there,
# and a line's query took 3 ms instead of 1.7 ms (p50), a province's report 22 ms instead of 14.
ERA_BLOCKS = 8
FIGURES = ("assigned_vnd", "allocated_on_vnd", "disbursed_vnd", "lapsed_vnd")
ZERO = (0, 0, 0, 0)
Values = tuple[int, int, int, int]
SubtreeKey = tuple[str, str, str, str, int]  # holder, program, kind, source, year


def _chunks(items: list[Any], size: int = 400) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _values(row: Sequence[Any]) -> Values:
    return (int(row[0]), int(row[1]), int(row[2]), int(row[3]))


def _keep_latest(
    found: dict[int, tuple[int, date, int]], node: int, version: Any, until_day: Any, amount: Any
) -> None:
    """Keep the extension recorded last (the highest position) of each node."""
    if node not in found or int(version) > found[node][0]:
        found[node] = (int(version), date.fromordinal(int(until_day)), int(amount))


def add(left: Values, right: Values) -> Values:
    return (left[0] + right[0], left[1] + right[1], left[2] + right[2], left[3] + right[3])


def tables(generation: int) -> dict[str, str]:
    return {
        name: f"{NAME}_{name}_g{generation}"
        for name in (
            "days",
            "blocks",
            "eras",
            "day_starts",
            "block_starts",
            "era_starts",
            "extensions",
            "lines",
            "holders",
            "clock",
            "subtrees",
            "splits",
            "layout",
        )
    }


def create_statements(generation: int) -> tuple[list[str], list[str]]:
    """The tables, then their indexes: a rebuild fills the tables first and indexes them
    once, which is several times faster than keeping indexes up to date row by row."""
    t = tables(generation)
    figures = ", ".join(f"{name} BIGINT NOT NULL" for name in FIGURES)
    create = "CREATE TABLE IF NOT EXISTS"
    # A node is a small integer (see LineInfo): the versioned tables hold about eleven rows
    # per event, and integer keys make them a third smaller and their indexes several times
    # faster to build than text names.
    table_statements = [
        f"{create} {t['days']} (node INTEGER NOT NULL, block INTEGER NOT NULL, "
        f"day INTEGER NOT NULL, position BIGINT NOT NULL, {figures})",
        f"{create} {t['blocks']} (node INTEGER NOT NULL, block INTEGER NOT NULL, "
        f"position BIGINT NOT NULL, {figures})",
        f"{create} {t['eras']} (node INTEGER NOT NULL, era INTEGER NOT NULL, "
        f"position BIGINT NOT NULL, {figures})",
        # When each day, block and era of a node got its first version: a short index scan
        # finds the ones that existed at a position, and the version wanted is then one index
        # seek, however many versions it has.
        f"{create} {t['day_starts']} (node INTEGER NOT NULL, block INTEGER NOT NULL, "
        "day INTEGER NOT NULL, position BIGINT NOT NULL)",
        f"{create} {t['block_starts']} (node INTEGER NOT NULL, block INTEGER NOT NULL, "
        "position BIGINT NOT NULL)",
        f"{create} {t['era_starts']} (node INTEGER NOT NULL, era INTEGER NOT NULL, "
        "position BIGINT NOT NULL)",
        f"{create} {t['extensions']} (node INTEGER NOT NULL, effective_day INTEGER NOT NULL, "
        "position BIGINT NOT NULL, until_day INTEGER NOT NULL, amount_vnd BIGINT NOT NULL)",
        f"{create} {t['lines']} (line_id TEXT NOT NULL, node INTEGER NOT NULL, "
        "program TEXT NOT NULL, kind TEXT NOT NULL, source TEXT NOT NULL, year INTEGER NOT NULL, "
        "holder TEXT NOT NULL, project TEXT, position BIGINT NOT NULL)",
        f"{create} {t['holders']} (code TEXT NOT NULL, parent TEXT, position BIGINT NOT NULL)",
        f"{create} {t['clock']} (position BIGINT NOT NULL, recorded_at TEXT NOT NULL)",
        f"{create} {t['subtrees']} (node INTEGER NOT NULL, holder TEXT NOT NULL, "
        "program TEXT NOT NULL, kind TEXT NOT NULL, source TEXT NOT NULL, year INTEGER NOT NULL)",
        # A subtree holding a single line shares that line's node until a second line
        # enters it; it then gets a node of its own, with the line's history copied.
        f"{create} {t['splits']} (line_node INTEGER NOT NULL, node INTEGER NOT NULL, "
        "since BIGINT NOT NULL, copied INTEGER NOT NULL)",
        f"{create} {t['layout']} (layout INTEGER NOT NULL)",
    ]
    unique = {
        "days": "node, block, day, position",
        "blocks": "node, block, position",
        "eras": "node, era, position",
        "day_starts": "node, block, day",
        "block_starts": "node, block",
        "era_starts": "node, era",
        "extensions": "node, position",
        "lines": "line_id",
        "holders": "code",
        "clock": "position",
        "subtrees": "holder, program, kind, source, year",
        "splits": "node",
    }
    plain = {"clock": "recorded_at, position", "lines": "holder"}
    index_statements = [
        f"CREATE UNIQUE INDEX IF NOT EXISTS {t[name]}_key ON {t[name]} ({columns})"
        for name, columns in unique.items()
    ] + [
        f"CREATE INDEX IF NOT EXISTS {t[name]}_by ON {t[name]} ({columns})"
        for name, columns in plain.items()
    ]
    return table_statements, index_statements


@dataclass(frozen=True)
class LineInfo:
    """A line's node: node numbers are given out in log order by the generation's writer,
    lines and subtrees from one sequence, and kept in ``lines`` and ``subtrees``."""

    node: int
    program: str
    kind: str
    source: str
    year: int
    holder: str


class NodeState:
    """The latest values of one node: per era, and per block and day of the blocks loaded,
    with the era keys kept sorted so that finding the ones after a date is a bisection."""

    __slots__ = ("eras", "era_keys", "blocks", "days", "loaded")

    def __init__(self) -> None:
        self.eras: dict[int, Values] = {}
        self.era_keys: list[int] = []
        self.blocks: dict[int, Values] = {}
        self.days: dict[int, Values] = {}  # by day ordinal
        # The blocks whose total and days are in ``blocks`` and ``days`` (all of them when
        # the view was built from position zero).
        self.loaded: set[int] = set()

    def copy(self) -> NodeState:
        copied = NodeState()
        copied.eras = dict(self.eras)
        copied.era_keys = list(self.era_keys)
        copied.blocks = dict(self.blocks)
        copied.days = dict(self.days)
        copied.loaded = set(self.loaded)
        return copied


class Rows:
    """The rows one batch adds to each table."""

    __slots__ = (
        "days",
        "blocks",
        "eras",
        "day_starts",
        "block_starts",
        "era_starts",
        "clock",
        "subtrees",
        "extensions",
    )

    def __init__(self) -> None:
        self.days: list[tuple[int, ...]] = []
        self.blocks: list[tuple[int, ...]] = []
        self.eras: list[tuple[int, ...]] = []
        self.day_starts: list[tuple[int, ...]] = []
        self.block_starts: list[tuple[int, ...]] = []
        self.era_starts: list[tuple[int, ...]] = []
        self.clock: list[tuple[int, str]] = []
        self.subtrees: list[tuple[Any, ...]] = []
        self.extensions: list[tuple[int, ...]] = []


class BalancesView:
    """Writes and reads one generation of the balances tables."""

    def __init__(self, store: ViewStore, generation: int) -> None:
        self.store = store
        self.generation = generation
        self.t = tables(generation)
        self.nodes: dict[int, NodeState] = {}
        self.parents: dict[str, str | None] | None = None
        self.lines: dict[str, LineInfo] | None = None
        self.line_of_node: dict[int, str] = {}  # the line id of each node of ``lines``
        self.subtrees: dict[SubtreeKey, int] | None = None
        # Subtrees given a node but not yet in ``subtrees``, by node: a subtree gets its row
        # with the node's first version, so that one with no postings lists no group.
        self.unwritten: dict[int, list[SubtreeKey]] = {}
        # Whether the tables have their indexes (a rebuild builds them at the end), and
        # whether splits wait for their copies (see _split).
        self.indexed: bool | None = None
        self.uncopied = False
        self.node_next: int | None = None
        self.line_nodes: dict[str, list[int]] = {}  # a line's node and its ancestors' subtrees
        # The position this view's cache reflects, and the newest recorded time applied as
        # clock text (versions get recorded times that never decrease along the log).
        self.position: int | None = None
        self.clock: str | None = None
        # True when this process built the generation from position zero: the cache then
        # holds everything and a node it does not know has no rows.
        self.complete = False

    def create(self, *, indexed: bool = True) -> None:
        table_statements, _ = create_statements(self.generation)
        for statement in table_statements:
            self.store.execute(statement)
        self.store.execute(f"INSERT INTO {self.t['layout']} (layout) VALUES (?)", (LAYOUT,))
        self.indexed = False
        if indexed:
            self.index()

    def index(self) -> None:
        """Build the indexes, then copy the histories that splits left for later."""
        for statement in create_statements(self.generation)[1]:
            self.store.execute(statement)
        self.indexed = True
        self._copy_splits()

    def _is_indexed(self) -> bool:
        if self.indexed is None:
            self.indexed = self.store.table_exists(f"{self.t['days']}_key")
        return self.indexed

    def drop(self) -> None:
        for table in self.t.values():
            self.store.execute(f"DROP TABLE IF EXISTS {table}")

    def layout(self) -> int | None:
        """The layout the generation's tables were built with (None: before layouts)."""
        if not self.store.table_exists(self.t["layout"]):
            return None
        row = self.store.one(f"SELECT layout FROM {self.t['layout']}")
        return int(row[0]) if row else None

    def forget(self) -> None:
        """Drop what is cached in memory (after a failed transaction, or another writer)."""
        self.nodes.clear()
        self.line_nodes.clear()
        self.unwritten.clear()
        self.parents = None
        self.lines = None
        self.line_of_node = {}
        self.uncopied = False
        self.subtrees = None
        self.node_next = None
        self.position = None
        self.clock = None
        self.complete = False

    # -- Writing ---------------------------------------------------------------------------

    def apply(self, events: Iterable[Event]) -> None:
        """Apply events in log order inside the caller's transaction. Postings of one
        movement are one version."""
        events = list(events)
        if not events:
            return
        self._directory(events)
        postings = [event for event in events if type(event) is Posting]
        # Every line's nodes first: a subtree that a second line enters now gets a node of
        # its own, before this batch writes anything.
        for posting in postings:
            if posting.line_id not in self.line_nodes:
                self._nodes_of(posting.line_id, events[0].position)
        if self.uncopied and self._is_indexed():
            self._copy_splits()
        if not self.complete:
            self._prefetch(postings)
        rows = Rows()
        group: list[Posting] = []
        for posting in postings:
            if posting.topic == EXTENDED:
                self._flush(group, rows)
                group = []
                self._extend(posting, rows)
            else:
                if group and group[-1].movement_id != posting.movement_id:
                    self._flush(group, rows)
                    group = []
                group.append(posting)
        self._flush(group, rows)
        self._write(rows)

    def _write(self, rows: Rows) -> None:
        subtree_columns = ("node", "holder", "program", "kind", "source", "year")
        inserts: list[Insert] = [
            (self.t["days"], ("node", "block", "day", "position", *FIGURES), rows.days, True),
            (self.t["blocks"], ("node", "block", "position", *FIGURES), rows.blocks, True),
            (self.t["eras"], ("node", "era", "position", *FIGURES), rows.eras, True),
            (self.t["day_starts"], ("node", "block", "day", "position"), rows.day_starts, True),
            (self.t["block_starts"], ("node", "block", "position"), rows.block_starts, True),
            (self.t["era_starts"], ("node", "era", "position"), rows.era_starts, True),
            (self.t["clock"], ("position", "recorded_at"), rows.clock, True),
            (self.t["subtrees"], subtree_columns, rows.subtrees, False),
            (
                self.t["extensions"],
                ("node", "effective_day", "position", "until_day", "amount_vnd"),
                rows.extensions,
                False,
            ),
        ]
        for table, columns, batch, plain in inserts:
            self.store.insert_many(table, columns, batch, plain=plain)

    def _directory(self, events: list[Event]) -> None:
        """Record the holders registered and the lines opened in this batch."""
        lines = self._line_directory()
        parents = self._parent_directory()
        holder_rows, line_rows = [], []
        for event in events:
            if type(event) is Registered:
                holder_rows.append((event.code, event.parent, event.position))
                parents[event.code] = event.parent
            elif type(event) is Opened:
                node = self._number()
                self.line_of_node[node] = event.line_id
                lines[event.line_id] = LineInfo(
                    node, event.program, event.kind, event.source, event.year, event.holder
                )
                line_rows.append(
                    (
                        event.line_id,
                        node,
                        event.program,
                        event.kind,
                        event.source,
                        event.year,
                        event.holder,
                        event.project,
                        event.position,
                    )
                )
        self.store.insert_many(self.t["holders"], ("code", "parent", "position"), holder_rows)
        self.store.insert_many(
            self.t["lines"],
            (
                "line_id",
                "node",
                "program",
                "kind",
                "source",
                "year",
                "holder",
                "project",
                "position",
            ),
            line_rows,
        )

    def _number(self) -> int:
        """The next node number of this generation."""
        if self.node_next is None:
            row = self.store.one(
                f"SELECT max(node) FROM (SELECT node FROM {self.t['lines']}"
                f" UNION ALL SELECT node FROM {self.t['subtrees']}"
                f" UNION ALL SELECT node FROM {self.t['splits']}) n"
            )
            self.node_next = int(row[0]) + 1 if row and row[0] is not None else 1
        node = self.node_next
        self.node_next += 1
        return node

    def _nodes_of(self, line_id: str, since: int | None = None) -> list[int]:
        """The line a posting belongs to, then the subtree of its holder and each ancestor,
        each subtree once it holds another line too.

        A subtree first posted to by this line shares its node (a commune's subtree is
        usually its one line: a fifth of the rows written). Another line posting into a
        subtree that shares a line's node splits it: the subtree gets a node of its own
        whose history is the line's up to ``since``, the first position of the batch."""
        nodes = self.line_nodes.get(line_id)
        if nodes is None:
            line = self._line_directory()[line_id]
            subtrees = self._subtree_directory()
            nodes = [line.node]
            for holder in self._ancestors(line.holder):
                key = (holder, line.program, line.kind, line.source, line.year)
                node = subtrees.get(key)
                if node is None:
                    node = subtrees[key] = line.node
                    self.unwritten.setdefault(node, []).append(key)
                elif node in self.line_of_node and node != line.node:
                    assert since is not None, "subtrees are split before a batch writes"
                    node = self._split(key, node, since)
                if node != line.node:
                    nodes.append(node)
            self.line_nodes[line_id] = nodes
        return nodes

    def _split(self, key: SubtreeKey, line_node: int, since: int) -> int:
        """Give the subtree ``key``, which shares ``line_node``, a node of its own with the
        line's history before ``since``: copied now if the tables are indexed, else once
        their indexes are built (``splits`` keeps the copies to make)."""
        node = self._number()
        assert self.subtrees is not None
        self.subtrees[key] = node
        pending = self.unwritten.get(line_node, [])
        if key in pending:  # no version yet, so no row yet either
            pending.remove(key)
            self.unwritten.setdefault(node, []).append(key)
        else:
            self.store.execute(
                f"UPDATE {self.t['subtrees']} SET node = ? WHERE holder = ? AND program = ?"
                " AND kind = ? AND source = ? AND year = ?",
                (node, *key),
            )
        state = self.nodes.get(line_node)
        if state is not None:
            self.nodes[node] = state.copy()
        self.store.execute(
            f"INSERT INTO {self.t['splits']} (line_node, node, since, copied) VALUES (?, ?, ?, 0)",
            (line_node, node, since),
        )
        self.uncopied = True
        self.line_nodes.pop(self.line_of_node[line_node], None)  # it misses the new node
        return node

    def _copy_splits(self) -> None:
        """Copy each split line's versions before the split to its subtree's new node."""
        copied = {
            "days": ("block", "day", "position", *FIGURES),
            "blocks": ("block", "position", *FIGURES),
            "eras": ("era", "position", *FIGURES),
            "day_starts": ("block", "day", "position"),
            "block_starts": ("block", "position"),
            "era_starts": ("era", "position"),
        }
        for name, columns in copied.items():
            self.store.execute(
                f"INSERT INTO {self.t[name]} (node, {', '.join(columns)})"
                f" SELECT s.node, {', '.join('x.' + column for column in columns)}"
                f" FROM {self.t['splits']} s JOIN {self.t[name]} x ON x.node = s.line_node"
                " AND x.position < s.since WHERE s.copied = 0"
            )
        self.store.execute(f"UPDATE {self.t['splits']} SET copied = 1 WHERE copied = 0")
        self.uncopied = False

    def _prefetch(self, postings: list[Posting]) -> None:
        """Load, in a few queries, the latest rows of every node and block this batch
        touches that the cache does not hold."""
        nodes: set[int] = set()
        pairs: set[tuple[int, int]] = set()
        for posting in postings:
            if posting.topic == EXTENDED:
                continue
            block = posting.day // BLOCK_DAYS
            for node in self._nodes_of(posting.line_id):
                state = self.nodes.get(node)
                if state is None:
                    nodes.add(node)
                if state is None or block not in state.loaded:
                    pairs.add((node, block))
        figures = ", ".join("t." + f for f in FIGURES)
        for chunk in _chunks(sorted(nodes)):
            for node in chunk:
                self.nodes[node] = NodeState()
            marks = ", ".join("?" for _ in chunk)
            for node, era, *values in self.store.execute(
                f"SELECT t.node, t.era, {figures} FROM {self.t['eras']} t JOIN"
                f" (SELECT node, era, max(position) AS position FROM {self.t['eras']}"
                f" WHERE node IN ({marks}) GROUP BY node, era) m ON t.node = m.node"
                " AND t.era = m.era AND t.position = m.position",
                chunk,
            ):
                self.nodes[node].eras[era] = _values(values)
            for node in chunk:
                self.nodes[node].era_keys = sorted(self.nodes[node].eras)
        for chunk in _chunks(sorted(pairs)):
            for node, block in chunk:
                self.nodes[node].loaded.add(block)
            marks = ", ".join("(?, ?)" for _ in chunk)
            flat = [value for pair in chunk for value in pair]
            for node, block, *values in self.store.execute(
                f"SELECT t.node, t.block, {figures} FROM {self.t['blocks']} t JOIN"
                f" (SELECT node, block, max(position) AS position FROM {self.t['blocks']}"
                f" WHERE (node, block) IN (VALUES {marks}) GROUP BY node, block) m"
                " ON t.node = m.node AND t.block = m.block AND t.position = m.position",
                flat,
            ):
                self.nodes[node].blocks[block] = _values(values)
            for node, day, *values in self.store.execute(
                f"SELECT t.node, t.day, {figures} FROM {self.t['days']} t JOIN"
                f" (SELECT node, block, day, max(position) AS position FROM {self.t['days']}"
                f" WHERE (node, block) IN (VALUES {marks}) GROUP BY node, block, day) m"
                " ON t.node = m.node AND t.block = m.block AND t.day = m.day"
                " AND t.position = m.position",
                flat,
            ):
                self.nodes[node].days[day] = _values(values)

    def _flush(self, group: list[Posting], rows: Rows) -> None:
        """One version for the postings of one movement, on each node they touch."""
        if not group:
            return
        position = group[-1].position
        if len(group) == 1:  # most movements: every node gets the same change
            posting = group[0]
            unit, amount = EFFECTS[posting.topic], posting.amount_vnd
            change = (unit[0] * amount, unit[1] * amount, unit[2] * amount, unit[3] * amount)
            if change != ZERO:
                for node in self._nodes_of(posting.line_id):
                    self._version(node, posting.day, position, change, rows)
        else:
            changes: dict[tuple[int, int], Values] = {}
            for posting in group:
                unit, amount = EFFECTS[posting.topic], posting.amount_vnd
                change = (unit[0] * amount, unit[1] * amount, unit[2] * amount, unit[3] * amount)
                for node in self._nodes_of(posting.line_id):
                    key = (node, posting.day)
                    changes[key] = add(changes.get(key, ZERO), change)
            for (node, day), change in changes.items():
                if change != ZERO:
                    self._version(node, day, position, change, rows)
        self._tick(position, group[-1].recorded_at, rows)

    def _extend(self, posting: Posting, rows: Rows) -> None:
        self._tick(posting.position, posting.recorded_at, rows)
        node = self._nodes_of(posting.line_id)[0]
        rows.extensions.append(
            (node, posting.day, posting.position, posting.until_day, posting.amount_vnd)
        )

    def _tick(self, position: int, recorded_at: str, rows: Rows) -> None:
        """Note when a version was recorded; the clock never goes back along the log (clock
        texts are fixed-width UTC, so text order is time order)."""
        if self.clock is None or recorded_at > self.clock:
            self.clock = recorded_at
        rows.clock.append((position, self.clock))

    def _version(self, node: int, day: int, position: int, change: Values, rows: Rows) -> None:
        """Add ``change`` on ``day`` to ``node`` as of ``position``: a version of the day's
        total, of its block's total, of its era and of every later era the node has. This
        runs about five times per event, so it works on plain tuples and dicts."""
        # Every node and block a batch touches is in the cache (prefetched, or the view was
        # built from position zero in this process), so one it does not hold has no rows.
        state = self.nodes.get(node)
        if state is None:
            state = self.nodes[node] = NodeState()
        eras, keys = state.eras, state.era_keys
        if node in self.unwritten:
            rows.subtrees.extend((node, *key) for key in self.unwritten.pop(node))
        c0, c1, c2, c3 = change  # add() inlined below: a call costs as much as the sum
        block = day // BLOCK_DAYS
        total = state.days.get(day)
        if total is None:
            total = change
            rows.day_starts.append((node, block, day, position))
        else:
            total = (total[0] + c0, total[1] + c1, total[2] + c2, total[3] + c3)
        state.days[day] = total
        rows.days.append((node, block, day, position, *total))
        total = state.blocks.get(block)
        if total is None:
            total = change
            rows.block_starts.append((node, block, position))
        else:
            total = (total[0] + c0, total[1] + c1, total[2] + c2, total[3] + c3)
        state.blocks[block] = total
        rows.blocks.append((node, block, position, *total))
        era = block // ERA_BLOCKS
        value = eras.get(era)
        if value is None:
            # An era's first posting: everything before it, plus this change (the era's
            # only posting so far).
            index = bisect_left(keys, era)
            value = add(eras[keys[index - 1]], change) if index else change
            keys.insert(index, era)
            rows.era_starts.append((node, era, position))
        else:
            value = (value[0] + c0, value[1] + c1, value[2] + c2, value[3] + c3)
        eras[era] = value
        rows.eras.append((node, era, position, *value))
        if keys[-1] != era:  # back-dated into an earlier era: every later era moves too
            for later in keys[bisect_right(keys, era) :]:
                value = eras[later]
                value = eras[later] = (value[0] + c0, value[1] + c1, value[2] + c2, value[3] + c3)
                rows.eras.append((node, later, position, *value))

    def _line_directory(self) -> dict[str, LineInfo]:
        if self.lines is None:
            self.lines = {
                line_id: LineInfo(node, program, kind, source, year, holder)
                for line_id, node, program, kind, source, year, holder in self.store.execute(
                    f"SELECT line_id, node, program, kind, source, year, holder"
                    f" FROM {self.t['lines']}"
                )
            }
            self.line_of_node = {line.node: line_id for line_id, line in self.lines.items()}
        return self.lines

    def _subtree_directory(self) -> dict[SubtreeKey, int]:
        if self.subtrees is None:
            self.subtrees = {
                (holder, program, kind, source, year): node
                for node, holder, program, kind, source, year in self.store.execute(
                    f"SELECT node, holder, program, kind, source, year FROM {self.t['subtrees']}"
                )
            }
        return self.subtrees

    def _parent_directory(self) -> dict[str, str | None]:
        if self.parents is None:
            self.parents = dict(self.store.execute(f"SELECT code, parent FROM {self.t['holders']}"))
        return self.parents

    def _ancestors(self, holder: str) -> list[str]:
        return ancestors(holder, self._parent_directory().__getitem__)

    # -- Reading ---------------------------------------------------------------------------

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
        return add(_values(before or ZERO), _values(within))

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
        for chunk in _chunks(list(found)):
            statement, parameters = self._values_statement(chunk, as_of, position)
            for node, *values in self.store.execute(statement, parameters):
                found[node] = add(found[node], _values(values))
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
        for chunk in _chunks(list(found)):
            figures, parameters = self._values_statement(chunk, as_of, position)
            extended, more = self._extensions_statement(chunk, as_of, position)
            rows = self.store.execute(
                f"SELECT 0, v.* FROM ({figures}) v UNION ALL SELECT 1, x.*, 0 FROM ({extended}) x",
                (*parameters, *more),
            )
            for part, node, *values_or_extension in rows:
                if part == 0:
                    found[node] = add(found[node], _values(values_or_extension))
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
