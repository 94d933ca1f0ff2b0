"""The ledger as an hledger journal, so auditors can check its balances with a tool they trust.

Chart of accounts (``LINE`` is ``program:kind:source:year:holder``, plus ``:project`` when the
line has one):

- ``LINE:available``: the line's available amount;
- ``LINE:disbursed``: what it paid, net of reversals;
- ``LINE:lapsed``: what it returned at its deadline;
- ``appropriation:LINE``: the counter-account of adjustments, the only movements that bring
  money in from outside (negative: the source of funds).

So ``LINE`` itself totals assigned − allocated on − passed on (= available + disbursed +
lapsed), each program's accounts total what entered it, and every transaction balances to
zero, as hledger requires: allocations and reallocations move ``available`` between two
lines; a disbursement moves it from ``available`` to ``disbursed``, a reversal back; a lapse
to ``lapsed``; an extension moves nothing (a zero posting names its line), and neither does
extended money carried with an allocation, a reallocation or a succession (it changes a
deadline, not an amount). A succession moves ``available`` from each line of the holders
that ended to its successor's line of the same key, all in one transaction (one decision,
one date: the lines it passes balance each other). A movement effective before a holder
ended but recorded after (a late treasury confirmation) is two transactions under its id:
its own, on its date, and what it changed in what passed on, on the day the holder ended
(its lines' ``available`` to and from the successor's, balancing each other).

Transactions are dated by effective date; within a day, those that only add to lines come
first, then those that move money between lines, then those that only take from lines, each
group in log order. hledger checks balance assertions in date order and, within a date, in file
order; the ledger's rule is per day (a line's available amount is never negative at the end of
any effective day), and the order in which one day's movements are listed cannot be the
history's for every line at once (a reallocation credits one line and debits another). So the
last ``available`` posting of each line on each day asserts the line's balance at the end of
that day, the figure ``balance --as-of`` that day gives and the last ``history`` row of that
line and day shows: hledger itself re-checks every line at the end of every day it moved.
``hledger balance --end D`` excludes D; the ledger's ``--as-of D`` includes it: ledger
``--as-of D`` is hledger ``--end D+1``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from ledger.domain.movements import APPROPRIATION, RECORDED_KINDS, REFERENCE_FIELDS
from ledger.interchange.export import ACTION_LABELS

COMMODITY = "VND"
FIGURES = ("available", "disbursed", "lapsed")

# Where each action's counter-posting goes (None: the movement's lines balance each other, or
# nothing moves). A posting that passes money on by succession, or receives it, has none
# whatever the action: the other line's posting balances it (``by_succession``).
COUNTER_FIGURE = {action: kind.counter_figure for action, kind in RECORDED_KINDS.items()}
# What the figures a succession changes are named in a history entry's ``changes``.
SUCCESSION_FIGURES = ("passed_on_vnd", "received_vnd")
assert all(figure in (*FIGURES, APPROPRIATION, None) for figure in COUNTER_FIGURE.values())

_SPACES = re.compile(r"\s+")


def line_account(line: dict[str, Any]) -> str:
    """``GNBV:DTPT:NSTW:2024:505`` (``:DA4.TDA1`` appended for a component project). Codes are
    upper case and figures lower case, so a project can never be mistaken for a figure."""
    parts = [line["program"], line["kind"], line["source"], str(line["year"]), line["holder"]]
    if line.get("project"):
        parts.append(line["project"])
    for part in parts:
        # Codes are checked on input (letters, digits, '.', '_', '-'), so none holds the
        # separator or a space hledger would read as the end of the name.
        assert part and ":" not in part and " " not in part, part
    return ":".join(parts)


def account(line: dict[str, Any], figure: str) -> str:
    assert figure in FIGURES or figure == APPROPRIATION, figure
    if figure == APPROPRIATION:
        return f"{APPROPRIATION}:{line_account(line)}"
    return f"{line_account(line)}:{figure}"


def amount(value_vnd: int) -> str:
    assert isinstance(value_vnd, int), value_vnd
    return f"{value_vnd} {COMMODITY}"


def journal_text(entries: Iterable[dict[str, Any]], *, title: str) -> str:
    """The whole journal from ``ledger.domain.audit.history`` entries (unfiltered by line, so each
    line's running balance is whole)."""
    chunks = [_header(title)]
    day_end: dict[tuple[str, date], int] = {}
    # One transaction per movement and effective date: a movement's postings all share its
    # date but what it changed in what a succession passed on, dated the day the holder ended.
    movements: dict[tuple[int, date], list[dict[str, Any]]] = {}
    for entry in entries:
        # history runs each line's figures in effective-date order, so its last entry of a
        # line and day holds the line's balance at the end of that day.
        day_end[(line_account(entry["line"]), entry["effective_date"])] = entry[
            "available_after_vnd"
        ]
        movements.setdefault((entry["position"], entry["effective_date"]), []).append(entry)
    transactions = sorted(
        (sorted(group, key=lambda entry: entry["line"]["holder"]) for group in movements.values()),
        key=lambda group: (group[0]["effective_date"], _takes(group), group[0]["position"]),
    )
    # The assertion goes on each line's last posting of the day in the file's order.
    asserted: dict[int, dict[str, int]] = {}
    seen: set[tuple[str, date]] = set()
    for index in reversed(range(len(transactions))):
        for entry in transactions[index]:
            key = (line_account(entry["line"]), entry["effective_date"])
            if key not in seen:
                seen.add(key)
                asserted.setdefault(index, {})[key[0]] = day_end[key]
    for index, group in enumerate(transactions):
        chunks.append(transaction(group, asserted.get(index, {})))
    return "\n".join(chunks)


def _takes(entries: list[dict[str, Any]]) -> int:
    """0 for a movement that only adds to lines (or changes nothing), 2 for one that only
    takes from them, 1 for one that does both (a reallocation, an allocation)."""
    takes = [entry["available_change_vnd"] < 0 for entry in entries]
    return 0 if not any(takes) else 2 if all(takes) else 1


def _header(title: str) -> str:
    return (
        f"; {clean(title)}\n"
        "; Written by budget-ledger export --format hledger. Accounts: LINE:available,\n"
        "; LINE:disbursed, LINE:lapsed, appropriation:LINE, where LINE is\n"
        "; program:kind:source:year:holder[:project]. Dates are effective dates; hledger's\n"
        "; --end D excludes D, so the ledger's --as-of D is hledger's --end D+1.\n"
        "\n"
        "; Whole đồng, '.' between thousands, no decimals.\n"
        f"commodity 1.000, {COMMODITY}\n"
    )


def transaction(entries: list[dict[str, Any]], asserted: dict[str, int]) -> str:
    """One movement on one date: its header, its tags, and the postings on each line it
    touched; ``asserted`` maps the line accounts whose balance is asserted after it to that
    balance."""
    first = entries[0]
    assert all(entry["movement_id"] == first["movement_id"] for entry in entries)
    action = first["action"]
    description = ACTION_LABELS[action]
    if first["movement_action"] != action:
        # A late movement's change to what passed on: a succession's posting, by its cause.
        description = f"{description}, theo {ACTION_LABELS[first['movement_action']]}"
    if first["reference"]:
        description += f": {first['reference']}"
    lines = [
        f"{first['effective_date'].isoformat()} ({first['movement_id']}) {clean(description)}",
        *(f"    ; {name}: {tag_value(value)}" for name, value in tags(first)),
    ]
    # A line posted twice here (two predecessors' lines passing to it) is asserted once,
    # after its last posting.
    last = {line_account(entry["line"]): index for index, entry in enumerate(entries)}
    for index, entry in enumerate(entries):
        here = line_account(entry["line"])
        lines += postings(entry, asserted.get(here) if last[here] == index else None)
    # The postings without a counter-posting move money between lines: they balance.
    unbalanced_vnd = sum(
        entry["available_change_vnd"] for entry in entries if counter_figure(entry) is None
    )
    assert unbalanced_vnd == 0, (first["movement_id"], unbalanced_vnd)
    return "\n".join(lines) + "\n"


def by_succession(entry: dict[str, Any]) -> bool:
    """Whether the posting passed money on to a successor's line or received it (or took
    it back): the other line's posting in the same transaction balances it."""
    return any(name in entry["changes"] for name in SUCCESSION_FIGURES)


def counter_figure(entry: dict[str, Any]) -> str | None:
    """Where the entry's counter-posting goes, on its own line (None: another line's
    posting in the transaction balances it, or nothing moves)."""
    return None if by_succession(entry) else COUNTER_FIGURE[entry["action"]]


def postings(entry: dict[str, Any], asserted_vnd: int | None) -> list[str]:
    change_vnd: int = entry["available_change_vnd"]
    line = entry["line"]
    # The assertion makes hledger check the ledger's balance of the line at the day's end.
    available = f"    {account(line, 'available')}  {amount(change_vnd)}"
    if asserted_vnd is not None:
        available += f" = {amount(asserted_vnd)}"
    result = [available]
    counter = counter_figure(entry)
    if counter is not None:
        result.append(f"    {account(line, counter)}  {amount(-change_vnd)}")
    return result


def tags(entry: dict[str, Any]) -> list[tuple[str, Any]]:
    """hledger tags: query them with ``tag:voucher=KB`` and the like."""
    found: list[tuple[str, Any]] = [
        ("movement", entry["movement_id"]),
        ("action", entry["action"]),
    ]
    found += [(name, entry[name]) for name in REFERENCE_FIELDS if entry.get(name)]
    found += [
        (name, entry[name]) for name in ("reverses", "until", "note") if entry.get(name) is not None
    ]
    # The amount the ledger worked out, where the request could leave it out.
    kind = RECORDED_KINDS[entry["action"]]
    if "amount_vnd" in kind.field_names() and kind.resolves_amount():
        found.append(("amount", entry["amount_vnd"]))
    found += [("actor", entry["actor"]), ("recorded", entry["recorded_at"].isoformat())]
    return found


def clean(text: str) -> str:
    """One line of free text: ';' would start a comment in a description."""
    return _SPACES.sub(" ", text).strip().replace(";", ",")


def tag_value(value: Any) -> str:
    """A tag's value ends at a comma, so commas become semicolons (inside a comment, plain
    text)."""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return _SPACES.sub(" ", text).strip().replace(",", ";")
