"""Writing one generation of the balances read model: the events of a batch, in log order,
become the directories (holders, lines, subtrees and their node numbers), the fold's rows
and the copies that splits need, inside the caller's transaction.

The writer keeps in memory what it has read or written of its generation (the directories
and the fold's node values), so that a catch-up reads back only what its batch touches and a
rebuild reads nothing back; ``forget`` drops it when another process may have written."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ledger.domain.tree import ancestors
from ledger.domain.values import holder_id
from ledger.storage.sql import Insert, ViewStore
from projections.balances.fold import Fold, NodeState, Rows, SubtreeKey, values_of
from projections.balances.journal import (
    CITATION_COLUMNS,
    ENTRY_COLUMNS,
    MOVEMENT_COLUMNS,
    JournalRows,
)
from projections.balances.schema import BLOCK_DAYS, BalancesSchema, chunks, tables
from projections.events import (
    EXTENSIONS,
    FIGURES,
    Event,
    HolderChange,
    Opened,
    Posting,
    Recorded,
    clock_text,
)


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


class BalancesWriter:
    """Writes one generation of the balances tables."""

    def __init__(self, store: ViewStore, generation: int) -> None:
        self.store = store
        self.generation = generation
        self.schema = BalancesSchema(store, generation)
        self.t = tables(generation)
        self.fold = Fold()
        # Each holder's parent at registration (the static tree of the subtree nodes), and
        # each holder's code by its aggregate id.
        self.parents: dict[str, str | None] | None = None
        self.codes: dict[str, str] = {}
        self.lines: dict[str, LineInfo] | None = None
        self.line_of_node: dict[int, str] = {}  # the line id of each node of ``lines``
        self.subtrees: dict[SubtreeKey, int] | None = None
        # Whether the tables have their indexes (a rebuild builds them at the end), and
        # whether splits wait for their copies (see _split).
        self.indexed: bool | None = None
        self.uncopied = False
        self.node_next: int | None = None
        self.line_nodes: dict[str, list[int]] = {}  # a line's node and its ancestors' subtrees
        # The position this writer's memory reflects.
        self.position: int | None = None
        # True when this process built the generation from position zero: the memory then
        # holds everything and a node it does not know has no rows.
        self.complete = False

    @property
    def clock(self) -> str | None:
        """The newest recorded time applied, as clock text (see Fold)."""
        return self.fold.clock

    @clock.setter
    def clock(self, value: str | None) -> None:
        self.fold.clock = value

    def index(self) -> None:
        """Build the indexes, then copy the histories that splits left for later."""
        self.schema.index()
        self.indexed = True
        self._copy_splits()

    def _is_indexed(self) -> bool:
        if self.indexed is None:
            self.indexed = self.schema.is_indexed()
        return self.indexed

    def forget(self) -> None:
        """Drop what is held in memory (after a failed transaction, or another writer)."""
        self.fold.forget()
        self.line_nodes.clear()
        self.parents = None
        self.codes = {}
        self.lines = None
        self.line_of_node = {}
        self.uncopied = False
        self.subtrees = None
        self.node_next = None
        self.position = None
        self.complete = False

    def apply(self, events: Iterable[Event]) -> None:
        """Apply events in log order inside the caller's transaction. Postings of one
        movement are one version."""
        events = list(events)
        if not events:
            return
        self._directory(events)
        self._journal([event for event in events if isinstance(event, Recorded)])
        postings = [event for event in events if isinstance(event, Posting)]
        clocked = [event for event in events if isinstance(event, (Posting, HolderChange))]
        # Every line's nodes first: a subtree that a second line enters now gets a node of
        # its own, before this batch writes anything. A split forgets the nodes of the line
        # whose node the subtree shared: they are found again (with no split) below.
        since = events[0].position
        for posting in postings:
            if posting.line_id not in self.line_nodes:
                self._nodes_of(posting.line_id, since)
        nodes_of = {
            line_id: self._nodes_of(line_id, since)
            for line_id in {posting.line_id for posting in postings}
        }
        if self.uncopied and self._is_indexed():
            self._copy_splits()
        if not self.complete:
            self._prefetch(postings, nodes_of)
        self._write(self.fold.apply(clocked, nodes_of))

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

    def _journal(self, recorded: list[Recorded]) -> None:
        """The audit trail's rows of the batch's recorded movements."""
        rows = JournalRows()
        for event in recorded:
            rows.add(event, clock_text(event.movement["timestamp"]))
        self.store.insert_many(self.t["movements"], MOVEMENT_COLUMNS, rows.movements)
        self.store.insert_many(self.t["entries"], ENTRY_COLUMNS, rows.entries)
        self.store.insert_many(self.t["citations"], CITATION_COLUMNS, rows.citations)

    def _directory(self, events: list[Event]) -> None:
        """Record the holders' changes and the lines opened in this batch."""
        lines = self._line_directory()
        parents = self._parent_directory()
        holder_rows, line_rows = [], []
        for event in events:
            if type(event) is HolderChange:
                code = event.code or self.codes[event.holder_id]
                registered = event.change == "registered"
                holder_rows.append(
                    (
                        code,
                        event.position,
                        event.change,
                        event.day,
                        event.parent,
                        event.name,
                        event.level,
                        event.actor,
                        event.recorded_at if registered else None,
                    )
                )
                if event.change == "registered":
                    parents[code] = event.parent
                    self.codes[event.holder_id] = code
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
        self.store.insert_many(
            self.t["holders"],
            (
                "code",
                "position",
                "change",
                "day",
                "parent",
                "name",
                "level",
                "actor",
                "recorded_at",
            ),
            holder_rows,
        )
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

    def _nodes_of(self, line_id: str, since: int) -> list[int]:
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
                    self.fold.unwritten.setdefault(node, []).append(key)
                elif node in self.line_of_node and node != line.node:
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
        unwritten = self.fold.unwritten
        pending = unwritten.get(line_node, [])
        if key in pending:  # no version yet, so no row yet either
            pending.remove(key)
            unwritten.setdefault(node, []).append(key)
        else:
            self.store.execute(
                f"UPDATE {self.t['subtrees']} SET node = ? WHERE holder = ? AND program = ?"
                " AND kind = ? AND source = ? AND year = ?",
                (node, *key),
            )
        state = self.fold.nodes.get(line_node)
        if state is not None:
            self.fold.nodes[node] = state.copy()
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

    def _prefetch(self, postings: list[Posting], nodes_of: dict[str, list[int]]) -> None:
        """Load, in a few queries, the latest rows of every node and block this batch
        touches that the fold does not hold."""
        held = self.fold.nodes
        nodes: set[int] = set()
        pairs: set[tuple[int, int]] = set()
        for posting in postings:
            if posting.topic in EXTENSIONS:
                continue
            block = posting.day // BLOCK_DAYS
            for node in nodes_of[posting.line_id]:
                state = held.get(node)
                if state is None:
                    nodes.add(node)
                if state is None or block not in state.loaded:
                    pairs.add((node, block))
        figures = ", ".join("t." + f for f in FIGURES)
        for chunk in chunks(sorted(nodes)):
            for node in chunk:
                held[node] = NodeState()
            marks = ", ".join("?" for _ in chunk)
            for node, era, *values in self.store.execute(
                f"SELECT t.node, t.era, {figures} FROM {self.t['eras']} t JOIN"
                f" (SELECT node, era, max(position) AS position FROM {self.t['eras']}"
                f" WHERE node IN ({marks}) GROUP BY node, era) m ON t.node = m.node"
                " AND t.era = m.era AND t.position = m.position",
                chunk,
            ):
                held[node].eras[era] = values_of(values)
            for node in chunk:
                held[node].era_keys = sorted(held[node].eras)
        for chunk in chunks(sorted(pairs)):
            for node, block in chunk:
                held[node].loaded.add(block)
            marks = ", ".join("(?, ?)" for _ in chunk)
            flat = [value for pair in chunk for value in pair]
            for node, block, *values in self.store.execute(
                f"SELECT t.node, t.block, {figures} FROM {self.t['blocks']} t JOIN"
                f" (SELECT node, block, max(position) AS position FROM {self.t['blocks']}"
                f" WHERE (node, block) IN (VALUES {marks}) GROUP BY node, block) m"
                " ON t.node = m.node AND t.block = m.block AND t.position = m.position",
                flat,
            ):
                held[node].blocks[block] = values_of(values)
            for node, day, *values in self.store.execute(
                f"SELECT t.node, t.day, {figures} FROM {self.t['days']} t JOIN"
                f" (SELECT node, block, day, max(position) AS position FROM {self.t['days']}"
                f" WHERE (node, block) IN (VALUES {marks}) GROUP BY node, block, day) m"
                " ON t.node = m.node AND t.block = m.block AND t.day = m.day"
                " AND t.position = m.position",
                flat,
            ):
                held[node].days[day] = values_of(values)

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
            self.parents = dict(
                self.store.execute(
                    f"SELECT code, parent FROM {self.t['holders']} WHERE change = 'registered'"
                )
            )
            self.codes = {holder_id(code).hex: code for code in self.parents}
        return self.parents

    def _ancestors(self, holder: str) -> list[str]:
        return ancestors(holder, self._parent_directory().__getitem__)
