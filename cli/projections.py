"""``budget-ledger projections``: the read models' state, and rebuilding them."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import click

from api.services import Services
from cli.bars import progress_bar, quiet_option
from cli.common import emit, format_option, with_services
from ledger.storage.availability import unavailable_reason
from projections.generations import Leftover, RebuildRefused
from projections.runner import Projections


@contextmanager
def read_models(services: Services) -> Iterator[Projections]:
    """The ledger's read models, brought up to date with its log before they answer (a
    replica's answer at their own position: see ``Services.answering``)."""
    projections, _ = services.answering()
    yield projections


@click.group("projections")
def projections_group() -> None:
    """The read models that answer balances and reports."""


@projections_group.command("status")
@format_option
@with_services
def status(services: Services, output_format: str) -> None:
    """Each read model's generations: the log position each reached against the log's
    head, and how many events it has still to read. Generations left behind by a rebuild that
    died (killed, or its machine lost) are removed, unless a rebuild is running, and listed
    as found."""
    rows = services.projections().status()
    columns = [
        ("name", "read model"),
        ("generation", "generation"),
        ("state", "state"),
        ("tables", "tables"),
        ("position", "log position reached"),
        ("head", "log head"),
        ("behind", "events behind"),
    ]
    emit(rows, columns, output_format, title="Read models")


@projections_group.command("follow")
@click.option(
    "--wait",
    "wait_s_max",
    type=float,
    default=1.0,
    show_default=True,
    help="Catch up at least this often (seconds), notified or not.",
)
@with_services
def follow(services: Services, wait_s_max: float) -> None:
    """Keep the read models up to date as movements are recorded, until interrupted: live on
    PostgreSQL (LISTEN/NOTIFY), by polling on SQLite. While the database does not answer it
    says so once and keeps trying; it goes on by itself when the database is back."""
    projections = services.projections()
    stop = threading.Event()

    def stopping(signum: int, _: object) -> None:
        click.echo(f"{signal.Signals(signum).name}: stopping", err=True)
        stop.set()

    # A service manager stops it with SIGTERM, a terminal with Ctrl-C: both end the wait in
    # hand and leave no batch half applied. Set here, not inherited: a shell starts a
    # background job with SIGINT ignored, and the follower would never stop on it.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stopping)
    click.echo("following the event log; Ctrl-C to stop", err=True)

    def outage(error: BaseException | None) -> None:
        if error is None:
            click.echo("the database answers again; following the event log", err=True)
        else:
            click.echo(
                f"the database does not answer ({unavailable_reason(error)}); "
                "trying again until it does",
                err=True,
            )

    def standing_by() -> None:
        click.echo(
            "another process follows the event log (a server reading from replicas, or "
            "another 'projections follow'); standing by to take over",
            err=True,
        )

    projections.follow(stop, wait_s_max=wait_s_max, outage=outage, standing_by=standing_by)


@projections_group.command("rebuild")
@click.argument("name", required=False, type=click.Choice(["balances"]))
@quiet_option
@with_services
def rebuild(services: Services, name: str | None, quiet: bool) -> None:
    """Rebuild read model NAME (default: all) from position zero. Readers keep getting answers
    from the old tables until the new ones have caught up; then they switch. One rebuild runs
    at a time; it first removes what rebuilds that died left behind."""
    projections = services.projections()
    head = services.ledger.head_position()

    def removed(leftover: Leftover) -> None:
        reached = "" if leftover.position is None else f" at log position {leftover.position}"
        click.echo(
            f"removed generation {leftover.generation} ({len(leftover.tables)} tables), left"
            f" by an interrupted rebuild{reached}"
        )

    try:
        with progress_bar(
            f"rebuilding {name or 'balances'}", head, unit="events", quiet=quiet
        ) as bar:
            generation = projections.rebuild(progress=bar.reach, removed=removed)
    except RebuildRefused as refused:
        raise click.ClickException(f"refused: {refused}") from None
    click.echo(f"balances rebuilt as generation {generation}, at log position {head} or later")


COMMANDS = (projections_group,)
