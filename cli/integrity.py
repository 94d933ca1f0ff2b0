"""``budget-ledger verify`` and ``budget-ledger digest``: the tamper-evident log."""

from __future__ import annotations

import click

from api.services import Services
from cli.bars import progress_bar, quiet_option
from cli.common import with_services
from cli.reads import check_rules
from ledger.domain.errors import InvalidInput
from ledger.domain.values import parse_whole
from ledger.storage.chain import Verified
from ledger.storage.integrity import Log


def stored_log(services: Services) -> Log:
    log = services.log()
    if not log.exists():
        raise click.ClickException(
            "this ledger has no hash chain yet (it was created by an earlier version): "
            "run 'budget-ledger init' once to chain the events recorded so far"
        )
    return log


def parse_against(text: str) -> tuple[int, bytes]:
    position, _, digest = text.partition(":")
    try:
        # ASCII digits only: int() also reads "１２" (bytes.fromhex is ASCII already).
        value = (
            parse_whole(position, field="against", example="a position"),
            bytes.fromhex(digest),
        )
    except (InvalidInput, ValueError):
        value = (0, b"")
    if value[0] <= 0 or len(value[1]) != 32:
        raise click.BadParameter(
            f"{text!r} is not POSITION:DIGEST as 'budget-ledger digest' prints it "
            "(e.g. 1200:3f5a...; 64 hex digits)",
            param_hint="--against",
        )
    return value


@click.command("verify")
@click.option(
    "--against",
    "against_text",
    default=None,
    help="POSITION:DIGEST kept from an earlier 'budget-ledger digest': prove the log still "
    "holds exactly that prefix.",
)
@quiet_option
@with_services
def verify(services: Services, against_text: str | None, quiet: bool) -> None:
    """Recompute the hash chain from every stored event, and the ledger's rules (money
    conserved, nothing overdrawn on any date); exit 1 naming the first position where the
    log was altered, removed or reordered."""
    against = parse_against(against_text) if against_text else None
    log = stored_log(services)
    head = services.ledger.head_position()
    # The log is read three times: the chain, then the lines and the movements (check).
    with progress_bar("verifying", 3 * head, unit="events read", quiet=quiet) as bar:
        result = log.verify(positions=[against[0]] if against else [], reached=bar.reach)
        _check_chain(result, against)
        bar.reach(head)
        check_rules(
            services.ledger, failed="the chain holds but {count} rule(s) fail", bar=bar, head=head
        )
    click.echo(
        f"OK: {result.count} events, head position {result.head_position}, "
        f"digest {result.head_digest.hex()}"
    )
    if against is not None:
        click.echo(f"OK: the log still holds exactly the prefix up to position {against[0]}")
    click.echo("OK: money is conserved and no line is overdrawn on any date")


def _check_chain(result: Verified, against: tuple[int, bytes] | None) -> None:
    """Exit 1 naming where the chain breaks, or where the log no longer holds the prefix
    whose digest was kept."""
    if result.finding is not None:
        finding = result.finding
        raise click.ClickException(
            f"the log was {finding.what} at position {finding.position}: {finding.detail}. "
            f"Positions before it ({result.count} events) check out."
        )
    if against is not None:
        position, digest = against
        recomputed = (result.digests_at or {}).get(position)
        if recomputed is None:
            raise click.ClickException(
                f"the log no longer reaches position {position} (its head is "
                f"{result.head_position}): events were removed"
            )
        if recomputed != digest:
            raise click.ClickException(
                f"the log up to position {position} is not the one whose digest was kept: "
                f"it now gives {recomputed.hex()}"
            )


@click.command("digest")
@with_services
def digest(services: Services) -> None:
    """Print the log's head as POSITION:DIGEST, to keep outside the system; later,
    'budget-ledger verify --against POSITION:DIGEST' proves the log still holds that prefix."""
    position, head = stored_log(services).head()
    click.echo(f"{position}:{head.hex()}")


COMMANDS = (verify, digest)
