"""The shapes of every request and response, one marshmallow schema each; the OpenAPI
document is generated from these same classes.

Amounts are JSON integers of whole đồng (``amount_vnd``), dates ISO 8601. The schemas check
types, presence and documented ranges; the ledger's own checks (ledger/domain/values.py) then run on
every value, so a request the schema lets through can still be refused with the field named.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

import marshmallow as ma
from flask import request
from marshmallow import fields, validate

from api.auth import require_unscoped, require_write
from ledger.domain import limits
from ledger.domain.errors import InvalidInput
from ledger.domain.movements import MovementRequest, Succeed
from ledger.domain.values import (
    KINDS,
    LEVELS,
    SOURCES,
    check_characters,
    check_program,
    parse_date,
    parse_moment,
    parse_whole,
)
from projections.progress import LEVELS as REPORT_LEVELS
from projections.progress import NEAR_DAYS, PERIODS, PLAN_STAGES

# A JSON integer longer than this is kept as a LongNumber, never converted (api/extensions.py).
NUMBER_DIGITS_MAX = 100


class LongNumber:
    """A JSON number with more digits than any field takes (int() refuses past 4,300)."""

    def __init__(self, text: str) -> None:
        self.digits = len(text.lstrip("-"))


def _read(read: Any, value: Any, **kwargs: Any) -> Any:
    """A value read by ledger/domain/values.py, its refusal as the schema's."""
    try:
        return read(value, **kwargs)
    except InvalidInput as error:
        raise ma.ValidationError(error.message) from None


class Text(fields.String):
    """Text by ledger/domain/values.py's rules: no control characters, lone surrogates, line
    separators or direction overrides; ``multiline`` allows newlines and tabs (notes)."""

    def __init__(self, *, multiline: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.multiline = multiline

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        return _read(check_characters, text, field=attr or "", multiline=self.multiline)


class ProgramCode(Text):
    """A program's code as ledger/domain/values.py spells it (upper-cased); whether a program
    has it for the line's plan year is the ledger's to say (422 ``program-not-valid``)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        return _read(check_program, text, field=attr or "")


class Whole(fields.Integer):
    """An integer; as text (a query parameter) in ASCII digits only, as int() also reads
    full-width and Arabic-Indic digits."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, LongNumber):
            raise ma.ValidationError(f"has {value.digits} digits; no figure here has so many")
        if isinstance(value, str) and not self.strict:
            value = _read(parse_whole, value, field=attr or "", example="a whole number")
        return super()._deserialize(value, attr, data, **kwargs)


class Day(fields.Date):
    """YYYY-MM-DD in ASCII digits within the ledger's calendar (ledger/domain/values.py): ISO
    only, where the command line and import files also take dd/mm/yyyy (docs/decisions.md
    §21)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        return _read(parse_date, value, field=attr or "", iso_only=True)


class Moment(fields.DateTime):
    """A time by ledger/domain/values.py's rule: ISO 8601 only (the CLI also takes dd/mm/yyyy
    HH:MM), Vietnam time without an offset, a bare date for the end of that day, within the
    ledger's calendar."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        return _read(parse_moment, value, field=attr or "", iso_only=True)


CODE = validate.Length(min=1, max=limits.CODE_LENGTH_MAX)
REFERENCE = validate.Length(min=1, max=limits.REFERENCE_LENGTH_MAX)
MOVEMENT_ID = validate.Regexp(
    rf"^[A-Za-z0-9][A-Za-z0-9._:-]{{0,{limits.MOVEMENT_ID_LENGTH_MAX - 1}}}$",
    error=f"use 1 to {limits.MOVEMENT_ID_LENGTH_MAX} letters, digits, '.', '_', ':' or '-', "
    "starting with a letter or digit",
)
AMOUNT = validate.Range(min=1, max=limits.AMOUNT_VND_MAX)
SIGNED_AMOUNT = validate.Range(min=-limits.AMOUNT_VND_MAX, max=limits.AMOUNT_VND_MAX)


