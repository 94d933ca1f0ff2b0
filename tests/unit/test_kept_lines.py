"""The lines a process keeps between balance reads: only ever given at the position (and
generation) they were kept at."""

from __future__ import annotations

from projections.balances.reader import KeptLines

ROW = (1, "GNBV", "DTPT", "NSTW", 2024, "505", None)


def test_kept_lines_are_given_at_their_position_only() -> None:
    kept = KeptLines()
    key = ("holder", "505")
    assert kept.get((1, 10), key) is None
    kept.keep((1, 10), key, [ROW])
    assert kept.get((1, 10), key) == [ROW]
    assert kept.get((1, 11), key) is None  # the log moved: asked afresh
    assert kept.get((2, 10), key) is None  # another generation
    assert kept.get((1, 10), ("holder", "504")) is None


def test_keeping_at_a_new_position_drops_what_was_kept_before() -> None:
    kept = KeptLines()
    kept.keep((1, 10), ("holder", "505"), [ROW])
    kept.keep((1, 11), ("holder", "504"), [])
    assert kept.get((1, 11), ("holder", "504")) == []
    assert kept.get((1, 10), ("holder", "505")) is None
    assert kept.get((1, 11), ("holder", "505")) is None
