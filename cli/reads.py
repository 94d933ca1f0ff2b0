"""Reading the ledger: balances, the audit trail, and the self-check."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from api.services import Services
from cli.bars import Bar, progress_bar, quiet_option
from cli.common import (
    DATE,
    TEXT,
    TIME,
    YEAR,
    emit,
    format_option,
    with_ledger,
    with_reading_services,
)
from cli.projections import read_models
from cli.tables import TableColumn, display_date, display_time
from ledger.domain.filters import line_filters, read_filters
from ledger.domain.values import LINE_FIELDS, parse_moment
from projections.queries import line_balances, require_holder, subtree_balances

if TYPE_CHECKING:
    from ledger.application import BudgetLedger

# The history's and the rules' check's modules (the audit trail's reader, the domain's
# movements) are imported by their commands: a balance does not load them (decisions §28).

# The balance's figures; a narrow terminal leaves out the optional ones first.
BALANCE_FIGURES = [
    TableColumn("assigned_vnd", "assigned", "vnd"),
    TableColumn("received_vnd", "of which received", "vnd", optional=True),
    TableColumn("allocated_on_vnd", "allocated on", "vnd", optional=True),
    TableColumn("disbursed_vnd", "disbursed", "vnd"),
    TableColumn("lapsed_vnd", "lapsed", "vnd", optional=True),
    TableColumn("passed_on_vnd", "passed on", "vnd", optional=True),
    TableColumn("available_vnd", "available", "vnd"),
    TableColumn("extended_vnd", "extended", "vnd", optional=True),
    TableColumn("deadline", "deadline", "date", optional=True),
]

# The audit trail's columns: who and when, and the figure before, give way first.
HISTORY_COLUMNS = [
    TableColumn("effective_date", "effective", "date"),
    TableColumn("recorded_at", "recorded (UTC)", "time", optional=True),
    TableColumn("actor", "actor", optional=True),
    TableColumn("action", "movement"),
    TableColumn("movement_id", "id", optional=True),
    TableColumn("reference", "decision / voucher"),
    TableColumn("line", "line"),
    TableColumn("available_before_vnd", "available before", "vnd", optional=True),
    TableColumn("available_change_vnd", "change", "vnd"),
    TableColumn("available_after_vnd", "available after", "vnd"),
]

restated_option = click.option(
    "--restated",
    is_flag=True,
    help="Read any date through today's holder tree (a holder's predecessors counted in "
    "it even before they ended), to compare years under the new map.",
)


def filter_options(func: Any) -> Any:
    for option in reversed(
        [
            click.option("--program", default=None, help="A program's code, e.g. NTM."),
            click.option("--kind", default=None, help="DTPT or SN."),
            click.option("--source", default=None, help="NSTW, NSDP or KHAC."),
            click.option("--year", type=YEAR, default=None, help="Plan year."),
            click.option("--holder", default=None, help="Holder code."),
            click.option("--project", default=None, help="Component-project code."),
        ]
    ):
        func = option(func)
    return func


@click.command("balance")
@filter_options
@click.option(
    "--as-of",
    "as_of",
    type=DATE,
    default=None,
    help="Count movements effective on or before this date (default: today).",
)
@click.option(
    "--known-at",
    "known_at",
    type=TIME,
    default=None,
    help="Count only what was recorded at or before this time (default: now); "
    "dd/mm/yyyy HH:MM or ISO, Vietnam time unless an offset is given.",
)
@click.option(
    "--subtree",
    is_flag=True,
    help="Roll --holder's whole subtree up (as the tree stood on --as-of, predecessors "
    "included): moves inside it cancel.",
)
@restated_option
@format_option
@with_reading_services
def balance(
    services: Services,
    as_of: str | None,
    known_at: str | None,
    subtree: bool,
    restated: bool,
    output_format: str,
    **filters: Any,
) -> None:
    """One row per line with its derived figures at a date, as the books stood at a time."""
    given = {"as_of": as_of, "known_at": known_at, "subtree": subtree, "restated": restated}
    asked = read_filters({**filters, **given})
    chosen, day, moment = asked.lines, asked.as_of, asked.known_at
    if asked.restated and not asked.subtree:
        raise click.UsageError(
            "--restated reads a subtree through today's holder tree: give --holder and --subtree"
        )
    with read_models(services) as projections:
        if asked.subtree:
            if "holder" not in chosen:
                raise click.UsageError("--subtree rolls up a holder's subtree: give --holder")
            require_holder(projections, chosen["holder"])
            rows = subtree_balances(
                projections, chosen["holder"], chosen, day, moment, restated=asked.restated
            )
        else:
            rows = line_balances(projections, chosen, day, moment)
    columns: list[tuple[str, str] | TableColumn] = [(name, name) for name in LINE_FIELDS]
    if output_format == "table":
        # One label for the line, as history writes it: six columns of codes would leave
        # a narrow terminal no room for the figures.
        for row in rows:
            row["line"] = "/".join(str(row[name]) for name in LINE_FIELDS if row[name] is not None)
        columns = [TableColumn("line", "line")]
    columns += BALANCE_FIGURES
    if output_format == "table" and not rows:
        click.echo("No lines match.")
        return
    known = f", as known at {display_time(moment)}" if moment else ""
    emit(rows, columns, output_format, title=f"Balances on {display_date(day)}{known} (đồng)")


@click.command("history")
@filter_options
@click.option(
    "--subtree", is_flag=True, help="With --holder: the lines of the holder and everyone below."
)
@click.option(
    "--decision", type=TEXT, default=None, help="Only movements citing this decision or voucher."
)
@click.option("--actor", type=TEXT, default=None, help="Only movements recorded by this actor.")
@click.option(
    "--recorded-from",
    "recorded_from",
    type=TIME,
    default=None,
    help="Only movements recorded at or after this time (dd/mm/yyyy HH:MM or ISO; Vietnam "
    "time unless an offset).",
)
@click.option(
    "--recorded-to",
    "recorded_to",
    type=TIME,
    default=None,
    help="Only those recorded at or before it.",
)
@format_option
@with_reading_services
def history(
    services: Services,
    subtree: bool,
    decision: str | None,
    actor: str | None,
    recorded_from: str | None,
    recorded_to: str | None,
    output_format: str,
    **filters: Any,
) -> None:
    """The audit trail: movements of a line, a holder (or its subtree), a decision or an actor,
    oldest effective date first (within a day a line's credits before its debits), with who
    recorded each, when, under which decision, and the line's available amount before and
    after."""
    from projections.history import HistoryQuestion
    from projections.history import history as read_history

    chosen = line_filters(filters)
    if subtree and "holder" not in chosen:
        raise click.UsageError("--subtree takes the subtree of --holder: give --holder")
    question = HistoryQuestion(
        lines=chosen,
        subtree=subtree,
        decision=decision,
        actor=actor,
        recorded_from=parse_moment(recorded_from, field="recorded_from") if recorded_from else None,
        recorded_to=parse_moment(recorded_to, field="recorded_to") if recorded_to else None,
    )
    with read_models(services) as projections:
        entries = read_history(projections, question)
    if output_format != "json":
        for entry in entries:
            entry["line"] = "/".join(str(v) for v in entry["line"].values() if v is not None)
    if output_format == "table" and not entries:
        click.echo("No movements match.")
        return
    emit(entries, HISTORY_COLUMNS, output_format, title="History (đồng)")


def check_rules(ledger: BudgetLedger, *, failed: str, bar: Bar, head: int) -> None:
    """Recompute the lines from the stored events and check the ledger's rules; print each
    problem and exit 1 (``failed`` is the message, ``{count}`` the number) if any. The log
    is read twice (the lines, then the movements): ``bar`` goes on by ``head`` for each."""
    from ledger.domain.audit import check as check_ledger

    start = bar.done
    lines = ledger.replay_lines(lambda position: bar.reach(start + position))
    journal = ledger.journal(lambda position: bar.reach(start + head + position))
    problems = check_ledger(journal, lines)
    if problems:
        for problem in problems:
            click.echo(f"PROBLEM: {problem}", err=True)
        raise click.ClickException(failed.format(count=len(problems)))


@click.command("check")
@quiet_option
@with_ledger
def check(ledger: BudgetLedger, quiet: bool) -> None:
    """Recompute every line from the recorded events and check the ledger's rules: money is
    conserved, nothing is overdrawn on any date, the journal and the lines agree."""
    head = ledger.head_position()
    with progress_bar("checking", 2 * head, unit="events read", quiet=quiet) as bar:
        check_rules(ledger, failed="{count} problem(s) found", bar=bar, head=head)
    click.echo(
        f"OK: {len(ledger.list_line_keys())} lines, log position {ledger.head_position()}; "
        "money is conserved and no line is overdrawn on any date."
    )


COMMANDS = (balance, history, check)
