"""``budget-ledger``: the admin command line of the ledger."""

from __future__ import annotations

import click

from cli import (
    admin,
    backup,
    demo,
    export,
    importing,
    integrity,
    movements,
    projections,
    report,
    reports,
    serve,
    tokens,
    units,
)
from cli.session import Session


@click.group("budget-ledger")
@click.version_option(package_name="budget-ledger")
@click.pass_context
def main(ctx: click.Context) -> None:
    """An event-sourced ledger for public investment and national-target-program funds.

    Every command takes --database (or BUDGET_LEDGER_DATABASE): a SQLite file path or a
    postgresql:// URL. Amounts are whole đồng.
    """
    # The command's services, opened from its --database when it first asks (cli/session.py).
    ctx.ensure_object(Session)


for command in (
    *admin.COMMANDS,
    *movements.COMMANDS,
    *reports.COMMANDS,
    *integrity.COMMANDS,
    *backup.COMMANDS,
    *importing.COMMANDS,
    units.units,
    projections.projections_group,
    report.report,
    demo.demo,
    export.export_command,
    tokens.tokens,
    serve.serve,
):
    main.add_command(command)
