"""``budget-ledger report progress``: the disbursement-progress table."""

from __future__ import annotations

from typing import Any

import click

from api.services import Services
from cli.common import DATE, TIME, emit, unit_option, with_services
from cli.projections import read_models
from cli.reads import restated_option
from ledger.domain.filters import read_filters
from ledger.domain.values import parse_date
from projections.progress import BY, monthly, progress

PROGRESS_COLUMNS = [
    ("plan_dtpt_vnd", "plan ĐTPT"),
    ("disbursed_dtpt_vnd", "disbursed ĐTPT"),
    ("rate_dtpt_pct", "% ĐTPT"),
    ("plan_sn_vnd", "plan SN"),
    ("disbursed_sn_vnd", "disbursed SN"),
    ("rate_sn_pct", "% SN"),
    ("plan_current_vnd", "this year's plan"),
    ("rate_current_pct", "% this year"),
    ("plan_extended_vnd", "extended from earlier years"),
    ("disbursed_extended_vnd", "disbursed of extended"),
    ("rate_extended_pct", "% extended"),
    ("plan_vnd", "plan, all"),
    ("disbursed_vnd", "disbursed, all"),
    ("rate_pct", "% all"),
    ("below_average", "vs average"),
]


@click.group("report")
def report() -> None:
    """Reports read from the read models."""


@report.command("progress")
@click.option("--as-of", "as_of", type=DATE, default=None, help="Report date (default: today).")
@click.option(
    "--known-at",
    "known_at",
    type=TIME,
    default=None,
    help="As the books stood at this time (default: now).",
)
@click.option(
    "--by",
    type=click.Choice(BY),
    default="holder",
    show_default=True,
    help="One row per child holder, or per program, kind or source.",
)
@click.option(
    "--holder",
    default=None,
    help="Whose subtree (default: the root), as the tree stood on the report date.",
)
@restated_option
@click.option(
    "--period",
    type=click.Choice(["month"]),
    default=None,
    help="A month-by-month cumulative table from --from to --to.",
)
@click.option("--from", "start", type=DATE, default=None, help="First month of --period (a date).")
@click.option("--to", "end", type=DATE, default=None, help="Last date of --period.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json", "csv", "xlsx"]),
    default="table",
    show_default=True,
)
@click.option("--output", default=None, help="The file --format xlsx writes.")
@unit_option("trieu")
@with_services
def progress_command(
    services: Services,
    as_of: str | None,
    known_at: str | None,
    by: str,
    holder: str | None,
    restated: bool,
    period: str | None,
    start: str | None,
    end: str | None,
    output_format: str,
    output: str | None,
    unit: str,
) -> None:
    """Plan, disbursed and rate, investment and recurrent side by side, earlier years' extended
    capital apart from this year's, the table's average, and the rows below it flagged."""
    asked = read_filters({"holder": holder, "as_of": as_of, "known_at": known_at})
    moment, scope = asked.known_at, asked.lines.get("holder")
    columns: list[tuple[str, str]] = [(by, by)] + PROGRESS_COLUMNS
    with read_models(services) as projections:
        if period:
            if not (start and end):
                raise click.UsageError("--period month needs --from DATE and --to DATE")
            rows = monthly(
                projections,
                start=parse_date(start, field="from"),
                end=parse_date(end, field="to"),
                known_at=moment,
                by=by,
                holder=scope,
                restated=restated,
            )
            columns = [("as_of", "as of")] + columns
            title = f"Disbursement progress, month by month, {start} to {end}"
        else:
            day = asked.as_of
            rows = progress(
                projections, as_of=day, known_at=moment, by=by, holder=scope, restated=restated
            )
            title = f"Disbursement progress on {day.isoformat()}"
    if moment:
        title += f", as known at {moment.isoformat()}"
    if restated:
        title += ", through today's holder tree"
    average: Any = rows[-1]["average_pct"] if rows else None
    unit_name = {"dong": "đồng", "trieu": "triệu đồng", "ty": "tỷ đồng"}[unit]
    emit(rows, columns, output_format, title=f"{title} ({unit_name})", unit=unit, output=output)
    if output_format == "table" and average is not None:
        click.echo(f"average of the table: {average:.2f}%".replace(".", ","))
