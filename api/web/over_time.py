"""The page the steering committee watches: cumulative disbursement month by month against
the plan for a holder (or one program of it), this year beside last year. Each month's
figures are the progress report at that month's end, read through ``filed_report`` as the
progress page and the API read it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import Response, render_template, request

from api.auth import caller, read_model, require_scope, services
from api.web.views import blp, lang
from ledger.domain.values import check_program, check_year, today_in_vietnam
from projections.progress import month_ends
from projections.progress_document import Question, filed_report

CHART_W, CHART_H = 720, 260  # the plot's room in the SVG's units


@dataclass(frozen=True)
class Month:
    month: int
    plan_vnd: int
    disbursed_vnd: int

    @property
    def rate_pct(self) -> float | None:
        return 100 * self.disbursed_vnd / self.plan_vnd if self.plan_vnd else None


def _year_series(holder: str | None, program: str | None, year: int) -> list[Month]:
    """The plan and the cumulative disbursement of ``year``'s plan at each month's end (up
    to today in the current year; from its first day to its last for a holder that began
    or ended within the year)."""
    end = min(date(year, 12, 31), today_in_vietnam())
    start = date(year, 1, 1)
    if holder:
        found = services().ledger.get_holder(holder)
        if found.ended_on is not None:  # reorganised away: its curve stops the day before
            end = min(end, found.ended_on - timedelta(days=1))
        if found.since is not None:  # made by a reorganisation: its curve starts with it
            start = max(start, found.since)
    projections = services().current_projections(read_model())
    months = []
    days = month_ends(start, end) if start <= end and end.year == year else []
    for day in days:
        question = Question(as_of=day, holder=holder, year=year, lang=lang(),
                            by="program" if program else "holder")  # fmt: skip
        _, document = filed_report(projections, services().ledger, question)
        rows = [row for row in document.rows if row.kind == "total"]
        if program:
            rows = [row for row in document.rows if row.level == 1 and row.code == program]
        values = rows[0].values if rows else {}
        months.append(
            Month(day.month, values.get("plan_vnd") or 0, values.get("disbursed_vnd") or 0)
        )
    return months


def _points(months: list[Month], top: float) -> str:
    """An SVG polyline's points: x by month, y by rate."""
    points = []
    for month in months:
        x = (month.month - 0.5) / 12 * CHART_W
        y = CHART_H - (month.rate_pct or 0) / top * CHART_H
        points.append(f"{x:.1f},{y:.1f}")
    return " ".join(points)


@blp.get("/over-time")
def over_time() -> Response:
    holder = (request.args.get("holder") or "").strip().upper() or caller().scope
    if holder is not None:
        require_scope(holder)
    program = request.args.get("program") or None
    if program is not None:
        program = check_program(program)
    year = check_year(request.args.get("year") or str(today_in_vietnam().year))
    this_year = _year_series(holder, program, year)
    last_year = _year_series(holder, program, year - 1)
    rates = [m.rate_pct or 0 for m in this_year + last_year]
    top = max([100.0, *rates])
    return Response(
        render_template(
            "over_time.html",
            holder=holder,
            program=program,
            year=year,
            series=[(year, this_year, "this"), (year - 1, last_year, "last")],
            points={year: _points(this_year, top), year - 1: _points(last_year, top)},
            width=CHART_W,
            height=CHART_H,
            gridlines=[(pct, CHART_H - pct / top * CHART_H) for pct in range(0, int(top) + 1, 25)],
        )
    )
