"""The budget line (dòng vốn): the aggregate that owns every rule about one sum of money.

Each line keeps, besides its cumulative figures, the net change of its available amount per
effective date. That map is what lets a back-dated movement be checked against every later
date ("nothing is overdrawn, at any date") in time bounded by the number of days a line can
live (``limits.LINE_DAYS_MAX``), never by the number of movements it has had. The state of a
line is therefore bounded whatever its history, and so are its snapshots.

Events are postings: the effect of a movement on this one line. The whole movement (who, why,
under which decision) is the ``Movement`` aggregate's event, saved in the same transaction.
Event topics are explicit and stable (``TOPIC``): never rename them; version an event instead.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date, datetime
from itertools import accumulate
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate

from ledger.domain import limits
from ledger.domain.errors import (
    InsufficientFunds,
    InvalidInput,
    InvariantViolation,
    NotExtended,
    NothingToDo,
    PastDeadline,
)
from ledger.domain.values import LineKey, available_vnd, format_vnd


def _iso(day: date) -> str:
    return day.isoformat()


class BudgetLine(Aggregate):
    TOPIC = "budget_ledger:BudgetLine"
    # Figures added after lines were first stored: a snapshot taken before them has none,
    # and these class defaults stand in for them.
    passed_on_vnd = 0
    received_vnd = 0
    ended_on: str | None = None

    class Opened(Aggregate.Created):
        TOPIC = "budget_ledger:BudgetLine.Opened"
        program: str
        kind: str
        source: str
        year: int
        holder: str
        project: str | None

    class Created(Aggregate.Created):
        """The library's default creation event; never used here, but every event class
        of an aggregate with an explicit topic must have one."""

        TOPIC = "budget_ledger:BudgetLine.Created"

    class Posted(Aggregate.Event):
        """Base of every posting; never stored itself."""

        TOPIC = "budget_ledger:BudgetLine.Posted"
        # The change to each stored figure, per unit of the amount: what ``apply`` does to
        # them, said as data for the read models (projections/events.py) that never apply.
        effect: ClassVar[dict[str, int]] = {}
        movement_id: str
        effective_date: date
        amount_vnd: int

    class Adjusted(Posted):
        """An external decision raised (+) or lowered (−) the line."""

        TOPIC = "budget_ledger:BudgetLine.Adjusted"
        effect = {"assigned_vnd": 1}

        def apply(self, line: BudgetLine) -> None:
            line.assigned_vnd += self.amount_vnd
            line._shift(self.effective_date, self.amount_vnd)

    class Allocated(Posted):
        """This line assigned part of itself to a direct child's line."""

        TOPIC = "budget_ledger:BudgetLine.Allocated"
        effect = {"allocated_on_vnd": 1}
        to_holder: str

        def apply(self, line: BudgetLine) -> None:
            line.allocated_on_vnd += self.amount_vnd
            line._shift(self.effective_date, -self.amount_vnd)

    class AllocationReceived(Posted):
        TOPIC = "budget_ledger:BudgetLine.AllocationReceived"
        effect = {"assigned_vnd": 1}
        from_holder: str

        def apply(self, line: BudgetLine) -> None:
            line.assigned_vnd += self.amount_vnd
            line._shift(self.effective_date, self.amount_vnd)

    class ReallocatedOut(Posted):
        TOPIC = "budget_ledger:BudgetLine.ReallocatedOut"
        effect = {"assigned_vnd": -1}
        to_holder: str

        def apply(self, line: BudgetLine) -> None:
            line.assigned_vnd -= self.amount_vnd
            line._shift(self.effective_date, -self.amount_vnd)

    class ReallocatedIn(Posted):
        TOPIC = "budget_ledger:BudgetLine.ReallocatedIn"
        effect = {"assigned_vnd": 1}
        from_holder: str

        def apply(self, line: BudgetLine) -> None:
            line.assigned_vnd += self.amount_vnd
            line._shift(self.effective_date, self.amount_vnd)

    class Disbursed(Posted):
        TOPIC = "budget_ledger:BudgetLine.Disbursed"
        effect = {"disbursed_vnd": 1}

        def apply(self, line: BudgetLine) -> None:
            line.disbursed_vnd += self.amount_vnd
            line._shift(self.effective_date, -self.amount_vnd)
            line._count_late_payment(self.effective_date, self.amount_vnd)

    class DisbursementReversed(Posted):
        TOPIC = "budget_ledger:BudgetLine.DisbursementReversed"
        effect = {"disbursed_vnd": -1}
        reverses: str
        disbursed_on: date

        def apply(self, line: BudgetLine) -> None:
            line.disbursed_vnd -= self.amount_vnd
            line._shift(self.effective_date, self.amount_vnd)
            line._count_late_payment(self.disbursed_on, -self.amount_vnd)

    class Extended(Posted):
        """``amount_vnd`` may be disbursed after the previous deadline, until ``until``."""

        TOPIC = "budget_ledger:BudgetLine.Extended"
        effect = {}
        until: date

        def apply(self, line: BudgetLine) -> None:
            line.extensions.append([_iso(self.until), self.amount_vnd, 0])

    class Lapsed(Posted):
        TOPIC = "budget_ledger:BudgetLine.Lapsed"
        effect = {"lapsed_vnd": 1}

        def apply(self, line: BudgetLine) -> None:
            line.lapsed_vnd += self.amount_vnd
            line._shift(self.effective_date, -self.amount_vnd)

    class PassedOn(Posted):
        """At its holder's succession (``effective_date`` is the day the holder ended) the
        line passed what it had available to the successor's line of the same key. Negative:
        a movement before that day, recorded after it, took money the succession had passed
        on, which then shrinks by it (``settle`` in ledger/domain/succession.py)."""

        TOPIC = "budget_ledger:BudgetLine.PassedOn"
        effect = {"passed_on_vnd": 1}
        to_holder: str

        def apply(self, line: BudgetLine) -> None:
            line.passed_on_vnd += self.amount_vnd
            line.ended_on = _iso(self.effective_date)
            line._shift(self.effective_date, -self.amount_vnd)

    class SuccessionReceived(Posted):
        """The line's share of what a predecessor's line of the same key passed on to it
        (negative when that shrinks: see ``PassedOn``); counted in what it was assigned."""

        TOPIC = "budget_ledger:BudgetLine.SuccessionReceived"
        effect = {"assigned_vnd": 1, "received_vnd": 1}
        from_holder: str

        def apply(self, line: BudgetLine) -> None:
            line.assigned_vnd += self.amount_vnd
            line.received_vnd += self.amount_vnd
            line._shift(self.effective_date, self.amount_vnd)

    class ExtensionGiven(Posted):
        """``amount_vnd`` of the line's extended money left it with a movement (allocation,
        reallocation, succession): it may no longer be paid late from here, but from the
        receiving line (``ExtensionTaken``). ``until`` and ``extended_vnd`` are the line's
        deadline and extended amount after it, for the read models that never apply."""

        TOPIC = "budget_ledger:BudgetLine.ExtensionGiven"
        effect = {}
        to_holder: str
        until: date
        extended_vnd: int

        def apply(self, line: BudgetLine) -> None:
            for extension in line.extensions:
                extension[1] -= min(self.amount_vnd, extension[1] - extension[2])

    class ExtensionTaken(Posted):
        """``amount_vnd`` of extended money came in with a movement, payable until ``until``
        (the giving line's deadline); ``deadline`` and ``extended_vnd`` are the line's
        deadline and extended amount after it, for the read models that never apply."""

        TOPIC = "budget_ledger:BudgetLine.ExtensionTaken"
        effect = {}
        from_holder: str
        until: date
        deadline: date
        extended_vnd: int

        def apply(self, line: BudgetLine) -> None:
            # Each entry caps what may be paid after the deadline before it: the money may
            # be paid in every period up to ``until``, so it adds to those entries' caps.
            until = _iso(self.until)
            entries = line.extensions
            later = [index for index, extension in enumerate(entries) if extension[0] > until]
            known = any(extension[0] == until for extension in entries)
            for extension in entries:
                if extension[0] <= until:
                    extension[1] += self.amount_vnd
            if known:
                return
            if not later:  # a deadline after all of the line's: a new last period
                entries.append([until, self.amount_vnd, 0])
                return
            # Between two of its deadlines: the period up to ``until`` takes this money with
            # what the next period's cap allowed; the next period now starts at ``until`` and
            # keeps its cap and its count of late payments (which may count some paid before
            # ``until``: it can only allow less, never more).
            following = entries[later[0]]
            entries.insert(later[0], [until, int(following[1]) + self.amount_vnd, following[2]])

    @classmethod
    def postings(cls) -> list[type[BudgetLine.Posted]]:
        """Every kind of posting a line stores (each event class below ``Posted``)."""
        return [
            value
            for value in vars(cls).values()
            if isinstance(value, type) and issubclass(value, cls.Posted) and value is not cls.Posted
        ]

    def __init__(
        self, program: str, kind: str, source: str, year: int, holder: str, project: str | None
    ) -> None:
        self.program = program
        self.kind = kind
        self.source = source
        self.year = year
        self.holder = holder
        self.project = project
        self.assigned_vnd = 0
        self.allocated_on_vnd = 0
        self.disbursed_vnd = 0
        self.lapsed_vnd = 0
        self.passed_on_vnd = 0
        self.received_vnd = 0
        # The day its holder ended (ISO), once the line passed its money to a successor.
        self.ended_on: str | None = None
        # ISO date -> net change of the available amount on that effective date.
        self.available_change_by_day: dict[str, int] = {}
        # One entry per extension, oldest first: [until (ISO), amount_vnd extended,
        # net amount disbursed after the deadline that extension moved on from].
        self.extensions: list[list[Any]] = []

    def __deepcopy__(self, memo: dict[int, Any]) -> BudgetLine:
        """A copy for one command (the repository hands out copies of cached lines). The
        state is flat: copying the day map and the extension rows is all that is needed,
        and far cheaper than a generic deep copy of a line with a long history."""
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy._pending_events = list(self._pending_events)
        copy.available_change_by_day = dict(self.available_change_by_day)
        copy.extensions = [list(extension) for extension in self.extensions]
        return copy

    @classmethod
    def open(cls, key: LineKey, *, recorded_at: datetime) -> BudgetLine:
        return cls._create(
            cls.Opened,
            id=key.line_id,
            program=key.program,
            kind=key.kind,
            source=key.source,
            year=key.year,
            holder=key.holder,
            project=key.project,
            timestamp=recorded_at,
        )

    # -- Derived figures -------------------------------------------------------------------

    @property
    def key(self) -> LineKey:
        return LineKey(self.program, self.kind, self.source, self.year, self.holder, self.project)

    @property
    def available_vnd(self) -> int:
        return available_vnd(
            self.assigned_vnd,
            self.allocated_on_vnd,
            self.disbursed_vnd,
            self.lapsed_vnd,
            self.passed_on_vnd,
        )

    @property
    def deadline(self) -> date:
        if self.extensions:
            return date.fromisoformat(self.extensions[-1][0])
        return self.key.base_deadline

    @property
    def extended_vnd(self) -> int:
        """What the latest extension let be disbursed after the deadline before it."""
        return int(self.extensions[-1][1]) if self.extensions else 0

    def figures(self) -> dict[str, Any]:
        return {
            "assigned_vnd": self.assigned_vnd,
            "allocated_on_vnd": self.allocated_on_vnd,
            "disbursed_vnd": self.disbursed_vnd,
            "lapsed_vnd": self.lapsed_vnd,
            "passed_on_vnd": self.passed_on_vnd,
            "received_vnd": self.received_vnd,
            "available_vnd": self.available_vnd,
            "extended_vnd": self.extended_vnd,
            "deadline": self.deadline,
        }

    def available_from(self, day: date) -> tuple[int, date]:
        """The lowest available amount on ``day`` or any later date, and the first date it
        is reached. The amount only changes on the days in the map, so those are checked.
        A line whose holder has ended is checked up to the day before it ended: from then on
        its money is its successor's, checked there (ledger/domain/succession.py).

        Asked twice for every movement on the line (its check, and the invariant after it),
        over every day the line has a posting on (hundreds, for a commune paying all year):
        the running amounts are summed by ``accumulate`` and their lowest found by ``min``,
        not a step of Python a day."""
        changes = self.available_change_by_day
        days = sorted(changes)
        start = _iso(day)
        after = bisect_right(days, start)  # the first day after ``day``
        before = sum(map(changes.__getitem__, days[:after]))  # at the end of ``day``
        end = len(days)
        if self.ended_on is not None and start < self.ended_on:
            end = bisect_left(days, self.ended_on, after)
        lowest, lowest_day = before, day
        if end > after:
            running = list(accumulate(map(changes.__getitem__, days[after:end]), initial=before))
            least = min(running)
            if least < before:
                lowest, lowest_day = (
                    least,
                    date.fromisoformat(days[after + running.index(least) - 1]),
                )
        if sum(changes.values()) != self.available_vnd:
            raise InvariantViolation(f"line {self.key.label}: daily changes disagree with figures")
        return lowest, lowest_day

    def available_on(self, day: date) -> int:
        """The available amount at the end of ``day``."""
        end = _iso(day)
        return sum(change for key, change in self.available_change_by_day.items() if key <= end)

    def postings_from(self, day: date) -> str | None:
        """The first effective date on or after ``day`` with a posting, if any (ISO)."""
        start = _iso(day)
        later = [key for key in self.available_change_by_day if key >= start]
        return min(later) if later else None

    def extension_room_vnd(self) -> int:
        """What the latest extension still lets be paid after the deadline before it."""
        if not self.extensions:
            return 0
        _, extended_vnd, paid_late_vnd = self.extensions[-1]
        return max(0, int(extended_vnd) - int(paid_late_vnd))

    def lowest_available(self) -> tuple[int, date]:
        """The lowest available amount on any date, and the first date it is reached."""
        return self.available_from(date.min)

    def _deadline_before(self, extension_index: int) -> date:
        if extension_index == 0:
            return self.key.base_deadline
        return date.fromisoformat(self.extensions[extension_index - 1][0])

    # -- Mutations used by the events ------------------------------------------------------

    def _shift(self, day: date, change_vnd: int) -> None:
        key = _iso(day)
        total = self.available_change_by_day.get(key, 0) + change_vnd
        if total:
            self.available_change_by_day[key] = total
        else:
            self.available_change_by_day.pop(key, None)

    def _count_late_payment(self, paid_on: date, amount_vnd: int) -> None:
        for index, extension in enumerate(self.extensions):
            if paid_on > self._deadline_before(index):
                extension[2] += amount_vnd

    # -- Guards ----------------------------------------------------------------------------

    def _require_in_window(self, day: date, field: str = "effective_date") -> None:
        self.key.check_in_window(day, field=field)

    def _require_figure_room(self, figure_vnd: int, amount_vnd: int) -> None:
        if figure_vnd + abs(amount_vnd) > limits.LINE_FIGURE_VND_MAX:
            raise InvalidInput(
                f"line {self.key.label} would pass {limits.LINE_FIGURE_VND_MAX} đồng",
                field="amount_vnd",
            )

    def _require_available(self, amount_vnd: int, day: date) -> None:
        assert amount_vnd > 0
        lowest, lowest_day = self.available_from(day)
        if lowest < amount_vnd:
            when = (
                f"on {lowest_day.isoformat()}"
                if lowest_day == day
                else f"on {lowest_day.isoformat()}, after later movements already recorded"
            )
            raise InsufficientFunds(
                f"line {self.key.label} has {format_vnd(lowest)} available {when}; taking "
                f"{format_vnd(amount_vnd)} effective {day.isoformat()} would make it negative. "
                "Record the money coming in first, or reduce the amount",
                field="amount_vnd",
            )

    # -- Commands (guards first, then exactly one event) -----------------------------------

    def adjust(self, movement_id: str, day: date, amount_vnd: int, at: datetime) -> None:
        self._require_in_window(day)
        self._require_figure_room(self.assigned_vnd, amount_vnd)
        if amount_vnd < 0:
            self._require_available(-amount_vnd, day)
        self._post(self.Adjusted, movement_id, day, amount_vnd, at)

    def allocate(
        self, movement_id: str, day: date, amount_vnd: int, at: datetime, *, to_holder: str
    ) -> None:
        self._require_in_window(day)
        self._require_available(amount_vnd, day)
        self._post(self.Allocated, movement_id, day, amount_vnd, at, to_holder=to_holder)

    def receive_allocation(
        self, movement_id: str, day: date, amount_vnd: int, at: datetime, *, from_holder: str
    ) -> None:
        self._require_in_window(day)
        self._require_figure_room(self.assigned_vnd, amount_vnd)
        self._post(
            self.AllocationReceived, movement_id, day, amount_vnd, at, from_holder=from_holder
        )

    def reallocate_out(
        self, movement_id: str, day: date, amount_vnd: int, at: datetime, *, to_holder: str
    ) -> None:
        self._require_in_window(day)
        self._require_available(amount_vnd, day)
        self._post(self.ReallocatedOut, movement_id, day, amount_vnd, at, to_holder=to_holder)

    def reallocate_in(
        self, movement_id: str, day: date, amount_vnd: int, at: datetime, *, from_holder: str
    ) -> None:
        self._require_in_window(day)
        self._require_figure_room(self.assigned_vnd, amount_vnd)
        self._post(self.ReallocatedIn, movement_id, day, amount_vnd, at, from_holder=from_holder)

    def disburse(self, movement_id: str, day: date, amount_vnd: int, at: datetime) -> None:
        self._require_in_window(day)
        if day > self.deadline:
            raise PastDeadline(
                f"line {self.key.label} could be disbursed until {self.deadline.isoformat()}; "
                f"a payment effective {day.isoformat()} is too late. Record an extension "
                "with its legal basis first",
                field="effective_date",
                remedy="extend",
            )
        for index, (until, extended_vnd, paid_late_vnd) in enumerate(self.extensions):
            after = self._deadline_before(index)
            if day > after and paid_late_vnd + amount_vnd > extended_vnd:
                raise NotExtended(
                    f"after {after.isoformat()} line {self.key.label} may pay only the "
                    f"{format_vnd(extended_vnd)} extended until {until}; "
                    f"{format_vnd(paid_late_vnd)} of it is paid, so "
                    f"{format_vnd(amount_vnd)} is too much",
                    field="amount_vnd",
                )
        self._require_figure_room(self.disbursed_vnd, amount_vnd)
        self._require_available(amount_vnd, day)
        self._post(self.Disbursed, movement_id, day, amount_vnd, at)

    def reverse_disbursement(
        self,
        movement_id: str,
        day: date,
        amount_vnd: int,
        at: datetime,
        *,
        reverses: str,
        disbursed_on: date,
    ) -> None:
        self._require_in_window(day)
        if day < disbursed_on:
            raise InvalidInput(
                f"a reversal cannot take effect ({day.isoformat()}) before the payment it "
                f"takes back ({disbursed_on.isoformat()})",
                field="effective_date",
            )
        self._post(
            self.DisbursementReversed,
            movement_id,
            day,
            amount_vnd,
            at,
            reverses=reverses,
            disbursed_on=disbursed_on,
        )

    def extend(
        self, movement_id: str, day: date, until: date, amount_vnd: int | None, at: datetime
    ) -> int:
        self._require_in_window(day)
        self._require_in_window(until, "until")
        if until <= self.deadline:
            raise InvalidInput(
                f"line {self.key.label} can already be disbursed until "
                f"{self.deadline.isoformat()}; an extension must set a later date",
                field="until",
            )
        if len(self.extensions) >= limits.EXTENSIONS_MAX:
            raise InvalidInput(
                f"line {self.key.label} has been extended {limits.EXTENSIONS_MAX} times, "
                "the most the ledger allows",
                field="until",
            )
        undisbursed_vnd, _ = self.available_from(day)
        if amount_vnd is None:
            amount_vnd = undisbursed_vnd
            if amount_vnd <= 0:
                raise NothingToDo(
                    f"line {self.key.label} has nothing undisbursed to extend", field="amount_vnd"
                )
        elif amount_vnd > undisbursed_vnd:
            raise InsufficientFunds(
                f"line {self.key.label} has {format_vnd(undisbursed_vnd)} undisbursed; "
                f"{format_vnd(amount_vnd)} cannot be extended",
                field="amount_vnd",
            )
        self._post(self.Extended, movement_id, day, amount_vnd, at, until=until)
        return amount_vnd

    def lapsable_vnd(self, day: date) -> int:
        """What lapses on ``day``: the lowest available amount from then on, less what an
        extension still lets be paid after it. Nothing lapses before the ordinary deadline."""
        if day < self.key.base_deadline:
            return 0
        lowest, _ = self.available_from(day)
        reserved_vnd = 0
        for index, (until, extended_vnd, paid_late_vnd) in enumerate(self.extensions):
            if self._deadline_before(index) <= day < date.fromisoformat(until):
                reserved_vnd = max(0, extended_vnd - paid_late_vnd)
        return max(0, lowest - reserved_vnd)

    def lapse(self, movement_id: str, day: date, at: datetime) -> int:
        self._require_in_window(day)
        if day < self.key.base_deadline:
            raise PastDeadline(
                f"line {self.key.label} can be disbursed until {self.deadline.isoformat()}; "
                f"it cannot lapse on {day.isoformat()}, before its deadline",
                field="effective_date",
            )
        amount_vnd = self.lapsable_vnd(day)
        if amount_vnd <= 0:
            raise NothingToDo(
                f"line {self.key.label} has nothing to lapse on {day.isoformat()}",
                field="effective_date",
            )
        self._post(self.Lapsed, movement_id, day, amount_vnd, at)
        return amount_vnd

    # -- Money that keeps its deadline when it moves -----------------------------------------

    def check_can_take_extension(self, until: date) -> None:
        """Extended money payable until ``until`` can come in: its deadline becomes one of the
        line's, within the most deadlines a line keeps."""
        untils = [date.fromisoformat(extension[0]) for extension in self.extensions]
        if until not in untils and len(untils) >= limits.EXTENSIONS_MAX:
            raise InvalidInput(
                f"line {self.key.label} already has {len(untils)} deadlines, the most the "
                f"ledger keeps; money extended until {until.isoformat()} cannot join it",
                field="until",
            )

    def give_extension(
        self, movement_id: str, day: date, amount_vnd: int, at: datetime, *, to_holder: str
    ) -> None:
        assert 0 < amount_vnd <= self.extension_room_vnd()
        after = [list(extension) for extension in self.extensions]
        for extension in after:
            extension[1] -= min(amount_vnd, extension[1] - extension[2])
        self._post(
            self.ExtensionGiven,
            movement_id,
            day,
            amount_vnd,
            at,
            to_holder=to_holder,
            until=self.deadline,
            extended_vnd=int(after[-1][1]),
        )

    def take_extension(
        self,
        movement_id: str,
        day: date,
        amount_vnd: int,
        at: datetime,
        *,
        from_holder: str,
        until: date,
    ) -> None:
        assert amount_vnd > 0
        self.check_can_take_extension(until)
        latest = self.extensions[-1] if self.extensions else None
        if latest is None or latest[0] < _iso(until):
            extended_after = amount_vnd  # its deadline is the line's new last one
        elif latest[0] == _iso(until):
            extended_after = int(latest[1]) + amount_vnd
        else:
            extended_after = int(latest[1])  # payable until an earlier deadline only
        self._post(
            self.ExtensionTaken,
            movement_id,
            day,
            amount_vnd,
            at,
            from_holder=from_holder,
            until=until,
            deadline=max(self.deadline, until),
            extended_vnd=extended_after,
        )

    # -- Succession ------------------------------------------------------------------------

    def pass_on(
        self, movement_id: str, day: date, amount_vnd: int, at: datetime, *, to_holder: str
    ) -> None:
        """Pass ``amount_vnd`` (negative: take back) to the successor's line on ``day``, the
        day this line's holder ended. No window check: a succession ends every line of its
        holder, whatever its year."""
        self._require_figure_room(self.passed_on_vnd, amount_vnd)
        self._post(self.PassedOn, movement_id, day, amount_vnd, at, to_holder=to_holder)

    def receive_succession(
        self, movement_id: str, day: date, amount_vnd: int, at: datetime, *, from_holder: str
    ) -> None:
        self._require_figure_room(self.assigned_vnd, amount_vnd)
        if amount_vnd < 0:
            self._require_available(-amount_vnd, day)
        self._post(
            self.SuccessionReceived, movement_id, day, amount_vnd, at, from_holder=from_holder
        )

    def _post(
        self,
        event_class: type[BudgetLine.Posted],
        movement_id: str,
        day: date,
        amount_vnd: int,
        at: datetime,
        **fields: Any,
    ) -> None:
        assert amount_vnd != 0
        assert abs(amount_vnd) <= limits.AMOUNT_VND_MAX
        self.trigger_event(
            event_class,
            movement_id=movement_id,
            effective_date=day,
            amount_vnd=amount_vnd,
            timestamp=at,
            **fields,
        )
        if self.lowest_available()[0] < 0:
            raise InvariantViolation(f"line {self.key.label} went negative")


def extended_part(giver: BudgetLine, receiver: BudgetLine, amount_vnd: int) -> int:
    """How much of ``amount_vnd`` leaving ``giver`` for ``receiver`` is extended money: as
    much of it as the giver's latest extension still lets be paid late. Money keeps its
    deadline when it moves, so that part goes with its deadline; refused (before anything
    changes) when the receiving line's own deadlines cannot take it."""
    carried = min(amount_vnd, giver.extension_room_vnd())
    if carried > 0:
        receiver.check_can_take_extension(giver.deadline)
    return max(0, carried)


def carry_extension(
    giver: BudgetLine,
    receiver: BudgetLine,
    movement_id: str,
    day: date,
    carried_vnd: int,
    at: datetime,
) -> None:
    """Move ``carried_vnd`` of extended money (``extended_part``) from giver to receiver:
    the giver's extended amount shrinks by it and the receiver's grows, with the giver's
    deadline, so no figure counts it twice."""
    if carried_vnd <= 0:
        return
    until = giver.deadline
    giver.give_extension(movement_id, day, carried_vnd, at, to_holder=receiver.holder)
    receiver.take_extension(
        movement_id, day, carried_vnd, at, from_holder=giver.holder, until=until
    )
