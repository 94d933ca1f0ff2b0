"""Setting up and closing: init, close-year."""

from __future__ import annotations

import click

from cli.common import (
    actor_option,
    database_option,
    emit,
    opened,
    refusals,
    resolve_actor,
    to_json,
    with_ledger,
)
from ledger.application import BudgetLedger
from ledger.config import default_database, describe
from ledger.integrity import Log
from ledger.values import check_year, format_vnd, parse_date
from projections.sql import ViewStore


def seal(ledger: BudgetLedger) -> int:
    """Chain the events of a ledger recorded before the hash chain existed, under the lock
    writers take, so no write slips between."""
    assert ledger.database is not None
    store = ViewStore(ledger.database)
    try:
        log = Log(store, ledger.recorder)
        with store.transaction():
            return log.seal()
    finally:
        store.close()


@click.command("init")
@database_option
def init(database: str | None) -> None:
    """Create the ledger's tables (a SQLite file by default). Safe to run again."""
    database = database or default_database()
    with opened(database, create=True) as ledger:
        sealed = seal(ledger)
        if sealed:
            click.echo(f"chained {sealed} event(s) recorded before the hash chain existed")
        click.echo(f"ledger ready at {describe(database)} (log position {ledger.head_position()})")


@click.command("close-year")
@click.argument("year")
@click.option("--date", "day_text", required=True, help="The closing date, YYYY-MM-DD.")
@actor_option
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table")
@with_ledger
def close_year(
    ledger: BudgetLedger, year: str, day_text: str, actor: str | None, output_format: str
) -> None:
    """Lapse, on --date, what every line of plan year YEAR can no longer pay: all of a line
    past its deadline, and the part an extension did not carry of an extended one. All in one
    transaction; running it again lapses nothing twice."""
    with refusals():
        receipts = ledger.close_year(
            check_year(year), parse_date(day_text, field="date"), actor=resolve_actor(actor)
        )
    if output_format == "json":
        click.echo(to_json(receipts))
        return
    if not receipts:
        click.echo(f"nothing to lapse for plan year {year} on {day_text}")
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
        title=f"Lapsed on {day_text} (đồng)",
    )
    total = sum(r["amount_vnd"] for r in receipts)
    click.echo(f"{len(receipts)} line(s) lapsed, {format_vnd(total)} in all")


COMMANDS = (init, close_year)
