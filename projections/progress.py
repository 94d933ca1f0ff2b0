"""The disbursement-progress report (tình hình giải ngân), from the balances read model: the
one computation behind ``report progress``, ``GET /reports/progress`` and every file of it.

For a report date D in year Y, per row (a grouping path over the levels asked: the child of
the scope a holder lies under, the program, the component project, the capital kind, the
source) and per source and kind:
- this year's capital: lines of plan year Y; plan is what entered the row from outside and
  did not pass on out of it (assigned − allocated on − passed on, so allocations and
  successions inside cancel), disbursed is everything paid from them;
- earlier years' capital extended into Y: lines of plan years before Y whose extension (as
  of D) runs into Y; plan is the extended amount, disbursed is what they paid from 1 January Y.

From those: both denominators (the central plan, NSTW, which the Prime Minister assigns, and
the locality's whole plan, NSTW + NSĐP + other), investment (ĐTPT) and recurrent (SN) side
by side, extended capital apart, unspent, what is near its deadline (proposed for extension,
or already extended and to lapse), the period's movement against the previous period, the
counterpart funds against their required ratio, the plan stage (what a holder was assigned,
or what it allocated on in detail), a target's reach at the pace so far, and the table's
average with the rows below it flagged. See docs/reports.md.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from ledger.domain.errors import InvalidInput, UnknownHolder
from projections.queries import Tree, require_alive, require_begun, scope_of, tree_at
from projections.runner import Projections
from projections.tree import root_of

LEVELS = ("holder", "program", "project", "kind", "source")
BY = LEVELS  # one level; ``parse_by`` reads several ("program,holder")
PLAN_STAGES = ("assigned", "allocated")
PERIODS = ("month", "fortnight", "week")
KINDS = ("DTPT", "SN")
CENTRAL = "NSTW"
COUNTERPART = "NSDP"
NEAR_DAYS = 120  # a deadline this close to the report date is near: see docs/reports.md
NO_PROJECT = ""  # the project level's key for lines of no component project

# The amounts a cell keeps, per (vintage, kind, source) of a row.
ASSIGNED, UNDISTRIBUTED, DISBURSED, NEAR_OPEN, NEAR_EXTENDED = range(5)


@dataclass(frozen=True)
class Asked:
    """What a progress report is asked for: the same options in the CLI, the API and the
    exports."""

    as_of: date
    known_at: datetime | None = None
    holder: str | None = None
    by: tuple[str, ...] = ("holder",)
    plan: str = "assigned"
    period: str | None = None
    target_pct: float | None = None
    restated: bool = False
    near_days: int = NEAR_DAYS
    ratios: Mapping[str, float] = field(default_factory=dict)  # program -> required NSĐP %
    year: int | None = None  # the plan year reported on (default: the report date's year)

    @property
    def plan_year(self) -> int:
        return self.year if self.year is not None else self.as_of.year

    def __post_init__(self) -> None:
        if not self.by or any(level not in LEVELS for level in self.by):
            raise InvalidInput(
                f"must be one or more of {', '.join(LEVELS)}, separated by commas", field="by"
            )
        if len(set(self.by)) != len(self.by):
            raise InvalidInput("names a level twice", field="by")
        if self.plan not in PLAN_STAGES:
            raise InvalidInput(f"must be one of {', '.join(PLAN_STAGES)}", field="plan")
        if self.period is not None and self.period not in PERIODS:
            raise InvalidInput(f"must be one of {', '.join(PERIODS)}", field="period")
        if self.target_pct is not None and not 0 < self.target_pct <= 100:
            raise InvalidInput("must be a percentage above 0 and at most 100", field="target")
        if not 0 <= self.near_days <= 3660:
            raise InvalidInput("must be a number of days from 0 to 3660", field="near")
        if self.year is not None and not (
            self.year <= self.as_of.year <= self.year + 1 and self.as_of >= date(self.year, 1, 1)
        ):
            raise InvalidInput(
                f"{self.year}: a report on a plan year is dated in that year or the next (its "
                "money is disbursed until 31 January, or later when extended)",
                field="year",
            )


def parse_by(text: str) -> tuple[str, ...]:
    """ "program,holder" → ("program", "holder"), each a level; InvalidInput otherwise."""
    levels = tuple(part.strip() for part in text.split(",") if part.strip())
    if not levels or any(level not in LEVELS for level in levels):
        raise InvalidInput(
            f"{text!r}: must be one or more of {', '.join(LEVELS)}, separated by commas "
            "(e.g. program,holder)",
            field="by",
        )
    return levels


def parse_reference(text: str) -> tuple[str, float]:
    """An outside rate to print beside the report's: "cả nước=32" or "cả nước=32,5"."""
    label, _, rate = text.partition("=")
    try:
        value = float(rate.strip().rstrip("%").replace(",", "."))
    except ValueError:
        value = -1.0
    if not label.strip() or not 0 <= value <= 1000:
        raise InvalidInput(
            f'{text!r}: write a label, = and a rate in percent, e.g. "cả nước=32"',
            field="reference",
        )
    return label.strip(), value


