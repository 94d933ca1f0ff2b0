"""``budget-ledger``: the admin command line of the ledger."""

from __future__ import annotations

import click

from cli import (
    admin,
    backup,
    demo,
    export,
    holders,
    importing,
    integrity,
    movements,
    programs,
    projections,
    reads,
    reorganise,
    report,
    serve,
    tokens,
    users,
)
from cli.common import asks_json, show_json
from cli.session import Session

JSON_ERRORS = "budget-ledger.json-errors"


class Commands(click.Group):
    """The commands, and the old names scripts may still use for some (``units`` is
    ``holders``): an old name runs its command but is not listed in the help."""

    ALIASES = {"units": "holders"}

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, self.ALIASES.get(cmd_name, cmd_name))

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[JSON_ERRORS] = asks_json(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> object:
        """Errors as JSON on stderr when the command line asks for --format json (exit codes
        unchanged), whichever command and whenever found: reading the options or running."""
        try:
            return super().invoke(ctx)
        except click.ClickException as error:
            if not ctx.meta.get(JSON_ERRORS):
                raise
            show_json(error)
            ctx.exit(error.exit_code)


@click.group("budget-ledger", cls=Commands)
@click.version_option(package_name="budget-ledger")
@click.pass_context
def main(ctx: click.Context) -> None:
    """An event-sourced ledger for public investment and national-target-program funds.

    Every command takes --database (or BUDGET_LEDGER_DATABASE): a SQLite file path or a
    postgresql:// URL. Amounts are whole đồng. Dates are dd/mm/yyyy, day first as
    Vietnamese offices write them (17/09/2024, 1/7/2025: never month first), or yyyy-mm-dd;
    times are a date and HH:MM[:SS] (17/09/2024 14:00, 2024-09-17T14:00), Vietnam time
    unless an offset is given. With --format json, errors are JSON on stderr too.
    """
    # The command's services, opened from its --database when it first asks (cli/session.py).
    ctx.ensure_object(Session)


for command in (
    *admin.COMMANDS,
    *movements.COMMANDS,
    *reads.COMMANDS,
    *integrity.COMMANDS,
    *backup.COMMANDS,
    *importing.COMMANDS,
    holders.holders,
    programs.programs,
    projections.projections_group,
    report.report,
    demo.demo,
    export.export_command,
    tokens.tokens,
    users.users,
    serve.serve,
):
    main.add_command(command)
holders.holders.add_command(reorganise.reorganise_command)
