"""The holder tree the reads walk, from the read model's holder changes: every holder's life
as the books stood at a log position (registered from a day, moved, renamed, ended into a
successor), the tree on any day through successions (``up_edges``), and which of the
read model's nodes add up to a set of holders (``cover``).

The read model keeps one node per subtree of the tree the holders were **registered** in
(the static tree: a posting's nodes never change). A read on a day asks for the holders of
the tree as it stood that day, which moves and successions make another set. ``cover``
reads that set as the fewest static subtree nodes whose whole static subtree lies in the
set, plus the own lines of every holder of the set whose static subtree does not: an
unmerged province is its one subtree node, as before, and a merged one a node for each
predecessor province (see docs/projections.md, "Reading through the reorganisation")."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Container, Iterable, Mapping
from datetime import date
from typing import Any, TypeVar

from ledger.domain.tree import ancestors, subtree_of
from ledger.domain.values import today_in_vietnam

T = TypeVar("T")
# A holder change row as the reader gives it: code, change, day (ordinal, 0: from the start),
# parent (or successor), name.
ChangeRow = tuple[str, str, int, str | None, str | None]


class HolderLife:
    """A holder's life as the read model holds it: what ``ledger.domain.tree.Life`` asks
    (so ``up_edges`` places it on any day), with its parent at registration (``parent``:
    the static tree) and its names."""

    __slots__ = ("code", "parent", "since", "placements", "names", "ended_on", "successor")

    def __init__(self, code: str, parent: str | None, since: int, name: str | None) -> None:
        self.code = code
        self.parent = parent
        self.since = since
        # [(day ordinal, value)] in day order; a later change of the same day replaces an
        # earlier one (as ledger.domain.holders.Holder keeps them).
        self.placements: list[tuple[int, str | None]] = [(since, parent)]
        self.names: list[tuple[int, str | None]] = [(since, name)]
        self.ended_on: date | None = None
        self.successor: str | None = None

    def parent_on(self, day: date) -> str | None:
        return _value_on(self.placements, day)

    def name_on(self, day: date) -> str | None:
        return _value_on(self.names, day)

    def begun_by(self, day: date) -> bool:
        return self.since <= day.toordinal()

    def ended_by(self, day: date) -> bool:
        return self.ended_on is not None and self.ended_on <= day


def _dated(history: list[tuple[int, str | None]], day: int, value: str | None) -> None:
    kept = [entry for entry in history if entry[0] != day]
    history[:] = sorted([*kept, (day, value)], key=lambda entry: entry[0])


def _value_on(history: list[tuple[int, str | None]], day: date) -> str | None:
    index = bisect_right([start for start, _ in history], day.toordinal())
    return history[max(index, 1) - 1][1]


def lives(changes: Iterable[ChangeRow]) -> dict[str, HolderLife]:
    """Every holder's life from its changes in log order."""
    found: dict[str, HolderLife] = {}
    for code, change, day, parent, name in changes:
        if change == "registered":
            found[code] = HolderLife(code, parent, day, name)
            continue
        life = found[code]
        if change == "moved":
            _dated(life.placements, day, parent)
        elif change == "renamed":
            _dated(life.names, day, name)
        else:
            assert change == "ended", change
            life.ended_on, life.successor = date.fromordinal(day), parent
    return found


def tree_day(as_of: date, *, restated: bool) -> date:
    """The day whose tree a read on ``as_of`` walks: that day's (as the tree stood), or
    today's when ``restated`` (the read date's, if later: a read counts every succession up
    to its date, so its tree must have them)."""
    return max(as_of, today_in_vietnam()) if restated else as_of


def root_of(edges: Mapping[str, str | None]) -> str | None:
    """The one holder without a parent on the tree's day (None: none, or several)."""
    roots = [code for code, parent in edges.items() if parent is None]
    return roots[0] if len(roots) == 1 else None