Cell = tuple[str, str, str, str, str]  # vintage, kind, source, program, unit


class Cells:
    """A row's amounts per (vintage, kind, source, program, unit): see ASSIGNED and the
    others; the unit is the scope or the child of the scope the money lies under."""

    def __init__(self) -> None:
        self.amounts: dict[Cell, list[int]] = defaultdict(lambda: [0] * 5)

    def add(self, cell: Cell, index: int, amount_vnd: int) -> None:
        self.amounts[cell][index] += amount_vnd

    def merge(self, other: Cells) -> None:
        for cell, amounts in other.amounts.items():
            mine = self.amounts[cell]
            for index, amount in enumerate(amounts):
                mine[index] += amount

    def total(
        self,
        index: int,
        *,
        vintage: str | None = None,
        kind: str | None = None,
        source: str | None = None,
        program: str | None = None,
        unit: str | None = None,
    ) -> int:
        return sum(
            amounts[index]
            for (v, k, s, p, u), amounts in self.amounts.items()
            if (vintage is None or v == vintage)
            and (kind is None or k == kind)
            and (source is None or s == source)
            and (program is None or p == program)
            and (unit is None or u == unit)
        )

    def programs(self) -> set[str]:
        return {cell[3] for cell in self.amounts}

    def units(self) -> set[str]:
        return {cell[4] for cell in self.amounts}

    def plan(self, stage: str, **which: str | None) -> int:
        assigned = self.total(ASSIGNED, **which)
        return assigned - self.total(UNDISTRIBUTED, **which) if stage == "allocated" else assigned


def rate_pct(plan_vnd: int, disbursed_vnd: int) -> float | None:
    return round(100 * disbursed_vnd / plan_vnd, 2) if plan_vnd else None


@dataclass(frozen=True)
class Period:
    """The period ending on the report date, and the one before it."""

    kind: str
    start: date
    previous_start: date

    @property
    def previous_end(self) -> date:
        return self.start - timedelta(days=1)


def period_of(kind: str, as_of: date) -> Period:
    """A month: from the 1st; a fortnight (the steering committee meets every two weeks) or a
    week: the 14 or 7 days ending on the report date."""
    if kind == "month":
        start = as_of.replace(day=1)
        previous = (start - timedelta(days=1)).replace(day=1)
        return Period(kind, start, previous)
    days = 14 if kind == "fortnight" else 7
    start = as_of - timedelta(days=days - 1)
    return Period(kind, start, start - timedelta(days=days))


@dataclass
class Report:
    """The report's rows (in print order: the total, then each group before its members)
    with their figures, and what was asked."""

    asked: Asked
    scope: str
    tree: Tree
    year: int
    period: Period | None
    rows: list[dict[str, Any]]
    average_pct: float | None
    references: list[tuple[str, float]] = field(default_factory=list)

    @property
    def total(self) -> dict[str, Any]:
        return self.rows[0]

    @property
    def details(self) -> list[dict[str, Any]]:
        return [row for row in self.rows if row["row_kind"] == "detail"]


