"""Value types and the checks every input goes through before it reaches an aggregate."""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

from ledger.domain import limits
from ledger.domain.errors import InvalidInput

# The three national target programs of 2021-2025, by code: the program registry's built-in
# programs (ledger/domain/programs.py), which every ledger holds; others are registered.
PROGRAMS = {
    "NTM": "xây dựng nông thôn mới (new rural areas)",
    "GNBV": "giảm nghèo bền vững (sustainable poverty reduction)",
    "DTTS": "phát triển KT-XH vùng đồng bào DTTS và miền núi (ethnic-minority and mountain areas)",
}
KINDS = {
    "DTPT": "vốn đầu tư phát triển (development investment)",
    "SN": "vốn sự nghiệp (recurrent)",
}
SOURCES = {
    "NSTW": "ngân sách trung ương (central budget)",
    "NSDP": "ngân sách địa phương (local counterpart funds)",
    "KHAC": "nguồn khác (other mobilised funds)",
}
# Levels from the top of the tree down; an agency (investor, department) may sit under any
# holder, every other level sits under a holder of a higher level.
LEVELS = ("central", "province", "district", "commune", "agency")
# The API's roles, lowest first; a movement's kind names the lowest that may record it.
ROLES = ("viewer", "clerk", "approver", "admin")

# Vietnam keeps one offset all year; "today" for a finance office is the date in Hà Nội.
VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")

# Stable namespace for the ids of aggregates derived from business keys (holder code, line
# identity, movement id). Changing it would orphan every stored aggregate: never change it.
NAMESPACE = uuid.UUID("6f0c9a52-3d1e-4b8e-9a57-1c2b7d4e8f10")

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# A program code is a word of capitals and digits (NTM, MTQG2635): it is the first part of
# every line's label and of its hledger account, which use '/' and ':' between parts.
_PROGRAM_CODE = re.compile(r"[A-Z][A-Z0-9]*")
_MOVEMENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
# Digits are ASCII 0-9 only, written out: ``\d``, ``str.isdigit`` and ``int()`` also take
# full-width (１２３) and Arabic-Indic (١٢٣) digits, which a clerk's keyboard never meant.
# An amount is plain digits or grouped by threes with the Vietnamese dot, one grouping
# character only: in Vietnamese the comma is the decimal mark, so "1.000,000" or "1,000" is
# a mistake to refuse, never an amount to guess.
_WHOLE = re.compile(r"[0-9]+")
_AMOUNT = re.compile(r"(-?)([0-9]+|[0-9]{1,3}(?:\.[0-9]{3})+)")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# A date as Vietnamese offices write it: day first, always (17/09/2024, 1/7/2025), the year in
# four digits; then, for a time, what ISO writes after the date (" 14:00", " 14:00:30+07").
_DAY_FIRST = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})(?:([T ])(.*))?", re.DOTALL)
_MOMENT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)?"
)
# More digits than any figure the ledger holds (its largest, a log position, has 19).
_DIGITS_MAX = 19
# What free text may not hold: control characters (Unicode's Cc: C0, DEL and C1), lone
# surrogates (Cs: bytes that were not UTF-8, or a broken JSON escape; not storable as UTF-8),
# the line and paragraph separators, and the invisible direction controls, which make a
# voucher or a decision read differently from what is stored. A note may hold \n and \t.
_NOT_TEXT = r"\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_NOT_ONE_LINE = re.compile(rf"[{_NOT_TEXT}]")
_NOT_MULTILINE = re.compile(rf"(?![\n\t])[{_NOT_TEXT}]")


def format_vnd(amount_vnd: int) -> str:
    """Whole đồng with Vietnamese digit grouping: ``-1.234.567 đồng``."""
    return f"{amount_vnd:,} đồng".replace(",", ".")


def vietnamese_number(value: float, decimals: int) -> str:
    """1234567.891 -> 1.234.567,891 (Vietnamese grouping and decimal comma)."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def grouped_number(value: float, decimals: int, lang: str = "vi") -> str:
    """A figure as people of ``lang`` read it: 1.234.567,89 in Vietnamese, 1,234,567.89 in
    English (where a decimal comma would read as a thousands separator). Every table, file
    and note of the ledger writes figures through here."""
    return f"{value:,.{decimals}f}" if lang == "en" else vietnamese_number(value, decimals)


def today_in_vietnam() -> date:
    return datetime.now(VIETNAM_TIME).date()


def _choice(field: str, value: str, choices: dict[str, str]) -> str:
    candidate = value.strip().upper()
    if candidate not in choices:
        valid = ", ".join(f"{code} ({meaning})" for code, meaning in choices.items())
        raise InvalidInput(f"unknown code {value!r}; valid codes are {valid}", field=field)
    return candidate


def check_program(value: str, *, field: str = "program") -> str:
    """A program code's spelling, upper-cased; whether a program has it, and for which plan
    years, is the registry's to say (ledger/domain/programs.py)."""
    code = value.strip().upper()
    if len(code) > limits.PROGRAM_CODE_LENGTH_MAX or not _PROGRAM_CODE.fullmatch(code):
        raise InvalidInput(
            f"{value!r} is not a program code: use 1 to {limits.PROGRAM_CODE_LENGTH_MAX} "
            "letters and digits, starting with a letter (e.g. NTM, MTQG2635)",
            field=field,
        )
    return code


