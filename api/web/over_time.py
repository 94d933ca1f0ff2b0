"""The page the steering committee watches: cumulative disbursement month by month against
the plan for a holder (or one program of it), this year beside last year. Each month's
figures are the progress report at that month's end, read through ``filed_report`` as the
progress page and the API read it. ``/over-time.xlsx`` and ``.csv`` download its table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import Response, render_template, request

from api.auth import caller, read_models, require_scope, services
from api.web.downloads import table_file
from api.web.views import blp, lang
from api.web.words import word
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
    projections = read_models()
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


@dataclass(frozen=True)
class Curve:
    """The over-time page's query, read from its URL, and the two years' months."""

    holder: str | None
    program: str | None
    year: int
    this_year: list[Month]
    last_year: list[Month]


def _curve() -> Curve:
    holder = (request.args.get("holder") or "").strip().upper() or caller().scope
    if holder is not None:
        require_scope(holder)
    program = request.args.get("program") or None
    if program is not None:
        program = check_program(program)
    year = check_year(request.args.get("year") or str(today_in_vietnam().year))
    return Curve(
        holder,
        program,
        year,
        _year_series(holder, program, year),
        _year_series(holder, program, year - 1),
    )


@blp.get("/over-time")
def over_time() -> Response:
    curve = _curve()
    year, this_year, last_year = curve.year, curve.this_year, curve.last_year
    rates = [m.rate_pct or 0 for m in this_year + last_year]
    top = max([100.0, *rates])
    return Response(
        render_template(
            "over_time.html",
            holder=curve.holder,
            program=curve.program,
            year=year,
            series=[(year, this_year, "this"), (year - 1, last_year, "last")],
            points={year: _points(this_year, top), year - 1: _points(last_year, top)},
            width=CHART_W,
            height=CHART_H,
            gridlines=[(pct, CHART_H - pct / top * CHART_H) for pct in range(0, int(top) + 1, 25)],
        )
    )


@blp.get("/over-time.<any(xlsx, csv):extension>")
def over_time_download(extension: str) -> Response:
    """The page's table: a row per month, the plan, the disbursement to date and its rate
    of each year (blank where a year has no figure for the month, as on the page)."""
    curve = _curve()
    current = lang()
    columns = [("month", word("month", current))]
    for which, year in (("this", curve.year), ("last", curve.year - 1)):
        columns += [
            (f"{which}_plan_vnd", f"{word('plan', current)} {year} (đồng)"),
            (f"{which}_disbursed_vnd", f"{word('disbursed_to_date', current)} {year} (đồng)"),
            (f"{which}_rate_pct", f"% {year}"),
        ]
    rows: list[dict[str, Any]] = [{"month": month} for month in range(1, 13)]
    for which, months in (("this", curve.this_year), ("last", curve.last_year)):
        for month in months:
            rows[month.month - 1].update(
                {
                    f"{which}_plan_vnd": month.plan_vnd,
                    f"{which}_disbursed_vnd": month.disbursed_vnd,
                    f"{which}_rate_pct": month.rate_pct,
                }
            )
    parts = ["giai-ngan-theo-thang", curve.holder, curve.program, str(curve.year)]
    name = "-".join(part for part in parts if part)
    return table_file(rows, columns, word("over_time", current), extension, name)
