"""The tables of one generation of the balances read model: their names, their layout
number, and creating, indexing and dropping them (see docs/projections.md, "Layout")."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ledger.storage.sql import ViewStore
from projections.events import FIGURES

NAME = "balances"
# The shape of the tables. A generation stores the layout it was built with; one built with
# another is rebuilt from the log when the projections are opened (see docs/projections.md).
LAYOUT = 8
BLOCK_DAYS = 32
# Cumulative figures are kept per era, not per block, so that a back-dated posting rewrites
# the later eras of its nodes rather than every later block: at 1,000,000 events of
# bench/asof.py, 13.2 M of the 17.7 M rows were such block rewrites. Longer eras write less
# but make queries read more block totals: with 16 blocks the rebuild ran 15% faster there,
# and a line's query took 3 ms instead of 1.7 ms (p50), a province's report 22 ms instead of 14.
ERA_BLOCKS = 8
TABLES = (
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
    "movements",
    "entries",
    "citations",
)


def chunks(items: list[Any], size: int = 400) -> Iterable[list[Any]]:
    """``items`` in pieces of ``size``: the most values one statement lists (``IN (...)``)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def tables(generation: int) -> dict[str, str]:
    return {name: f"{NAME}_{name}_g{generation}" for name in TABLES}


def create_statements(generation: int) -> tuple[list[str], list[str]]:
    """The tables, then their indexes: a rebuild fills the tables first and indexes them
    once, which is several times faster than keeping indexes up to date row by row."""
    t = tables(generation)
    figures = ", ".join(f"{name} BIGINT NOT NULL" for name in FIGURES)
    create = "CREATE TABLE IF NOT EXISTS"
    # A node is a small integer (see writer.LineInfo): the versioned tables hold about eleven
    # rows per event, and integer keys make them a third smaller and their indexes several
    # times faster to build than text names.
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
        # One row per event of a holder's life (events.HolderChange): registered (the
        # parent it was registered under: the subtrees' static tree), moved, renamed, ended
        # (``parent``: the successor); ``day`` is an ordinal, 0 for "from the start".
        # A registration also keeps the level, who registered it and when (clock text).
        f"{create} {t['holders']} (code TEXT NOT NULL, position BIGINT NOT NULL, "
        "change TEXT NOT NULL, day INTEGER NOT NULL, parent TEXT, name TEXT, level TEXT, "
        "actor TEXT, recorded_at TEXT)",
        f"{create} {t['clock']} (position BIGINT NOT NULL, recorded_at TEXT NOT NULL)",
        f"{create} {t['subtrees']} (node INTEGER NOT NULL, holder TEXT NOT NULL, "
        "program TEXT NOT NULL, kind TEXT NOT NULL, source TEXT NOT NULL, year INTEGER NOT NULL)",
        # A subtree holding a single line shares that line's node until a second line
        # enters it; it then gets a node of its own, with the line's history copied.
        f"{create} {t['splits']} (line_node INTEGER NOT NULL, node INTEGER NOT NULL, "
        "since BIGINT NOT NULL, copied INTEGER NOT NULL)",
        f"{create} {t['layout']} (layout INTEGER NOT NULL)",
        # The audit trail (journal.JournalRows): each recorded movement, each of its
        # postings with the keys a history question looks it up by, and each reference it
        # cites (decision, voucher, ...) as compared (journal.matching).
        f"{create} {t['movements']} (position BIGINT NOT NULL, movement_id TEXT NOT NULL, "
        "action TEXT NOT NULL, actor TEXT NOT NULL, actor_key TEXT NOT NULL, "
        "recorded_at TEXT NOT NULL, request TEXT NOT NULL)",
        f"{create} {t['entries']} (position BIGINT NOT NULL, seq INTEGER NOT NULL, "
        "line TEXT NOT NULL, program TEXT NOT NULL, kind TEXT NOT NULL, source TEXT NOT NULL, "
        "year INTEGER NOT NULL, holder TEXT NOT NULL, project TEXT, day INTEGER NOT NULL, "
        "debit INTEGER NOT NULL, action TEXT NOT NULL, amount_vnd BIGINT NOT NULL, "
        "available_change_vnd BIGINT NOT NULL, changes TEXT NOT NULL, recorded_at TEXT NOT NULL)",
        f"{create} {t['citations']} (reference_key TEXT NOT NULL, position BIGINT NOT NULL)",
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
        "holders": "code, position",
        "clock": "position",
        "subtrees": "holder, program, kind, source, year",
        "splits": "node",
        "movements": "position",
        # An entry's place in the trail (audit.order, then the holder), unique with ``seq``:
        # the order answers are given in and the key a page continues from.
        "entries": "day, debit, position, holder, seq",
        "citations": "reference_key, position",
    }
    plain = {
        ("clock", "by"): "recorded_at, position",
        ("lines", "by"): "holder",
        ("holders", "by"): "position",
        ("movements", "by_actor"): "actor_key, position",
        ("movements", "by_time"): "recorded_at, position",
        ("movements", "by_id"): "movement_id",
        # A line's running available amount: its postings in order, with their changes
        # (read from the index alone).
        ("entries", "by_line"): "line, day, debit, position, seq, available_change_vnd",
        ("entries", "by_holder"): "holder, day, debit, position, seq",
        ("entries", "by_position"): "position, seq",
        # A subtree's postings recorded in a time range (its movement's recording time,
        # copied): a range per holder, however many movements others recorded then.
        ("entries", "by_holder_time"): "holder, recorded_at",
    }
    index_statements = [
        f"CREATE UNIQUE INDEX IF NOT EXISTS {t[name]}_key ON {t[name]} ({columns})"
        for name, columns in unique.items()
    ] + [
        f"CREATE INDEX IF NOT EXISTS {t[name]}_{suffix} ON {t[name]} ({columns})"
        for (name, suffix), columns in plain.items()
    ]
    return table_statements, index_statements


class BalancesSchema:
    """Creates, indexes and drops one generation's tables, and reads its layout number."""

    def __init__(self, store: ViewStore, generation: int) -> None:
        self.store = store
        self.generation = generation
        self.t = tables(generation)

    def create(self, *, indexed: bool = True) -> None:
        """The tables, with the layout they were made with; their indexes too unless a
        rebuild will add them once filled (``index``)."""
        table_statements, index_statements = create_statements(self.generation)
        for statement in table_statements:
            self.store.execute(statement)
        self.store.execute(f"INSERT INTO {self.t['layout']} (layout) VALUES (?)", (LAYOUT,))
        if indexed:
            self.index()

    def index(self) -> None:
        for statement in create_statements(self.generation)[1]:
            self.store.execute(statement)

    def is_indexed(self) -> bool:
        return self.store.table_exists(f"{self.t['days']}_key")

    def drop(self) -> None:
        for table in self.t.values():
            self.store.execute(f"DROP TABLE IF EXISTS {table}")

    def layout(self) -> int | None:
        """The layout the generation's tables were built with (None: before layouts)."""
        if not self.store.table_exists(self.t["layout"]):
            return None
        row = self.store.one(f"SELECT layout FROM {self.t['layout']}")
        return int(row[0]) if row else None