class Schema(ma.Schema):
    """Unknown fields are refused: a misspelt field must not be silently dropped."""

    class Meta:
        unknown = ma.RAISE


def page_limit() -> fields.Integer:
    """How many rows a page holds at most (api/paging.py): every list's, the feed's too."""
    return Whole(
        load_default=limits.PAGE_LIMIT_DEFAULT,
        validate=validate.Range(
            min=1,
            max=limits.PAGE_LIMIT_MAX,
            error="must be from {min} to {max}: a page holds at most {max} rows; follow "
            "next for the rest",
        ),
        metadata={
            "description": f"At most this many rows (default {limits.PAGE_LIMIT_DEFAULT}, "
            f"at most {limits.PAGE_LIMIT_MAX})."
        },
    )


class PageQuerySchema(Schema):
    """What every paginated list takes (api/paging.py)."""

    limit = page_limit()
    cursor = Text(
        validate=validate.Length(min=1, max=limits.CURSOR_LENGTH_MAX),
        metadata={
            "description": "Where the page begins: copied from the previous page's next "
            "(opaque; never made by hand). Without it, the first page."
        },
    )


def _answered_position() -> int | None:
    from api.routing import answered_position

    return answered_position()


def position_field() -> fields.Integer:
    """The log position the answer reflects, as in its Ledger-Position header."""
    return fields.Integer(
        dump_default=_answered_position,
        allow_none=True,
        metadata={
            "description": "The log position the answer reflects: every event up to it at "
            "least (the Ledger-Position header says the same; api/routing.py)."
        },
    )


class PageSchema(ma.Schema):
    """What every paginated list answers beside its rows (api/paging.py)."""

    position = position_field()

    next = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "The next page's address (the same query with a new cursor; also "
            'in the header Link: <...>; rel="next"); null on the last page.'
        },
    )


def code_field(description: str, **kwargs: Any) -> fields.String:
    return Text(validate=CODE, metadata={"description": description}, **kwargs)


def amount(description: str, *, required: bool = True, signed: bool = False) -> fields.Integer:
    return Whole(
        strict=True,
        required=required,
        validate=SIGNED_AMOUNT if signed else AMOUNT,
        metadata={"description": description + " Whole đồng."},
    )


def reference(description: str) -> fields.String:
    return Text(
        required=True,
        validate=REFERENCE,
        metadata={"description": description + " One line: no control characters."},
    )


# -- Movements -----------------------------------------------------------------------------


class MovementSchema(Schema):
    """Every write: its id, its effective date, a note. Loaded, a body is its kind's command
    (``movement_schema`` makes one schema per kind)."""

    movement_kind: ClassVar[type[MovementRequest]]

    movement_id = Text(
        validate=MOVEMENT_ID,
        metadata={
            "description": "The client's id for this movement; sending it again records "
            "nothing twice. May come in the Idempotency-Key header instead."
        },
    )
    effective_date = Day(
        required=True, metadata={"description": "When the money moved (YYYY-MM-DD)."}
    )
    note = Text(
        multiline=True,
        validate=validate.Length(max=limits.NOTE_LENGTH_MAX),
        metadata={"description": "Free text; newlines and tabs, no other control characters."},
    )

    @ma.post_load
    def command(self, data: dict[str, Any], **kwargs: Any) -> MovementRequest:
        # The caller's role is checked between the schema's checks and the ledger's (which
        # run as the command is made): a token that may not record this kind is told so
        # (403) before anything the ledger would say of the request (422).
        require_write(self.movement_kind.action, data.get("source"))
        return self.movement_kind.from_edge({**data, "movement_id": idempotency_key(data)})


