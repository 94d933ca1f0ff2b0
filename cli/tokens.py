"""``budget-ledger tokens``: the bearer tokens of the HTTP API."""

from __future__ import annotations

import click

from api.services import Services
from api.tokens import ROLES
from cli.common import emit, format_option, with_services
from ledger.domain.values import parse_date


@click.group("tokens")
def tokens() -> None:
    """Bearer tokens for the HTTP API, each with a role and an optional scope."""


@tokens.command("create")
@click.option("--name", required=True, help="Who uses it; events it records carry this name.")
@click.option(
    "--role",
    type=click.Choice(ROLES),
    required=True,
    help="viewer reads; clerk also disburses and reverses; approver also allocates, adjusts, "
    "reallocates, extends, lapses and registers holders; admin does everything. Adjusting "
    "central funds (NSTW) needs a token without --scope.",
)
@click.option("--scope", default=None, help="A holder: the token acts on its subtree only.")
@click.option(
    "--expires",
    "expires_text",
    default=None,
    metavar="DATE",
    help="The last day the token works (dd/mm/yyyy or yyyy-mm-dd, through midnight Vietnam "
    "time); default: until revoked.",
)
@with_services
def create(
    services: Services, name: str, role: str, scope: str | None, expires_text: str | None
) -> None:
    """Create a token and print it once: only its hash is stored."""
    if scope:
        scope = services.ledger.get_holder(scope.strip().upper()).code
    expires = parse_date(expires_text, field="expires") if expires_text is not None else None
    token, secret = services.tokens().create(name, role, scope, expires)
    where = f"holder {token.scope} and below" if token.scope else "the whole ledger"
    until = f", valid through {token.last_day()} (Vietnam time)" if token.expires_at else ""
    click.echo(
        f"token {token.name!r} ({token.role}, {where}{until}); keep it now, it is not shown again:"
    )
    click.echo(secret)


@tokens.command("list")
@format_option
@with_services
def list_tokens(services: Services, output_format: str) -> None:
    """Every token ever created, revoked and expired ones included (never the secret). A
    token stops working at its expiry: midnight in Vietnam after its last day, shown in UTC."""
    rows = [token.as_dict() for token in services.tokens().list()]
    if output_format == "table" and not rows:
        click.echo("No tokens; create one with 'budget-ledger tokens create'.")
        return
    columns = [
        ("name", "name"),
        ("role", "role"),
        ("scope", "scope"),
        ("created_at", "created (UTC)"),
        ("revoked_at", "revoked (UTC)"),
        ("expires_at", "expires (UTC)"),
    ]
    emit(rows, columns, output_format, title="API tokens")


@tokens.command("revoke")
@click.argument("name")
@with_services
def revoke(services: Services, name: str) -> None:
    """Revoke token NAME: it is refused from the next request on."""
    token = services.tokens().revoke(name)
    click.echo(f"token {token.name!r} revoked at {token.revoked_at}")


COMMANDS = (tokens,)
