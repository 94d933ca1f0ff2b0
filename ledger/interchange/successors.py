"""The official list of successors (danh sách đơn vị hành chính sau sắp xếp): each row an old
commune with its old district and province, and the new commune and province it passes to.
Read here, every row checked, into what a reorganisation records (``reorganise.py``); a row
that is wrong is a ``BadRow`` naming its column and what to do, and a list with one records
nothing.

The old district may be left blank (both cells): a list made after 2025, when districts were
gone, names communes under their provinces. The list maps each old commune to one successor.
A commune given twice with two different successors (part of it went elsewhere) is a bad row:
a split is a succession to one successor followed by the reallocations the dividing decision
orders (README.md).

``SHIPPED``: the 2025 list for Lai Châu (106 communes into 38) and Quảng Nam's nine mountain
districts (into Đà Nẵng), from the Statistics Office's list as packaged in the MIT-licensed
``vietnamadminunits`` (data/README.md beside it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from ledger.domain import limits
from ledger.domain.errors import InvalidInput, LedgerError
from ledger.domain.values import check_code, check_text
from ledger.interchange import import_files
from ledger.interchange.importer import BadRow

SHIPPED = Path(__file__).resolve().parent / "data" / "admin-units-2025-successors.csv"
# (code column, name column) of each unit a row names, old then new.
UNITS = (
    ("old_province_code", "old_province"),
    ("old_district_code", "old_district"),
    ("old_commune_code", "old_commune"),
    ("new_province_code", "new_province"),
    ("new_commune_code", "new_commune"),
)
COLUMNS = (*(name for pair in UNITS for name in pair), "note")
REQUIRED_COLUMNS = COLUMNS[:-1]
ROWS_MAX = 100_000  # the whole country had about 10,000 communes before 2025
ERRORS_MAX = 1000  # as the import's: a list this wrong needs fixing at its source


@dataclass
class Unit:
    """A unit the list names: its code and name, the unit above it (an old commune's old
    district, a new commune's new province; None for a province), where it goes (``into``:
    an old unit's successor) and the first row naming it."""

    code: str
    name: str
    parent: str | None
    into: str | None
    row: int
    olds: list[str] = field(default_factory=list)  # a new commune's old communes


@dataclass
class Successors:
    """The list read whole: every unit by code, for each of the five columns pairs."""

    rows: int = 0
    old_provinces: dict[str, Unit] = field(default_factory=dict)
    old_districts: dict[str, Unit] = field(default_factory=dict)
    old_communes: dict[str, Unit] = field(default_factory=dict)
    new_provinces: dict[str, Unit] = field(default_factory=dict)
    new_communes: dict[str, Unit] = field(default_factory=dict)


Source = Path | Iterable[Mapping[str, str]]


def read_successors(source: Source) -> tuple[Successors, list[BadRow]]:
    """The list in ``source`` (a CSV file, UTF-8 or Windows-1258, or rows as mappings of
    column to cell, numbered from 2 as a spreadsheet shows them) and every bad row in it.
    A file that cannot be read at all raises InvalidInput (field ``file``)."""
    found = Successors()
    bad: list[BadRow] = []
    for number, cells in _rows(source):
        found.rows += 1
        if found.rows > ROWS_MAX:
            raise InvalidInput(
                f"the list has more than {ROWS_MAX:,} rows; no reorganisation has that many "
                "communes: check the file",
                field="file",
            )
        units = _units(number, cells, bad)
        if units is not None:
            _add(found, number, units, bad)
        if len(bad) >= ERRORS_MAX:
            break
    if found.rows == 0:
        raise InvalidInput("the list has no rows; give one row per old commune", field="file")
    if len(bad) < ERRORS_MAX:
        bad += _roles(found)
    return found, sorted(bad, key=lambda b: b.row)


def _rows(source: Source) -> Iterator[tuple[int, dict[str, str]]]:
    if isinstance(source, Path):
        yield from _csv_rows(source)
        return
    for number, cells in enumerate(source, start=2):
        yield number, {str(k).strip().lower(): (v or "").strip() for k, v in cells.items()}


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    if path.suffix.lower() != ".csv":
        raise InvalidInput(f"{path.name}: give the list as a .csv file", field="file")
    yield from import_files.csv_records(path, partial(_header, path))


def _header(path: Path, cells: list[str]) -> list[str]:
    header = [cell.strip().lower() for cell in cells]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    unknown = [name for name in header if name and name not in COLUMNS]
    if missing or unknown:
        problem = f"lacks {', '.join(missing)}" if missing else f"has {', '.join(unknown)}"
        raise InvalidInput(
            f"{path.name}: the header {problem}; the columns are {', '.join(COLUMNS)}",
            field="file",
        )
    return header


def _units(number: int, cells: dict[str, str], bad: list[BadRow]) -> list[tuple[str, str]] | None:
    """The row's five (code, name) pairs, each checked; None (and a bad row per bad cell)
    if one is not right."""
    units: list[tuple[str, str]] = []
    before = len(bad)
    for code_column, name_column in UNITS:
        if code_column == "old_district_code" and not (
            cells.get(code_column) or cells.get(name_column)
        ):
            units.append(("", ""))  # none: a list after 2025, when districts were gone
            continue
        try:
            code = check_code(cells.get(code_column, ""), field=code_column)
        except LedgerError as error:
            bad.append(BadRow(number, code_column, f"{error.message}; give the unit's code"))
            code = ""
        try:
            name = check_text(
                cells.get(name_column),
                field=name_column,
                length_max=limits.NAME_LENGTH_MAX,
                required=True,
            )
        except LedgerError as error:
            bad.append(BadRow(number, name_column, f"{error.message}; give the unit's name"))
            name = None
        units.append((code, name or ""))
    return units if len(bad) == before else None


def _add(found: Successors, number: int, units: list[tuple[str, str]], bad: list[BadRow]) -> None:
    (province, province_name), (district, district_name), (commune, commune_name) = units[:3]
    (new_province, new_province_name), (new_commune, new_commune_name) = units[3:]
    checks = [
        (found.old_provinces, Unit(province, province_name, None, new_province, number)),
        (found.old_districts, Unit(district, district_name, province, new_province, number)),
        (
            found.old_communes,
            Unit(commune, commune_name, district or province, new_commune, number),
        ),
        (found.new_provinces, Unit(new_province, new_province_name, None, None, number)),
        (found.new_communes, Unit(new_commune, new_commune_name, new_province, None, number)),
    ]
    problems = [
        BadRow(number, column, problem)
        for (table, unit), (column, _) in zip(checks, UNITS, strict=True)
        if unit.code and (problem := _disagreement(table.get(unit.code), unit, column))
    ]
    if problems:
        bad += problems
        return
    for table, unit in checks:
        if unit.code:
            table.setdefault(unit.code, unit)
    olds = found.new_communes[new_commune].olds
    if commune not in olds:
        olds.append(commune)


def _disagreement(first: Unit | None, unit: Unit, column: str) -> str | None:
    """What ``unit`` (a row's) says otherwise than the first row naming its code, if any."""
    if first is None:
        return None
    code, row = unit.code, first.row
    if unit.into != first.into:
        if column == "old_commune_code":
            return (
                f"old commune {code} passes to {first.into} on row {row} and to {unit.into} "
                "here; the list gives each old commune one successor. For a split, give the "
                "successor that takes the commune and record the reallocations the dividing "
                "decision orders"
            )
        return (
            f"{code} passes to province {first.into} on row {row} and to {unit.into} here; "
            "a province or district passes whole to one province: correct one of the rows"
        )
    if unit.parent != first.parent:
        return (
            f"{code} lies under {first.parent} on row {row} and under {unit.parent} here; "
            "correct one of the rows"
        )
    if unit.name != first.name:
        return (
            f"{code} is named {first.name!r} on row {row} and {unit.name!r} here; a code names "
            "one unit: correct one of the rows"
        )
    return None


def _roles(found: Successors) -> list[BadRow]:
    """Codes named in two roles. A code that ends is never a successor (it is never registered
    again): only a commune or province that goes on (its successor is itself) is both old
    and new."""
    roles: dict[str, list[tuple[str, Unit]]] = {}
    tables = (
        ("old province", "old_province_code", found.old_provinces),
        ("old district", "old_district_code", found.old_districts),
        ("old commune", "old_commune_code", found.old_communes),
        ("new province", "new_province_code", found.new_provinces),
        ("new commune", "new_commune_code", found.new_communes),
    )
    columns = {role: column for role, column, _ in tables}
    for role, _, table in tables:
        for code, unit in table.items():
            roles.setdefault(code, []).append((role, unit))
    bad = []
    for code, named in roles.items():
        if len(named) < 2:
            continue
        kinds = {role for role, _ in named}
        goes_on = all(unit.into in (None, code) for _, unit in named)
        if goes_on and kinds in ({"old province", "new province"}, {"old commune", "new commune"}):
            continue
        (first_role, first), (role, unit) = named[0], named[1]
        if goes_on:
            problem = f"{code} is the code of the {first_role} of row {first.row} and of a {role}"
        else:
            ending = next(u for r, u in named if r.startswith("old") and u.into != code)
            problem = (
                f"{code} ends into {ending.into} (row {ending.row}) and is named as a {role} "
                "here; a code that ended is never registered again"
            )
        bad.append(BadRow(unit.row, columns[role], f"{problem}; correct one of the rows"))
    return bad
