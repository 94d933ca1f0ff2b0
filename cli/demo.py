"""``budget-ledger demo``: load the seeds' data set through real movements and show it."""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

import click

from cli.common import emit, opened, refusals
from ledger import demo as demo_data
from ledger.audit import check
from ledger.config import DATABASE_ENVVAR, describe


def default_demo_database() -> str:
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(data_home) / "budget-ledger" / "demo.sqlite3")


@click.command("demo")
@click.option(
    "--database",
    default=None,
    help="Where to load it [default: a demo.sqlite3 beside the default ledger, so real books "
    f"are never mixed with demo data; {DATABASE_ENVVAR} is not used].",
)
def demo(database: str | None) -> None:
    """Load a small realistic data set (Quảng Nam's mountain districts, two programs, 2024)
    and print its balances. Loading it again records nothing twice."""
    database = database or default_demo_database()
    with opened(database, create=True) as ledger, refusals():
        click.echo(f"Loading the demo into {describe(database)} ...")
        recorded, replayed = demo_data.load(ledger, actor="demo")
        click.echo(f"{recorded} movements recorded, {replayed} already there.")
        rows = []
        for line in ledger.list_lines(year=2024):
            if line.key.holder in ("TW",):
                continue
            rows.append({**asdict(line.key), **line.figures()})
        columns = [
            ("program", "program"),
            ("kind", "kind"),
            ("source", "source"),
            ("holder", "holder"),
            ("assigned_vnd", "assigned"),
            ("allocated_on_vnd", "allocated on"),
            ("disbursed_vnd", "disbursed"),
            ("available_vnd", "available"),
        ]
        emit(rows, columns, "table", title="Plan year 2024, Quảng Nam and its districts (đồng)")
        problems = check(ledger.journal(), ledger.list_lines())
        if problems:
            raise click.ClickException("; ".join(problems))
        click.echo("check: OK (money conserved, nothing overdrawn on any date)")
        click.echo("\nTry:")
        for example in (
            "history --holder 505 --program GNBV --kind DTPT",
            "balance --holder 516 --year 2023 --format json",
            "history --decision 'QĐ 1850/QĐ-UBND 20/08/2024'",
        ):
            click.echo(f"  budget-ledger {example} --database {database}")
