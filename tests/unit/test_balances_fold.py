"""The balances read model's fold alone, with no database: which rows each posting writes,
and the figures they carry (projections/balances/fold.py)."""

from __future__ import annotations

from projections.balances.fold import Fold, Rows
from projections.balances.schema import BLOCK_DAYS, ERA_BLOCKS
from projections.events import EXTENDED, Posting

ADJUSTED = "budget_ledger:BudgetLine.Adjusted"
DISBURSED = "budget_ledger:BudgetLine.Disbursed"
REALLOCATED_OUT = "budget_ledger:BudgetLine.ReallocatedOut"
REALLOCATED_IN = "budget_ledger:BudgetLine.ReallocatedIn"
ERA_DAYS = ERA_BLOCKS * BLOCK_DAYS
ERA = 2900  # an era of 2024 (its days are ordinals)
# Line A and line B of two communes under one district: each line is its own node, and the
# district's subtree of their group is node 3.
NODES = {"A": [1, 3], "B": [2, 3]}


def posting(
    position: int,
    topic: str,
    line: str,
    amount_vnd: int,
    *,
    day: int = ERA * ERA_DAYS,
    movement: str | None = None,
    second: int | None = None,
    until_day: int = 0,
) -> Posting:
    """A posting of ``line``, recorded ``second`` seconds past a minute (default: its position)."""
    recorded_at = f"2024-05-01T10:00:{position if second is None else second:02d}.000000+00:00"
    return Posting(
        position,
        topic,
        line,
        movement or f"m{position}",
        day,
        amount_vnd,
        recorded_at,
        until_day,
    )


def fold(*postings: Posting, into: Fold | None = None) -> Rows:
    return (into or Fold()).apply(list(postings), NODES)


def test_a_posting_writes_one_version_of_its_day_block_and_era_on_each_of_its_nodes() -> None:
    day = ERA * ERA_DAYS + 40  # the second block of the era
    rows = fold(posting(7, DISBURSED, "A", 500, day=day))
    block = day // BLOCK_DAYS
    assert rows.days == [
        (1, block, day, 7, 0, 0, 500, 0, 0, 0),
        (3, block, day, 7, 0, 0, 500, 0, 0, 0),
    ]
    assert rows.blocks == [(1, block, 7, 0, 0, 500, 0, 0, 0), (3, block, 7, 0, 0, 500, 0, 0, 0)]
    assert rows.eras == [(1, ERA, 7, 0, 0, 500, 0, 0, 0), (3, ERA, 7, 0, 0, 500, 0, 0, 0)]
    assert rows.day_starts == [(1, block, day, 7), (3, block, day, 7)]
    assert rows.block_starts == [(1, block, 7), (3, block, 7)]
    assert rows.era_starts == [(1, ERA, 7), (3, ERA, 7)]
    assert rows.clock == [(7, "2024-05-01T10:00:07.000000+00:00")]
    assert rows.extensions == [] and rows.subtrees == []


def test_a_later_posting_on_the_same_day_writes_the_days_new_total_and_no_start() -> None:
    state = Fold()
    fold(posting(1, ADJUSTED, "A", 1000), into=state)
    rows = fold(posting(2, DISBURSED, "A", 300), into=state)
    day, block = ERA * ERA_DAYS, ERA * ERA_BLOCKS
    assert rows.days == [
        (1, block, day, 2, 1000, 0, 300, 0, 0, 0),
        (3, block, day, 2, 1000, 0, 300, 0, 0, 0),
    ]
    assert rows.eras == [(1, ERA, 2, 1000, 0, 300, 0, 0, 0), (3, ERA, 2, 1000, 0, 300, 0, 0, 0)]
    assert rows.day_starts == rows.block_starts == rows.era_starts == []


def test_a_move_inside_a_subtree_is_one_version_of_each_line_and_none_of_the_subtree() -> None:
    rows = fold(
        posting(4, REALLOCATED_OUT, "A", 200, movement="r"),
        posting(5, REALLOCATED_IN, "B", 200, movement="r"),
    )
    day, block = ERA * ERA_DAYS, ERA * ERA_BLOCKS
    assert [row[:4] for row in rows.days] == [(1, block, day, 5), (2, block, day, 5)]
    assert [row[4:] for row in rows.days] == [(-200, 0, 0, 0, 0, 0), (200, 0, 0, 0, 0, 0)]
    assert {row[0] for row in rows.eras} == {1, 2}  # the district's node 3: nothing
    assert rows.clock == [(5, "2024-05-01T10:00:05.000000+00:00")]  # one version


def test_a_back_dated_posting_moves_every_later_era_of_its_nodes() -> None:
    state = Fold()
    fold(posting(1, ADJUSTED, "A", 100, day=(ERA + 1) * ERA_DAYS), into=state)
    rows = fold(posting(2, ADJUSTED, "A", 30, day=ERA * ERA_DAYS + 5), into=state)
    assert [row for row in rows.eras if row[0] == 1] == [
        (1, ERA, 2, 30, 0, 0, 0, 0, 0),  # the earlier era's first version: the change alone
        (1, ERA + 1, 2, 130, 0, 0, 0, 0, 0),  # cumulative through the later era's end
    ]
    assert rows.era_starts == [(1, ERA, 2), (3, ERA, 2)]
    # An era that starts after both: everything before it, plus its own change.
    rows = fold(posting(3, DISBURSED, "A", 4, day=(ERA + 3) * ERA_DAYS), into=state)
    assert [row for row in rows.eras if row[0] == 1] == [(1, ERA + 3, 3, 130, 0, 4, 0, 0, 0)]


