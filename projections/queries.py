"""Answers from the balances read model: lines and subtrees at any date, as known at any time."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ledger.domain.holders import subtree_of
from ledger.domain.values import LineKey, available_vnd
from projections.balances.reader import BalancesReader
from projections.runner import Projections


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


def line_balances(
    projections: Projections, filters: dict[str, Any], as_of: date, known_at: datetime | None
) -> list[dict[str, Any]]:
    """One row per line matching ``filters``, with every derived figure at ``as_of`` counting
    only what was recorded at or before ``known_at`` (everything when None)."""
    reader = projections.reader()
    position = reader.position_at(known_at)
    rows = []
    lines = reader.lines(filters)
    values, extensions = reader.figures_many([node for node, *_ in lines], as_of, position)
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
    reader = projections.reader()
    position = reader.position_at(known_at)
    rows = []
    groups = reader.subtree_groups(holder, filters)
    values = reader.values_many([node for node, *_ in groups], as_of, position)
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
                "passed_on_vnd": figures["passed_on_vnd"],
                "received_vnd": figures["received_vnd"],
                "available_vnd": figures["available_vnd"],
                "extended_vnd": None,
                "deadline": None,
            }
        )
    return rows


def descendants(reader: BalancesReader, holder: str) -> set[str]:
    return subtree_of(reader.parents().items(), holder)
