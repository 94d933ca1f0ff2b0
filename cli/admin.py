"""Setting up and closing: init, close-year."""

from __future__ import annotations

import click

from api.people import create_tables as create_people_tables
from api.services import Services
from api.tokens import create_table as create_token_table
from cli.common import (
    DATE,
    actor_option,
    database_option,
    dry_run_option,
    emit,
    refusals,
    resolve_actor,
    said_dry_run,
    to_json,
    with_ledger,
)
from cli.session import Session, pass_session
from ledger.application import BudgetLedger
from ledger.domain.values import check_year, format_vnd, parse_date
from ledger.storage.config import default_database, describe, is_postgres
from ledger.storage.hardening import harden


def seal(services: Services) -> int:
    """Chain the events of a ledger recorded before the hash chain existed, under the lock
    writers take, so no write slips between."""
    log = services.log()
    with services.store.transaction():
        return log.seal()


def create_tables(services: Services) -> None:
    """Make every table beside the log now, so that no reader ever creates one: the read
    models' state and first generation, and the API's tokens. (Several processes reading a
    fresh PostgreSQL database at once raced to create them, and all but one failed.)"""
    services.projections()
    with services.store.schema_change():
        create_token_table(services.store)
        create_people_tables(services.store)


@click.command("init")
@click.option(
    "--app-role",
    default=None,
    help="PostgreSQL only: create (or update) this login role for the application (the API "
    "server, clerks' CLI): it can append to the event log but never update or delete it.",
)
@click.option(
    "--app-password",
    envvar="BUDGET_LEDGER_APP_PASSWORD",
    default=None,
    help="The --app-role's password.",
)
@database_option
@pass_session
def init(
    session: Session, database: str | None, app_role: str | None, app_password: str | None
) -> None:
    """Create the ledger's tables (a SQLite file by default). Safe to run again. On
    PostgreSQL the event log is insert-only for every role; --app-role adds a role that
    holds no right to change it at all."""
    database = database or default_database()
    if app_role and not is_postgres(database):
        raise click.UsageError("--app-role hardens a PostgreSQL ledger; this is a SQLite file")
    with refusals(database):
        # The one command that creates a ledger; the others refuse a database without one.
        services = session.open(database, create=True)
        create_tables(services)
        sealed = seal(services)
        if sealed:
            click.echo(f"chained {sealed} event(s) recorded before the hash chain existed")
        if app_role:
            with services.store.connection() as connection:
                harden(connection, services.ledger.recorder, app_role, app_password)
        if app_role:
            click.echo(
                f"role {app_role.lower()} may append to the log and never change it; "
                f"let the application connect as it"
            )
        head = services.ledger.head_position()
        click.echo(f"ledger ready at {describe(database)} (log position {head})")


@click.command("close-year")
@click.argument("year")
@click.option(
    "--date",
    "day_text",
    type=DATE,
    required=True,
    help="The closing date, dd/mm/yyyy or yyyy-mm-dd.",
)
@actor_option
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table")
@dry_run_option
@with_ledger
def close_year(
    ledger: BudgetLedger,
    year: str,
    day_text: str,
    actor: str | None,
    output_format: str,
    dry_run: bool,
) -> None:
    """Lapse, on --date, what every line of plan year YEAR can no longer pay: all of a line
    past its deadline, and the part an extension did not carry of an extended one. All in one
    transaction; running it again lapses nothing twice."""
    with refusals(ledger.database):
        receipts = ledger.close_year(
            check_year(year),
            parse_date(day_text, field="date"),
            actor=resolve_actor(actor),
            dry_run=dry_run,
        )
    if output_format == "json":
        click.echo(to_json(receipts))
        if dry_run:
            said_dry_run(err=True)
        return
    if not receipts:
        click.echo(f"nothing to lapse for plan year {year} on {day_text}")
        if dry_run:
            said_dry_run()
        return
    rows = [
        {
            "line": "/".join(str(v) for v in r["lines"][0]["line"].values() if v is not None),
            "movement_id": r["movement_id"],
            "lapsed_vnd": r["amount_vnd"],
        }
        for r in receipts
    ]
    emit(
        rows,
        [("line", "line"), ("movement_id", "movement"), ("lapsed_vnd", "lapsed")],
        "table",
        title=f"{'Would lapse' if dry_run else 'Lapsed'} on {day_text} (đồng)",
        formats=None,
    )
    total = sum(r["amount_vnd"] for r in receipts)
    lapsed = "would lapse" if dry_run else "lapsed"
    click.echo(f"{len(receipts)} line(s) {lapsed}, {format_vnd(total)} in all")
    if dry_run:
        said_dry_run()


COMMANDS = (init, close_year)
