"""``budget-ledger units reorganise FILE --date D --decision REF``: the 2025 reorganisation
(or a later one) from the official list of successors, whole or not at all."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from cli.bars import progress_bar, quiet_option
from cli.common import (
    DATE,
    TEXT,
    FileToRead,
    actor_option,
    dry_run_option,
    resolve_actor,
    said_dry_run,
    with_ledger,
)
from ledger.application import BudgetLedger
from ledger.interchange.reorganise import reorganise
from ledger.interchange.successors import COLUMNS, SHIPPED


@click.command("reorganise")
@click.argument(
    "file",
    required=False,
    type=FileToRead(),
)
@click.option(
    "--shipped",
    is_flag=True,
    help="Use the list shipped with the ledger (Lai Châu and Quảng Nam's nine mountain "
    "districts, 1 July 2025) instead of FILE.",
)
@click.option("--date", "day", required=True, type=DATE, help="The day the new units begin.")
@click.option("--decision", required=True, type=TEXT, help="The decision cited, number and date.")
@actor_option
@dry_run_option
@quiet_option
@with_ledger
def reorganise_command(
    ledger: BudgetLedger,
    file: Path | None,
    shipped: bool,
    day: date,
    decision: str,
    actor: str | None,
    dry_run: bool,
    quiet: bool,
) -> None:
    """Record the reorganisation in FILE, a CSV list of successors (one row per old commune;
    columns: {columns}). Registers the new holders, ends the old communes into the new ones,
    the old districts into their new province and each old province whose code ended into
    its new one, all from --date, in one transaction. Every bad row is reported and then
    nothing is recorded. Running it again records nothing twice."""
    if (file is None) == (not shipped):
        raise click.UsageError("give FILE or --shipped (the list shipped with the ledger)")
    path = SHIPPED if shipped else file
    assert path is not None
    with progress_bar(
        f"reorganising from {path.name}", None, unit="successions", quiet=quiet
    ) as bar:
        done = reorganise(
            ledger,
            path,
            day=day,
            decision=decision,
            actor=resolve_actor(actor),
            progress=bar.reach,
            dry_run=dry_run,
        )
    if done.bad:
        for bad in done.bad:
            click.echo(str(bad), err=True)
        raise click.ClickException(
            f"{len(done.bad)} bad row(s) in {path.name}; nothing was recorded. Fix them "
            "and run it again"
        )
    if done.recorded == 0:
        click.echo(
            f"{done.rows} row(s), {done.successions} succession(s), all already recorded; "
            "nothing new was recorded"
        )
        return
    recorded = "would be recorded" if dry_run else "recorded"
    click.echo(
        f"{done.rows} row(s): {done.recorded} succession(s) {recorded} "
        f"({done.lines_passed} line(s) passed on, {done.registered} holder(s) registered, "
        f"{done.changed} moved or renamed; {done.events} events), {done.already} already "
        "recorded before"
    )
    if dry_run:
        said_dry_run()


assert reorganise_command.help is not None
reorganise_command.help = reorganise_command.help.replace("{columns}", ", ".join(COLUMNS))