def test_the_clock_never_goes_back_along_the_log() -> None:
    rows = fold(posting(1, ADJUSTED, "A", 10, second=30), posting(2, ADJUSTED, "B", 10, second=20))
    assert rows.clock == [
        (1, "2024-05-01T10:00:30.000000+00:00"),
        (2, "2024-05-01T10:00:30.000000+00:00"),  # recorded earlier by another writer's clock
    ]


def test_an_extension_writes_its_row_on_the_line_and_no_figures() -> None:
    until = ERA * ERA_DAYS + 300
    rows = fold(posting(9, EXTENDED, "B", 70, until_day=until))
    assert rows.extensions == [(2, ERA * ERA_DAYS, 9, until, 70)]
    assert rows.clock == [(9, "2024-05-01T10:00:09.000000+00:00")]
    assert rows.days == rows.blocks == rows.eras == []


def test_a_subtree_gets_its_row_with_its_nodes_first_version_only() -> None:
    state = Fold()
    key = ("49", "GNBV", "DTPT", "NSTW", 2024)
    state.unwritten[3] = [key]
    assert fold(posting(1, ADJUSTED, "A", 10), into=state).subtrees == [(3, *key)]
    assert fold(posting(2, ADJUSTED, "A", 10), into=state).subtrees == []
    assert state.unwritten == {}


def test_a_posting_of_nothing_writes_only_the_clock() -> None:
    rows = fold(posting(6, DISBURSED, "A", 0))
    assert rows.clock == [(6, "2024-05-01T10:00:06.000000+00:00")]
    assert rows.days == rows.blocks == rows.eras == rows.day_starts == []


def test_a_movement_posting_on_two_days_of_a_line_writes_one_version_of_each_block_and_era() -> (
    None
):
    # A payment confirmed late, on day D − 10, and what it took back from what its line had
    # passed on to its successor, on D (the day the holder ended): one movement, one line,
    # two days of one block and one era.
    ended = ERA * ERA_DAYS + 50  # the era's second block holds it and ten days before
    passed_on = "budget_ledger:BudgetLine.PassedOn"
    received = "budget_ledger:BudgetLine.SuccessionReceived"
    rows = fold(
        posting(7, ADJUSTED, "A", 100, day=ended - 30),
        posting(8, passed_on, "A", 100, day=ended, movement="s"),
        posting(9, received, "B", 100, day=ended, movement="s"),
        posting(10, DISBURSED, "A", 15, day=ended - 10, movement="late"),
        posting(11, passed_on, "A", -15, day=ended, movement="late"),
        posting(12, received, "B", -15, day=ended, movement="late"),
    )
    for table in (rows.blocks, rows.eras):
        keys = [row[:3] for row in table]
        assert len(keys) == len(set(keys)), table
    block = (ended - 10) // BLOCK_DAYS
    assert block == ended // BLOCK_DAYS
    # Line A after the late movement (one version, at its last posting): in the block of
    # both days, paid 15 and passed on 85; in the era, with the 100 assigned before.
    assert [row for row in rows.blocks if row[:3] == (1, block, 12)] == [
        (1, block, 12, 0, 0, 15, 0, 85, 0)
    ]
    assert [row for row in rows.eras if row[:3] == (1, ERA, 12)] == [
        (1, ERA, 12, 100, 0, 15, 0, 85, 0)
    ]
    # The district's subtree: 100 came in, 15 paid, what passed on moved within it.
    assert [row for row in rows.eras if row[:3] == (3, ERA, 12)] == [
        (3, ERA, 12, 200 - 15, 0, 15, 0, 85, 85)
    ]


def test_a_movement_posting_on_two_days_of_a_node_writes_each_block_and_era_once() -> None:
    # A payment recorded late on a line whose holder has since ended: the payment on its
    # day, and what passed on at the end changing with it, on a later day of the same block
    # and era, in one movement (one version).
    passed_on = "budget_ledger:BudgetLine.PassedOn"
    paid_day = ERA * ERA_DAYS + 3
    ended_day = paid_day + 10
    fold_ = Fold()
    fold(posting(1, ADJUSTED, "A", 1000, day=paid_day - 1), into=fold_)
    rows = fold(
        posting(2, DISBURSED, "A", 300, day=paid_day, movement="late"),
        posting(3, passed_on, "A", -300, day=ended_day, movement="late"),
        into=fold_,
    )
    block = paid_day // BLOCK_DAYS
    assert [row[:3] for row in rows.days] == [
        (1, block, paid_day),
        (3, block, paid_day),
        (1, block, ended_day),
        (3, block, ended_day),
    ]
    # assigned 1000, disbursed 300, passed on -300: once per node, with both changes.
    assert rows.blocks == [
        (1, block, 3, 1000, 0, 300, 0, -300, 0),
        (3, block, 3, 1000, 0, 300, 0, -300, 0),
    ]
    assert rows.eras == [
        (1, ERA, 3, 1000, 0, 300, 0, -300, 0),
        (3, ERA, 3, 1000, 0, 300, 0, -300, 0),
    ]
