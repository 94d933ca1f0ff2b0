"""Movements: the journal of the ledger, and the kinds of movement it knows.

Each kind of movement is one class here (``Disburse``, ``Allocate``, ...): a frozen command
whose fields are what it takes (those without a default are required), whose class variables
say everything else the ledger, its exports and its edges know of the kind (the citation it
carries, its effect on each line it touches, its Vietnamese name, its hledger counter-account,
the role that may record it, its API path and help), and whose ``post`` reads, checks and
changes the aggregates it moves. Every other table of the kinds is derived from ``KINDS``;
adding a kind means a class here, its posting on ``BudgetLine`` (ledger/domain/lines.py), and tests.
docs/decisions.md (§10) says why typed commands rather than one table keyed by a string.

A command is checked whole on construction, so one that exists is valid. ``MovementRequest``
is their common base and the shape the ledger stores and hashes: ``canonical()`` names every
field of every kind, in one fixed order, so fingerprints and stored requests are what they
were before the kinds had classes (tests/unit/test_fingerprints.py pins them).

A ``Movement`` aggregate is the recorded movement: one per movement id, created in the same
transaction as the postings it causes on budget lines. Its id is derived from the movement
id, so a second movement with the same id cannot be inserted (the event store's primary key
refuses it): that is what makes every write idempotent, across processes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any, ClassVar, Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.domain import limits
from ledger.domain.errors import (
    InsufficientFunds,
    InvalidInput,
    NothingToDo,
    NotRelated,
    UnknownMovement,
)
from ledger.domain.holders import Holder
from ledger.domain.lines import BudgetLine, carry_extension, extended_part
from ledger.domain.values import ROLES as ROLES
from ledger.domain.values import (
    LineKey,
    check_amount,
    check_code,
    check_movement_id,
    check_text,
    format_vnd,
    movement_aggregate_id,
)

# The fields every stored request lists, in this order, None where its kind does not take
# them: every field of the seven kinds the ledger began with. Fingerprints hash this shape,
# so it never changes; a field of a later kind is listed after these only in the requests of
# the kinds that take it (``canonical``).
CANONICAL_FIELDS = (
    "action",
    "movement_id",
    "effective_date",
    "line",
    "counterpart",
    "amount_vnd",
    "decision",
    "voucher",
    "reason",
    "basis",
    "reverses",
    "until",
    "note",
)
# What a movement of any kind takes; the rest of its fields are its kind's.
COMMON_FIELDS = ("movement_id", "effective_date", "note")
# A field's name in refusals, where the edges (CLI, API) call it otherwise.
EDGE_NAMES = {"counterpart": "to_holder"}
# What a refusal says when a kind's required field is missing (``{action}``: the kind's).
MISSING = {
    "line": "name the line (program, kind, source, year)",
    "reverses": "name the disbursement to reverse",
    "counterpart": "{action} needs a receiving holder",
}
# Fields other than citations, in the order their absence or presence is refused.
SHAPE_FIELDS = ("line", "reverses", "counterpart", "amount_vnd", "until")
# hledger's counter-account of an adjustment (ledger/interchange/hledger.py names the others).
APPROPRIATION = "appropriation"


@dataclass(frozen=True)
class Posted:
    """What a movement did: the amount it moved (resolved when the request left it to the
    ledger), the lines it touched (the giving side first), and any other aggregate it
    changed (a reversal's disbursement)."""

    amount_vnd: int
    lines: list[BudgetLine]
    others: list[Aggregate] = dataclasses.field(default_factory=list)


class Books(Protocol):
    """What a movement reads, always up to the store's version (``BudgetLedger`` provides it)."""

    def holder(self, code: str) -> Holder: ...

    def parent_on(self, code: str, day: date) -> str | None:
        """``code``'s parent on ``day``, an ended parent replaced by its successor."""
        ...

    def new_holder(
        self, code: str, name: str, level: str, parent: str, *, since: date, at: datetime
    ) -> Holder:
        """A holder registered by this movement (saved with it)."""
        ...

    def line_keys_of(self, holders: list[str]) -> list[LineKey]:
        """Every line that exists of these holders."""
        ...

    def existing_line(self, key: LineKey) -> BudgetLine:
        """The line; refused (InsufficientFunds) if it has never received money."""
        ...

    def line_or_open(self, key: LineKey, at: datetime) -> BudgetLine: ...

    def movement(self, movement_id: str) -> Movement | None: ...


@dataclass(frozen=True, kw_only=True)
class MovementRequest:
    """One movement as asked for; the base of every kind (never made itself).

    ``line`` is the line moved (the giving side of a two-sided movement), ``counterpart``
    the receiving holder; a reversal names no line: its line is the reversed payment's."""

    movement_id: str
    effective_date: date
    note: str | None = None

    # -- The kind, described once (each kind sets these) ----------------------------------
    action: ClassVar[str]
    # The citation it must carry (one of REFERENCE_FIELDS), or None.
    reference: ClassVar[str | None] = None
    # How finance offices name it (the words of the decisions themselves).
    label: ClassVar[str]
    # The change to each figure of the lines it touches, per unit of its amount: index 0
    # is the line (or the giving side), index 1 the receiving side.
    effects: ClassVar[tuple[Mapping[str, int], ...]]
    # Where hledger posts its counter-posting: a figure of the same line ("disbursed",
    # "lapsed"), APPROPRIATION, or None when its lines balance each other or nothing moves.
    counter_figure: ClassVar[str | None] = None
    # Whether it brings money into the ledger (or takes it out): the only kind whose
    # counter-account is outside the ledger; a scoped token may not do it on central funds.
    brings_money_in: ClassVar[bool] = False
    # The lowest of ROLES that may record it.
    role: ClassVar[str]
    # Its HTTP path (its CLI command is ``action``), what it does, and each field's help at
    # the edges (``holder``, ``from_holder``, ``to_holder`` name the line's holder fields).
    endpoint: ClassVar[str]
    summary: ClassVar[str]
    help: ClassVar[Mapping[str, str]]
    # Whether its amount may be negative.
    signed_amount: ClassVar[bool] = False
    # Refusals in its own words, by field: a required field missing, or one it refuses.
    says: ClassVar[Mapping[str, str]] = {}

    def __post_init__(self) -> None:
        # Every field is checked, in this order, whoever made the command (an edge, an
        # import, a test): a command that exists is valid.
        assert type(self) is not MovementRequest, "make a kind (KINDS), not the base"
        check_movement_id(self.movement_id)
        if self.reference is not None:
            text = check_text(
                self._value(self.reference),
                field=self.reference,
                length_max=limits.REFERENCE_LENGTH_MAX,
                required=True,
            )
            object.__setattr__(self, self.reference, text)
        note = check_text(
            self.note,
            field="note",
            length_max=limits.NOTE_LENGTH_MAX,
            required=False,
            multiline=True,
        )
        object.__setattr__(self, "note", note)
        for name in self.plain_fields():
            # A later kind's own text is checked as a citation is.
            if self.value_type(name) is str:
                text = check_text(
                    self._value(name),
                    field=name,
                    length_max=limits.REFERENCE_LENGTH_MAX,
                    required=name in self.required_fields(),
                )
                object.__setattr__(self, name, text)
        names = self.field_names()
        if "reverses" in names:
            if not self._value("reverses"):
                raise InvalidInput(self._missing("reverses"), field="reverses", missing=True)
            check_movement_id(self._value("reverses"))
        line = self.line_key
        if "counterpart" in names:
            if not self._value("counterpart"):
                raise InvalidInput(self._missing("counterpart"), field="to_holder", missing=True)
            counterpart = check_code(self._value("counterpart"), field="to_holder")
            object.__setattr__(self, "counterpart", counterpart)
            if line is not None and counterpart == line.holder:
                raise InvalidInput("the two holders must differ", field="to_holder")
        amount = self._value("amount_vnd")
        if amount is not None:
            check_amount(amount, signed=self.signed_amount)
        if line is not None:
            line.check_in_window(self.effective_date, field="effective_date")

    # -- What the kind takes ---------------------------------------------------------------

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The fields of this kind, common ones first."""
        return _field_names(cls)

    @classmethod
    def required_fields(cls) -> tuple[str, ...]:
        """The fields of this kind without a default (the common ones included)."""
        return _required_fields(cls)

    @classmethod
    def plain_fields(cls) -> tuple[str, ...]:
        """The fields the edges take with no rule of their own: neither common nor a citation,
        nor one of SHAPE_FIELDS (the line and its holders, the amount, ...). A later kind's
        own text, number or date; see ``value_type``."""
        special = {*COMMON_FIELDS, *SHAPE_FIELDS, cls.reference, "counterpart"}
        return tuple(name for name in cls.field_names() if name not in special)

    @classmethod
    def value_type(cls, name: str) -> type:
        """What a field holds: str, int or date (annotations are text here)."""
        annotation = {field.name: str(field.type) for field in dataclasses.fields(cls)}[name]
        return {"str": str, "int": int, "date": date}[annotation.removesuffix(" | None")]

    @classmethod
    def resolves_amount(cls) -> bool:
        """Whether the ledger works out the amount (the request may, or must, leave it out)."""
        return "amount_vnd" not in cls.required_fields()

    @classmethod
    def from_fields(cls, **given: Any) -> MovementRequest:
        """This kind from fields of any kind (an import's row, a test): one given that this
        kind does not take is refused, naming it, and so is a required one missing."""
        names = cls.field_names()
        assert set(given) <= set(ALL_FIELDS), sorted(set(given) - set(ALL_FIELDS))
        check_movement_id(given["movement_id"])
        for name in REFERENCE_FIELDS:
            if given.get(name) is not None and name not in names:
                raise InvalidInput(cls._refused(name), field=name)
            if name == cls.reference:
                check_text(
                    given.get(name),
                    field=name,
                    length_max=limits.REFERENCE_LENGTH_MAX,
                    required=True,
                )
        for name in OTHER_FIELDS:
            field = EDGE_NAMES.get(name, name)
            if name not in names:
                if given.get(name) is not None:
                    raise InvalidInput(cls._refused(name), field=field)
            elif name in cls.required_fields() and given.get(name) is None:
                raise InvalidInput(cls._missing(name), field=field, missing=True)
        return cls(**{name: given[name] for name in names if name in given})

    @classmethod
    def from_edge(cls, values: Mapping[str, Any]) -> MovementRequest:
        """This kind from its fields as the CLI and the API name them: the line's identity
        (program, kind, source, year, project) and ``holder`` (``from_holder`` and
        ``to_holder`` for a kind with a receiving holder) instead of ``line``."""
        names = cls.field_names()
        given = {name: values[name] for name in names if name in values}
        if "line" in names:
            given["line"] = LineKey.of(values, values[cls.holder_field()])
        if "counterpart" in names:
            given["counterpart"] = values["to_holder"]
        return cls(**given)

    @classmethod
    def holder_field(cls) -> str:
        """The edges' name of the line's holder: the giving side when a holder receives."""
        return "from_holder" if "counterpart" in cls.field_names() else "holder"

    @classmethod
    def _refused(cls, name: str) -> str:
        return cls.says.get(name, f"does not apply to {cls.action}")

    @classmethod
    def _missing(cls, name: str) -> str:
        return cls.says.get(name, MISSING.get(name, "is required")).format(action=cls.action)

    def _value(self, name: str) -> Any:
        """A field of the stored shape: None where this kind does not take it."""
        return getattr(self, name, None)

    @property
    def line_key(self) -> LineKey | None:
        """The line the request names (None: a reversal, whose line is the payment's)."""
        line = self._value("line")
        assert line is None or isinstance(line, LineKey)
        return line

    # -- What the ledger does --------------------------------------------------------------

    def post(self, books: Books, at: datetime) -> Posted:
        """Read, check and change the aggregates this movement moves; save nothing."""
        raise NotImplementedError(type(self).__name__)

    # -- The stored shape --------------------------------------------------------------------

    def canonical(self) -> dict[str, Any]:
        """The request's content, in a form that compares and hashes the same everywhere:
        CANONICAL_FIELDS in their order, None where the kind does not take them, then the
        kind's own fields that are not among them."""
        content: dict[str, Any] = {}
        for name in (*CANONICAL_FIELDS, *self._own_fields()):
            value = self._value(name)
            if isinstance(value, LineKey):
                value = value.as_dict()
            elif isinstance(value, date):
                value = value.isoformat()
            content[name] = value
        return content

    def fingerprint(self) -> str:
        return self._fingerprint

    @classmethod
    def _own_fields(cls) -> tuple[str, ...]:
        return tuple(name for name in cls.field_names() if name not in CANONICAL_FIELDS)

    def line_ids(self) -> list[UUID]:
        """The lines this movement names (a reversal names none: its line is the payment's)."""
        return [key.line_id for key in self.named_lines()]

    def named_lines(self) -> list[LineKey]:
        line = self.line_key
        if line is None:
            return []
        counterpart = self._value("counterpart")
        return [line] if counterpart is None else [line, line.with_holder(counterpart)]

    # Both are asked for several times per movement (the replay checks, the Movement's
    # event, an import's lookups) and cost a hash each: worked out once per request.
    @cached_property
    def _fingerprint(self) -> str:
        return fingerprint(self.canonical())

    @cached_property
    def aggregate_id(self) -> UUID:
        return movement_aggregate_id(self.movement_id)


# Asked for on every command made (its checks), so worked out once per kind.
_FIELD_NAMES: dict[type[MovementRequest], tuple[str, ...]] = {}
_REQUIRED_FIELDS: dict[type[MovementRequest], tuple[str, ...]] = {}


def _field_names(cls: type[MovementRequest]) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(field.name for field in dataclasses.fields(cls))
    return names


def _required_fields(cls: type[MovementRequest]) -> tuple[str, ...]:
    names = _REQUIRED_FIELDS.get(cls)
    if names is None:
        names = _REQUIRED_FIELDS[cls] = tuple(
            field.name
            for field in dataclasses.fields(cls)
            if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        )
    return names


# json.dumps with these arguments, made once: json.dumps builds an encoder on every call
# given any argument (an import fingerprints every row). The same encoder, the same bytes.
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False)


def fingerprint(canonical: dict[str, Any]) -> str:
    encoded = _CANONICAL_JSON.encode(canonical)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


# -- The kinds -------------------------------------------------------------------------------

DECISION_HELP = "The decision cited, number and date."


@dataclass(frozen=True, kw_only=True)
class Adjust(MovementRequest):
    line: LineKey
    amount_vnd: int
    decision: str

    action = "adjust"
    reference = "decision"
    label = "điều chỉnh"
    effects = ({"assigned_vnd": 1},)
    counter_figure = APPROPRIATION
    brings_money_in = True
    role = "approver"
    endpoint = "/adjustments"
    summary = "Raise (+) or lower (−) a line by an external decision: money enters or leaves here."
    help = {
        "holder": "Whose line is raised or lowered.",
        "amount_vnd": "Positive raises the line, negative lowers it.",
        "decision": DECISION_HELP,
    }
    signed_amount = True

    def post(self, books: Books, at: datetime) -> Posted:
        line = books.line_or_open(self.line, at)
        line.adjust(self.movement_id, self.effective_date, self.amount_vnd, at)
        return Posted(self.amount_vnd, [line])


@dataclass(frozen=True, kw_only=True)
class Allocate(MovementRequest):
    line: LineKey
    counterpart: str
    amount_vnd: int
    decision: str

    action = "allocate"
    reference = "decision"
    label = "giao vốn"
    effects = ({"allocated_on_vnd": 1}, {"assigned_vnd": 1})
    role = "approver"
    endpoint = "/allocations"
    summary = "Assign part of a parent's line to a direct child's line."
    help = {
        "from_holder": "The parent giving the money.",
        "to_holder": "The direct child receiving it.",
        "amount_vnd": "Positive.",
        "decision": DECISION_HELP,
    }

    def post(self, books: Books, at: datetime) -> Posted:
        giver = books.holder(self.line.holder)
        receiver = books.holder(self.counterpart)
        parent = books.parent_on(receiver.code, self.effective_date)
        if parent != giver.code:
            raise NotRelated(
                f"{receiver.code} is not a direct child of {giver.code} on "
                f"{self.effective_date.isoformat()} (its parent is {parent or 'nobody'}); "
                "allocate to a child, or reallocate",
                field="to_holder",
            )
        source = books.existing_line(self.line)
        target = books.line_or_open(self.line.with_holder(receiver.code), at)
        mid, day, amount = self.movement_id, self.effective_date, self.amount_vnd
        carried = extended_part(source, target, amount)
        source.allocate(mid, day, amount, at, to_holder=receiver.code)
        target.receive_allocation(mid, day, amount, at, from_holder=giver.code)
        carry_extension(source, target, mid, day, carried, at)
        return Posted(amount, [source, target])


@dataclass(frozen=True, kw_only=True)
class Reallocate(MovementRequest):
    line: LineKey
    counterpart: str
    amount_vnd: int
    decision: str

    action = "reallocate"
    reference = "decision"
    label = "điều chuyển vốn"
    effects = ({"assigned_vnd": -1}, {"assigned_vnd": 1})
    role = "approver"
    endpoint = "/reallocations"
    summary = "Move money between two holders' lines; both change together or neither does."
    help = {
        "from_holder": "The holder giving the money up.",
        "to_holder": "The holder receiving it.",
        "amount_vnd": "Positive.",
        "decision": DECISION_HELP,
    }

    def post(self, books: Books, at: datetime) -> Posted:
        giver = books.holder(self.line.holder)
        receiver = books.holder(self.counterpart)
        source = books.existing_line(self.line)
        target = books.line_or_open(self.line.with_holder(receiver.code), at)
        mid, day, amount = self.movement_id, self.effective_date, self.amount_vnd
        carried = extended_part(source, target, amount)
        source.reallocate_out(mid, day, amount, at, to_holder=receiver.code)
        target.reallocate_in(mid, day, amount, at, from_holder=giver.code)
        carry_extension(source, target, mid, day, carried, at)
        return Posted(amount, [source, target])


@dataclass(frozen=True, kw_only=True)
class Disburse(MovementRequest):
    line: LineKey
    amount_vnd: int
    voucher: str

    action = "disburse"
    reference = "voucher"
    label = "giải ngân"
    effects = ({"disbursed_vnd": 1},)
    counter_figure = "disbursed"
    role = "clerk"
    endpoint = "/disbursements"
    summary = "Record a treasury-confirmed payment out of a line."
    help = {
        "holder": "Whose line pays.",
        "amount_vnd": "Positive.",
        "voucher": "The treasury voucher confirming the payment.",
    }

    def post(self, books: Books, at: datetime) -> Posted:
        from ledger.domain.succession import reclaim_extension

        line = books.existing_line(self.line)
        reclaimed = reclaim_extension(
            books, line, self.effective_date, self.amount_vnd, self.movement_id, at
        )
        line.disburse(self.movement_id, self.effective_date, self.amount_vnd, at)
        return Posted(self.amount_vnd, [line, *reclaimed])


@dataclass(frozen=True, kw_only=True)
class Reverse(MovementRequest):
    reverses: str
    reason: str
    amount_vnd: int | None = None

    action = "reverse"
    reference = "reason"
    label = "thu hồi giải ngân"
    effects = ({"disbursed_vnd": -1},)
    counter_figure = "disbursed"
    role = "clerk"
    endpoint = "/reversals"
    summary = "Take back all or part of an earlier disbursement."
    help = {
        "reverses": "The id of the disbursement to take back.",
        "amount_vnd": "Default: all that remains of it.",
        "reason": "Why it is taken back.",
    }
    says = {"line": "a reversal takes its line from the payment"}

    def post(self, books: Books, at: datetime) -> Posted:
        original = books.movement(self.reverses)
        if original is None or original.action != Disburse.action:
            what = "no movement" if original is None else f"a {original.action}, not a disbursement"
            raise UnknownMovement(
                f"{self.reverses} is {what}; only a disbursement can be reversed",
                field="reverses",
            )
        remaining = original.remaining_vnd
        amount = remaining if self.amount_vnd is None else self.amount_vnd
        if remaining <= 0:
            raise NothingToDo(
                f"disbursement {original.movement_id} has already been reversed in full",
                field="reverses",
            )
        if amount > remaining:
            raise InsufficientFunds(
                f"only {format_vnd(remaining)} of disbursement {original.movement_id} remain "
                f"to reverse (of {format_vnd(original.amount_vnd)}); "
                f"{format_vnd(amount)} is too much",
                field="amount_vnd",
            )
        line = books.existing_line(original.line_key)
        # Money taken back after its holder ended comes back to the holder's successor (on
        # through later successions): the old line holds nothing from the end.
        holder = books.holder(line.key.holder)
        while holder.ended_by(self.effective_date) and holder.successor is not None:
            holder = books.holder(holder.successor)
            line = books.line_or_open(line.key.with_holder(holder.code), at)
        line.reverse_disbursement(
            self.movement_id,
            self.effective_date,
            amount,
            at,
            reverses=original.movement_id,
            disbursed_on=original.effective_date,
        )
        original.take_back(self.movement_id, amount, at)
        return Posted(amount, [line], [original])


@dataclass(frozen=True, kw_only=True)
class Extend(MovementRequest):
    line: LineKey
    until: date
    basis: str
    amount_vnd: int | None = None

    action = "extend"
    reference = "basis"
    label = "kéo dài thời gian giải ngân"
    effects = ({},)
    role = "approver"
    endpoint = "/extensions"
    summary = (
        "Let the undisbursed part of a line (or a stated amount) be paid until a later deadline."
    )
    help = {
        "holder": "Whose line is extended.",
        "until": "The new deadline.",
        "amount_vnd": "What may be paid after the current deadline (default: all undisbursed).",
        "basis": "The legal basis, e.g. NQ 111/2024/QH15.",
    }
    says = {"until": "an extension needs its new deadline"}

    def post(self, books: Books, at: datetime) -> Posted:
        line = books.existing_line(self.line)
        amount = line.extend(self.movement_id, self.effective_date, self.until, self.amount_vnd, at)
        return Posted(amount, [line])


@dataclass(frozen=True, kw_only=True)
class Lapse(MovementRequest):
    line: LineKey

    action = "lapse"
    label = "hủy dự toán"
    effects = ({"lapsed_vnd": 1},)
    counter_figure = "lapsed"
    role = "approver"
    endpoint = "/lapses"
    summary = (
        "Return to the budget what a line past its deadline has not paid and was not extended."
    )
    help = {"holder": "Whose line lapses."}
    says = {"amount_vnd": "a lapse takes what is left; give no amount"}

    def post(self, books: Books, at: datetime) -> Posted:
        line = books.existing_line(self.line)
        return Posted(line.lapse(self.movement_id, self.effective_date, at), [line])


# Every kind, by its action: the one list the ledger, the exports and the edges read.
KINDS: dict[str, type[MovementRequest]] = {
    kind.action: kind for kind in (Adjust, Allocate, Reallocate, Disburse, Reverse, Extend, Lapse)
}
ACTIONS = tuple(KINDS)
# The citations; each kind requires one of them (or none) and refuses the others.
REFERENCE_FIELDS = tuple(dict.fromkeys(k.reference for k in KINDS.values() if k.reference))
# Every field of any kind, and those that are neither common nor citations (their absence
# and presence refused in SHAPE_FIELDS' order, a later kind's after them).
ALL_FIELDS = tuple(dict.fromkeys(name for k in KINDS.values() for name in k.field_names()))
OTHER_FIELDS = tuple(
    dict.fromkeys(
        name
        for name in (*SHAPE_FIELDS, *ALL_FIELDS)
        if name in ALL_FIELDS and name not in COMMON_FIELDS and name not in REFERENCE_FIELDS
    )
)


def _check_kinds() -> None:
    """Each kind's description is whole and agrees with its fields."""
    for action, kind in KINDS.items():
        names = kind.field_names()
        assert names[: len(COMMON_FIELDS)] == COMMON_FIELDS, action
        assert kind.reference is None or kind.reference in kind.required_fields(), action
        assert not (set(REFERENCE_FIELDS) - {kind.reference}) & set(names), action
        assert kind.role in ROLES[1:], action
        assert len(kind.effects) == (2 if "counterpart" in names else 1), action
        assert kind.brings_money_in == (kind.counter_figure == APPROPRIATION), action


_check_kinds()


@dataclass(frozen=True, kw_only=True)
class Succeed(MovementRequest):
    """A succession (kế thừa): the holders ``from_holders`` end at the start of
    ``effective_date`` and ``to_holder`` takes every line they hold, each whole to its line of
    the same key (program, kind, source, year, project), with any running extension.
    ``to_holder`` may be one of them (it then goes on), an existing holder, or a new one
    registered here (``name``, ``level``, ``parent``). Recorded like a movement (one id, once),
    but not one of KINDS: it moves no single line, and the edges have their own commands
    for it (``units succeed``, ``POST /successions``). See ledger/domain/succession.py."""

    from_holders: tuple[str, ...]
    to_holder: str
    decision: str
    name: str | None = None
    level: str | None = None
    parent: str | None = None

    action = "succeed"
    reference = "decision"
    label = "kế thừa (sắp xếp đơn vị hành chính)"
    effects = ()
    role = "approver"
    endpoint = "/successions"
    summary = "End holders and pass every line they hold to their successor."
    help = {
        "from_holders": "The holders that end.",
        "to_holder": "The successor: one of them, an existing holder, or a new one.",
        "decision": DECISION_HELP,
    }

    def __post_init__(self) -> None:
        from ledger.domain.values import check_level

        check_movement_id(self.movement_id)
        decision = check_text(
            self.decision,
            field="decision",
            length_max=limits.REFERENCE_LENGTH_MAX,
            required=True,
        )
        object.__setattr__(self, "decision", decision)
        note = check_text(
            self.note,
            field="note",
            length_max=limits.NOTE_LENGTH_MAX,
            required=False,
            multiline=True,
        )
        object.__setattr__(self, "note", note)
        if not self.from_holders:
            raise InvalidInput("name the holders that end", field="from_holders", missing=True)
        if len(self.from_holders) > limits.SUCCESSION_HOLDERS_MAX:
            raise InvalidInput(
                f"at most {limits.SUCCESSION_HOLDERS_MAX} holders end in one succession",
                field="from_holders",
            )
        # In code order, once each: the same succession whatever order its holders are named
        # in (its fingerprint, and an id made from its content, are then the same).
        olds = tuple(sorted({check_code(code, field="from_holders") for code in self.from_holders}))
        object.__setattr__(self, "from_holders", olds)
        into = check_code(self.to_holder, field="to_holder")
        object.__setattr__(self, "to_holder", into)
        if olds == (into,):
            raise InvalidInput(
                f"{into} cannot succeed itself; name the holders that end", field="to_holder"
            )
        if self.name is not None:
            name = check_text(
                self.name, field="name", length_max=limits.NAME_LENGTH_MAX, required=True
            )
            object.__setattr__(self, "name", name)
        if self.level is not None:
            object.__setattr__(self, "level", check_level(self.level))
        if self.parent is not None:
            object.__setattr__(self, "parent", check_code(self.parent, field="parent"))

    def canonical(self) -> dict[str, Any]:
        content = super().canonical()
        content["from_holders"] = list(self.from_holders)
        return content

    def post(self, books: Books, at: datetime) -> Posted:
        from ledger.domain.succession import succeed

        return succeed(self, books, at)


# Every kind a recorded movement may be of: the line movements, and successions.
RECORDED_KINDS: dict[str, type[MovementRequest]] = {**KINDS, Succeed.action: Succeed}


def movement(action: str, **given: Any) -> MovementRequest:
    """A movement of the kind ``action`` names, from fields of any kind (see ``from_fields``)."""
    kind = KINDS.get(action)
    if kind is None:
        raise InvalidInput(f"unknown movement {action!r}", field="action")
    return kind.from_fields(**given)


class Movement(Aggregate):
    """A recorded movement: what was asked, what the ledger did, who and when."""

    TOPIC = "budget_ledger:Movement"

    class Recorded(Aggregate.Created):
        TOPIC = "budget_ledger:Movement.Recorded"
        movement_id: str
        action: str
        request: dict[str, Any]
        fingerprint: str
        actor: str
        # What the ledger did: the amount it moved (resolved for reversals, extensions and
        # lapses), and each line touched with its available amount right after.
        amount_vnd: int
        lines: list[dict[str, Any]]

    class Created(Aggregate.Created):
        """The library's default creation event; never used here, but every event class
        of an aggregate with an explicit topic must have one."""

        TOPIC = "budget_ledger:Movement.Created"

    class Reversed(Aggregate.Event):
        """A later reversal took back part of this disbursement."""

        TOPIC = "budget_ledger:Movement.Reversed"
        reversal_id: str
        amount_vnd: int

        def apply(self, movement: Movement) -> None:
            movement.reversed_vnd += self.amount_vnd

    def __init__(
        self,
        movement_id: str,
        action: str,
        request: dict[str, Any],
        fingerprint: str,
        actor: str,
        amount_vnd: int,
        lines: list[dict[str, Any]],
    ) -> None:
        self.movement_id = movement_id
        self.action = action
        self.request = request
        self.fingerprint = fingerprint
        self.actor = actor
        self.amount_vnd = amount_vnd
        self.lines = lines
        self.reversed_vnd = 0

    @classmethod
    def record(
        cls,
        request: MovementRequest,
        *,
        actor: str,
        amount_vnd: int,
        lines: list[dict[str, Any]],
        recorded_at: datetime,
    ) -> Movement:
        canonical = request.canonical()
        return cls._create(
            cls.Recorded,
            id=request.aggregate_id,
            movement_id=request.movement_id,
            action=request.action,
            request=canonical,
            fingerprint=request.fingerprint(),
            actor=actor,
            amount_vnd=amount_vnd,
            lines=lines,
            timestamp=recorded_at,
        )

    @property
    def recorded_at(self) -> datetime:
        return self.created_on

    @property
    def effective_date(self) -> date:
        return date.fromisoformat(self.request["effective_date"])

    @property
    def line_key(self) -> LineKey:
        """The first line the movement touched (the giving side of a two-sided move)."""
        return LineKey(**self.lines[0]["line"])

    @property
    def remaining_vnd(self) -> int:
        """What of a disbursement has not been reversed."""
        assert self.action == Disburse.action
        return self.amount_vnd - self.reversed_vnd

    def take_back(self, reversal_id: str, amount_vnd: int, at: datetime) -> None:
        assert 0 < amount_vnd <= self.remaining_vnd
        self.trigger_event(
            self.Reversed, reversal_id=reversal_id, amount_vnd=amount_vnd, timestamp=at
        )

    def differences(self, request: MovementRequest) -> list[str]:
        """The fields in which ``request`` differs from the one first recorded under this id."""
        given = request.canonical()
        return sorted(name for name in given if given[name] != self.request.get(name))

    def receipt(self) -> dict[str, Any]:
        """The answer to the command; a replay of the same request gets exactly this."""
        return {
            "movement_id": self.movement_id,
            "action": self.action,
            "effective_date": self.request["effective_date"],
            "recorded_at": self.recorded_at.isoformat(),
            "actor": self.actor,
            "amount_vnd": self.amount_vnd,
            "lines": [dict(entry) for entry in self.lines],
        }
