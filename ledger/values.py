"""Value types and the checks every input goes through before it reaches an aggregate."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from ledger import limits
from ledger.errors import InvalidInput

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

# Vietnam keeps one offset all year; "today" for a finance office is the date in Hà Nội.
VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")

# Stable namespace for the ids of aggregates derived from business keys (holder code, line
# identity, movement id). Changing it would orphan every stored aggregate: never change it.
NAMESPACE = uuid.UUID("6f0c9a52-3d1e-4b8e-9a57-1c2b7d4e8f10")

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_MOVEMENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
_AMOUNT_GROUPED = re.compile(r"^-?\d{1,3}([.,_ ]\d{3})+$")


def format_vnd(amount_vnd: int) -> str:
    """Whole đồng with Vietnamese digit grouping: ``-1.234.567 đồng``."""
    return f"{amount_vnd:,} đồng".replace(",", ".")


def today_in_vietnam() -> date:
    return datetime.now(VIETNAM_TIME).date()


def _choice(field: str, value: str, choices: dict[str, str]) -> str:
    candidate = value.strip().upper()
    if candidate not in choices:
        valid = ", ".join(f"{code} ({meaning})" for code, meaning in choices.items())
        raise InvalidInput(f"unknown code {value!r}; valid codes are {valid}", field=field)
    return candidate


def check_program(value: str) -> str:
    return _choice("program", value, PROGRAMS)


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


def check_year(value: int | str) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{value!r} is not a year such as 2024", field="year") from None
    if not limits.YEAR_MIN <= year <= limits.YEAR_MAX:
        raise InvalidInput(f"{year} is outside {limits.YEAR_MIN}..{limits.YEAR_MAX}", field="year")
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


def check_text(value: str | None, *, field: str, length_max: int, required: bool) -> str | None:
    text = (value or "").strip()
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


def parse_amount(value: int | str, *, field: str = "amount_vnd", signed: bool = False) -> int:
    """Whole đồng: an int, or a string of digits with optional thousands grouping
    (``1.234.567``, ``1,234,567``, ``1_234_567``, ``1 234 567``)."""
    if isinstance(value, bool):
        raise InvalidInput("must be a whole number of đồng", field=field)
    if isinstance(value, int):
        amount = value
    else:
        text = str(value).strip()
        if re.fullmatch(r"-?\d+", text):
            amount = int(text)
        elif _AMOUNT_GROUPED.match(text):
            amount = int(re.sub(r"[.,_ ]", "", text))
        else:
            raise InvalidInput(
                f"{value!r} is not a whole number of đồng (write 1500000000 or 1.500.000.000; "
                "đồng have no fractions)",
                field=field,
            )
    return check_amount(amount, field=field, signed=signed)


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


def parse_date(value: date | str, *, field: str) -> date:
    if isinstance(value, datetime):
        raise InvalidInput("must be a date (YYYY-MM-DD), not a timestamp", field=field)
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput(
            f"{value!r} is not a real date; write it as YYYY-MM-DD (e.g. 2024-09-17)", field=field
        ) from None


def parse_moment(value: datetime | str, *, field: str) -> datetime:
    """A point in time: ISO 8601 with or without an offset (without one it is Vietnam time);
    a bare date means the end of that day in Vietnam."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip()
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
                moment = datetime.combine(day, datetime.max.time())
            else:
                moment = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidInput(
                f"{value!r} is not a time; write it as 2024-09-17T16:30 (Vietnam time), "
                "2024-09-17T09:30+00:00, or 2024-09-17 for the end of that day",
                field=field,
            ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VIETNAM_TIME)
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
        return {
            "program": self.program,
            "kind": self.kind,
            "source": self.source,
            "year": self.year,
            "holder": self.holder,
            "project": self.project,
        }

    def with_holder(self, holder: str) -> LineKey:
        return LineKey(self.program, self.kind, self.source, self.year, holder, self.project)

    @property
    def group(self) -> tuple[str, str, str, int]:
        """Money is conserved within one program, kind, source and plan year."""
        return (self.program, self.kind, self.source, self.year)

    @property
    def line_id(self) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"line:{self.label}")

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


def holder_id(code: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"holder:{code}")


def movement_aggregate_id(movement_id: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"movement:{movement_id}")
