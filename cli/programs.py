"""Programs: the codes a line may name, each for the plan years of its decision."""

from __future__ import annotations

import click

from cli.common import TEXT, YEAR, actor_option, emit, format_option, resolve_actor, with_ledger
from ledger.application import BudgetLedger


@click.group("programs")
def programs() -> None:
    """Register and list programs."""


@programs.command("add")
@click.argument("code")
@click.argument("name", type=TEXT)
@click.option("--from-year", type=YEAR, required=True, help="The first plan year, e.g. 2026.")
@click.option(
    "--to-year", type=YEAR, default=None, help="The last plan year, e.g. 2035 (none: open-ended)."
)
@click.option(
    "--decision", type=TEXT, required=True, help="The decision approving it, e.g. NQ 257/2025/QH15."
)
@actor_option
@with_ledger
def add(
    ledger: BudgetLedger,
    code: str,
    name: str,
    from_year: int,
    to_year: int | None,
    decision: str,
    actor: str | None,
) -> None:
    """Register program CODE called NAME, for the lines of plan years --from-year to
    --to-year. Registering it again the same way does nothing; a code is never given to
    other terms."""
    program, recorded = ledger.register_program(
        code, name, from_year, to_year, decision, actor=resolve_actor(actor)
    )
    said = "" if recorded else " (already registered; nothing recorded)"
    click.echo(
        f"program {program.code} {program.name}: plan years {program.years} "
        f"({program.decision}){said}"
    )


@programs.command("list")
@format_option
@with_ledger
def list_programs(ledger: BudgetLedger, output_format: str) -> None:
    """Every program, by code, with the plan years its lines may have."""
    rows = [
        {
            "code": p.code,
            "name": p.name,
            "from_year": p.from_year,
            "to_year": p.to_year,
            "decision": p.decision,
            "registered_at": p.registered_at,
            "actor": p.actor,
        }
        for p in ledger.list_programs()
    ]
    columns = [
        ("code", "code"),
        ("name", "name"),
        ("from_year", "from"),
        ("to_year", "to"),
        ("decision", "decision"),
        ("registered_at", "registered (UTC)"),
        ("actor", "by"),
    ]
    emit(rows, columns, output_format, title="Programs")