def idempotency_key(body: dict[str, Any]) -> str:
    """The movement id: the body's, or the ``Idempotency-Key`` header's (one of them)."""
    header = request.headers.get("Idempotency-Key")
    given = body.get("movement_id")
    if header is not None and given is not None and header.strip() != given.strip():
        raise InvalidInput(
            f"the body says {given!r} but the Idempotency-Key header says {header!r}; send one id",
            field="movement_id",
        )
    chosen = given if given is not None else header
    if chosen is None:
        raise InvalidInput(
            "is required (or send it in the Idempotency-Key header): it makes a retry safe",
            field="movement_id",
        )
    return chosen


class LineFieldsSchema(MovementSchema):
    program = ProgramCode(
        required=True,
        metadata={"description": "A program registered for the plan year (GET /programs)."},
    )
    kind = Text(required=True, validate=validate.OneOf(sorted(KINDS)))
    source = Text(required=True, validate=validate.OneOf(sorted(SOURCES)))
    year = Whole(
        strict=True,
        required=True,
        validate=validate.Range(min=limits.YEAR_MIN, max=limits.YEAR_MAX),
        metadata={"description": "Plan year."},
    )
    project = code_field("Component-project code, e.g. DA4.TDA1.", allow_none=True)


def plain_field(kind: type[MovementRequest], name: str) -> fields.Field[Any]:
    """A field of a kind with no rule of its own: one line of text, a whole number or a date."""
    options: dict[str, Any] = {
        "required": name in kind.required_fields(),
        "metadata": {"description": kind.help[name]},
    }
    value_type = kind.value_type(name)
    if value_type is int:
        return Whole(strict=True, **options)
    if value_type is date:
        return Day(**options)
    return Text(validate=REFERENCE, **options)


def movement_schema(kind: type[MovementRequest]) -> type[MovementSchema]:
    """The body of a movement of this kind: its fields, as ``kind`` describes them."""
    names = kind.field_names()
    attributes: dict[str, Any] = {"movement_kind": kind}
    if "line" in names:
        holder = kind.holder_field()
        attributes[holder] = code_field(kind.help[holder], required=True)
    if "counterpart" in names:
        attributes["to_holder"] = code_field(kind.help["to_holder"], required=True)
    if "reverses" in names:
        attributes["reverses"] = Text(
            required=True, validate=MOVEMENT_ID, metadata={"description": kind.help["reverses"]}
        )
    if "until" in names:
        attributes["until"] = Day(required=True, metadata={"description": kind.help["until"]})
    if "amount_vnd" in names:
        attributes["amount_vnd"] = amount(
            kind.help["amount_vnd"],
            required="amount_vnd" in kind.required_fields(),
            signed=kind.signed_amount,
        )
    if kind.reference is not None:
        attributes[kind.reference] = reference(kind.help[kind.reference])
    for name in kind.plain_fields():
        attributes[name] = plain_field(kind, name)
    base = LineFieldsSchema if "line" in names else MovementSchema
    # Named by its path: /disbursements -> DisbursementSchema.
    name = kind.endpoint.strip("/").removesuffix("s").title() + "Schema"
    return type(name, (base,), attributes)


class SuccessionSchema(MovementSchema):
    """``POST /successions``: the holders ``from_holders`` end at the start of
    ``effective_date`` and ``to_holder`` takes every line they hold."""

    movement_kind = Succeed

    from_holders = fields.List(
        Text(validate=CODE),
        required=True,
        validate=validate.Length(min=1, max=limits.SUCCESSION_HOLDERS_MAX),
        metadata={"description": Succeed.help["from_holders"]},
    )
    to_holder = code_field(Succeed.help["to_holder"], required=True)
    decision = reference(Succeed.help["decision"])
    name = Text(
        validate=validate.Length(min=1, max=limits.NAME_LENGTH_MAX),
        metadata={"description": "A new successor's name (with level and parent)."},
    )
    level = Text(validate=validate.OneOf(LEVELS), metadata={"description": "A new successor's."})
    parent = code_field("A new successor's parent.")

    @ma.post_load
    def command(self, data: dict[str, Any], **kwargs: Any) -> MovementRequest:
        # A succession rearranges the tree beyond any one subtree: a token without a scope
        # only (docs/decisions.md §15), told (403) before anything the ledger would say.
        require_write(Succeed.action)
        require_unscoped("a succession")
        return Succeed.from_edge({**data, "movement_id": idempotency_key(data)})


