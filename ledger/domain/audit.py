"""The audit trail and the ledger's self-check, both recomputed from the recorded movements.

``history`` answers "who moved what, when, under which decision" and shows each line's
available amount after each movement, in effective-date order (the order in which the money
actually moved; a back-dated entry takes its place by its date). Within one effective day a
line's credits come before its debits (see ``ORDER``). ``check`` recomputes every line from
the journal alone and compares it with the line aggregates and with the rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import date, datetime
from typing import Any

from ledger.domain.journal import Posting, fold, postings
from ledger.domain.lines import BudgetLine
from ledger.domain.movements import RECORDED_KINDS, REFERENCE_FIELDS, Disburse, Reverse
from ledger.domain.values import LineKey, format_vnd


def order(effective_date: date, available_change_vnd: int, position: int) -> tuple[Any, ...]:
    """Where a posting stands in its line's running figures: by effective date; within a day
    what adds to the line (or changes nothing) before what takes from it; then in the order
    recorded. The rule is per day (available is never negative at the end of any day), and a
    day recorded out of order (a payment, then a reallocation into the line dated the same
    day, then a payment back-dated to an earlier day) read in recording order could dip below
    zero mid-day though the day ends above it. Credits first, the figure rises from the
    previous day's end, which is not negative, then falls to the day's end, which is not
    negative either: no row shows a negative figure, and each row's "after" is its "before"
    plus its change, as a running balance should."""
    return (effective_date, available_change_vnd < 0, position)


def history(
    journal: Iterable[tuple[int, dict[str, Any]]],
    *,
    decision: str | None = None,
    actor: str | None = None,
    recorded_from: datetime | None = None,
    recorded_to: datetime | None = None,
    holders: Collection[str] | None = None,
    **line_filters: Any,
) -> list[dict[str, Any]]:
    """One entry per posting (a movement's on each line it touched; a succession's on each
    line that ended and each that received, and what a movement recorded late changed in
    what passed on, dated the day the holder ended) matching the filters, oldest effective
    date first, within a day credits before debits (``order``), ties in the order recorded,
    then by holder, then in the movement's order of postings, with what it changed
    (``changes``) and the line's available amount before and after.

    ``holders`` keeps lines of those holders (a subtree); ``recorded_from``/``recorded_to``
    keep movements recorded in that closed range; ``actor`` and ``decision`` match exactly
    (ignoring case). The running available amount counts every movement of the line, matched
    or not, so "before" and "after" are the line's true figures."""
    movements: dict[str, dict[str, Any]] = {}
    # Each line's postings, with each one's place among its movement's postings.
    by_line: dict[LineKey, list[tuple[int, Posting]]] = defaultdict(list)
    for position, movement in journal:
        movements[movement["movement_id"]] = movement
        for seq, posting in enumerate(postings(position, movement)):
            by_line[posting.line].append((seq, posting))
    entries = []
    for key, line_postings in by_line.items():
        if not _line_matches(key, line_filters):
            continue
        if holders is not None and key.holder not in holders:
            continue
        available_vnd = 0
        for seq, posting in sorted(
            line_postings,
            key=lambda p: (
                *order(p[1].effective_date, p[1].available_change_vnd, p[1].position),
                p[0],
            ),
        ):
            available_vnd += posting.available_change_vnd
            movement = movements[posting.movement_id]
            if decision is not None and not _cites(movement, decision):
                continue
            if actor is not None and movement["actor"].casefold() != actor.strip().casefold():
                continue
            recorded_at: datetime = movement["timestamp"]
            if recorded_from is not None and recorded_at < recorded_from:
                continue
            if recorded_to is not None and recorded_at > recorded_to:
                continue
            entries.append((seq, _entry(movement, posting, available_vnd)))
    # Restricted to one line this is the order its figures were run in, so each line's rows
    # read as its running balance however the lines interleave. A movement that credits one
    # line and debits another (a reallocation) may show its two rows apart within the day.
    entries.sort(
        key=lambda pair: (
            *order(pair[1]["effective_date"], pair[1]["available_change_vnd"], pair[1]["position"]),
            pair[1]["line"]["holder"],
            pair[0],
        )
    )
    return [entry for _, entry in entries]


def _line_matches(key: LineKey, filters: dict[str, Any]) -> bool:
    return all(value is None or getattr(key, name) == value for name, value in filters.items())


def _cites(movement: dict[str, Any], reference: str) -> bool:
    wanted = reference.strip().casefold()
    request = movement["request"]
    return any((request.get(name) or "").casefold() == wanted for name in REFERENCE_FIELDS)


