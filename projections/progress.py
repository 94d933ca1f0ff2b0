"""The disbursement-progress report (tình hình giải ngân), from the balances read model.

For a report date D in year Y, per row (a holder's subtree on D, its predecessors included,
or a program, kind or source):
- this year's capital: lines of plan year Y; plan is what entered the row from outside and did
  not pass on out of it (assigned − allocated on − passed on, so allocations and successions
  inside cancel), disbursed is everything paid from them;
- earlier years' capital extended into Y: lines of plan years before Y whose extension (as of D)
  runs into Y; plan is the extended amount, disbursed is what they paid from 1 January Y;
- both side by side for investment (DTPT) and recurrent (SN) capital, and combined.
The average is the whole table's rate (total disbursed / total plan); rows below it are flagged.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from ledger.domain.errors import InvalidInput, UnknownHolder
from projections.queries import require_alive, require_begun, scope_nodes, scope_of, tree_at
from projections.runner import Projections
from projections.tree import root_of

BY = ("holder", "program", "kind", "source")
KINDS = ("DTPT", "SN")


@dataclass
class Tally:
    """Plan and disbursed per (vintage, kind) for one row."""

    amounts: dict[tuple[str, str], list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0])
    )

    def add(self, vintage: str, kind: str, plan_vnd: int, disbursed_vnd: int) -> None:
        cell = self.amounts[(vintage, kind)]
        cell[0] += plan_vnd
        cell[1] += disbursed_vnd

    def total(self, vintage: str | None = None, kind: str | None = None) -> tuple[int, int]:
        plan = disbursed = 0
        for (v, k), (p, d) in self.amounts.items():
            if (vintage is None or v == vintage) and (kind is None or k == kind):
                plan, disbursed = plan + p, disbursed + d
        return plan, disbursed


def rate_pct(plan_vnd: int, disbursed_vnd: int) -> float | None:
    return round(100 * disbursed_vnd / plan_vnd, 2) if plan_vnd else None


def progress(
    projections: Projections,
    *,
    as_of: date,
    known_at: datetime | None,
    by: str = "holder",
    holder: str | None = None,
    restated: bool = False,
) -> list[dict[str, Any]]:
    """The report's rows, then a last row ``TOTAL``; each row flags ``below_average``. The
    rows follow the tree as it stood on ``as_of`` (today's with ``restated``), through
    successions: a holder's predecessors count in its row."""
    if by not in BY:
        raise InvalidInput(f"must be one of {', '.join(BY)}", field="by")
    reader = projections.reader()
    position = reader.position_at(known_at)
    tree = tree_at(projections, position, as_of, restated=restated)
    scope = holder or root_of(tree.edges)
    if scope is None:
        raise InvalidInput("name the holder to report on", field="holder", missing=True)
    if scope not in tree.holders:
        raise UnknownHolder(f"no holder has code {scope}", field="holder", code=scope)
    require_begun(tree, scope)
    require_alive(tree, scope)
    year = as_of.year
    tallies: dict[str, Tally] = defaultdict(Tally)
    # Each holder of scope's subtree on the tree's day with its row: the child of scope it
    # lies under (scope's own lines are scope's row), or scope for every one.
    scoped = scope_of(projections, tree, scope, by_child=by == "holder")
    labels = scoped.labels
    counted = scope_nodes(reader, scoped, {"year": year})
    values = reader.values_many([node for _, node, *_ in counted], as_of, position)
    for label, node, program, kind, source, _ in counted:
        assigned, allocated_on, disbursed, _, passed_on, _ = values[node]
        dimension = {"holder": label, "program": program, "kind": kind, "source": source}
        # What entered the row from outside and did not pass on out of it: inside the row,
        # allocations and successions add and take the same amounts.
        plan = assigned - allocated_on - passed_on
        tallies[dimension[by]].add("current", kind, plan, disbursed)
    for node, program, kind, source, line_holder in reader.extended_lines(year):
        branch = labels.get(line_holder)
        if branch is None:
            continue
        extension = reader.extension(node, as_of, position)
        if extension is None or extension[0] < date(year, 1, 1):
            continue
        paid_now = reader.values(node, as_of, position)[2]
        paid_before = reader.values(node, date(year - 1, 12, 31), position)[2]
        dimension = {"holder": branch, "program": program, "kind": kind, "source": source}
        tallies[dimension[by]].add("extended", kind, extension[1], paid_now - paid_before)
    return _rows(tallies, by)


def _rows(tallies: dict[str, Tally], by: str) -> list[dict[str, Any]]:
    total = Tally()
    for tally in tallies.values():
        for (vintage, kind), (plan, disbursed) in tally.amounts.items():
            total.add(vintage, kind, plan, disbursed)
    average = rate_pct(*total.total())
    rows = [_row(label, tally, by, average) for label, tally in sorted(tallies.items())]
    rows = [row for row in rows if row["plan_vnd"] or row["disbursed_vnd"]]
    rows.append(_row("TOTAL", total, by, average))
    return rows


def _row(label: str, tally: Tally, by: str, average: float | None) -> dict[str, Any]:
    row: dict[str, Any] = {by: label}
    for suffix, vintage, kind in [
        ("dtpt", None, "DTPT"),
        ("sn", None, "SN"),
        ("current", "current", None),
        ("extended", "extended", None),
    ]:
        plan, disbursed = tally.total(vintage, kind)
        row[f"plan_{suffix}_vnd"] = plan
        row[f"disbursed_{suffix}_vnd"] = disbursed
        row[f"rate_{suffix}_pct"] = rate_pct(plan, disbursed)
    plan, disbursed = tally.total()
    row.update(plan_vnd=plan, disbursed_vnd=disbursed, rate_pct=rate_pct(plan, disbursed))
    row["average_pct"] = average
    row["below_average"] = (
        label != "TOTAL" and average is not None and (row["rate_pct"] or 0) < average
    )
    return row


def monthly(
    projections: Projections,
    *,
    start: date,
    end: date,
    known_at: datetime | None,
    by: str = "holder",
    holder: str | None = None,
    restated: bool = False,
) -> list[dict[str, Any]]:
    """The same report at the end of each month from ``start`` to ``end`` (and at ``end``)."""
    if end < start:
        raise InvalidInput("is before the first month asked for (from)", field="to")
    rows = []
    for day in month_ends(start, end):
        for row in progress(
            projections, as_of=day, known_at=known_at, by=by, holder=holder, restated=restated
        ):
            rows.append({"as_of": day, **row})
    return rows


def month_ends(start: date, end: date) -> list[date]:
    days = []
    month = date(start.year, start.month, 1)
    while month <= end:
        following = (month + timedelta(days=32)).replace(day=1)
        days.append(min(following - timedelta(days=1), end))
        month = following
    return days