class LineSchema(ma.Schema):
    program = fields.String(required=True)
    kind = fields.String(required=True)
    source = fields.String(required=True)
    year = fields.Integer(required=True)
    holder = fields.String(required=True)
    project = fields.String(required=True, allow_none=True)


class ReceiptLineSchema(ma.Schema):
    line = fields.Nested(LineSchema, required=True)
    available_vnd = fields.Integer(
        required=True,
        allow_none=True,
        metadata={
            "description": "The line's available amount right after, as recorded; null in "
            "GET /movements/{id} for a line outside the token's scope."
        },
    )


class ReceiptSchema(ma.Schema):
    movement_id = fields.String(required=True)
    action = fields.String(required=True)
    effective_date = fields.String(required=True, metadata={"format": "date"})
    recorded_at = fields.String(required=True, metadata={"format": "date-time"})
    actor = fields.String(required=True, metadata={"description": "The token's name."})
    amount_vnd = fields.Integer(required=True)
    lines = fields.List(fields.Nested(ReceiptLineSchema), required=True)


class PreviewDateSchema(ma.Schema):
    date = fields.Date(required=True)
    before_vnd = fields.Integer(required=True, metadata={"description": "Available before."})
    after_vnd = fields.Integer(required=True, metadata={"description": "Available after."})


class PreviewLineSchema(ma.Schema):
    """A line the movement touches: its available amount before and after at the end of the
    effective date and of every later date with a posting on it."""

    line = fields.Nested(LineSchema, required=True)
    dates = fields.List(fields.Nested(PreviewDateSchema), required=True)


class DryRunReceiptSchema(ReceiptSchema):
    """A dry run's answer (``?dry_run=true``): the receipt the write would give."""

    dry_run = fields.Boolean(required=True)
    preview = fields.List(fields.Nested(PreviewLineSchema), required=True)


# -- Holders -------------------------------------------------------------------------------


class HolderRequestSchema(Schema):
    code = code_field("Never reused.", required=True)
    name = Text(required=True, validate=validate.Length(min=1, max=limits.NAME_LENGTH_MAX))
    level = Text(required=True, validate=validate.OneOf(LEVELS))
    parent = code_field("The holder above it (none for the centre or a province).", allow_none=True)
    since = Day(
        allow_none=True,
        metadata={"description": "The day it exists from (default: it always existed)."},
    )


class HolderSchema(ma.Schema):
    """A holder as it stood on a day (``as_of``, default today): its name and the holder
    above it then, through successions."""

    code = fields.String(required=True)
    name = fields.String(required=True)
    level = fields.String(required=True)
    parent = fields.String(required=True, allow_none=True)
    actor = fields.String(required=True)
    registered_at = fields.DateTime(required=True)
    since = fields.Date(
        allow_none=True,
        metadata={"description": "The day it exists from (null: it always existed)."},
    )
    ended_on = fields.Date(
        allow_none=True, metadata={"description": "The first day it no longer existed."}
    )
    successor = fields.String(
        allow_none=True, metadata={"description": "Who took its lines when it ended."}
    )


class HoldersQuerySchema(PageQuerySchema):
    as_of = Day(metadata={"description": "The tree as it stood on this day (default: today)."})
    all = fields.Boolean(
        load_default=False,
        metadata={"description": "Also the holders ended by then, with their successor."},
    )


class HoldersSchema(PageSchema):
    holders = fields.List(fields.Nested(HolderSchema), required=True)


