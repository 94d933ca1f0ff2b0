"""``budget-ledger demo``: load the seeds' data set through real movements and show it."""

from __future__ import annotations

from datetime import date

import click

from cli.bars import progress_bar, quiet_option
from cli.common import refusals
from cli.report import print_document, progress_document
from cli.session import Session, pass_session
from ledger.demo import data as demo_data
from ledger.demo import seed000
from ledger.demo.clock import DemoClock
from ledger.domain.audit import check
from ledger.storage.config import DATABASE_ENVVAR, data_directory, describe
from projections.progress_document import Question

REPORT_DAY = date(2024, 9, 17)
# Seed 000: the meeting compared the province with the national average, 32%.
NATIONAL_REFERENCE = "cả nước=32"
ISSUER = "SỞ TÀI CHÍNH TỈNH LAI CHÂU"
PLACE = "Lai Châu"
# Seed 000's report as the province's finance office files it (the demo prints it).
SEED000_FILE = (
    "--holder 12 --as-of 17/09/2024 --by program --unit ty "
    f"--reference '{NATIONAL_REFERENCE}' --issuer '{ISSUER}'"
)


def default_demo_database() -> str:
    return str(data_directory() / "demo.sqlite3")


@click.command("demo")
@click.option(
    "--database",
    default=None,
    help="Where to load it [default: a demo.sqlite3 beside the default ledger, so real books "
    f"are never mixed with demo data; {DATABASE_ENVVAR} is not used].",
)
@quiet_option
@pass_session
def demo(session: Session, database: str | None, quiet: bool) -> None:
    """Load a small realistic data set (Quảng Nam's mountain districts and Lai Châu, two
    programs, 2024; their 2025, reorganised on 1/7/2025 into Đà Nẵng and Lai Châu's new
    communes; the merged program's 2026) and print a progress report. Loading it again
    records nothing twice."""
    database = database or default_demo_database()
    with refusals(database):
        # The demo's movements are recorded at the times the treasury would have confirmed
        # them (ledger/demo/clock.py), the ledger's own programs when the demo begins.
        services = session.open(database, create=True, clock=DemoClock())
        ledger = services.ledger
        click.echo(f"Loading the demo into {describe(database)} ...")
        with progress_bar("loading", None, unit="steps", quiet=quiet) as bar:
            recorded, replayed = demo_data.load(ledger, actor="demo", progress=bar.reach)
        click.echo(f"{recorded} movements recorded, {replayed} already there.")
        _, filed = progress_document(
            services,
            Question(
                as_of=REPORT_DAY,
                holder=seed000.PROVINCE,
                by="program",
                references=(NATIONAL_REFERENCE,),
                issuer=ISSUER,
                place=PLACE,
                unit="ty",
            ),
        )
        click.echo()
        print_document(filed)
        click.echo()
        problems = check(ledger.journal(), ledger.replay_lines())
        if problems:
            raise click.ClickException("; ".join(problems))
        click.echo("check: OK (money conserved, nothing overdrawn on any date)")
        click.echo("\nTry:")
        for example in (
            "report progress --holder 12 --as-of 17/09/2024 --by program,holder --unit ty",
            f"report progress {SEED000_FILE} --format xlsx --output bao-cao-17-09-2024.xlsx",
            f"report progress {SEED000_FILE} --format pdf --output bao-cao-17-09-2024.pdf",
            "balance --holder 12 --subtree --as-of 2024-09-17 --year 2024",
            "history --holder 505 --program GNBV --kind DTPT",
            "history --decision 'QĐ 1850/QĐ-UBND 20/08/2024'",
            "units list --as-of 2025-06-30",
            "units show 505",
            "report progress --holder 48 --as-of 2025-12-31 --unit ty",
            "report progress --holder 48 --as-of 2024-12-31 --restated --unit ty",
            "balance --holder 48 --subtree --program MTQG2635 --year 2026",
        ):
            click.echo(f"  budget-ledger {example} --database {database}")


COMMANDS = (demo,)
