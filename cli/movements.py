"""The seven movements, one command each, all recorded through ``BudgetLedger.record``."""

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
    actor_option,
    emit,
    line_options,
    resolve_actor,
    to_json,
    with_ledger,
)
from ledger.application import BudgetLedger
from ledger.availability import DATABASE_ERRORS, is_unavailable
from ledger.movements import MovementRequest
from ledger.values import LineKey, today_in_vietnam

WRITE_FORMATS = click.Choice(["table", "json"])


def movement_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--date --id --actor --note --format, common to every write."""
    for option in reversed(
        [
            click.option(
                "--date",
                "effective_date",
                type=DATE,
                default=None,
                help="Effective date, YYYY-MM-DD (default: today in Vietnam).",
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
        ]
    ):
        func = option(func)
    return func


def record(
    ledger: BudgetLedger,
    *,
    action: str,
    movement_id: str | None,
    effective_date: date | None,
    actor: str | None,
    output_format: str,
    **fields: Any,
) -> None:
    generated = movement_id is None
    request = MovementRequest(
        action=action,
        movement_id=movement_id or str(uuid.uuid4()),
        # None only when --date is absent: an empty --date is refused, not taken as today.
        effective_date=effective_date if effective_date is not None else today_in_vietnam(),
        **fields,
    )
    try:
        receipt, replayed = ledger.record(request, actor=resolve_actor(actor))
    except DATABASE_ERRORS as error:
        if not is_unavailable(error):
            raise
        # The id it was sent with, which a retry must reuse (the user may not know it).
        raise Unavailable(error, request.movement_id if generated else None) from None
    if output_format == "json":
        click.echo(to_json({**receipt, "replayed": replayed}))
        return
    if replayed:
        click.echo(
            f"movement {receipt['movement_id']} was already recorded on "
            f"{receipt['recorded_at']} with the same content; nothing new was recorded.",
            err=True,
        )
    elif generated:
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
    emit(rows, columns, "table", title="Recorded" if not replayed else "Already recorded")


@click.command("adjust")
@line_options
@click.option("--holder", required=True, help="Whose line is raised or lowered.")
@click.option(
    "--amount", "amount_vnd", type=AMOUNT, required=True, help="Đồng; negative lowers the line."
)
@click.option("--decision", type=TEXT, required=True, help="The decision cited, number and date.")
@movement_options
@with_ledger
def adjust(ledger: BudgetLedger, holder: str, amount_vnd: int, decision: str, **kw: Any) -> None:
    """Raise (+) or lower (−) a line by an external decision: money enters or leaves here."""
    line = LineKey.of(_pop_line(kw), holder)
    record(
        ledger,
        action="adjust",
        line=line,
        amount_vnd=amount_vnd,
        decision=decision,
        **kw,
    )


def two_sided(action: str, summary: str, giver: str, receiver: str) -> click.Command:
    """allocate and reallocate: the same shape, one giving and one receiving holder."""

    @click.command(action, help=summary)
    @line_options
    @click.option("--from", "from_holder", required=True, help=giver)
    @click.option("--to", "to_holder", required=True, help=receiver)
    @click.option("--amount", "amount_vnd", type=AMOUNT, required=True, help="Đồng, positive.")
    @click.option(
        "--decision", type=TEXT, required=True, help="The decision cited, number and date."
    )
    @movement_options
    @with_ledger
    def command(
        ledger: BudgetLedger,
        from_holder: str,
        to_holder: str,
        amount_vnd: int,
        decision: str,
        **kw: Any,
    ) -> None:
        line = LineKey.of(_pop_line(kw), from_holder)
        record(
            ledger,
            action=action,
            line=line,
            counterpart=to_holder,
            amount_vnd=amount_vnd,
            decision=decision,
            **kw,
        )

    return command


allocate = two_sided(
    "allocate",
    "Assign part of a parent's line to a direct child's line.",
    "The parent giving the money.",
    "The direct child receiving it.",
)
reallocate = two_sided(
    "reallocate",
    "Move money between two holders' lines; both change together or neither does.",
    "The holder giving the money up.",
    "The holder receiving it.",
)


@click.command("disburse")
@line_options
@click.option("--holder", required=True, help="Whose line pays.")
@click.option("--amount", "amount_vnd", type=AMOUNT, required=True, help="Đồng, positive.")
@click.option(
    "--voucher", type=TEXT, required=True, help="The treasury voucher confirming the payment."
)
@movement_options
@with_ledger
def disburse(ledger: BudgetLedger, holder: str, amount_vnd: int, voucher: str, **kw: Any) -> None:
    """Record a treasury-confirmed payment out of a line."""
    line = LineKey.of(_pop_line(kw), holder)
    record(ledger, action="disburse", line=line, amount_vnd=amount_vnd, voucher=voucher, **kw)


@click.command("reverse")
@click.option("--of", "reverses", required=True, help="The id of the disbursement to take back.")
@click.option(
    "--amount", "amount_vnd", type=AMOUNT, default=None, help="Đồng (default: all that remains)."
)
@click.option("--reason", type=TEXT, required=True, help="Why it is taken back.")
@movement_options
@with_ledger
def reverse(
    ledger: BudgetLedger, reverses: str, amount_vnd: int | None, reason: str, **kw: Any
) -> None:
    """Take back all or part of an earlier disbursement."""
    record(
        ledger,
        action="reverse",
        reverses=reverses,
        amount_vnd=amount_vnd,
        reason=reason,
        **kw,
    )


@click.command("extend")
@line_options
@click.option("--holder", required=True, help="Whose line is extended.")
@click.option("--until", type=DATE, required=True, help="The new deadline, YYYY-MM-DD.")
@click.option(
    "--amount",
    "amount_vnd",
    type=AMOUNT,
    default=None,
    help="Đồng that may be paid after the current deadline (default: all undisbursed).",
)
@click.option("--basis", type=TEXT, required=True, help="The legal basis, e.g. NQ 111/2024/QH15.")
@movement_options
@with_ledger
def extend(
    ledger: BudgetLedger,
    holder: str,
    until: date,
    amount_vnd: int | None,
    basis: str,
    **kw: Any,
) -> None:
    """Let the undisbursed part of a line (or a stated amount) be paid until a later deadline."""
    line = LineKey.of(_pop_line(kw), holder)
    record(
        ledger,
        action="extend",
        line=line,
        until=until,
        amount_vnd=amount_vnd,
        basis=basis,
        **kw,
    )


@click.command("lapse")
@line_options
@click.option("--holder", required=True, help="Whose line lapses.")
@movement_options
@with_ledger
def lapse(ledger: BudgetLedger, holder: str, **kw: Any) -> None:
    """Return to the budget what a line past its deadline has not paid and was not extended."""
    line = LineKey.of(_pop_line(kw), holder)
    record(ledger, action="lapse", line=line, **kw)


def _pop_line(kw: dict[str, Any]) -> dict[str, Any]:
    return {name: kw.pop(name) for name in ("program", "kind", "source", "year", "project")}


COMMANDS = (adjust, allocate, reallocate, disburse, reverse, extend, lapse)