def members(
    edges: Mapping[str, str | None],
    scope: str,
    *,
    by_child: bool = False,
    ended: Container[str] = (),
) -> dict[str, str]:
    """``scope``'s subtree on the tree's day, each member with its label: ``scope`` for all,
    or (``by_child``) the child of ``scope`` it lies under (``scope`` itself for ``scope``).
    A holder ``ended`` by the tree's day is no row of its own: it counts in the row of the
    holder it passed to (a district ended into its province counts in the province's own
    row, an old commune in its new commune's row), since it no longer exists on that day."""
    found = subtree_of(edges.items(), scope)
    if not by_child:
        return dict.fromkeys(found, scope)
    labels = {scope: scope}
    for code in found - {scope}:
        chain = ancestors(code, edges.__getitem__)
        below = [holder for holder in chain[: chain.index(scope)] if holder not in ended]
        labels[code] = below[-1] if below else scope
    return labels


def cover(
    labels: Mapping[str, str], holders: Mapping[str, HolderLife]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The nodes that add up to the holders of ``labels``, each under its label:
    (label, holder) of the static subtrees to read whole, and (label, holder) of the holders
    whose own lines are read one by one. A static subtree is read whole when every holder in
    it has the same label (none is missing, none belongs to another row); it is then
    counted once, by its highest such holder."""
    children: dict[str, list[str]] = {}
    for code, life in holders.items():
        if life.parent is not None:
            children.setdefault(life.parent, []).append(code)
    whole: dict[str, bool] = {}

    def is_whole(code: str) -> bool:
        if code not in whole:
            label = labels[code]
            below = children.get(code, [])
            # Every child is visited, not only up to the first that fails: each one's own
            # answer is needed for the cover too.
            answers = [labels.get(child) == label and is_whole(child) for child in below]
            whole[code] = all(answers)
        return whole[code]

    subtrees: list[tuple[str, str]] = []
    own_lines: list[tuple[str, str]] = []
    for code, label in labels.items():
        if not is_whole(code):
            own_lines.append((label, code))
            continue
        parent = holders[code].parent if code in holders else None
        if parent is not None and labels.get(parent) == label and is_whole(parent):
            continue  # counted in its parent's subtree
        subtrees.append((label, code))
    return subtrees, own_lines


def ever_within(holders: Mapping[str, HolderLife], scope: str) -> set[str]:
    """``scope`` and every holder that sat below it on some day or passed its lines to it
    (or to one below it): what a token scoped to ``scope`` reads (as
    ``BudgetLedger.within``)."""
    below: dict[str, set[str]] = {}
    for code, life in holders.items():
        above = {parent for _, parent in life.placements if parent is not None}
        if life.successor is not None:
            above.add(life.successor)
        for parent in above:
            below.setdefault(parent, set()).add(code)
    found, frontier = {scope}, [scope]
    while frontier:
        for code in below.get(frontier.pop(), ()):
            if code not in found:
                found.add(code)
                frontier.append(code)
    return found


class Trees:
    """Holders' lives, and what reads derive from them (the tree of a day, a scope's
    members and cover), kept between the reads of one process. A generation's holder
    changes only grow, in log order, so (generation, position of the last holder change a
    read sees) names its lives, and everything derived is a function of that key and the
    read's own terms. Reading and placing 10,000 holders costs about 60 ms and covering the
    centre's children about 100 ms, far more than a province's figures."""

    LIVES_MAX = 4
    DERIVED_MAX = 64

    def __init__(self) -> None:
        self.lives: dict[tuple[int, int], dict[str, HolderLife]] = {}
        self.derived: dict[tuple[Any, ...], Any] = {}

    def lives_at(
        self, key: tuple[int, int], read: Callable[[], Iterable[ChangeRow]]
    ) -> dict[str, HolderLife]:
        """The lives of ``key`` (generation, position of the last holder change), read by
        ``read`` when not held."""
        found = self.lives.pop(key, None)
        if found is None:
            found = lives(read())
        self.lives[key] = found  # the newest last: the oldest goes first
        _bound(self.lives, self.LIVES_MAX)
        return found

    def remember(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """``compute()``, once per ``key`` (which starts with the lives' key)."""
        found: T | None = self.derived.pop(key, None)
        if found is None:
            found = compute()
        self.derived[key] = found
        _bound(self.derived, self.DERIVED_MAX)
        return found


def _bound(held: dict[Any, Any], count_max: int) -> None:
    while len(held) > count_max:
        del held[next(iter(held))]
