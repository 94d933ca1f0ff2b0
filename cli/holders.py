"""Holders (``units``): the tree of the centre, provinces, districts, communes and agencies,
and its life: register, move, rename, succeed (the 2025 reorganisation), list the tree as it
stood on a day, show one holder's life. Another command joins the group with
``holders.add_command`` (or ``@holders.command``)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import click

from api.services import Services
from cli.common import (
    DATE,
    NOTE,
    TEXT,
    actor_option,
    dry_run_option,
    emit,
    format_option,
    resolve_actor,
    said_dry_run,
    to_json,
    with_ledger,
    with_reading_services,
)
from cli.movements import WRITE_FORMATS, preview_of, said_replayed, submit
from cli.projections import read_models
from cli.reorganise import reorganise_command
from cli.tables import display_date
from ledger.application import BudgetLedger
from ledger.domain.movements import Succeed
from ledger.domain.values import LEVELS, format_vnd, today_in_vietnam
from projections.queries import holders_on

F = TypeVar("F", bound=Callable[..., Any])
SUCCESSION_ID_PREFIX = "succession-"


@click.group("holders")
def holders() -> None:
    """Register holders, record their moves, renames and successions, list the tree."""


def decision_option(func: F) -> F:
    return click.option(
        "--decision", type=TEXT, required=True, help="The decision cited, number and date."
    )(func)


def day_option(what: str) -> Callable[[F], F]:
    return click.option(
        "--date", "day", type=DATE, required=True, help=f"{what}: dd/mm/yyyy or yyyy-mm-dd."
    )


@holders.command("add")
@click.argument("code")
@click.argument("name", type=TEXT)
@click.option("--level", required=True, type=click.Choice(LEVELS), help="Where it sits.")
@click.option("--parent", default=None, help="The parent's code (all but the centre have one).")
@click.option(
    "--date",
    "since",
    type=DATE,
    default=None,
    help="The day it exists from, dd/mm/yyyy or yyyy-mm-dd (default: it always existed).",
)
@actor_option
@dry_run_option
@with_ledger
def add(
    ledger: BudgetLedger,
    code: str,
    name: str,
    level: str,
    parent: str | None,
    since: date | None,
    actor: str | None,
    dry_run: bool,
) -> None:
    """Register holder CODE called NAME. Registering it again the same way does nothing."""
    holder = ledger.register_holder(
        code, name, level, parent, actor=resolve_actor(actor), since=since, dry_run=dry_run
    )
    under = f" under {holder.parent}" if holder.parent else ""
    start = f" from {holder.since.isoformat()}" if holder.since else ""
    click.echo(f"holder {holder.code} {holder.name} ({holder.level}){under}{start}")
    if dry_run:
        said_dry_run()


@holders.command("succeed")
@click.argument("olds", metavar="OLD [OLD ...]", nargs=-1, required=True)
@click.option(
    "--into",
    "to_holder",
    required=True,
    help="The successor: one of OLD, an "
    "existing holder, or a new one (then give --name, --level and --parent).",
)
@day_option("The first day the OLD holders no longer exist")
@decision_option
@click.option(
    "--id",
    "movement_id",
    default=None,
    help="The succession's movement id (default: one derived from the command's content, "
    "so the same command run twice records once).",
)
@click.option("--name", type=TEXT, default=None, help="A new successor's name.")
@click.option("--level", type=click.Choice(LEVELS), default=None, help="A new successor's level.")
@click.option("--parent", default=None, help="A new successor's parent.")
@click.option("--note", type=NOTE, default=None, help="A free-text note kept with it.")
@actor_option
@click.option(
    "--format",
    "output_format",
    type=WRITE_FORMATS,
    default="table",
    show_default=True,
    help="How to print the receipt.",
)
@dry_run_option
@with_ledger
def succeed(
    ledger: BudgetLedger,
    olds: tuple[str, ...],
    to_holder: str,
    day: date,
    decision: str,
    movement_id: str | None,
    name: str | None,
    level: str | None,
    parent: str | None,
    note: str | None,
    actor: str | None,
    output_format: str,
    dry_run: bool,
) -> None:
    """The holders OLD end at the start of --date and --into succeeds to every line they
    hold, each whole to its line of the same key, with any running extension."""
    request = Succeed(
        # A stand-in until the content gives the id (an empty --id is refused, not derived).
        movement_id=SUCCESSION_ID_PREFIX + "0" if movement_id is None else movement_id,
        effective_date=day,
        note=note,
        from_holders=olds,
        to_holder=to_holder,
        decision=decision,
        name=name,
        level=level,
        parent=parent,
    )
    if movement_id is None:
        request = dataclasses.replace(request, movement_id=succession_id(request))
    receipt, replayed = submit(ledger, request, actor, generated=False, dry_run=dry_run)
    preview = preview_of(ledger, request, actor, replayed=replayed) if dry_run else []
    ended = [code for code in request.from_holders if code != request.to_holder]
    passed = passed_lines(receipt, request.to_holder)
    if output_format == "json":
        summary = {"holders_ended": ended, "lines_passed": len(passed), "replayed": replayed}
        extra = {"dry_run": True, "preview": preview} if dry_run else {}
        click.echo(to_json({**receipt, **summary, **extra}))
        if dry_run:
            said_dry_run(err=True)
        return
    if replayed:
        said_replayed(receipt)
    click.echo(
        f"succession {receipt['movement_id']}: {', '.join(ended)} ended on {day.isoformat()} "
        f"into {request.to_holder}; {len(passed)} line(s) passed, "
        f"{format_vnd(receipt['amount_vnd'])} in all"
    )
    if passed:
        columns = [("line", "line"), ("passed_on_vnd", "passed on (đồng)"), ("to", "to")]
        emit(passed, columns, "table", title="Passed on", formats=None)
    if dry_run:
        said_dry_run(preview)


def succession_id(request: Succeed) -> str:
    """A movement id made from the succession's content (everything but the id): the same
    command run again gives the same id and is recorded once (docs/decisions.md §15)."""
    content = {k: v for k, v in request.canonical().items() if k != "movement_id"}
    encoded = json.dumps(content, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return SUCCESSION_ID_PREFIX + hashlib.sha256(encoded).hexdigest()[:24]


def passed_lines(receipt: dict[str, Any], successor: str) -> list[dict[str, Any]]:
    """The lines a succession's receipt says passed money on to ``successor``, and how much."""
    rows = []
    for entry in receipt["lines"]:
        passed = sum(p["changes"].get("passed_on_vnd", 0) for p in entry.get("postings", ()))
        if passed:
            line = entry["line"]
            rows.append(
                {
                    "line": "/".join(str(v) for v in line.values() if v is not None),
                    "passed_on_vnd": passed,
                    "to": successor,
                }
            )
    return rows


