"""Succession of holders (the 2025 reorganisation): holders end and their lines pass, whole
and "as they stand" (nguyên trạng), to their successor's lines of the same key.

One rule carries it: **from the day its holder ended, a line holds nothing; what it held
is on its successor's line**. ``succeed`` applies it when the succession is recorded;
``settle`` applies it again after any later movement that touches an ended holder's line
before that day (a treasury confirmation that arrives late): what passed on grows or
shrinks by what the movement changed, on the successor's line too (and on, through a chain
of successions), which is refused if that line would go negative on some date from then.
Money keeps its deadline: a line's running extension passes with it (``carry_extension``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from ledger.domain.errors import HolderEnded, InvalidInput, NotRelated, UnknownHolder
from ledger.domain.holders import Holder
from ledger.domain.lines import BudgetLine, carry_extension, extended_part
from ledger.domain.values import format_vnd

if TYPE_CHECKING:
    from ledger.domain.movements import Books, Posted, Succeed


def succeed(request: Succeed, books: Books, at: datetime) -> Posted:
    from ledger.domain.movements import Posted

    day, mid = request.effective_date, request.movement_id
    olds = [books.holder(code) for code in request.from_holders]
    into = _successor(request, books, at)
    ending = [holder for holder in olds if holder.code != into.code]
    _check_into(into, ending, books, day)
    for holder in ending:  # guards first: nothing changes before every holder may end
        holder.require_exists(day, "ended")
    touched: list[BudgetLine] = []
    passed_vnd = 0
    for key in books.line_keys_of([holder.code for holder in ending]):
        line = books.existing_line(key)
        later = line.postings_from(day)
        if later is not None:
            raise InvalidInput(
                f"line {key.label} has movements effective on {later}, on or after "
                f"{day.isoformat()}: a holder ends before anything is recorded on it from "
                "that day. Record the succession with an earlier date, or check the date",
                field="effective_date",
            )
        amount = line.available_vnd
        if amount == 0:
            continue
        target = books.line_or_open(key.with_holder(into.code), at)
        carried = extended_part(line, target, amount)
        line.pass_on(mid, day, amount, at, to_holder=into.code)
        target.receive_succession(mid, day, amount, at, from_holder=key.holder)
        carry_extension(line, target, mid, day, carried, at)
        touched += [line, target]
        passed_vnd += amount
    for holder in ending:
        holder.end(day, into.code, decision=request.decision, movement_id=mid, at=at)
    holders = [*ending, *([into] if into.code not in request.from_holders else [])]
    return Posted(passed_vnd, _unique(touched), [h for h in holders if h.pending_events])


def _successor(request: Succeed, books: Books, at: datetime) -> Holder:
    """The successor: an existing holder (``name``, ``level``, ``parent`` must then be left
    out or agree), or a new one registered from the succession's day."""
    new_fields = (request.name, request.level, request.parent)
    try:
        into = books.holder(request.to_holder)
    except UnknownHolder:
        if None in new_fields:
            names = ("name", "level", "parent")
            missing = [n for n, v in zip(names, new_fields, strict=True) if v is None]
            raise InvalidInput(
                f"{request.to_holder} is not a registered holder: give its "
                f"{', '.join(missing)} to register it with the succession",
                field=missing[0],
                missing=True,
            ) from None
        assert request.name and request.level and request.parent
        return books.new_holder(
            request.to_holder,
            request.name,
            request.level,
            request.parent,
            since=request.effective_date,
            at=at,
        )
    given = {"name": request.name, "level": request.level, "parent": request.parent}
    actual = {
        "name": into.name_on(request.effective_date),
        "level": into.level,
        "parent": books.parent_on(into.code, request.effective_date),
    }
    for name, value in given.items():
        if value is not None and value != actual[name]:
            raise InvalidInput(
                f"{into.code} is already registered with {name} {actual[name]!r}, not "
                f"{value!r}; leave it out, or move or rename the holder first",
                field=name,
            )
    return into