def check_kind(value: str) -> str:
    return _choice("kind", value, KINDS)


def check_source(value: str) -> str:
    return _choice("source", value, SOURCES)


def check_level(value: str) -> str:
    candidate = value.strip().lower()
    if candidate not in LEVELS:
        raise InvalidInput(
            f"unknown level {value!r}; valid levels are {', '.join(LEVELS)}", field="level"
        )
    return candidate


def parse_whole(value: int | str, *, field: str, example: str) -> int:
    """A whole number written in ASCII digits (an int is taken as it is)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = value.strip() if isinstance(value, str) else ""
    if not _WHOLE.fullmatch(text) or len(text) > _DIGITS_MAX:
        raise InvalidInput(f"{value!r} is not {example}, written in ASCII digits 0-9", field=field)
    return int(text)


def check_year(value: int | str, *, field: str = "year") -> int:
    year = parse_whole(value, field=field, example="a year such as 2024")
    if not limits.YEAR_MIN <= year <= limits.YEAR_MAX:
        raise InvalidInput(f"{year} is outside {limits.YEAR_MIN}..{limits.YEAR_MAX}", field=field)
    return year


def check_code(value: str, *, field: str) -> str:
    code = value.strip()
    if not code or len(code) > limits.CODE_LENGTH_MAX or not _CODE.match(code):
        raise InvalidInput(
            f"{value!r} is not a code: use 1 to {limits.CODE_LENGTH_MAX} letters, digits, "
            "'.', '_' or '-', starting with a letter or digit (e.g. TW, 49, 505, 03618)",
            field=field,
        )
    return code.upper()


def check_project(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    return check_code(value, field="project").upper()


def check_characters(value: str, *, field: str, multiline: bool = False) -> str:
    """Text as people type it (see _NOT_TEXT); ``multiline`` allows newlines and tabs. The
    message names the character by its code point, so printing it is safe."""
    found = (_NOT_MULTILINE if multiline else _NOT_ONE_LINE).search(value)
    if found is None:
        return value
    code = ord(found.group())
    where = f"U+{code:04X} at character {found.start() + 1}"
    if 0xD800 <= code <= 0xDFFF:
        raise InvalidInput(f"holds {where}, which is not text: send UTF-8 text", field=field)
    allowed = "newlines and tabs only" if multiline else "none"
    raise InvalidInput(
        f"holds the control character {where}; control characters are refused "
        f"({allowed} allowed here)",
        field=field,
    )


def check_text(
    value: str | None, *, field: str, length_max: int, required: bool, multiline: bool = False
) -> str | None:
    """Free text (a decision, a voucher, a note, a name): its characters checked as given,
    then trimmed of surrounding spaces; blank is absent."""
    text = check_characters(value or "", field=field, multiline=multiline).strip()
    if not text:
        if required:
            raise InvalidInput("is required and may not be blank", field=field)
        return None
    if len(text) > length_max:
        raise InvalidInput(f"is {len(text)} characters long; at most {length_max}", field=field)
    return text


def check_movement_id(value: str) -> str:
    movement_id = value.strip()
    if (
        not movement_id
        or len(movement_id) > limits.MOVEMENT_ID_LENGTH_MAX
        or not _MOVEMENT_ID.match(movement_id)
    ):
        raise InvalidInput(
            f"{value!r} is not a movement id: use 1 to {limits.MOVEMENT_ID_LENGTH_MAX} letters, "
            "digits, '.', '_', ':' or '-'",
            field="movement_id",
        )
    return movement_id


def read_amount(value: int | str, *, field: str = "amount_vnd") -> int:
    """Whole đồng as written: an int, or ASCII digits, plain (``1500000000``) or grouped by
    threes with dots (``1.500.000.000``), with an optional minus sign. Only the reading:
    ``check_amount`` says whether the ledger takes it."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    found = _AMOUNT.fullmatch(value.strip()) if isinstance(value, str) else None
    digits = found.group(2).replace(".", "") if found else ""
    if not found or len(digits) > _DIGITS_MAX:
        raise InvalidInput(
            f"{value!r} is not a whole number of đồng: write ASCII digits 0-9, plainly "
            "(1500000000) or grouped by threes with dots (1.500.000.000); no other grouping "
            "character, and no fractions",
            field=field,
        )
    return int(found.group(1) + digits)