def report(projections: Projections, asked: Asked) -> Report:
    """The progress report: rows through the tree as it stood on ``as_of`` (today's with
    ``restated``), through successions: a holder's predecessors count in its row."""
    reader = projections.reader()
    position = reader.position_at(asked.known_at)
    tree = tree_at(projections, position, asked.as_of, restated=asked.restated)
    scope = asked.holder or root_of(tree.edges)
    if scope is None:
        raise InvalidInput("name the holder to report on", field="holder", missing=True)
    if scope not in tree.holders:
        raise UnknownHolder(f"no holder has code {scope}", field="holder", code=scope)
    require_begun(tree, scope)
    require_alive(tree, scope)
    year = asked.plan_year
    period = period_of(asked.period, asked.as_of) if asked.period else None
    reading = _Reading(projections, tree, scope, asked, position)
    now = reading.cells(asked.as_of)
    before: dict[tuple[str, ...], Cells] = {}
    earlier: dict[tuple[str, ...], Cells] = {}
    if period:
        before = reading.cells(period.previous_end)
        earlier = reading.cells(period.previous_start - timedelta(days=1))
    rows = _rows(asked, year, period, now, before, earlier)
    return Report(asked, scope, tree, year, period, rows, rows[0]["rate_pct"])


class _Reading:
    """The read model's nodes that make up the report's rows, read on any day."""

    def __init__(
        self,
        projections: Projections,
        tree: Tree,
        scope: str,
        asked: Asked,
        position: int | None,
    ) -> None:
        self.reader = projections.reader()
        self.asked, self.position = asked, position
        self.year = asked.plan_year
        # Each member of the scope's subtree with its unit: the child of the scope it lies
        # under (the scope for its own lines). The holder level's rows are the units; the
        # plan stage is read per unit whatever the rows (seed 004's localities).
        scoped = scope_of(projections, tree, scope, by_child=True)
        self.units = scoped.labels
        filters = {"year": self.year}
        # (unit, node, program, kind, source, project) of the plan year's lines: the static
        # subtrees and own lines that cover the members, or every line when the component
        # project is a level (the subtree nodes sum over projects).
        if "project" in asked.by:
            self.current = [
                (self.units[holder], node, program, kind, source, project or NO_PROJECT)
                for holder, node, program, kind, source, _, project in self.reader.lines_of(
                    sorted(self.units), filters
                )
            ]
        else:
            whole = dict((code, label) for label, code in scoped.subtrees)
            alone = dict((code, label) for label, code in scoped.own_lines)
            self.current = [
                (whole[holder], node, program, kind, source, NO_PROJECT)
                for holder, node, program, kind, source, _ in self.reader.subtree_nodes(
                    list(whole), filters
                )
            ] + [
                (alone[holder], node, program, kind, source, NO_PROJECT)
                for holder, node, program, kind, source, _ in self.reader.line_nodes(
                    list(alone), filters
                )
            ]
        # A unit with holders below it that keeps money on a line it has allocated from,
        # neither passed down nor paid, has not yet allocated that part in detail; a unit
        # that allocates nothing from a line (an investor paying itself) has detailed it all.
        roots = set(self.units.values())
        parents = {parent for parent in tree.edges.values() if parent is not None}
        self.undistributed = [
            (holder, node, program, kind, source, project or NO_PROJECT)
            for holder, node, program, kind, source, _, project in self.reader.lines_of(
                sorted(roots & parents), filters
            )
        ]
        self.extended = [
            (self.units[holder], node, program, kind, source, project or NO_PROJECT)
            for node, program, kind, source, holder, project in self.reader.extended_lines(
                self.year
            )
            if holder in self.units
        ]

    def path(
        self, unit: str, program: str, kind: str, source: str, project: str
    ) -> tuple[str, ...]:
        keys = {"holder": unit, "program": program, "kind": kind, "source": source}
        keys["project"] = project
        return tuple(keys[level] for level in self.asked.by)

    def cells(self, day: date) -> dict[tuple[str, ...], Cells]:
        """Each detail row's cells on ``day``, counted from 1 January of the report's plan
        year (nothing before it)."""
        found: dict[tuple[str, ...], Cells] = defaultdict(Cells)
        if day < date(self.year, 1, 1):
            return found
        reader, position = self.reader, self.position
        nodes = [entry[1] for entry in (*self.current, *self.undistributed)]
        values = reader.values_many(nodes, day, position)
        # The plan year's lines have the base deadline (31 January of the next year) unless
        # extended: near when it falls within the window (see docs/reports.md).
        base_deadline = date(self.year + 1, 1, 31)
        current_near = day <= base_deadline <= day + timedelta(days=self.asked.near_days)
        for unit, node, program, kind, source, project in self.current:
            assigned, allocated_on, disbursed, _, passed_on, _ = values[node]
            cells = found[self.path(unit, program, kind, source, project)]
            plan = assigned - allocated_on - passed_on
            cell = ("current", kind, source, program, unit)
            cells.add(cell, ASSIGNED, plan)
            cells.add(cell, DISBURSED, disbursed)
            if current_near:
                cells.add(cell, NEAR_OPEN, plan - disbursed)
        for unit, node, program, kind, source, project in self.undistributed:
            assigned, allocated_on, disbursed, lapsed, passed_on, _ = values[node]
            if allocated_on == 0:
                continue
            held = assigned - allocated_on - disbursed - lapsed - passed_on
            cells = found[self.path(unit, program, kind, source, project)]
            cells.add(("current", kind, source, program, unit), UNDISTRIBUTED, held)
        if self.extended:
            paid = reader.values_many([entry[1] for entry in self.extended], day, position)
            start = reader.values_many(
                [entry[1] for entry in self.extended], date(self.year - 1, 12, 31), position
            )
            for unit, node, program, kind, source, project in self.extended:
                extension = reader.extension(node, day, position)
                if extension is None or extension[0] < date(self.year, 1, 1):
                    continue
                until, extended_vnd = extension
                disbursed = paid[node][2] - start[node][2]
                cells = found[self.path(unit, program, kind, source, project)]
                cell = ("extended", kind, source, program, unit)
                cells.add(cell, ASSIGNED, extended_vnd)
                cells.add(cell, DISBURSED, disbursed)
                if day <= until <= day + timedelta(days=self.asked.near_days):
                    cells.add(cell, NEAR_EXTENDED, extended_vnd - disbursed)
        return found


