"""Recording a reorganisation from the official list of successors (``successors.py``), in
one transaction that takes the log's write lock before it reads anything, as an import does:

1. the old holders the ledger lacks are registered from the list, with no start date (they
   existed before), under their old parents, so that the old tree exists to end;
2. the new holders are registered from the day ``D`` (new provinces under the centre); a
   commune or province that goes on (its new code is its old one: a merged commune keeps
   the code of the one where its committee sits) is moved under its new province and
   renamed from ``D`` where the list says so;
3. the successions, each a ``Succeed`` movement: every new commune succeeds to its old
   communes (registered by its succession when it is new), every new province to the old
   districts whose communes went to it (the district budget's tasks pass to the province),
   and a new province to each old province whose code ended (Quảng Nam 49 into Đà Nẵng 48).

A succession's movement id is derived from its content (the day, the successor and the
holders that end), so the same list again records nothing: each succession already recorded
is counted as such. A bad row (``successors.py``), or a succession the ledger refuses (a line
with movements on or after ``D``, a holder already ended), is reported with its row and
column, every one of them, and nothing is recorded. After a refusal the other successions are
still planned to find their refusals; one that touches a line the refused one changed may then
be refused, or not, for its sake.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from ledger.application import Batch, BudgetLedger, check_actor
from ledger.domain import limits
from ledger.domain.errors import LedgerError
from ledger.domain.holders import Holder
from ledger.domain.lines import BudgetLine
from ledger.domain.movements import Movement, Succeed
from ledger.domain.values import check_text
from ledger.interchange.importer import BadRow
from ledger.interchange.successors import Source, Successors, Unit, read_successors

CHUNK_SUCCESSIONS = 200  # planned between two reads of their lines, and two inserts
# Called with (successions planned, successions in the list).
Progress = Callable[[int, int], None]


@dataclass
class Outcome:
    rows: int = 0
    successions: int = 0  # in the list
    recorded: int = 0  # recorded now
    already: int = 0  # recorded before, with the same content
    registered: int = 0  # holders registered now (old ones the ledger lacked, new ones)
    changed: int = 0  # holders moved or renamed
    lines_passed: int = 0  # lines that passed money on to a successor's line
    events: int = 0  # events recorded (0 unless the list was recorded)
    bad: list[BadRow] = field(default_factory=list)


@dataclass(frozen=True)
class Step:
    """One succession of the list, with the row and column a refusal of it is reported at."""

    request: Succeed
    row: int
    column: str


class _Refused(Exception):
    """A refusal ends the writing: the transaction rolls back."""


class _DryRun(Exception):
    """A dry run, written and checked whole, ends: the transaction rolls back."""


def reorganise(
    ledger: BudgetLedger,
    source: Source,
    *,
    day: date,
    decision: str,
    actor: str,
    progress: Progress | None = None,
    dry_run: bool = False,
) -> Outcome:
    """Record the reorganisation the list ``source`` describes (a CSV file, or rows as
    mappings of column to cell) as effective from ``day`` under ``decision``: whole, in one
    transaction, or nothing (``Outcome.bad`` then says why, row by row). ``dry_run``: all of
    it is done and checked in the transaction, which is then rolled back: the outcome says
    what would have been recorded."""
    actor = check_actor(actor)
    text = check_text(
        decision, field="decision", length_max=limits.REFERENCE_LENGTH_MAX, required=True
    )
    assert text is not None
    found, bad = read_successors(source)
    outcome = Outcome(rows=found.rows, bad=bad)
    steps = successions(found, day, text, bad)
    outcome.successions = len(steps)
    if bad:
        bad.sort(key=lambda b: b.row)
        return outcome
    recorder: Any = ledger.recorder
    try:
        with recorder.datastore.transaction(commit=True) as cursor:
            # The lock first: every holder and line is then read as it stands, and nobody
            # changes one before this transaction ends.
            recorder.lock_in(cursor)
            many = _record(ledger, found, steps, day, text, actor, outcome, cursor, progress)
            if outcome.bad:
                raise _Refused
            if dry_run:
                raise _DryRun  # rolls back what it wrote, on the writer's connection
    except _DryRun:
        return outcome
    except _Refused:
        outcome.events = 0
        outcome.bad.sort(key=lambda b: b.row)
        return outcome
    # Once committed: a line that took many postings here would replay them all on its
    # next read.
    ledger.snapshot(many)
    return outcome


def successions(found: Successors, day: date, decision: str, bad: list[BadRow]) -> list[Step]:
    """The successions the list orders, communes first, then districts, then provinces."""
    steps: list[Step | None] = []
    for code, new in sorted(found.new_communes.items()):
        if new.olds == [code]:
            continue  # unchanged but for its place (and name): step 2's
        # One that goes on keeps its name and place from step 2; a new one is registered
        # by its succession.
        registers = {} if code in new.olds else {"name": new.name, "level": "commune"}
        if registers:
            registers["parent"] = str(new.parent)
        steps.append(
            _step(new.olds, code, day, decision, (new.row, "new_commune_code"), registers, bad)
        )
    for into, units in sorted(_by_successor(found.old_districts.values()).items()):
        olds = [unit.code for unit in units]
        steps.append(_step(olds, into, day, decision, (units[0].row, "old_district_code"), {}, bad))
    ending = [unit for unit in found.old_provinces.values() if unit.into != unit.code]
    for into, units in sorted(_by_successor(ending).items()):
        olds = [unit.code for unit in units]
        steps.append(_step(olds, into, day, decision, (units[0].row, "old_province_code"), {}, bad))
    return [step for step in steps if step is not None]


def _by_successor(units: Iterable[Unit]) -> dict[str, list[Unit]]:
    grouped: dict[str, list[Unit]] = {}
    for unit in units:
        assert unit.into is not None, "an old unit has a successor"
        grouped.setdefault(unit.into, []).append(unit)
    return grouped


def _step(
    olds: list[str],
    into: str,
    day: date,
    decision: str,
    where: tuple[int, str],
    new: dict[str, str],
    bad: list[BadRow],
) -> Step | None:
    """The succession of ``olds`` into ``into``, its id derived from what it does."""
    ending = sorted(olds)
    content = json.dumps([day.isoformat(), into, ending], ensure_ascii=False)
    digest = hashlib.sha256(content.encode("utf-8")).hexdigest()[:24]
    try:
        request = Succeed(
            movement_id=f"reorganise-{day.isoformat()}-{digest}",
            effective_date=day,
            from_holders=tuple(ending),
            to_holder=into,
            decision=decision,
            **new,
        )
    except LedgerError as error:
        bad.append(BadRow(*where, error.message))
        return None
    return Step(request, *where)


def _record(
    ledger: BudgetLedger,
    found: Successors,
    steps: list[Step],
    day: date,
    decision: str,
    actor: str,
    outcome: Outcome,
    cursor: Any,
    progress: Progress | None,
) -> list[BudgetLine]:
    """Plan and insert the reorganisation; the lines to snapshot once it is committed."""
    recorder: Any = ledger.recorder
    pending = _not_recorded(ledger, steps, outcome)
    if not pending:
        return []
    batch = ledger.batch()
    # Every holder at once (one pass over their events), and every line's key: the
    # successions find their holders and lines here, not with a query each.
    held = ledger.holders()
    batch.aggregates.update({holder.id: holder for holder in held.values()})
    batch.index_lines()
    changed = _Tree(batch, held, day, decision, actor, outcome).prepare(found)
    events = [event for holder in changed for event in holder.collect_events()]
    if outcome.bad:
        return []
    if events:
        recorder.insert_in(cursor, ledger.to_stored_events(events))
    written: Counter[UUID] = Counter(event.originator_id for event in events)
    for start in range(0, len(pending), CHUNK_SUCCESSIONS):
        chunk = pending[start : start + CHUNK_SUCCESSIONS]
        events = _plan_chunk(batch, chunk, actor, outcome)
        if events and not outcome.bad:
            recorder.insert_in(cursor, ledger.to_stored_events(events))
            written.update(event.originator_id for event in events)
        if progress is not None:
            progress(outcome.already + start + len(chunk), len(steps))
    if outcome.bad:
        return []
    outcome.events = sum(written.values())
    lines = [
        batch.aggregates.get(i) for i, n in written.items() if n >= limits.LINE_SNAPSHOT_INTERVAL
    ]
    return [line for line in lines if isinstance(line, BudgetLine)]


def _not_recorded(ledger: BudgetLedger, steps: list[Step], outcome: Outcome) -> list[Step]:
    """The steps not recorded yet; one recorded with other content (another decision) is a
    bad row."""
    pending = []
    for start in range(0, len(steps), 1000):
        chunk = steps[start : start + 1000]
        recorded = ledger.recorded_movements([step.request.aggregate_id for step in chunk])
        for step in chunk:
            prior: Movement | None = recorded.get(step.request.aggregate_id)
            if prior is None:
                pending.append(step)
            elif prior.fingerprint == step.request.fingerprint():
                outcome.already += 1
            else:
                differing = ", ".join(prior.differences(step.request))
                outcome.bad.append(
                    BadRow(
                        step.row,
                        step.column,
                        f"this succession was already recorded on {prior.recorded_at.date()} "
                        f"as {step.request.movement_id} with another {differing}; run the "
                        "reorganisation with what was recorded then",
                    )
                )
    return pending


def _plan_chunk(batch: Batch, chunk: list[Step], actor: str, outcome: Outcome) -> list[Any]:
    keys = batch.line_keys
    assert keys is not None
    wanted = []
    for step in chunk:
        into = step.request.to_holder
        for code in step.request.from_holders:
            for key in keys.get(code, ()):
                wanted.append(key.line_id)
                if key.with_holder(into) in keys.get(into, ()):
                    wanted.append(key.with_holder(into).line_id)
    batch.load(wanted)
    events: list[Any] = []
    for step in chunk:
        try:
            aggregates = batch.plan(step.request, actor=actor, at=batch.ledger.now())
        except LedgerError as error:
            outcome.bad.append(BadRow(step.row, step.column, error.message))
            continue
        outcome.recorded += 1
        for aggregate in aggregates:
            for event in aggregate.collect_events():
                events.append(event)
                if isinstance(event, BudgetLine.PassedOn):
                    outcome.lines_passed += 1
                elif isinstance(event, Holder.Registered):  # a new commune, by its succession
                    outcome.registered += 1
    return events


class _Tree:
    """Steps 1 and 2: the holders the successions need, made ready in the batch."""

    def __init__(
        self,
        batch: Batch,
        held: dict[str, Holder],
        day: date,
        decision: str,
        actor: str,
        outcome: Outcome,
    ) -> None:
        self.batch, self.held, self.day = batch, held, day
        self.decision, self.actor, self.outcome = decision, actor, outcome
        self.changed: dict[str, Holder] = {}

    def prepare(self, found: Successors) -> list[Holder]:
        for table, level, column in (
            (found.old_provinces, "province", "old_province_code"),
            (found.old_districts, "district", "old_district_code"),
            (found.old_communes, "commune", "old_commune_code"),
        ):
            for unit in table.values():
                self._old(unit, level, column)
        for unit in found.new_provinces.values():
            self._new(unit, "province", "new_province_code")
        for unit in found.new_communes.values():
            if unit.code in unit.olds:  # it goes on; a new one is registered by its succession
                self._new(unit, "commune", "new_commune_code")
        return list(self.changed.values())

    def _old(self, unit: Unit, level: str, column: str) -> None:
        holder = self.held.get(unit.code)
        if holder is not None:
            self._check_level(holder, level, unit, column)
            return
        parent = self._parent(unit, column)
        if parent is not None:
            self._register(unit, level, parent, since=None)

    def _new(self, unit: Unit, level: str, column: str) -> None:
        holder = self.held.get(unit.code)
        if holder is None:
            parent = self._parent(unit, column)
            if parent is not None:
                self._register(unit, level, parent, since=self.day)
            return
        if not self._check_level(holder, level, unit, column):
            return
        before = len(holder.pending_events)
        try:
            parent = self.held.get(unit.parent) if unit.parent is not None else None
            if parent is not None and holder.parent_on(self.day) != parent.code:
                holder.move(
                    parent,
                    self.day,
                    decision=self.decision,
                    actor=self.actor,
                    at=self.batch.ledger.now(),
                )
            if holder.name_on(self.day) != unit.name:
                holder.rename(
                    unit.name,
                    self.day,
                    decision=self.decision,
                    actor=self.actor,
                    at=self.batch.ledger.now(),
                )
        except LedgerError as error:
            self._bad(unit, column, error.message)
            return
        if len(holder.pending_events) > before:
            self.changed[unit.code] = holder
            self.outcome.changed += 1

    def _parent(self, unit: Unit, column: str) -> Holder | None:
        """The holder a unit the ledger lacks is registered under: its parent in the list,
        or the centre for a province."""
        if unit.parent is not None:
            # Parents are prepared before their children: one missing was reported.
            return self.held.get(unit.parent)
        centres = [h for h in self.held.values() if h.level == "central" and h.ended_on is None]
        if len(centres) != 1:
            self._bad(
                unit,
                column,
                f"{unit.code} is not registered, and a province is registered under the "
                f"centre, which the ledger has {len(centres)} of; register the centre first "
                "(budget-ledger units add TW 'Trung ương' --level central)",
            )
            return None
        return centres[0]

    def _register(self, unit: Unit, level: str, parent: Holder, *, since: date | None) -> None:
        try:
            holder = Holder.register(
                unit.code,
                unit.name,
                level,
                parent,
                actor=self.actor,
                recorded_at=self.batch.ledger.now(),
                since=since,
            )
        except LedgerError as error:
            self._bad(unit, "", error.message)
            return
        self.held[unit.code] = holder
        self.batch.aggregates[holder.id] = holder
        self.changed[unit.code] = holder
        self.outcome.registered += 1

    def _check_level(self, holder: Holder, level: str, unit: Unit, column: str) -> bool:
        if holder.level == level:
            return True
        self._bad(
            unit,
            column,
            f"{unit.code} is registered as {_a(holder.level)} ({holder.name}), not a {level}; "
            "check the code",
        )
        return False

    def _bad(self, unit: Unit, column: str, reason: str) -> None:
        self.outcome.bad.append(BadRow(unit.row, column or None, reason))


def _a(level: str) -> str:
    return f"an {level}" if level[0] in "aeiou" else f"a {level}"