class HolderChangeSchema(ma.Schema):
    change = fields.String(required=True, metadata={"description": "moved, renamed or ended."})
    effective_date = fields.Date(required=True)
    parent = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    successor = fields.String(allow_none=True)
    decision = fields.String(required=True)
    movement_id = fields.String(allow_none=True, metadata={"description": "An end's succession."})
    actor = fields.String(allow_none=True)
    recorded_at = fields.DateTime(required=True)


class PredecessorSchema(ma.Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    ended_on = fields.Date(required=True)
    decision = fields.String(required=True)
    movement_id = fields.String(required=True)


class HolderLifeSchema(HolderSchema):
    """A holder and its life: registration, moves, renames, end; and who ended into it."""

    changes = fields.List(fields.Nested(HolderChangeSchema), required=True)
    predecessors = fields.List(fields.Nested(PredecessorSchema), required=True)


class HolderMoveSchema(Schema):
    parent = code_field("The holder it sits under from effective_date.", required=True)
    effective_date = Day(required=True)
    decision = reference("The decision cited, number and date.")


class HolderRenameSchema(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=limits.NAME_LENGTH_MAX))
    effective_date = Day(required=True)
    decision = reference("The decision cited, number and date.")


class DryRunHolderSchema(HolderSchema):
    """A dry run's answer (``?dry_run=true``): the holder that would be registered."""

    dry_run = fields.Boolean(required=True)


class DryRunHolderLifeSchema(HolderLifeSchema):
    """A dry run's answer (``?dry_run=true``): the life the holder would have."""

    dry_run = fields.Boolean(required=True)


# -- Programs ------------------------------------------------------------------------------


class ProgramRequestSchema(Schema):
    code = ProgramCode(
        required=True,
        metadata={"description": "Letters and digits, e.g. MTQG2635. Never reused."},
    )
    name = Text(required=True, validate=validate.Length(min=1, max=limits.NAME_LENGTH_MAX))
    from_year = Whole(
        strict=True,
        required=True,
        validate=validate.Range(min=limits.YEAR_MIN, max=limits.YEAR_MAX),
        metadata={"description": "The first plan year its lines may have."},
    )
    to_year = Whole(
        strict=True,
        allow_none=True,
        validate=validate.Range(min=limits.YEAR_MIN, max=limits.YEAR_MAX),
        metadata={"description": "The last plan year its lines may have; none: open-ended."},
    )
    decision = reference("The decision approving it, e.g. NQ 257/2025/QH15.")


class ProgramSchema(ma.Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    from_year = fields.Integer(required=True)
    to_year = fields.Integer(required=True, allow_none=True)
    decision = fields.String(required=True)
    actor = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Null for a built-in program a ledger has not recorded."},
    )
    registered_at = fields.DateTime(required=True, allow_none=True)


class ProgramsSchema(PageSchema):
    programs = fields.List(fields.Nested(ProgramSchema), required=True)


# -- Queries -------------------------------------------------------------------------------


class TimeQuestionSchema(Schema):
    as_of = Day(
        metadata={
            "description": "Count movements effective on or before it (default: today in Vietnam)."
        }
    )
    known_at = Moment(
        metadata={
            "description": "Count only what was recorded at or before it (default: now); "
            "without an offset, Vietnam time; a bare date means the end of that day."
        }
    )


class LineFilterSchema(Schema):
    """Any of a line's identity fields, to choose lines."""

    program = ProgramCode(metadata={"description": "A program's code (GET /programs)."})
    kind = Text(validate=validate.OneOf(sorted(KINDS)))
    source = Text(validate=validate.OneOf(sorted(SOURCES)))
    year = Whole(validate=validate.Range(min=limits.YEAR_MIN, max=limits.YEAR_MAX))
    holder = code_field("Holder code.")
    project = code_field("Component-project code.")


class RestatedSchema(Schema):
    restated = fields.Boolean(
        load_default=False,
        metadata={
            "description": "Read any date through today's holder tree (a holder's "
            "predecessors counted in it even before they ended), to compare years under the "
            "new map; without it, the tree as it stood on as_of."
        },
    )


