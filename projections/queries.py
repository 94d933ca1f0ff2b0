"""Answers from the balances read model: lines and subtrees at any date, as known at any time."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ledger.holders import subtree_of
from ledger.values import LINE_FIELDS, LineKey, available_vnd
from projections.balances import BalancesView
from projections.runner import Projections


def _figures(values: tuple[int, int, int, int]) -> dict[str, int]:
    assigned, allocated_on, disbursed, lapsed = values
    return {
        "assigned_vnd": assigned,
        "allocated_on_vnd": allocated_on,
        "disbursed_vnd": disbursed,
        "lapsed_vnd": lapsed,
        "available_vnd": available_vnd(assigned, allocated_on, disbursed, lapsed),
    }


def line_balances(
    projections: Projections, filters: dict[str, Any], as_of: date, known_at: datetime | None
) -> list[dict[str, Any]]:
    """One row per line matching ``filters``, with every derived figure at ``as_of`` counting
    only what was recorded at or before ``known_at`` (everything when None)."""
    view = projections.view()
    position = view.position_at(known_at)
    rows = []
    lines = _lines(view, filters)
    values, extensions = view.figures_many([node for node, *_ in lines], as_of, position)
    for node, *identity in lines:
        key = LineKey(*identity)
        row: dict[str, Any] = {**key.as_dict(), **_figures(values[node])}
        extension = extensions.get(node)
        row["extended_vnd"] = extension[1] if extension else 0
        row["deadline"] = extension[0] if extension else key.base_deadline
        rows.append(row)
    return rows


def subtree_balances(
    projections: Projections,
    holder: str,
    filters: dict[str, Any],
    as_of: date,
    known_at: datetime | None,
) -> list[dict[str, Any]]:
    """One row per program/kind/source/year in ``holder``'s subtree: moves inside it cancel,
    so ``assigned_vnd`` is what entered it from outside (its plan)."""
    view = projections.view()
    position = view.position_at(known_at)
    rows = []
    groups = subtree_groups(view, holder, filters)
    values = view.values_many([node for node, *_ in groups], as_of, position)
    for node, program, kind, source, year in groups:
        figures = _figures(values[node])
        rows.append(
            {
                "program": program,
                "kind": kind,
                "source": source,
                "year": year,
                "holder": holder,
                "project": None,
                "assigned_vnd": figures["assigned_vnd"] - figures["allocated_on_vnd"],
                "allocated_on_vnd": 0,
                "disbursed_vnd": figures["disbursed_vnd"],
                "lapsed_vnd": figures["lapsed_vnd"],
                "available_vnd": figures["available_vnd"],
                "extended_vnd": None,
                "deadline": None,
            }
        )
    return rows


def subtree_groups(
    view: BalancesView, holder: str, filters: dict[str, Any]
) -> list[tuple[Any, ...]]:
    """(node, program, kind, source, year) of every group with postings in the subtree."""
    names = ("program", "kind", "source", "year")
    clauses = [f"{name} = ?" for name in names if filters.get(name) is not None]
    parameters = [holder, *(filters[name] for name in names if filters.get(name) is not None)]
    return view.store.execute(
        f"SELECT node, program, kind, source, year FROM {view.t['subtrees']} WHERE holder = ?"
        + "".join(f" AND {clause}" for clause in clauses)
        + " ORDER BY program, kind, source, year",
        parameters,
    )


def descendants(view: BalancesView, holder: str) -> set[str]:
    pairs = view.store.execute(f"SELECT code, parent FROM {view.t['holders']}")
    return subtree_of(((code, parent) for code, parent in pairs), holder)


def _lines(view: BalancesView, filters: dict[str, Any]) -> list[tuple[Any, ...]]:
    clauses = [f"{name} = ?" for name in LINE_FIELDS if filters.get(name) is not None]
    parameters = [filters[name] for name in LINE_FIELDS if filters.get(name) is not None]
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    columns = ", ".join(LINE_FIELDS)
    return view.store.execute(
        f"SELECT node, {columns} FROM {view.t['lines']}{where} ORDER BY {columns}",
        parameters,
    )