def parse_amount(value: int | str, *, field: str = "amount_vnd", signed: bool = False) -> int:
    """Whole đồng as written (``read_amount``), within the ledger's rules (``check_amount``)."""
    return check_amount(read_amount(value, field=field), field=field, signed=signed)


def check_amount(amount: int, *, field: str = "amount_vnd", signed: bool = False) -> int:
    if amount == 0:
        raise InvalidInput("must not be zero", field=field)
    if amount < 0 and not signed:
        raise InvalidInput(
            f"must be positive (got {amount}); only an adjustment carries a sign", field=field
        )
    if abs(amount) > limits.AMOUNT_VND_MAX:
        raise InvalidInput(
            f"{amount} exceeds the limit of {limits.AMOUNT_VND_MAX} đồng per movement; "
            "split it or check the figure",
            field=field,
        )
    return amount


def check_in_calendar(day: date, *, field: str) -> date:
    """Every date the ledger holds or answers for lies within its calendar (limits.py)."""
    if not limits.DATE_MIN <= day <= limits.DATE_MAX:
        raise InvalidInput(
            f"{day.isoformat()} is outside the dates the ledger holds "
            f"({limits.DATE_MIN.isoformat()} to {limits.DATE_MAX.isoformat()})",
            field=field,
        )
    return day


# The two ways a date may be written where people write it (the command line, import files);
# the API, a machine interface, takes ISO only (docs/decisions.md §21).
DATE_FORMS = "dd/mm/yyyy, day first (17/09/2024), or yyyy-mm-dd (2024-09-17)"
TIME_FORMS = (
    "dd/mm/yyyy HH:MM[:SS] (17/09/2024 16:30, Vietnam time), yyyy-mm-ddTHH:MM[:SS] "
    "(2024-09-17T16:30, or 2024-09-17T09:30+00:00 with an offset), or a bare date for the end "
    "of that day"
)


def _from_day_first(text: str) -> str:
    """``17/09/2024 16:30`` written as ISO (``2024-09-17T16:30``); other text as it is. Only
    the order changes: whether it is a real date is ISO's to say."""
    found = _DAY_FIRST.fullmatch(text)
    if found is None:
        return text
    day, month, year, separator, rest = found.groups()
    iso = f"{year}-{int(month):02d}-{int(day):02d}"
    return iso if separator is None else f"{iso}T{rest}"


def parse_date(value: date | str, *, field: str, iso_only: bool = False) -> date:
    """A date written dd/mm/yyyy (day first, as Vietnamese offices write it; d/m/yyyy too)
    or yyyy-mm-dd, in ASCII digits, real, within the ledger's calendar; ``iso_only``: only
    yyyy-mm-dd (the API). Empty is refused: a command that means today leaves the option
    out."""
    forms = "YYYY-MM-DD (e.g. 2024-09-17)" if iso_only else DATE_FORMS
    if isinstance(value, datetime):
        raise InvalidInput(f"must be a date ({forms}), not a timestamp", field=field)
    if isinstance(value, date):
        return check_in_calendar(value, field=field)
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidInput(f"is empty; write a date as {forms}", field=field)
    try:
        iso = text if iso_only else _from_day_first(text)
        if not _DATE.fullmatch(iso):
            raise ValueError(text)
        day = date.fromisoformat(iso)
    except ValueError:
        raise InvalidInput(
            f"{value!r} is not a real date; write it as {forms}, in ASCII digits",
            field=field,
        ) from None
    return check_in_calendar(day, field=field)