class BalanceQuerySchema(LineFilterSchema, TimeQuestionSchema, RestatedSchema, PageQuerySchema):
    subtree = fields.Boolean(
        load_default=False,
        metadata={
            "description": "Roll holder's whole subtree up (predecessors included); moves "
            "inside it cancel."
        },
    )


class BalanceSchema(ma.Schema):
    """The same fields as ``budget-ledger balance --format json``."""

    program = fields.String(required=True)
    kind = fields.String(required=True)
    source = fields.String(required=True)
    year = fields.Integer(required=True)
    holder = fields.String(required=True)
    project = fields.String(required=True, allow_none=True)
    assigned_vnd = fields.Integer(required=True)
    allocated_on_vnd = fields.Integer(required=True)
    disbursed_vnd = fields.Integer(required=True)
    lapsed_vnd = fields.Integer(required=True)
    passed_on_vnd = fields.Integer(
        required=True, metadata={"description": "Passed to its holder's successor."}
    )
    received_vnd = fields.Integer(
        required=True,
        metadata={"description": "Received by succession (counted in assigned_vnd)."},
    )
    available_vnd = fields.Integer(required=True)
    extended_vnd = fields.Integer(required=True, allow_none=True)
    deadline = fields.Date(required=True, allow_none=True)


class BalancesSchema(PageSchema):
    as_of = fields.Date(required=True)
    known_at = fields.DateTime(required=True, allow_none=True)
    balances = fields.List(fields.Nested(BalanceSchema), required=True)


class ProgressQuerySchema(TimeQuestionSchema, RestatedSchema):
    by = Text(
        load_default="holder",
        metadata={
            "description": "Rows per level, several separated by commas and grouped in that "
            f"order with subtotals: {', '.join(REPORT_LEVELS)} (e.g. program,holder)."
        },
    )
    holder = code_field("Whose subtree (default: the token's scope, or the root).")
    plan = Text(
        load_default="assigned",
        validate=validate.OneOf(PLAN_STAGES),
        metadata={"description": "The plan a rate divides by: assigned, or allocated in detail."},
    )
    period = Text(
        validate=validate.OneOf(PERIODS),
        metadata={
            "description": "The period's movement (month, fortnight or week ending on as_of); "
            "with from and to (month only): the report at each month's end."
        },
    )
    start = Day(data_key="from", metadata={"description": "First month of a series."})
    end = Day(data_key="to", metadata={"description": "Last date of a series."})
    target = fields.Float(
        validate=validate.Range(min=0, max=100, min_inclusive=False),
        metadata={"description": "A year-end target rate: rows that cannot reach it are flagged."},
    )
    reference = fields.List(
        Text(validate=validate.Length(min=3, max=100)),
        load_default=list,
        metadata={"description": 'Outside rates beside the report\'s, e.g. "cả nước=32".'},
    )
    near = Whole(
        load_default=NEAR_DAYS,
        validate=validate.Range(min=0, max=3660),
        metadata={"description": "Days within which a deadline is near."},
    )
    lang = Text(load_default="vi", validate=validate.OneOf(["vi", "en"]))
    year = Whole(
        validate=validate.Range(min=limits.YEAR_MIN, max=limits.YEAR_MAX),
        metadata={"description": "The plan year reported on (default: as_of's year)."},
    )