@holders.command("move")
@click.argument("code")
@click.option("--parent", required=True, help="The holder it sits under from --date.")
@day_option("The day it sits under --parent from")
@decision_option
@actor_option
@dry_run_option
@with_ledger
def move(
    ledger: BudgetLedger,
    code: str,
    parent: str,
    day: date,
    decision: str,
    actor: str | None,
    dry_run: bool,
) -> None:
    """From --date holder CODE (and everything below it) sits under --parent."""
    holder = ledger.move_holder(
        code, parent, day, decision=decision, actor=resolve_actor(actor), dry_run=dry_run
    )
    click.echo(f"holder {holder.code} sits under {parent} from {day.isoformat()} ({decision})")
    if dry_run:
        said_dry_run()


@holders.command("rename")
@click.argument("code")
@click.option("--name", type=TEXT, required=True, help="Its name from --date.")
@day_option("The day the name holds from")
@decision_option
@actor_option
@dry_run_option
@with_ledger
def rename(
    ledger: BudgetLedger,
    code: str,
    name: str,
    day: date,
    decision: str,
    actor: str | None,
    dry_run: bool,
) -> None:
    """From --date holder CODE is called --name."""
    holder = ledger.rename_holder(
        code, name, day, decision=decision, actor=resolve_actor(actor), dry_run=dry_run
    )
    click.echo(f"holder {holder.code} is named {name} from {day.isoformat()} ({decision})")
    if dry_run:
        said_dry_run()