def natural(key: str) -> tuple[Any, ...]:
    """A code as people sort it: DA2 before DA10, 105 before 1050."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", key))


def _rows(
    asked: Asked,
    year: int,
    period: Period | None,
    now: Mapping[tuple[str, ...], Cells],
    before: Mapping[tuple[str, ...], Cells],
    earlier: Mapping[tuple[str, ...], Cells],
) -> list[dict[str, Any]]:
    """The total, then each group followed by its members, depth first in natural key
    order; detail rows with nothing planned and nothing paid are left out."""
    kept = [path for path, cells in now.items() if cells.total(ASSIGNED) or cells.total(DISBURSED)]
    groups: dict[tuple[str, ...], list[Cells]] = defaultdict(lambda: [Cells(), Cells(), Cells()])
    groups[()]  # the total row, which a report has even with nothing in it
    for path in kept:
        for depth in range(len(path) + 1):
            summed = groups[path[:depth]]
            for index, source in enumerate((now, before, earlier)):
                if path in source:
                    summed[index].merge(source[path])
    rows = []
    for path in sorted(groups, key=lambda key: [natural(part) for part in key]):
        cells_now, cells_before, cells_earlier = groups[path]
        kind = "total" if not path else "detail" if len(path) == len(asked.by) else "group"
        row = _figures(asked, year, period, cells_now, cells_before, cells_earlier)
        row.update(row_kind=kind, path=list(path))
        for level, key in zip(asked.by, path, strict=False):
            row[level] = key
        rows.append(row)
    total = rows[0]
    average = total["rate_pct"]
    for row in rows:
        row["average_pct"] = average
        row["below_average"] = (
            row["row_kind"] == "detail" and average is not None and (row["rate_pct"] or 0) < average
        )
    return rows


def _figures(
    asked: Asked,
    year: int,
    period: Period | None,
    now: Cells,
    before: Cells,
    earlier: Cells,
) -> dict[str, Any]:
    stage = asked.plan
    row: dict[str, Any] = {}

    def put(suffix: str, cells: Cells, **which: str | None) -> None:
        plan = cells.plan(stage, **which)
        disbursed = cells.total(DISBURSED, **which)
        row[f"plan{suffix}_vnd"] = plan
        row[f"disbursed{suffix}_vnd"] = disbursed
        row[f"rate{suffix}_pct"] = rate_pct(plan, disbursed)

    put("", now)
    put("_central", now, source=CENTRAL)
    put("_dtpt", now, kind="DTPT")
    put("_sn", now, kind="SN")
    put("_current", now, vintage="current")
    put("_extended", now, vintage="extended")
    row["unspent_vnd"] = row["plan_vnd"] - row["disbursed_vnd"]
    row["proposed_extension_vnd"] = now.total(NEAR_OPEN)
    row["proposed_lapse_vnd"] = now.total(NEAR_EXTENDED)
    assigned = now.plan("assigned", vintage="current")
    allocated = now.plan("allocated", vintage="current")
    row["plan_assigned_vnd"] = assigned
    row["plan_allocated_vnd"] = allocated
    row["allocated_pct"] = rate_pct(assigned, allocated)
    # The units (the scope and its children) with a plan in the row, and those of them that
    # have allocated all of it in detail: seed 004's "45/48 localities".
    planned = [
        unit for unit in now.units() if now.total(ASSIGNED, vintage="current", unit=unit) > 0
    ]
    row["units_count"] = len(planned)
    row["allocated_all_count"] = sum(
        1 for unit in planned if now.total(UNDISTRIBUTED, vintage="current", unit=unit) == 0
    )
    # Counterpart funds: this year's NSĐP plan against the NSTW plan, and the NSĐP each
    # program's required ratio asks of it.
    central = now.total(ASSIGNED, vintage="current", source=CENTRAL)
    counterpart = now.total(ASSIGNED, vintage="current", source=COUNTERPART)
    row["plan_current_central_vnd"] = central
    row["counterpart_vnd"] = counterpart
    row["counterpart_pct"] = rate_pct(central, counterpart)
    required = _required_counterpart(asked, now)
    row["counterpart_required_vnd"] = required
    row["counterpart_short"] = required is not None and counterpart < required
    if period is not None:
        row["disbursed_period_vnd"] = row["disbursed_vnd"] - before.total(DISBURSED)
        row["disbursed_previous_period_vnd"] = before.total(DISBURSED) - earlier.total(DISBURSED)
        rate_before = rate_pct(before.plan(stage), before.total(DISBURSED))
        row["rate_previous_pct"] = rate_before
        row["rate_change_pct"] = (
            round(row["rate_pct"] - rate_before, 2)
            if row["rate_pct"] is not None and rate_before is not None
            else None
        )
    if asked.target_pct is not None:
        first = date(year, 1, 1)
        elapsed = (asked.as_of - first).days + 1
        in_year = (date(year, 12, 31) - first).days + 1
        projected = (
            round(row["rate_pct"] * in_year / elapsed, 2) if row["rate_pct"] is not None else None
        )
        row["projected_rate_pct"] = projected
        row["off_target"] = projected is not None and projected < asked.target_pct
    return row


def _required_counterpart(asked: Asked, cells: Cells) -> int | None:
    """The NSĐP the recorded ratios ask for: per program, its ratio of this year's NSTW
    plan, rounded up to the đồng; None when no program of the row has a ratio recorded."""
    programs = [program for program in sorted(cells.programs()) if program in asked.ratios]
    if not programs:
        return None
    required = 0
    for program in programs:
        central = cells.total(ASSIGNED, vintage="current", source=CENTRAL, program=program)
        required += -(-central * round(asked.ratios[program] * 100) // 10000)
    return required


def progress(
    projections: Projections,
    *,
    as_of: date,
    known_at: datetime | None,
    by: str = "holder",
    holder: str | None = None,
    restated: bool = False,
) -> list[dict[str, Any]]:
    """The report's rows as the API has always given them: one per ``by`` value, then a
    last row ``TOTAL``, each with every figure of ``report``."""
    asked = Asked(as_of=as_of, known_at=known_at, holder=holder, by=(by,), restated=restated)
    return flat_rows(report(projections, asked))


def flat_rows(found: Report) -> list[dict[str, Any]]:
    """The rows of a report in the order the API has always given them: groups and members
    first, the total last, labelled ``TOTAL`` under the first level's key."""
    first = found.asked.by[0]
    total = {**found.total, first: "TOTAL"}
    return [*found.rows[1:], total]


def month_ends(start: date, end: date) -> list[date]:
    days = []
    month = date(start.year, start.month, 1)
    while month <= end:
        following = (month + timedelta(days=32)).replace(day=1)
        days.append(min(following - timedelta(days=1), end))
        month = following
    return days