def _progress_row_fields() -> dict[str, fields.Field[Any]]:
    """The same fields as ``budget-ledger report progress --format json``: one row per
    group and member of the grouping (``path``, ``row_kind``), then ``TOTAL``; with a
    series, ``as_of`` too."""
    found: dict[str, fields.Field[Any]] = {
        "as_of": fields.Date(),
        "row_kind": fields.String(required=True),
        "path": fields.List(fields.String(), required=True),
        "stt": fields.String(required=True),
        "code": fields.String(required=True, allow_none=True),
        "name": fields.String(required=True),
    }
    for level in REPORT_LEVELS:
        found[level] = fields.String()
    for column in ("_central", "_dtpt", "_sn", "_current", "_extended", ""):
        found[f"plan{column}_vnd"] = fields.Integer(required=True)
        found[f"disbursed{column}_vnd"] = fields.Integer(required=True)
        found[f"rate{column}_pct"] = fields.Float(required=True, allow_none=True)
    for name in (
        "unspent_vnd",
        "proposed_extension_vnd",
        "proposed_lapse_vnd",
        "plan_assigned_vnd",
        "plan_allocated_vnd",
        "allocated_all_count",
        "units_count",
        "plan_current_central_vnd",
        "counterpart_vnd",
    ):
        found[name] = fields.Integer(required=True)
    for name in ("allocated_pct", "counterpart_pct"):
        found[name] = fields.Float(required=True, allow_none=True)
    found["counterpart_required_vnd"] = fields.Integer(required=True, allow_none=True)
    found["counterpart_short"] = fields.Boolean(required=True)
    for name in ("disbursed_period_vnd", "disbursed_previous_period_vnd"):
        found[name] = fields.Integer()
    for name in ("rate_previous_pct", "rate_change_pct", "projected_rate_pct"):
        found[name] = fields.Float(allow_none=True)
    found["off_target"] = fields.Boolean()
    found["average_pct"] = fields.Float(required=True, allow_none=True)
    found["below_average"] = fields.Boolean(required=True, allow_none=True)
    return found


ProgressRowSchema = ma.Schema.from_dict(_progress_row_fields(), name="ProgressRowSchema")


class ProgressPeriodSchema(ma.Schema):
    kind = fields.String(required=True)
    start = fields.Date(required=True)
    previous_start = fields.Date(required=True)


class ProgressReferenceSchema(ma.Schema):
    label = fields.String(required=True)
    rate_pct = fields.Float(required=True)


class ProgressColumnSchema(ma.Schema):
    key = fields.String(required=True)
    header = fields.String(required=True)


class ProgressSchema(ma.Schema):
    position = position_field()
    as_of = fields.Date(allow_none=True)
    known_at = fields.DateTime(required=True, allow_none=True)
    by = fields.String(required=True)
    holder = fields.String(required=True, allow_none=True)
    plan = fields.String()
    period = fields.Nested(ProgressPeriodSchema, allow_none=True)
    target_pct = fields.Float(allow_none=True)
    average_pct = fields.Float(allow_none=True)
    references = fields.List(fields.Nested(ProgressReferenceSchema))
    title = fields.String()
    columns = fields.List(fields.Nested(ProgressColumnSchema))
    notes = fields.List(fields.String())
    rows = fields.List(fields.Nested(ProgressRowSchema), required=True)


class HistoryQuerySchema(LineFilterSchema, PageQuerySchema):
    decision = Text(
        validate=REFERENCE, metadata={"description": "Only movements citing this reference."}
    )
    subtree = fields.Boolean(
        load_default=False,
        metadata={"description": "With holder: the lines of the holder and everyone below."},
    )
    actor = Text(
        validate=validate.Length(min=1, max=limits.ACTOR_LENGTH_MAX),
        metadata={"description": "Only movements recorded by this actor (a token's name)."},
    )
    recorded_from = Moment(
        metadata={
            "description": "Only movements recorded at or after it (Vietnam time if no offset)."
        }
    )
    recorded_to = Moment(metadata={"description": "Only movements recorded at or before it."})


