"""The progress bar's count (cli/bars.py) without a display: what long work reports through
its plain callback, and how a total that was only an estimate ends."""

from __future__ import annotations

from cli.bars import Bar


def test_advance_and_reach_count_what_was_done() -> None:
    bar = Bar(total=10)
    bar.advance(3)
    bar.advance()
    assert (bar.done, bar.total) == (4, 10)
    bar.reach(7)
    assert (bar.done, bar.total) == (7, 10)
    bar.reach(8, total=20)  # the log grew while it was read
    assert (bar.done, bar.total) == (8, 20)


def test_an_estimated_total_grows_to_what_was_done_and_ends_full() -> None:
    fewer = Bar(total=10)  # a file with blank lines: fewer rows than line ends
    fewer.reach(6)
    fewer.finish()
    assert (fewer.done, fewer.total) == (6, 6)
    more = Bar(total=5)
    more.reach(9)
    assert (more.done, more.total) == (9, 9)
    unknown = Bar(total=None)
    unknown.advance(4)
    assert unknown.total is None
    unknown.finish()
    assert (unknown.done, unknown.total) == (4, 4)