def parse_moment(value: datetime | str, *, field: str, iso_only: bool = False) -> datetime:
    """A point in time: ISO 8601 with or without an offset (without one it is Vietnam time),
    or (unless ``iso_only``) the same with the date written dd/mm/yyyy and a space before the
    time; a bare date means the end of that day in Vietnam. Within the ledger's calendar, so
    it converts to any time zone."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = value.strip() if isinstance(value, str) else ""
        iso = text if iso_only else _from_day_first(text)
        try:
            if _DATE.fullmatch(iso):
                moment = datetime.combine(date.fromisoformat(iso), datetime.max.time())
            elif _MOMENT.fullmatch(iso):
                moment = datetime.fromisoformat(iso)
            else:
                raise ValueError(text)
        except ValueError:
            forms = (
                "2024-09-17T16:30 (Vietnam time), 2024-09-17T09:30+00:00, or 2024-09-17 for "
                "the end of that day"
                if iso_only
                else TIME_FORMS
            )
            raise InvalidInput(
                f"{value!r} is not a time; write it as {forms}, in ASCII digits", field=field
            ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VIETNAM_TIME)
    # The calendar's bounds are years clear of the date type's: no offset can push a time
    # within them out of range when it is converted.
    check_in_calendar(moment.date(), field=field)
    return moment


@dataclass(frozen=True, order=True)
class LineKey:
    """The identity of a budget line (dòng vốn)."""

    program: str
    kind: str
    source: str
    year: int
    holder: str
    project: str | None = None

    @classmethod
    def parse(
        cls,
        *,
        program: str,
        kind: str,
        source: str,
        year: int | str,
        holder: str,
        project: str | None = None,
    ) -> LineKey:
        return cls(
            program=check_program(program),
            kind=check_kind(kind),
            source=check_source(source),
            year=check_year(year),
            holder=check_code(holder, field="holder"),
            project=check_project(project),
        )

    @classmethod
    def of(cls, fields: Mapping[str, Any], holder: str) -> LineKey:
        """The line a request's fields name (program, kind, source, year, optional project),
        for this holder: a CLI command's options and an API body name them alike."""
        return cls.parse(
            program=fields["program"],
            kind=fields["kind"],
            source=fields["source"],
            year=fields["year"],
            holder=holder,
            project=fields.get("project"),
        )

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in LINE_FIELDS}

    def with_holder(self, holder: str) -> LineKey:
        return replace(self, holder=holder)

    @property
    def group(self) -> tuple[str, str, str, int]:
        """Money is conserved within one program, kind, source and plan year."""
        return (self.program, self.kind, self.source, self.year)

    @property
    def line_id(self) -> uuid.UUID:
        return _line_id(self)

    @property
    def order(self) -> tuple[str, str, str, int, str, str]:
        """Where the line sorts: by its identity, a line without a project before those of
        its projects (None does not compare with text, so keys are never sorted as they are)."""
        return (self.program, self.kind, self.source, self.year, self.holder, self.project or "")

    @property
    def label(self) -> str:
        parts = [self.program, self.kind, self.source, str(self.year), self.holder]
        if self.project:
            parts.append(self.project)
        return "/".join(parts)

    @property
    def base_deadline(self) -> date:
        """31 January of the year after the plan year (Public Investment Law 2019 art. 68)."""
        return date(self.year + 1, 1, 31)

    @property
    def window_start(self) -> date:
        return date(self.year - limits.LINE_YEARS_BEFORE_MAX, 1, 1)

    @property
    def window_end(self) -> date:
        return date(self.year + limits.LINE_YEARS_AFTER_MAX, 12, 31)

    def check_in_window(self, day: date, *, field: str) -> date:
        if not self.window_start <= day <= self.window_end:
            raise InvalidInput(
                f"{day.isoformat()} is outside the dates a plan-year {self.year} line can have "
                f"({self.window_start.isoformat()} to {self.window_end.isoformat()})",
                field=field,
            )
        return day


# A line's identity fields in order, as every filter, row and column lists them.
LINE_FIELDS: tuple[str, ...] = tuple(field.name for field in fields(LineKey))


def available_vnd(
    assigned_vnd: int,
    allocated_on_vnd: int,
    disbursed_vnd: int,
    lapsed_vnd: int,
    passed_on_vnd: int = 0,
) -> int:
    """A line's available amount from its stored figures: what it was assigned (what it
    received by succession included), less what it allocated on to its children, disbursed,
    returned when it lapsed, and passed on to its holder's successor."""
    return assigned_vnd - allocated_on_vnd - disbursed_vnd - lapsed_vnd - passed_on_vnd


# A line's and a holder's ids are asked for on every movement (an import's rows: several a
# row); a uuid5 is a SHA-1 and a UUID object, so the ids of the lines and holders in use are
# kept (a few hundred bytes each; a ledger has thousands of lines, not millions).
@functools.lru_cache(maxsize=1 << 16)
def _line_id(key: LineKey) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"line:{key.label}")


@functools.lru_cache(maxsize=1 << 16)
def holder_id(code: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"holder:{code}")


def program_id(code: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"program:{code}")


def movement_aggregate_id(movement_id: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"movement:{movement_id}")