class HistoryEntrySchema(ma.Schema):
    """One posting of a movement on a line it touched, as ``budget-ledger history --format
    json`` (a succession, or a movement recorded after a holder it touched ended, may have
    two on one line, on two dates)."""

    position = fields.Integer(required=True)
    movement_id = fields.String(required=True)
    action = fields.String(
        required=True,
        metadata={
            "description": "What the posting is: its movement's action, or succeed for what "
            "passed on at a succession (a late movement's row on the day a holder ended)."
        },
    )
    movement_action = fields.String(required=True, metadata={"description": "Its movement's."})
    effective_date = fields.Date(required=True)
    recorded_at = fields.DateTime(required=True)
    actor = fields.String(required=True)
    reference = fields.String(required=True, allow_none=True)
    decision = fields.String(required=True, allow_none=True)
    voucher = fields.String(required=True, allow_none=True)
    reason = fields.String(required=True, allow_none=True)
    basis = fields.String(required=True, allow_none=True)
    reverses = fields.String(required=True, allow_none=True)
    until = fields.String(required=True, allow_none=True, metadata={"format": "date"})
    note = fields.String(required=True, allow_none=True)
    line = fields.Nested(LineSchema, required=True)
    amount_vnd = fields.Integer(required=True)
    changes = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={
            "description": "What the row did to each figure of its line, in đồng: "
            "passed_on_vnd on a line whose holder ended, assigned_vnd and received_vnd on "
            "its successor's."
        },
    )
    available_before_vnd = fields.Integer(required=True)
    available_change_vnd = fields.Integer(required=True)
    available_after_vnd = fields.Integer(required=True)


class HistorySchema(PageSchema):
    entries = fields.List(fields.Nested(HistoryEntrySchema), required=True)


class EventsQuerySchema(Schema):
    after = Whole(
        load_default=0,
        validate=validate.Range(min=0, max=limits.LOG_POSITION_MAX),
        metadata={"description": "Answer events after this log position."},
    )
    limit = page_limit()


class EventSchema(ma.Schema):
    position = fields.Integer(required=True)
    topic = fields.String(required=True)
    aggregate_id = fields.String(required=True)
    aggregate_version = fields.Integer(required=True)
    recorded_at = fields.String(required=True, metadata={"format": "date-time"})
    data = fields.Dict(required=True)


class EventsSchema(PageSchema):
    events = fields.List(fields.Nested(EventSchema), required=True)
    next_after = fields.Integer(
        required=True,
        metadata={
            "description": "Pass it as 'after' for the next page (next does), and keep "
            "asking from it to follow the ledger once next is null."
        },
    )
    head = fields.Integer(required=True, metadata={"description": "The log's head position."})


class LiveSchema(ma.Schema):
    status = fields.String(required=True, metadata={"description": "Always ok."})


class ReplicaSchema(ma.Schema):
    replica = fields.Integer(
        required=True, metadata={"description": "Its number, in the order given."}
    )
    status = fields.String(
        required=True,
        metadata={
            "description": "ok (serves reads), lagging (behind by more than --max-lag), down."
        },
    )
    lag_s = fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": "Seconds behind the primary at most; null when down."},
    )
    reason = fields.String(metadata={"description": "Why it is down, as found."})


class HealthSchema(ma.Schema):
    status = fields.String(required=True)
    head = fields.Integer(required=True, metadata={"description": "The log's head position."})
    stores = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": "Each store (event_log, read_models) and whether it answers."},
    )
    replicas = fields.List(
        fields.Nested(ReplicaSchema),
        metadata={
            "description": "With --read-database: each replica as this server finds it. "
            "A replica down or lagging does not make the server unready: the primary "
            "serves its reads."
        },
    )


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details."""

    type = fields.String(required=True, metadata={"description": "/problems/<rule>"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    rule = fields.String(metadata={"description": "The ledger rule or API check that refused."})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Per field, what is wrong (422)."},
    )
    links = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={
            "description": "Resources that help with this refusal, by name: for "
            'unknown-holder, {"holders": "/holders"}.'
        },
    )


class ProblemTypeSchema(ma.Schema):
    type = fields.String(required=True)
    rule = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    description = fields.String(required=True)


class DryRunProgramSchema(ProgramSchema):
    """The program already so registered; or a dry run's answer (``?dry_run=true``): the
    program as it would be registered, with ``dry_run`` true."""

    dry_run = fields.Boolean(metadata={"description": "Only in a dry run's answer: true."})
