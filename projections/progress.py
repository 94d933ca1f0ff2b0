"""The disbursement-progress report (tình hình giải ngân), from the balances read model.

For a report date D in year Y, per row (a holder's subtree, or a program, kind or source):
- this year's capital: lines of plan year Y; plan is what entered the row from outside
  (assigned − allocated on, so moves inside cancel), disbursed is everything paid from them;
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
from ledger.domain.holders import ancestors
from projections.runner import Projections

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
) -> list[dict[str, Any]]:
    """The report's rows, then a last row ``TOTAL``; each row flags ``below_average``."""
    if by not in BY:
        raise InvalidInput(f"must be one of {', '.join(BY)}", field="by")
    reader = projections.reader()
    position = reader.position_at(known_at)
    parents = reader.parents()
    scope = holder or _root(parents)
    if scope not in parents:
        raise UnknownHolder(f"no holder has code {scope}", field="holder", code=scope)
    year = as_of.year
    tallies: dict[str, Tally] = defaultdict(Tally)
    this_year = {"year": year}
    # (row label, node, kind) of every node counted in this year's capital.
    counted: list[tuple[str, int, str]] = []
    if by == "holder":
        own = reader.lines({"holder": scope, "year": year})
        counted += [(scope, node, kind) for node, _, kind, *_ in own]
        for child in sorted(code for code, parent in parents.items() if parent == scope):
            counted += [
                (child, node, kind)
                for node, _, kind, _, _ in reader.subtree_groups(child, this_year)
            ]
    else:
        for node, program, kind, source, _ in reader.subtree_groups(scope, this_year):
            label = {"program": program, "kind": kind, "source": source}[by]
            counted.append((label, node, kind))
    values = reader.values_many([node for _, node, _ in counted], as_of, position)
    for label, node, kind in counted:
        assigned, allocated_on, disbursed, _, passed_on, _ = values[node]
        tallies[label].add("current", kind, assigned - allocated_on - passed_on, disbursed)
    for node, program, kind, source, line_holder in reader.extended_lines(year):
        branch = _branch(parents, scope, line_holder)
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
) -> list[dict[str, Any]]:
    """The same report at the end of each month from ``start`` to ``end`` (and at ``end``)."""
    if end < start:
        raise InvalidInput("is before the first month asked for (from)", field="to")
    rows = []
    for day in month_ends(start, end):
        for row in progress(projections, as_of=day, known_at=known_at, by=by, holder=holder):
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


def _branch(parents: dict[str, str | None], scope: str, holder: str) -> str | None:
    """The row ``holder`` counts in: ``scope`` itself, the child of ``scope`` it lies under,
    or None when it lies outside ``scope``'s subtree."""
    chain = ancestors(holder, parents.__getitem__)
    if scope not in chain:
        return None
    below = chain.index(scope) - 1
    return chain[below] if below >= 0 else scope


def _root(parents: dict[str, str | None]) -> str:
    roots = [code for code, parent in parents.items() if parent is None]
    if len(roots) != 1:
        raise InvalidInput("name the holder to report on", field="holder", missing=True)
    return str(roots[0])