@holders.command("list")
@click.option(
    "--as-of",
    "as_of",
    type=DATE,
    default=None,
    help="The tree as it stood on this day, dd/mm/yyyy or yyyy-mm-dd (default: today in Vietnam).",
)
@click.option("--all", "show_all", is_flag=True, help="Also the holders ended by then.")
@format_option
@with_reading_services
def list_holders(
    services: Services, as_of: date | None, show_all: bool, output_format: str
) -> None:
    """The holders as they stood on a day, by code, each with its parent and name then."""
    day = as_of or today_in_vietnam()
    with read_models(services) as projections:
        rows = holders_on(projections, day, ended=show_all)
    columns = [
        ("code", "code"),
        ("name", "name"),
        ("level", "level"),
        ("parent", "parent"),
        ("since", "since"),
        *([("ended_on", "ended on"), ("successor", "successor")] if show_all else []),
        ("registered_at", "registered (UTC)"),
        ("actor", "by"),
    ]
    emit(rows, columns, output_format, title=f"Holders on {display_date(day)}")


@holders.command("show")
@click.argument("code")
@click.option(
    "--format",
    "output_format",
    type=WRITE_FORMATS,
    default="table",
    show_default=True,
    help="table for people, json for scripts.",
)
@with_ledger
def show(ledger: BudgetLedger, code: str, output_format: str) -> None:
    """Holder CODE's life: its registration, moves, renames, the holders that ended into it
    and its own end, with their dates and decisions."""
    life = ledger.holder_life(code)
    if output_format == "json":
        click.echo(to_json(life))
        return
    end = f", ended on {life['ended_on']} into {life['successor']}" if life["ended_on"] else ""
    click.echo(f"holder {life['code']} {life['name']} ({life['level']}){end}")
    emit(life_rows(life), LIFE_COLUMNS, "table", title=f"Life of {life['code']}", formats="json")


LIFE_COLUMNS = [
    ("effective_date", "from"),
    ("change", "change"),
    ("what", "what"),
    ("decision", "decision"),
    ("actor", "by"),
    ("recorded_at", "recorded (UTC)"),
]


def life_rows(life: dict[str, Any]) -> list[dict[str, Any]]:
    """``holder_life`` as one row per change, in date order."""
    registered = life["registered"]
    under = f" under {registered['parent']}" if registered["parent"] else ""
    rows: list[dict[str, Any]] = [
        {
            "effective_date": registered["since"] or "always",
            "change": "registered",
            "what": f"{registered['name']} ({registered['level']}){under}",
            "decision": None,
            "actor": registered["actor"],
            "recorded_at": registered["recorded_at"],
        }
    ]
    said = {
        "moved": lambda c: f"under {c['parent']}",
        "renamed": lambda c: f"named {c['name']}",
        "ended": lambda c: f"into {c['successor']} (movement {c['movement_id']})",
    }
    rows += [{**change, "what": said[change["change"]](change)} for change in life["changes"]]
    rows += [
        {
            "effective_date": before["ended_on"],
            "change": "succeeded",
            "what": f"{before['code']} {before['name']} ended into it (movement "
            f"{before['movement_id']})",
            "decision": before["decision"],
            "actor": None,
            "recorded_at": None,
        }
        for before in life["predecessors"]
    ]
    return sorted(rows, key=lambda row: str(row["effective_date"]).replace("always", ""))


holders.add_command(reorganise_command)
COMMANDS = (holders,)
