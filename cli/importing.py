"""``budget-ledger import FILE``: movements from a CSV or XLSX file, whole or not at all."""

from __future__ import annotations

from pathlib import Path

import click

from cli.bars import progress_bar, quiet_option
from cli.common import (
    TEXT,
    FileToRead,
    actor_option,
    dry_run_option,
    resolve_actor,
    said_dry_run,
    with_ledger,
)
from ledger.application import BudgetLedger
from ledger.interchange.importer import Importer
from ledger.interchange.row_count import count_rows


@click.command("import")
@click.argument("file", type=FileToRead())
@click.option(
    "--sheet",
    type=TEXT,
    default=None,
    help="The sheet of an .xlsx file to read (default: the first).",
)
@actor_option
@dry_run_option
@quiet_option
@with_ledger
def import_file(
    ledger: BudgetLedger,
    file: Path,
    sheet: str | None,
    actor: str | None,
    dry_run: bool,
    quiet: bool,
) -> None:
    """Record the movements in FILE (.csv or .xlsx; columns in README.md, or the ledger's
    own export of movements): every row is checked and all bad rows are reported with their
    row number; the file is recorded whole, in one transaction, or not at all. Importing it
    again records nothing twice. CSV: ',' or ';' between cells, UTF-8 (with or without a
    byte-order mark) or Windows-1258; dates dd/mm/yyyy (day first) or yyyy-mm-dd."""
    importer = Importer(ledger, resolve_actor(actor))
    # Rows done of the rows the file holds, counted first (ledger/interchange/row_count.py).
    total = count_rows(file, sheet=sheet)
    with progress_bar(f"importing {file.name}", total, unit="rows", quiet=quiet) as bar:
        done = importer.run(file, bar.reach, sheet=sheet, dry_run=dry_run)
    if done.bad:
        for bad in done.bad:
            click.echo(str(bad), err=True)
        raise click.ClickException(
            f"{len(done.bad)} bad row(s) in {file.name}; nothing was recorded. Fix them "
            "and import the file again"
        )
    if done.recorded == 0:
        click.echo(f"{done.rows} row(s), all already recorded; nothing new was recorded")
        return
    click.echo(
        f"{done.rows} row(s): {done.recorded} {'would be recorded' if dry_run else 'recorded'}"
        f" ({done.events} events), {done.already} already recorded before"
    )
    if dry_run:
        said_dry_run()


COMMANDS = (import_file,)
