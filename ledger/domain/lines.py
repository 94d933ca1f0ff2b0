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

from datetime import date, datetime
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
            self.assigned_vnd, self.allocated_on_vnd, self.disbursed_vnd, self.lapsed_vnd
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
            "available_vnd": self.available_vnd,
            "extended_vnd": self.extended_vnd,
            "deadline": self.deadline,
        }

    def available_from(self, day: date) -> tuple[int, date]:
        """The lowest available amount on ``day`` or any later date, and the first date it
        is reached. The amount only changes on the days in the map, so those are checked."""
        days = sorted(self.available_change_by_day)
        start = _iso(day)
        running = 0
        lowest: int | None = None
        lowest_day = day
        for key in days:
            if key > start and lowest is None:
                lowest = running
            running += self.available_change_by_day[key]
            if key >= start and (lowest is None or running < lowest):
                lowest, lowest_day = running, date.fromisoformat(key)
        if lowest is None:
            lowest = running
        if running != self.available_vnd:
            raise InvariantViolation(f"line {self.key.label}: daily changes disagree with figures")
        return lowest, lowest_day

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
