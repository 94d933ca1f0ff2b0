"""``budget-ledger users``: the people who sign in to the web pages with a name and a
password (api/people.py). They have the same roles and scopes as tokens."""

from __future__ import annotations

import sys

import click

from api.people import PeopleStore
from api.services import Services
from api.tokens import ROLES
from cli.common import emit, format_option, with_services
from ledger.domain.errors import InvalidInput

PASSWORD_STDIN = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input (for scripts) instead "
    "of asking for it twice on the terminal.",
)


def read_password(from_stdin: bool) -> str:
    """The new password: the first line of standard input, or asked twice on a terminal
    (never echoed, never on the command line, where other users and shell history see it)."""
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise InvalidInput(
                "standard input is empty; send the password as its first line",
                field="password",
            )
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InvalidInput(
            "no terminal to ask it on; give --password-stdin and send it on standard input",
            field="password",
        )
    password: str = click.prompt(
        "Password", hide_input=True, confirmation_prompt="Repeat the password"
    )
    return password


def people_of(services: Services) -> PeopleStore:
    return PeopleStore(services.store)


@click.group("users")
def users() -> None:
    """People who sign in to the web pages, each with a role and an optional scope."""


@users.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(ROLES),
    required=True,
    help="viewer reads; clerk also disburses and reverses; approver also allocates, adjusts, "
    "reallocates, extends, lapses and registers holders; admin does everything (as tokens).",
)
@click.option("--scope", default=None, help="A holder: the person sees and acts on its subtree.")
@PASSWORD_STDIN
@with_services
def add(
    services: Services, name: str, role: str, scope: str | None, password_stdin: bool
) -> None:
    """Add person NAME, who signs in with NAME and a password (at least 10 characters)."""
    if scope:
        scope = services.ledger.get_holder(scope.strip().upper()).code
    password = read_password(password_stdin)
    person = people_of(services).add(name, role, scope, password)
    where = f"holder {person.scope} and below" if person.scope else "the whole ledger"
    click.echo(f"person {person.name!r} added ({person.role}, {where}); they sign in at /login")


@users.command("list")
@format_option
@with_services
def list_users(services: Services, output_format: str) -> None:
    """Every person ever added, disabled ones included (never a password)."""
    rows = [person.as_dict() for person in people_of(services).list()]
    if output_format == "table" and not rows:
        click.echo("No people; add one with 'budget-ledger users add NAME --role ROLE'.")
        return
    columns = [
        ("name", "name"),
        ("role", "role"),
        ("scope", "scope"),
        ("created_at", "added (UTC)"),
        ("password_changed_at", "password set (UTC)"),
        ("disabled_at", "disabled (UTC)"),
    ]
    emit(rows, columns, output_format, title="People")


@users.command("passwd")
@click.argument("name")
@PASSWORD_STDIN
@with_services
def passwd(services: Services, name: str, password_stdin: bool) -> None:
    """Set person NAME's password; every page they have open must sign in again."""
    store = people_of(services)
    store.get(name)  # an unknown name is said before the password is asked
    password = read_password(password_stdin)
    person = store.set_password(name, password)
    click.echo(f"password of {person.name!r} changed; their sessions ended")


@users.command("disable")
@click.argument("name")
@with_services
def disable(services: Services, name: str) -> None:
    """Disable person NAME: signed out everywhere now, and cannot sign in again. The name
    stays on the events they recorded."""
    person = people_of(services).disable(name)
    click.echo(f"person {person.name!r} disabled at {person.disabled_at}; their sessions ended")


COMMANDS = (users,)
