"""The audit trail from its read model: who moved what, when, under which decision, and each
line's available amount before and after, a page at a time.

The answers are those ``ledger.domain.audit.history`` computes by reading the whole journal
(tests/integration/test_history_read_model.py compares the two): each entry is a posting,
in effective-date order (within a day a line's credits before its debits, then as recorded,
then by holder), and "before" and "after" count every posting of the line, matched or not.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ledger.domain.errors import UnknownHolder
from ledger.domain.movements import REFERENCE_FIELDS
from ledger.domain.tree import subtree_of
from ledger.domain.values import LineKey, available_vnd, today_in_vietnam
from projections.balances.journal import line_text
from projections.balances.trail import Key, TrailQuestion, TrailReader
from projections.events import clock_text
from projections.queries import tree_at
from projections.runner import Projections

PAGE_ALL = 5000  # the rows a whole-trail read (the CLI's) fetches per statement


@dataclass(frozen=True)
class HistoryQuestion:
    """What the trail is asked: line fields, or one line exactly (``line``), a holder's
    subtree today (``subtree``: the holder given in ``lines`` and every holder below it,
    predecessors included), the holders a scoped caller may read (``within``), one movement,
    a cited reference, an actor, and a closed range of recording times."""

    lines: Mapping[str, Any] = field(default_factory=dict)
    line: LineKey | None = None
    subtree: bool = False
    within: Collection[str] | None = None
    movement_id: str | None = None
    decision: str | None = None
    actor: str | None = None
    recorded_from: datetime | None = None
    recorded_to: datetime | None = None


@dataclass(frozen=True)
class HistoryPage:
    entries: list[dict[str, Any]]
    next: Key | None  # where the next page starts; None at the end


def history_page(
    projections: Projections, question: HistoryQuestion, *, after: Key | None, limit: int
) -> HistoryPage:
    """At most ``limit`` entries after ``after`` (None: from the start)."""
    reader = TrailReader(projections.store, projections.reader().generation)
    rows = reader.entries(_trail_question(projections, question), after, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    movements = reader.movements({int(row[0]) for row in rows})
    first_day = min((int(row[9]) for row in rows), default=0)
    after_each = reader.available_after(rows, _opening(projections, rows, first_day), first_day)
    entries = [_entry(row, movements[int(row[0])], after_each) for row in rows]
    last = rows[-1] if rows else None
    following = None
    if more and last is not None:
        following = (int(last[9]), int(last[10]), int(last[0]), str(last[7]), int(last[1]))
    return HistoryPage(entries, following)


def _opening(
    projections: Projections, rows: list[tuple[Any, ...]], first_day: int
) -> dict[str, int]:
    """Each of the rows' lines' available amount at the end of the day before ``first_day``,
    from the balances of the same generation (an index lookup per line, however long the
    line's history), by ``line_text``."""
    if not rows:
        return {}
    reader = projections.reader()
    wanted = {str(row[2]) for row in rows}
    nodes: dict[int, str] = {}
    holders = sorted({str(row[7]) for row in rows})
    for holder, node, program, kind, source, year, project in reader.lines_of(holders, {}):
        text = line_text(LineKey(program, kind, source, int(year), holder, project))
        if text in wanted:
            nodes[int(node)] = text
    before = date.fromordinal(first_day - 1)
    values = reader.values_many(sorted(nodes), before, None)
    return {nodes[node]: available_vnd(*figures[:5]) for node, figures in values.items()}


def history(projections: Projections, question: HistoryQuestion) -> list[dict[str, Any]]:
    """Every matching entry (the CLI's whole answer), read a page at a time."""
    entries: list[dict[str, Any]] = []
    after: Key | None = None
    while True:
        page = history_page(projections, question, after=after, limit=PAGE_ALL)
        entries += page.entries
        if page.next is None:
            return entries
        after = page.next


def _trail_question(projections: Projections, question: HistoryQuestion) -> TrailQuestion:
    lines = dict(question.lines)
    holders: list[Collection[str]] = []
    if question.subtree:
        holders.append(subtree_today(projections, lines.pop("holder")))
    if question.within is not None:
        holders.append(question.within)
    return TrailQuestion(
        lines=lines,
        line=line_text(question.line) if question.line is not None else None,
        holders=holders,
        movement_id=question.movement_id,
        reference=question.decision,
        actor=question.actor,
        recorded_from=_clock(question.recorded_from),
        recorded_to=_clock(question.recorded_to),
    )


def _clock(moment: datetime | None) -> str | None:
    return clock_text(moment) if moment is not None else None


def subtree_today(projections: Projections, holder: str) -> set[str]:
    """``holder`` and every holder below it today, predecessors included (an ended holder
    sits under its successor), from the read model's holders."""
    tree = tree_at(projections, None, today_in_vietnam(), restated=False)
    if holder not in tree.holders:
        raise UnknownHolder(f"no holder has code {holder}", field="holder", code=holder)
    return subtree_of(tree.edges.items(), holder)


def _entry(
    row: tuple[Any, ...], movement: tuple[Any, ...], after_each: dict[tuple[int, int], int]
) -> dict[str, Any]:
    (position, seq, _, program, kind, source, year, holder, project, day, _, action) = row[:12]
    amount_vnd, change_vnd, changes = row[12:]
    movement_id, movement_action, actor, recorded_at, request_text = movement
    request = json.loads(request_text)
    available_after = after_each[(int(position), int(seq))]
    return {
        "position": int(position),
        "movement_id": movement_id,
        "action": action,
        "movement_action": movement_action,
        "effective_date": date.fromordinal(int(day)),
        "recorded_at": datetime.fromisoformat(str(recorded_at)),
        "actor": actor,
        "reference": next((request[n] for n in REFERENCE_FIELDS if request.get(n)), None),
        **{name: request.get(name) for name in REFERENCE_FIELDS},
        "reverses": request.get("reverses"),
        "until": request.get("until"),
        "note": request.get("note"),
        "line": LineKey(program, kind, source, int(year), holder, project).as_dict(),
        "amount_vnd": int(amount_vnd),
        "changes": json.loads(changes),
        "available_before_vnd": available_after - int(change_vnd),
        "available_change_vnd": int(change_vnd),
        "available_after_vnd": available_after,
    }
