"""One command per kind of movement (ledger/domain/movements.py KINDS), each recorded through
``BudgetLedger.record``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import click

from cli.common import (
    AMOUNT,
    DATE,
    NOTE,
    TEXT,
    Unavailable,
    Value,
    actor_option,
    dry_run_option,
    emit,
    line_options,
    resolve_actor,
    said_dry_run,
    to_json,
    with_ledger,
)
from ledger.application import BudgetLedger
from ledger.domain.movements import KINDS, MovementRequest
from ledger.domain.values import parse_whole, today_in_vietnam
from ledger.storage.availability import database_errors, is_unavailable

WRITE_FORMATS = click.Choice(["table", "json"])
# A whole number a kind takes besides its amount (see MovementRequest.plain_fields).
WHOLE = Value("number", lambda text: parse_whole(text, field="", example="a whole number"))


def movement_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--date --id --actor --note --format --dry-run, common to every write."""
    for option in reversed(
        [
            click.option(
                "--date",
                "effective_date",
                type=DATE,
                default=None,
                help="Effective date, dd/mm/yyyy or yyyy-mm-dd (default: today in Vietnam).",
            ),
            click.option(
                "--id",
                "movement_id",
                default=None,
                help="Movement id; sending the same id again records nothing. Generated "
                "and printed when absent.",
            ),
            actor_option,
            click.option(
                "--note", type=NOTE, default=None, help="A free-text note kept with the movement."
            ),
            click.option(
                "--format",
                "output_format",
                type=WRITE_FORMATS,
                default="table",
                show_default=True,
                help="How to print the receipt.",
            ),
            dry_run_option,
        ]
    ):
        func = option(func)
    return func


def record(
    ledger: BudgetLedger,
    movement_kind: type[MovementRequest],
    /,
    *,
    movement_id: str | None,
    effective_date: date | None,
    actor: str | None,
    output_format: str,
    dry_run: bool = False,
    **fields: Any,
) -> None:
    generated = movement_id is None
    request = movement_kind.from_edge(
        {
            **fields,
            "movement_id": movement_id or str(uuid.uuid4()),
            # None only when --date is absent: an empty --date is refused, not taken as today.
            "effective_date": effective_date if effective_date is not None else today_in_vietnam(),
        }
    )
    receipt, replayed = submit(ledger, request, actor, generated=generated, dry_run=dry_run)
    preview = preview_of(ledger, request, actor, replayed=replayed) if dry_run else []
    if output_format == "json":
        extra = {"dry_run": True, "preview": preview} if dry_run else {}
        click.echo(to_json({**receipt, "replayed": replayed, **extra}))
        if dry_run:
            said_dry_run(err=True)
        return
    if replayed:
        said_replayed(receipt)
    elif generated and not dry_run:
        click.echo(f"movement id: {receipt['movement_id']} (keep it to reverse or to retry)")
    rows = [
        {
            "movement_id": receipt["movement_id"],
            "action": receipt["action"],
            "effective_date": receipt["effective_date"],
            "line": "/".join(str(v) for v in entry["line"].values() if v is not None),
            "amount_vnd": receipt["amount_vnd"],
            "available_vnd": entry["available_vnd"],
        }
        for entry in receipt["lines"]
    ]
    columns = [
        ("movement_id", "movement"),
        ("action", "action"),
        ("effective_date", "effective"),
        ("line", "line"),
        ("amount_vnd", "amount (đồng)"),
        ("available_vnd", "available after (đồng)"),
    ]
    title = "Already recorded" if replayed else "Would be recorded" if dry_run else "Recorded"
    emit(rows, columns, "table", title=title, formats=None)
    if dry_run:
        said_dry_run(preview)


def submit(
    ledger: BudgetLedger,
    request: MovementRequest,
    actor: str | None,
    *,
    generated: bool,
    dry_run: bool = False,
) -> tuple[dict[str, Any], bool]:
    """Record ``request`` (check it only, ``dry_run``): its receipt and whether it replayed
    one recorded before. A database that does not answer is exit code 75, naming the id to
    retry with if it was ``generated`` (the user may not know it)."""
    try:
        return ledger.record(request, actor=resolve_actor(actor), dry_run=dry_run)
    except database_errors() as error:
        if not is_unavailable(error):
            raise
        raise Unavailable(
            error, request.movement_id if generated else None, database=ledger.database
        ) from None


def preview_of(
    ledger: BudgetLedger, request: MovementRequest, actor: str | None, *, replayed: bool
) -> list[dict[str, Any]]:
    """What a dry run's movement would do to its lines; nothing for a replay (it would
    change nothing)."""
    return [] if replayed else ledger.preview(request, actor=resolve_actor(actor))


def said_replayed(receipt: dict[str, Any]) -> None:
    click.echo(
        f"movement {receipt['movement_id']} was already recorded on "
        f"{receipt['recorded_at']} with the same content; nothing new was recorded.",
        err=True,
    )


def kind_options(kind: type[MovementRequest]) -> list[Callable[[Any], Any]]:
    """The options of a movement of this kind: its fields, as ``kind`` describes them."""
    names = kind.field_names()
    options: list[Callable[[Any], Any]] = []
    if "line" in names:
        options.append(line_options)
        if "counterpart" in names:
            options += [
                click.option("--from", "from_holder", required=True, help=kind.help["from_holder"]),
                click.option("--to", "to_holder", required=True, help=kind.help["to_holder"]),
            ]
        else:
            options.append(click.option("--holder", required=True, help=kind.help["holder"]))
    if "reverses" in names:
        options.append(click.option("--of", "reverses", required=True, help=kind.help["reverses"]))
    if "until" in names:
        help_text = kind.help["until"].removesuffix(".") + ", dd/mm/yyyy or yyyy-mm-dd."
        options.append(click.option("--until", type=DATE, required=True, help=help_text))
    if "amount_vnd" in names:
        required = "amount_vnd" in kind.required_fields()
        options.append(
            click.option(
                "--amount",
                "amount_vnd",
                type=AMOUNT,
                required=required,
                default=None,
                help=kind.help["amount_vnd"] + " Whole đồng.",
            )
        )
    if kind.reference is not None:
        options.append(
            click.option(
                f"--{kind.reference}", type=TEXT, required=True, help=kind.help[kind.reference]
            )
        )
    for name in kind.plain_fields():
        value_type = kind.value_type(name)
        options.append(
            click.option(
                "--" + name.replace("_", "-"),
                name,
                type=DATE if value_type is date else WHOLE if value_type is int else TEXT,
                required=name in kind.required_fields(),
                default=None,
                help=kind.help[name],
            )
        )
    return options


def command_of(kind: type[MovementRequest]) -> click.Command:
    """``budget-ledger ACTION``: records one movement of this kind."""

    def run(ledger: BudgetLedger, **fields: Any) -> None:
        # ``fields`` holds the line's ``kind`` (DTPT, SN) among the options.
        record(ledger, movement_kind, **fields)

    movement_kind = kind

    command: Callable[..., Any] = movement_options(with_ledger(run))
    for option in reversed(kind_options(kind)):
        command = option(command)
    return click.command(kind.action, help=kind.summary)(command)


COMMANDS = tuple(command_of(kind) for kind in KINDS.values())