def _check_into(into: Holder, ending: list[Holder], books: Books, day: date) -> None:
    if not ending:
        raise InvalidInput(
            f"no holder ends: {into.code} is the only one named", field="from_holders"
        )
    if into.ended_on is not None:
        raise HolderEnded(
            f"holder {into.code} ended on {into.ended_on.isoformat()} into {into.successor}; "
            f"name {into.successor} as the successor",
            field="to_holder",
            code=into.code,
            successor=into.successor,
        )
    if not into.begun_by(day):
        assert into.since is not None
        raise HolderEnded(
            f"holder {into.code} exists from {into.since.isoformat()}, after {day.isoformat()}",
            field="to_holder",
            code=into.code,
        )
    codes = {holder.code for holder in ending}
    parent = books.parent_on(into.code, day)
    while parent is not None:
        if parent in codes:
            raise NotRelated(
                f"{into.code} sits under {parent}, which ends: a holder cannot succeed one "
                "above it; name a holder outside the ending ones' subtrees",
                field="to_holder",
            )
        parent = books.parent_on(parent, day)


def check_alive(books: Books, codes: list[str], day: date) -> None:
    """The holders whose lines a movement asks to change (effective ``day``) exist on that
    day: nothing is recorded on an ended holder's lines from the day it ended."""
    for code in codes:
        books.holder(code).require_exists(day)


def settle(
    books: Books, lines: list[BudgetLine], movement_id: str, at: datetime
) -> list[BudgetLine]:
    """After a movement on ``lines``: each line of an ended holder holds nothing from the day
    it ended; what it holds then passes to the successor's line (negative: back from it),
    and on through later successions. Returns the successors' lines it changed."""
    changed: list[BudgetLine] = []
    queue = list(lines)
    while queue:
        line = queue.pop(0)
        holder = books.holder(line.key.holder)
        if holder.ended_on is None or holder.successor is None:
            continue
        day = holder.ended_on
        left_vnd = line.available_on(day)
        if left_vnd == 0:
            continue
        target = books.line_or_open(line.key.with_holder(holder.successor), at)
        if left_vnd < 0:
            lowest, lowest_day = target.available_from(day)
            if lowest < -left_vnd:
                raise _successor_short(line, target, -left_vnd, day, lowest, lowest_day)
        line.pass_on(movement_id, day, left_vnd, at, to_holder=holder.successor)
        target.receive_succession(movement_id, day, left_vnd, at, from_holder=holder.code)
        changed.append(target)
        queue.append(target)
    return _unique(changed)


def reclaim_extension(
    books: Books, line: BudgetLine, day: date, amount_vnd: int, movement_id: str, at: datetime
) -> list[BudgetLine]:
    """A payment confirmed late, dated before its holder ended and after the line's ordinary
    deadline, is paid under the extension that passed on with the line at the succession:
    take back from the successor's line what of that extension the payment needs (then
    ``settle`` takes back the money). Returns the successor's line if it changed."""
    if line.ended_on is None or day >= date.fromisoformat(line.ended_on):
        return []
    if day <= line.key.base_deadline:
        return []
    needed = amount_vnd - line.extension_room_vnd()
    holder = books.holder(line.key.holder)
    if needed <= 0 or holder.successor is None:
        return []
    successor = books.existing_line(line.key.with_holder(holder.successor))
    taken = min(needed, successor.extension_room_vnd())
    if taken <= 0:
        return []
    until = successor.deadline
    line.check_can_take_extension(until)
    ended_on = date.fromisoformat(line.ended_on)
    successor.give_extension(movement_id, ended_on, taken, at, to_holder=line.key.holder)
    line.take_extension(
        movement_id, ended_on, taken, at, from_holder=successor.key.holder, until=until
    )
    return [successor]


def _successor_short(
    line: BudgetLine, target: BudgetLine, taken_vnd: int, day: date, lowest: int, on: date
) -> Exception:
    from ledger.domain.errors import InsufficientFunds

    return InsufficientFunds(
        f"holder {line.key.holder} ended on {day.isoformat()} and its line passed its money to "
        f"{target.key.holder}; taking {format_vnd(taken_vnd)} from before then takes it back "
        f"from {target.key.holder}'s line, which has {format_vnd(lowest)} available on "
        f"{on.isoformat()}",
        field="amount_vnd",
    )


def _unique(lines: list[BudgetLine]) -> list[BudgetLine]:
    return list({id(line): line for line in lines}.values())
