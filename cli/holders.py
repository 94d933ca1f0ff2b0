"""Holders: the tree of the centre, provinces, districts, communes and agencies."""

from __future__ import annotations

import click

from cli.common import TEXT, actor_option, emit, format_option, resolve_actor, with_ledger
from ledger.application import BudgetLedger
from ledger.domain.values import LEVELS


@click.group("holders")
def holders() -> None:
    """Register and list holders."""


@holders.command("add")
@click.argument("code")
@click.argument("name", type=TEXT)
@click.option("--level", required=True, type=click.Choice(LEVELS), help="Where it sits.")
@click.option("--parent", default=None, help="The parent's code (all but the centre have one).")
@actor_option
@with_ledger
def add(
    ledger: BudgetLedger, code: str, name: str, level: str, parent: str | None, actor: str | None
) -> None:
    """Register holder CODE called NAME. Registering it again the same way does nothing."""
    holder = ledger.register_holder(code, name, level, parent, actor=resolve_actor(actor))
    under = f" under {holder.parent}" if holder.parent else ""
    click.echo(f"holder {holder.code} {holder.name} ({holder.level}){under}")


@holders.command("list")
@format_option
@with_ledger
def list_holders(ledger: BudgetLedger, output_format: str) -> None:
    """Every holder, by code."""
    rows = [
        {
            "code": h.code,
            "name": h.name,
            "level": h.level,
            "parent": h.parent,
            "registered_at": h.registered_at,
            "actor": h.actor,
        }
        for h in ledger.list_holders()
    ]
    columns = [
        ("code", "code"),
        ("name", "name"),
        ("level", "level"),
        ("parent", "parent"),
        ("registered_at", "registered (UTC)"),
        ("actor", "by"),
    ]
    emit(rows, columns, output_format, title="Holders")
