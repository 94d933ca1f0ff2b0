"""``budget-ledger``: the admin command line of the ledger.

A command's module is imported when the command runs, not before: ``budget-ledger --help``
loads click alone, and ``balance`` on a SQLite file loads neither the web application
(Flask, jinja2), nor psycopg, nor openpyxl. ``COMMANDS`` names each command's module and
holds its short help for the listing; a unit test checks it against the commands
(tests/unit/test_cli_commands.py)."""

from __future__ import annotations

import importlib
from collections.abc import Sequence

import click

JSON_ERRORS = "budget-ledger.json-errors"

# Each command: its module under cli/ (which lists it in its own ``COMMANDS``), and its short
# help as ``--help`` lists it (the command's ``get_short_help_str``, untruncated).
COMMANDS: dict[str, tuple[str, str]] = {
    "adjust": (
        "movements",
        "Raise (+) or lower (−) a line by an external decision: money enters or leaves here.",
    ),
    "allocate": ("movements", "Assign part of a parent's line to a direct child's line."),
    "backup": (
        "backup",
        "Copy a SQLite ledger to FILE while it keeps serving and recording (online, "
        "consistent), then print the copy's head as POSITION:DIGEST, as 'budget-ledger "
        "digest' does: 'budget-ledger verify --against POSITION:DIGEST' on a restored copy "
        "proves it holds that log.",
    ),
    "balance": (
        "reads",
        "One row per line with its derived figures at a date, as the books stood at a time.",
    ),
    "check": (
        "reads",
        "Recompute every line from the recorded events and check the ledger's rules: money is"
        " conserved, nothing is overdrawn on any date, the journal and the lines agree.",
    ),
    "close-year": (
        "admin",
        "Lapse, on --date, what every line of plan year YEAR can no longer pay: all of a line"
        " past its deadline, and the part an extension did not carry of an extended one.",
    ),
    "demo": (
        "demo",
        "Load a small realistic data set (Quảng Nam's mountain districts and Lai Châu, two "
        "programs, 2024; their 2025, reorganised on 1/7/2025 into Đà Nẵng and Lai Châu's new "
        "communes; the merged program's 2026) and print a progress report.",
    ),
    "digest": (
        "integrity",
        "Print the log's head as POSITION:DIGEST, to keep outside the system; later, 'budget-"
        "ledger verify --against POSITION:DIGEST' proves the log still holds that prefix.",
    ),
    "disburse": ("movements", "Record a treasury-confirmed payment out of a line."),
    "export": (
        "export",
        "Write movements, balances or the progress report as CSV or xlsx with the Vietnamese "
        "headers finance offices exchange; the journal for hledger; or a Fiscal Data Package.",
    ),
    "extend": (
        "movements",
        "Let the undisbursed part of a line (or a stated amount) be paid until a later deadline.",
    ),
    "history": (
        "reads",
        "The audit trail: movements of a line, a holder (or its subtree), a decision or an "
        "actor, oldest effective date first (within a day a line's credits before its "
        "debits), with who recorded each, when, under which decision, and the line's "
        "available amount before and after.",
    ),
    "holders": (
        "holders",
        "Register holders, record their moves, renames and successions, list the tree.",
    ),
    "import": (
        "importing",
        "Record the movements in FILE (.csv or .xlsx; columns in README.md, or the ledger's "
        "own export of movements): every row is checked and all bad rows are reported with "
        "their row number; the file is recorded whole, in one transaction, or not at all.",
    ),
    "init": ("admin", "Create the ledger's tables (a SQLite file by default)."),
    "lapse": (
        "movements",
        "Return to the budget what a line past its deadline has not paid and was not extended.",
    ),
    "programs": ("programs", "Register and list programs."),
    "projections": ("projections", "The read models that answer balances and reports."),
    "reallocate": (
        "movements",
        "Move money between two holders' lines; both change together or neither does.",
    ),
    "report": ("report", "Reports read from the read models."),
    "reverse": ("movements", "Take back all or part of an earlier disbursement."),
    "serve": (
        "serve",
        "Serve the HTTP API under gunicorn (see /docs and /openapi.json) until interrupted.",
    ),
    "tokens": ("tokens", "Bearer tokens for the HTTP API, each with a role and an optional scope."),
    "users": (
        "users",
        "People who sign in to the web pages, each with a role and an optional scope.",
    ),
    "verify": (
        "integrity",
        "Recompute the hash chain from every stored event, and the ledger's rules (money "
        "conserved, nothing overdrawn on any date); exit 1 naming the first position where "
        "the log was altered, removed or reordered.",
    ),
}


def asks_json(args: Sequence[str]) -> bool:
    """Whether a command line asks for ``--format json``, read from its words: an error may be
    found before the option is parsed (a bad --as-of written before it)."""
    for index, word in enumerate(args):
        if word == "--":
            return False
        if word == "--format=json" or (
            word == "--format" and args[index + 1 : index + 2] == ["json"]
        ):
            return True
    return False


class Commands(click.Group):
    """The commands, each imported from its module when it runs (``COMMANDS``), and the old
    names scripts may still use for some (``units`` is ``holders``): an old name runs its
    command but is not listed in the help."""

    ALIASES = {"units": "holders"}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        name = self.ALIASES.get(cmd_name, cmd_name)
        if name not in COMMANDS:
            return None
        module = importlib.import_module(f"cli.{COMMANDS[name][0]}")
        commands: tuple[click.Command, ...] = module.COMMANDS
        return {command.name: command for command in commands}[name]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The listing, from ``COMMANDS``'s short helps: no command's module is imported."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        # Shortened as click shortens a command's help: a stand-in command of that help.
        rows = [
            (name, click.Command(name, help=COMMANDS[name][1]).get_short_help_str(limit))
            for name in names
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

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
            from cli.common import show_json

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
    from cli.session import Session

    # The command's services, opened from its --database when it first asks (cli/session.py).
    ctx.ensure_object(Session)
