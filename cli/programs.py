"""Programs: the codes a line may name, each for the plan years of its decision."""

from __future__ import annotations

import click

from cli.common import (
    TEXT,
    YEAR,
    actor_option,
    dry_run_option,
    emit,
    format_option,
    resolve_actor,
    said_dry_run,
    with_ledger,
)
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
@dry_run_option
@with_ledger
def add(
    ledger: BudgetLedger,
    code: str,
    name: str,
    from_year: int,
    to_year: int | None,
    decision: str,
    actor: str | None,
    dry_run: bool,
) -> None:
    """Register program CODE called NAME, for the lines of plan years --from-year to
    --to-year. Registering it again the same way does nothing; a code is never given to
    other terms."""
    program, recorded = ledger.register_program(
        code, name, from_year, to_year, decision, actor=resolve_actor(actor), dry_run=dry_run
    )
    said = "" if recorded else " (already registered; nothing recorded)"
    click.echo(
        f"program {program.code} {program.name}: plan years {program.years} "
        f"({program.decision}){said}"
    )
    if dry_run:
        said_dry_run()


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


@programs.command("ratio")
@click.argument("code")
@click.option("--year", type=YEAR, required=True, help="The plan year it applies to, e.g. 2024.")
@click.option(
    "--percent",
    required=True,
    help="Local counterpart funds (NSĐP) required per 100 of central funds (NSTW), e.g. 10 "
    "or 10,5.",
)
@click.option(
    "--decision", type=TEXT, required=True, help="The decision that sets it, e.g. QĐ 1719/QĐ-TTg."
)
@actor_option
@dry_run_option
@with_ledger
def ratio(
    ledger: BudgetLedger,
    code: str,
    year: int,
    percent: str,
    decision: str,
    actor: str | None,
    dry_run: bool,
) -> None:
    """Record the counterpart-fund ratio program CODE requires for plan year --year; the
    progress report then shows each row's NSĐP against what the ratio requires. The same
    ratio again records nothing; a new one for the same year replaces it from now on."""
    ratio_bp, recorded = ledger.set_counterpart_ratio(
        code, year, percent, decision, actor=resolve_actor(actor), dry_run=dry_run
    )
    said = "" if recorded else " (already in force; nothing recorded)"
    shown = f"{ratio_bp / 100:.2f}".rstrip("0").rstrip(".").replace(".", ",")
    click.echo(f"program {code} {year}: NSĐP at least {shown}% of NSTW ({decision}){said}")
    if dry_run:
        said_dry_run()


@programs.command("ratios")
@click.option("--year", type=YEAR, required=True, help="The plan year, e.g. 2024.")
@format_option
@with_ledger
def ratios(ledger: BudgetLedger, year: int, output_format: str) -> None:
    """The counterpart-fund ratios recorded for plan year --year."""
    rows = [
        {"program": code, "year": year, "ratio_pct": pct}
        for code, pct in sorted(ledger.counterpart_ratios(year).items())
    ]
    columns = [("program", "program"), ("year", "plan year"), ("ratio_pct", "NSĐP / NSTW")]
    emit(rows, columns, output_format, title=f"Counterpart-fund ratios, {year}")


COMMANDS = (programs,)
