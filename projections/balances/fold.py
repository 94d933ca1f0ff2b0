"""How postings change the balances read model's figures, in memory and with no database:
each movement's postings become one version of the day, block and era of every node they
touch, written as rows (``Rows``) for the writer to store.

The fold works on the latest values of each node it holds (``NodeState``); the writer loads
the ones a batch touches beforehand (or holds everything, after building from position zero)
and gives each posting's nodes, so a node the fold does not hold has no rows yet."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from typing import Any

from projections.balances.schema import BLOCK_DAYS, ERA_BLOCKS
from projections.events import EFFECTS, EXTENSIONS, HolderChange, Posting

# The FIGURES: assigned, allocated on, disbursed, lapsed, passed on, received.
Values = tuple[int, int, int, int, int, int]
ZERO = (0, 0, 0, 0, 0, 0)
SubtreeKey = tuple[str, str, str, str, int]  # holder, program, kind, source, year


def values_of(row: Sequence[Any]) -> Values:
    return (int(row[0]), int(row[1]), int(row[2]), int(row[3]), int(row[4]), int(row[5]))


def add(left: Values, right: Values) -> Values:
    return (
        left[0] + right[0],
        left[1] + right[1],
        left[2] + right[2],
        left[3] + right[3],
        left[4] + right[4],
        left[5] + right[5],
    )


def _scaled(unit: tuple[int, ...], amount: int) -> Values:
    return (
        unit[0] * amount,
        unit[1] * amount,
        unit[2] * amount,
        unit[3] * amount,
        unit[4] * amount,
        unit[5] * amount,
    )


def _last_of_each(rows: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
    """The rows of one version, the last of each (node, block or era) only, in order."""
    last = {row[:2]: index for index, row in enumerate(rows)}
    if len(last) == len(rows):
        return rows
    return [row for index, row in enumerate(rows) if last[row[:2]] == index]


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


class Fold:
    """The latest values of the nodes held, the subtrees that wait for their first version
    to get their row, and the newest recorded time applied (as clock text: versions get
    recorded times that never decrease along the log)."""

    def __init__(self) -> None:
        self.nodes: dict[int, NodeState] = {}
        # Subtrees given a node but not yet written, by node: a subtree gets its row with the
        # node's first version, so that one with no postings lists no group.
        self.unwritten: dict[int, list[SubtreeKey]] = {}
        self.clock: str | None = None

    def forget(self) -> None:
        self.nodes.clear()
        self.unwritten.clear()
        self.clock = None

    def apply(
        self, postings: Sequence[Posting | HolderChange], nodes_of: Mapping[str, Sequence[int]]
    ) -> Rows:
        """The rows of ``postings``, in log order; ``nodes_of`` gives each line's nodes (its
        own first, then its ancestors' subtrees). Postings of one movement are one version.
        A change of a holder's life changes no figure but is a version of the clock: the
        tree as the books stood at a time is read from the holder changes recorded by then."""
        rows = Rows()
        group: list[Posting] = []
        for posting in postings:
            if isinstance(posting, HolderChange):
                self._flush(group, nodes_of, rows)
                group = []
                self._tick(posting.position, posting.recorded_at, rows)
            elif posting.topic in EXTENSIONS:
                self._flush(group, nodes_of, rows)
                group = []
                self._extend(posting, nodes_of[posting.line_id][0], rows)
            else:
                if group and group[-1].movement_id != posting.movement_id:
                    self._flush(group, nodes_of, rows)
                    group = []
                group.append(posting)
        self._flush(group, nodes_of, rows)
        return rows

    def _flush(
        self, group: list[Posting], nodes_of: Mapping[str, Sequence[int]], rows: Rows
    ) -> None:
        """One version for the postings of one movement, on each node they touch."""
        if not group:
            return
        position = group[-1].position
        if len(group) == 1:  # most movements: every node gets the same change
            posting = group[0]
            unit, amount = EFFECTS[posting.topic], posting.amount_vnd
            change = _scaled(unit, amount)
            if change != ZERO:
                for node in nodes_of[posting.line_id]:
                    self._version(node, posting.day, position, change, rows)
        else:
            changes: dict[tuple[int, int], Values] = {}
            for posting in group:
                unit, amount = EFFECTS[posting.topic], posting.amount_vnd
                change = _scaled(unit, amount)
                for node in nodes_of[posting.line_id]:
                    key = (node, posting.day)
                    changes[key] = add(changes.get(key, ZERO), change)
            blocks_from, eras_from = len(rows.blocks), len(rows.eras)
            for (node, day), change in changes.items():
                if change != ZERO:
                    self._version(node, day, position, change, rows)
            # A movement may post on two days of one node (a late payment before its
            # holder ended, and what passed on at the end changing with it): each day's
            # version rewrites its block and era and the later eras, so a block or era can
            # be written twice at this position. Its last row holds both changes.
            rows.blocks[blocks_from:] = _last_of_each(rows.blocks[blocks_from:])
            rows.eras[eras_from:] = _last_of_each(rows.eras[eras_from:])
        self._tick(position, group[-1].recorded_at, rows)

    def _extend(self, posting: Posting, node: int, rows: Rows) -> None:
        self._tick(posting.position, posting.recorded_at, rows)
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
        c0, c1, c2, c3, c4, c5 = change  # add() inlined below: a call costs as much as the sum
        block = day // BLOCK_DAYS
        total = state.days.get(day)
        if total is None:
            total = change
            rows.day_starts.append((node, block, day, position))
        else:
            total = (
                total[0] + c0,
                total[1] + c1,
                total[2] + c2,
                total[3] + c3,
                total[4] + c4,
                total[5] + c5,
            )
        state.days[day] = total
        rows.days.append((node, block, day, position, *total))
        total = state.blocks.get(block)
        if total is None:
            total = change
            rows.block_starts.append((node, block, position))
        else:
            total = (
                total[0] + c0,
                total[1] + c1,
                total[2] + c2,
                total[3] + c3,
                total[4] + c4,
                total[5] + c5,
            )
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
            value = (
                value[0] + c0,
                value[1] + c1,
                value[2] + c2,
                value[3] + c3,
                value[4] + c4,
                value[5] + c5,
            )
        eras[era] = value
        rows.eras.append((node, era, position, *value))
        if keys[-1] != era:  # back-dated into an earlier era: every later era moves too
            for later in keys[bisect_right(keys, era) :]:
                value = eras[later]
                value = eras[later] = (
                    value[0] + c0,
                    value[1] + c1,
                    value[2] + c2,
                    value[3] + c3,
                    value[4] + c4,
                    value[5] + c5,
                )
                rows.eras.append((node, later, position, *value))