def _entry(movement: dict[str, Any], posting: Posting, available_vnd: int) -> dict[str, Any]:
    request = movement["request"]
    recorded_at: datetime = movement["timestamp"]
    return {
        "position": posting.position,
        "movement_id": movement["movement_id"],
        "action": posting.action,
        "movement_action": movement["action"],
        "effective_date": posting.effective_date,
        "recorded_at": recorded_at,
        "actor": movement["actor"],
        "reference": next((request[n] for n in REFERENCE_FIELDS if request.get(n)), None),
        **{name: request.get(name) for name in REFERENCE_FIELDS},
        "reverses": request.get("reverses"),
        "until": request.get("until"),
        "note": request.get("note"),
        "line": posting.line.as_dict(),
        "amount_vnd": posting.amount_vnd,
        # What the posting did to each figure of the line (a succession's rows: passed_on_vnd
        # on the line that ended, assigned_vnd and received_vnd on its successor's).
        "changes": dict(posting.changes),
        "available_before_vnd": available_vnd - posting.available_change_vnd,
        "available_change_vnd": posting.available_change_vnd,
        "available_after_vnd": available_vnd,
    }


def check(journal: Iterable[tuple[int, dict[str, Any]]], lines: Iterable[BudgetLine]) -> list[str]:
    """Every way the recorded events break a rule or disagree with each other; empty if OK.

    Conservation is computed from the line aggregates (their own postings) against the
    adjustments in the journal of movements, so a posting lost, added or altered on either
    side shows; each line is also recomputed from the journal alone and compared."""
    movements = list(journal)
    lines = list(lines)
    recomputed = fold(movements)
    problems = _check_reversals(movements)
    adjusted: dict[tuple[str, str, str, int], int] = defaultdict(int)
    for _, movement in movements:
        if RECORDED_KINDS[movement["action"]].brings_money_in:
            adjusted[LineKey(**movement["lines"][0]["line"]).group] += movement["amount_vnd"]
    held: dict[tuple[str, str, str, int], int] = defaultdict(int)
    for line in lines:
        held[line.key.group] += line.available_vnd + line.disbursed_vnd + line.lapsed_vnd
        lowest, day = line.lowest_available()
        if lowest < 0:
            problems.append(
                f"line {line.key.label}: available is {format_vnd(lowest)} on {day}, below zero"
            )
    for group in sorted(set(adjusted) | set(held)):
        if adjusted[group] != held[group]:
            name = "/".join(str(part) for part in group)
            problems.append(
                f"{name}: money is not conserved: adjustments total "
                f"{format_vnd(adjusted[group])} but available + disbursed + lapsed over all "
                f"lines is {format_vnd(held[group])}"
            )
    problems += _compare(recomputed, lines)
    return problems


def _check_reversals(movements: list[tuple[int, dict[str, Any]]]) -> list[str]:
    paid: dict[str, int] = {}
    taken_back: dict[str, int] = defaultdict(int)
    for _, movement in movements:
        if movement["action"] == Disburse.action:
            paid[movement["movement_id"]] = movement["amount_vnd"]
        elif movement["action"] == Reverse.action:
            taken_back[movement["request"]["reverses"]] += movement["amount_vnd"]
    return [
        f"disbursement {payment_id}: reversals take back {format_vnd(amount)}, more than the "
        f"{format_vnd(paid.get(payment_id, 0))} paid"
        for payment_id, amount in sorted(taken_back.items())
        if amount > paid.get(payment_id, 0)
    ]


def _compare(recomputed: dict[LineKey, Any], lines: list[BudgetLine]) -> list[str]:
    """The line aggregates (built from their own postings) must agree with the journal."""
    problems = []
    for line in lines:
        journal_line = recomputed.get(line.key)
        if journal_line is None:
            if line.version > 1:
                problems.append(
                    f"line {line.key.label}: has postings but no movement in the journal"
                )
            continue
        expected = {
            **journal_line.figures,
            "available_vnd": journal_line.available_vnd,
            "extended_vnd": journal_line.extended_vnd,
            "deadline": journal_line.deadline,
        }
        days = {d.isoformat(): v for d, v in journal_line.available_by_day.items() if v}
        if days != line.available_change_by_day:
            problems.append(
                f"line {line.key.label}: the effective dates of its postings disagree with the "
                "journal of movements"
            )
        for name, value in line.figures().items():
            if expected[name] != value:
                problems.append(
                    f"line {line.key.label}: {name} is {value} on the line but {expected[name]} "
                    "in the journal of movements"
                )
    for key in sorted(set(recomputed) - {line.key for line in lines}, key=lambda k: k.order):
        problems.append(f"line {key.label}: appears in the journal but was never opened")
    return problems
