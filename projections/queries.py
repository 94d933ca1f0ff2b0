"""Answers from the balances read model: lines and subtrees at any date, as known at any time."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ledger.domain.errors import InvalidInput, UnknownHolder
from ledger.domain.tree import up_edges
from ledger.domain.values import LineKey, available_vnd
from projections.balances.fold import ZERO, Values, add
from projections.balances.reader import BalancesReader
from projections.runner import Projections
from projections.tree import HolderLife, cover, ever_within, members, tree_day


def _figures(values: tuple[int, ...]) -> dict[str, int]:
    assigned, allocated_on, disbursed, lapsed, passed_on, received = values
    return {
        "assigned_vnd": assigned,
        "allocated_on_vnd": allocated_on,
        "disbursed_vnd": disbursed,
        "lapsed_vnd": lapsed,
        "passed_on_vnd": passed_on,
        "received_vnd": received,
        "available_vnd": available_vnd(assigned, allocated_on, disbursed, lapsed, passed_on),
    }


def line_order(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """The order of a page of lines (``line_balances``' ``after``, api/paging.py): by their
    identity, a line without a project before those with one."""
    return (
        row["program"],
        row["kind"],
        row["source"],
        row["year"],
        row["holder"],
        row["project"] or "",
    )


def line_balances(
    projections: Projections,
    filters: dict[str, Any],
    as_of: date,
    known_at: datetime | None,
    *,
    holders: Collection[str] | None = None,
    after: tuple[Any, ...] | None = None,
    first: int | None = None,
) -> list[dict[str, Any]]:
    """One row per line matching ``filters``, with every derived figure at ``as_of`` counting
    only what was recorded at or before ``known_at`` (everything when None). ``holders``:
    only their lines. ``after``, ``first``: a page, in ``line_order``: the first ``first``
    lines whose key comes after ``after``; only their figures are worked out."""
    reader = projections.reader()
    position = reader.position_at(known_at)
    rows = []
    lines = reader.lines(filters, at=projections.position_in_use)
    if holders is not None:
        lines = [line for line in lines if line[5] in holders]
    if after is not None or first is not None:
        keyed = sorted((line_order(LineKey(*line[1:]).as_dict()), line) for line in lines)
        lines = [line for key, line in keyed if after is None or key > after][:first]
    values, extensions = reader.figures_many([node for node, *_ in lines], as_of, position)
    for node, *identity in lines:
        key = LineKey(*identity)
        row: dict[str, Any] = {**key.as_dict(), **_figures(values[node])}
        extension = extensions.get(node)
        row["extended_vnd"] = extension[1] if extension else 0
        row["deadline"] = extension[0] if extension else key.base_deadline
        rows.append(row)
    return rows


@dataclass(frozen=True)
class Tree:
    """The holders as the books stood at a log position (``key``: the generation and the
    position of the last holder change by then), and their tree on ``day``."""

    key: tuple[int, int]
    holders: dict[str, HolderLife]
    day: date
    edges: dict[str, str | None]


@dataclass(frozen=True)
class Scope:
    """A holder's subtree in a tree: each member with its row's label, and the nodes to
    read (see ``cover``): (label, holder) of the static subtrees read whole and of the
    holders whose own lines are read."""

    labels: dict[str, str]
    subtrees: list[tuple[str, str]]
    own_lines: list[tuple[str, str]]


def tree_at(projections: Projections, position: int | None, as_of: date, *, restated: bool) -> Tree:
    """The tree a read on ``as_of`` walks: of the holder changes recorded by ``position``,
    as it stood on ``as_of`` (or today's, ``restated``: see ``tree_day``)."""
    key, holders = _lives(projections, position)
    day = tree_day(as_of, restated=restated)
    edges = projections.trees.remember((*key, day), lambda: up_edges(holders, day))
    return Tree(key, holders, day, edges)


def _lives(
    projections: Projections, position: int | None
) -> tuple[tuple[int, int], dict[str, HolderLife]]:
    """The holders' lives as recorded by ``position``, and their key (see ``Trees``)."""
    reader = projections.reader()
    head = reader.holder_changes_head(position)
    key = (reader.generation, head)
    return key, projections.trees.lives_at(key, lambda: reader.holder_changes(head))


def require_holder(projections: Projections, holder: str) -> None:
    """UnknownHolder unless ``holder`` is registered in the log the read models have read
    (at any date: one registered from a later day is known)."""
    _, holders = _lives(projections, None)
    if holder not in holders:
        raise UnknownHolder(f"no holder has code {holder}", field="holder", code=holder)


def require_begun(tree: Tree, holder: str) -> None:
    """``holder`` existed on the tree's day: a holder registered from a later day (a merged
    province, a new commune) had nothing then, and a read of it says so instead of zeros."""
    life = tree.holders[holder]
    if holder not in tree.edges and not life.begun_by(tree.day):
        since = date.fromordinal(life.since).isoformat()
        raise InvalidInput(
            f"holder {holder} exists from {since}; read a date from then, or add --restated "
            "(API restated=true) to read earlier dates through today's tree",
            field="holder",
        )


def require_alive(tree: Tree, holder: str) -> None:
    """``holder`` had not ended by the tree's day: a report on it would show nothing, its
    lines being its successor's from its end."""
    life = tree.holders[holder]
    if life.ended_on is not None and life.ended_by(tree.day):
        raise InvalidInput(
            f"holder {holder} ended on {life.ended_on.isoformat()} into {life.successor}: "
            f"report on {life.successor}, or on {holder} at a date before "
            f"{life.ended_on.isoformat()}",
            field="holder",
        )


def scope_of(projections: Projections, tree: Tree, holder: str, *, by_child: bool = False) -> Scope:
    """``holder``'s members in ``tree`` (labelled by the child of ``holder`` each lies under
    when ``by_child``) and the nodes that add up to them."""

    def compute() -> Scope:
        ended = {code for code, life in tree.holders.items() if life.ended_by(tree.day)}
        labels = members(tree.edges, holder, by_child=by_child, ended=ended)
        return Scope(labels, *cover(labels, tree.holders))

    return projections.trees.remember((*tree.key, tree.day, holder, by_child), compute)


def scope_nodes(
    reader: BalancesReader, scope: Scope, filters: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """(label, node, program, kind, source, year) of the nodes that add up, per label and
    group, to the lines of the scope's members, narrowed by the group fields of ``filters``."""
    whole = dict((code, label) for label, code in scope.subtrees)
    alone = dict((code, label) for label, code in scope.own_lines)
    found = [(whole[holder], *rest) for holder, *rest in reader.subtree_nodes(list(whole), filters)]
    found += [(alone[holder], *rest) for holder, *rest in reader.line_nodes(list(alone), filters)]
    return found


def subtree_balances(
    projections: Projections,
    holder: str,
    filters: dict[str, Any],
    as_of: date,
    known_at: datetime | None,
    *,
    restated: bool = False,
) -> list[dict[str, Any]]:
    """One row per program/kind/source/year in ``holder``'s subtree on ``as_of`` (as the tree
    stood that day, or through today's with ``restated``), its predecessors included.

    Moves inside the subtree cancel: ``assigned_vnd`` is what entered it from outside (its
    plan), ``allocated_on_vnd`` is 0, ``received_vnd`` what came in by succession from
    holders outside it, ``passed_on_vnd`` what it passed to a successor outside it. A
    succession between two holders of the subtree is inside it: from the succession's day
    the predecessor sits under its successor, so it is one of the subtree's holders exactly
    when ``holder`` (alive on the tree's day) lies above it; all it passed on then stayed
    inside. When ``holder`` itself has ended, its subtree is itself. Available is the sum of
    the lines' available amounts either way."""
    reader = projections.reader()
    position = reader.position_at(known_at)
    tree = tree_at(projections, position, as_of, restated=restated)
    if holder not in tree.holders:
        return []
    require_begun(tree, holder)
    sums: dict[tuple[Any, ...], Values] = {}
    nodes = scope_nodes(reader, scope_of(projections, tree, holder), filters)
    values = reader.values_many([node for _, node, *_ in nodes], as_of, position)
    for _, node, *group in nodes:
        key = tuple(group)
        sums[key] = add(sums.get(key, ZERO), values[node])
    alive = not tree.holders[holder].ended_by(tree.day)
    rows = []
    for (program, kind, source, year), summed in sorted(sums.items()):
        figures = _figures(summed)
        inside = figures["passed_on_vnd"] if alive else 0
        rows.append(
            {
                "program": program,
                "kind": kind,
                "source": source,
                "year": year,
                "holder": holder,
                "project": None,
                "assigned_vnd": figures["assigned_vnd"] - figures["allocated_on_vnd"] - inside,
                "allocated_on_vnd": 0,
                "disbursed_vnd": figures["disbursed_vnd"],
                "lapsed_vnd": figures["lapsed_vnd"],
                "passed_on_vnd": figures["passed_on_vnd"] - inside,
                "received_vnd": figures["received_vnd"] - inside,
                "available_vnd": figures["available_vnd"],
                "extended_vnd": None,
                "deadline": None,
            }
        )
    return rows


def descendants(projections: Projections, holder: str) -> set[str]:
    """``holder`` and every holder that ever sat below it or passed its lines to it (or to
    one below it), as far as the read model knows: what a token scoped to ``holder``
    reads."""
    key, holders = _lives(projections, None)
    return projections.trees.remember((*key, "ever", holder), lambda: ever_within(holders, holder))


def holders_on(projections: Projections, day: date, *, ended: bool = False) -> list[dict[str, Any]]:
    """The holders as they stood on ``day``, by code, from the read model's holders (what
    ``BudgetLedger.holders_on`` answers from the log): each with its name then and the
    holder above it then (through successions, see ``up_edges``); ``ended``: also those
    ended by then, under the parent they last had, with their end and successor."""
    key, holders = _lives(projections, None)
    edges = projections.trees.remember((*key, day), lambda: up_edges(holders, day))
    registered = projections.trees.remember(
        (*key, "registrations"),
        lambda: {
            str(code): (level, actor, datetime.fromisoformat(str(at)))
            for code, level, actor, at in projections.reader().registrations(key[1])
        },
    )
    rows = []
    for code in sorted(holders):
        life = holders[code]
        gone = life.ended_by(day)
        if code not in edges or (gone and not ended):
            continue
        parent = edges[code]
        if gone:
            assert life.ended_on is not None
            parent = life.parent_on(life.ended_on - timedelta(days=1))
        level, actor, registered_at = registered[code]
        rows.append(
            {
                "code": code,
                "name": life.name_on(day),
                "level": level,
                "parent": parent,
                "since": date.fromordinal(life.since) if life.since else None,
                "ended_on": life.ended_on if gone else None,
                "successor": life.successor if gone else None,
                "registered_at": registered_at,
                "actor": actor,
            }
        )
    return rows
