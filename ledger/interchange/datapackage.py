"""The ledger as a Fiscal Data Package: CSV files plus a ``datapackage.json`` that describes
them (Frictionless Tabular Data Package v1) and maps them onto the fiscal model of Fiscal
Data Package v0.3 (measures: the amounts in VND; dimensions: program, capital kind, source,
plan year, holder, project, date).

Two resources: ``balances`` (one row per budget line at the package's date: aggregated data,
the one the fiscal model describes) and ``movements`` (the journal, one row per movement and
line touched, with the running available amount). Field names are the ledger's own (those of
the JSON API); their titles are the Vietnamese headers of the CSV export.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from ledger.domain.movements import RECORDED_KINDS
from ledger.domain.values import KINDS, SOURCES
from ledger.interchange import export
from ledger.interchange.export import BALANCE_COLUMNS, MOVEMENT_COLUMNS

BALANCES_PATH = "data/balances.csv"
MOVEMENTS_PATH = "data/movements.csv"
CURRENCY = "VND"

# Frictionless types of every field; names ending in _vnd are whole đồng.
_TYPES = {
    "as_of": "date",
    "effective_date": "date",
    "deadline": "date",
    "until": "date",
    "recorded_at": "datetime",
    "year": "year",
}
# The codes each field may hold; a program's are the ledger's registered programs, given to
# ``descriptor``.
_ENUMS = {
    "kind": sorted(KINDS),
    "source": sorted(SOURCES),
    "action": list(RECORDED_KINDS),
}
_REQUIRED = {
    "as_of",
    "effective_date",
    "recorded_at",
    "actor",
    "movement_id",
    "action",
    "program",
    "kind",
    "source",
    "year",
    "holder",
}
_DESCRIPTIONS = {
    "recorded_at": "When the ledger recorded the movement, UTC.",
    "amount_vnd": "The movement's amount: signed for an adjustment; for an extension the "
    "amount allowed after the previous deadline; for a row of a succession (and for what a "
    "movement before a holder ended changed in what its line passed on) the amount passed on "
    "or received by that line, negative when taken back; otherwise the money moved.",
    "available_change_vnd": "The change to this line's available amount.",
    "available_after_vnd": "This line's available amount after the movement, in effective-date "
    "order; within a day the line's credits before its debits, then in the order recorded.",
    "allocated_on_vnd": "Assigned on to holders below.",
    "extended_vnd": "What may still be paid after the base deadline.",
    "received_vnd": "Received from predecessors' lines by succession, counted in assigned.",
    "passed_on_vnd": "Passed on to the successor's line when the holder ended.",
}


def field(name: str, title: str, enums: dict[str, list[str]]) -> dict[str, Any]:
    descriptor: dict[str, Any] = {"name": name, "title": title}
    if name.endswith("_vnd"):
        descriptor["type"] = "integer"
    else:
        descriptor["type"] = _TYPES.get(name, "string")
    if descriptor["type"] == "datetime":
        descriptor["format"] = "default"  # ISO 8601 in UTC, e.g. 2024-09-17T07:00:00Z
    constraints: dict[str, Any] = {}
    if name in _REQUIRED:
        constraints["required"] = True
    enum = enums.get(name)
    if enum is not None:
        constraints["enum"] = enum
    if constraints:
        descriptor["constraints"] = constraints
    if name in _DESCRIPTIONS:
        descriptor["description"] = _DESCRIPTIONS[name]
    return descriptor


def movement_rows(
    entries: Iterable[dict[str, Any]], holder_names: dict[str, str]
) -> list[dict[str, Any]]:
    """Machine-readable journal rows: the export's rows with action codes and UTC times."""
    entries = list(entries)
    rows = export.movement_rows(entries, holder_names)
    for row, entry in zip(rows, entries, strict=True):
        recorded_at: datetime = entry["recorded_at"]
        row["recorded_at"] = recorded_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        row["action"] = entry["action"]
    return rows


def descriptor(
    *, as_of: date, known_at: datetime | None, created: datetime, programs: Sequence[str]
) -> dict[str, Any]:
    """``datapackage.json`` for the two resources written at BALANCES_PATH and
    MOVEMENTS_PATH; ``programs``: the codes of the ledger's programs."""
    enums = {**_ENUMS, "program": sorted(programs)}
    known = f", as recorded by {known_at.isoformat()}" if known_at else ""
    return {
        "profile": "tabular-data-package",
        # Fiscal Data Package v0.3 names its profiles this way (and requires ``model``).
        "profiles": {"fiscal": "*", "tabular": "*"},
        "name": f"budget-ledger-{as_of.isoformat()}",
        "title": f"Budget ledger: balances on {as_of.isoformat()}{known}, and the movements",
        "description": "Budget lines of the national target programs (program, capital kind, "
        "source, plan year, holder) and every movement on them, in whole đồng, "
        "exported by budget-ledger. Text that begins with =, +, -, @, a tab or a carriage "
        "return has a ' before it, so that no spreadsheet runs it as a formula.",
        "countryCode": "vn",
        "granularity": "aggregated",
        "created": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "resources": [
            _resource(
                "balances",
                BALANCES_PATH,
                f"One row per budget line: its figures on {as_of.isoformat()} (inclusive){known}.",
                BALANCE_COLUMNS,
                enums,
            ),
            _resource(
                "movements",
                MOVEMENTS_PATH,
                f"Every movement effective on or before {as_of.isoformat()}{known}, one row per "
                "posting on a line it touched, oldest effective date first.",
                # No primary key: a succession touches many lines, one line may get two
                # rows of one movement (what it passed on, on a later date) and two
                # predecessors' lines may pass to the same line in one succession.
                MOVEMENT_COLUMNS,
                enums,
            ),
        ],
        "model": model(),
    }


def _resource(
    name: str,
    path: str,
    description: str,
    columns: Iterable[tuple[str, str]],
    enums: dict[str, list[str]],
) -> dict[str, Any]:
    schema: dict[str, Any] = {"fields": [field(n, title, enums) for n, title in columns]}
    return {
        "name": name,
        "path": path,
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "description": description,
        "schema": schema,
    }


def model() -> dict[str, Any]:
    """The fiscal model of the ``balances`` resource (FDP v0.3 ``measures``/``dimensions``)."""

    def measure(source: str, **more: str) -> dict[str, Any]:
        return {"source": source, "currency": CURRENCY, "resource": "balances", **more}

    def dimension(attributes: dict[str, str], dimension_type: str, **more: str) -> dict[str, Any]:
        return {
            "attributes": {
                key: {"source": source, "resource": "balances"}
                for key, source in attributes.items()
            },
            "primaryKey": list(attributes)[:1],
            "dimensionType": dimension_type,
            **more,
        }

    holder = dimension({"code": "holder", "name": "holder_name"}, "entity")
    holder["attributes"]["name"]["labelfor"] = "code"
    return {
        "measures": {
            "assigned": measure("assigned_vnd", direction="expenditure", phase="adjusted"),
            "allocated_on": measure("allocated_on_vnd"),
            "disbursed": measure("disbursed_vnd", direction="expenditure", phase="executed"),
            "lapsed": measure("lapsed_vnd"),
            "passed_on": measure("passed_on_vnd"),
            "received": measure("received_vnd"),
            "available": measure("available_vnd"),
            "extended": measure("extended_vnd"),
        },
        "dimensions": {
            "program": dimension(
                {"code": "program"}, "classification", classificationType="functional"
            ),
            "kind": dimension({"code": "kind"}, "classification", classificationType="economic"),
            "source": dimension({"code": "source"}, "other"),
            "plan_year": dimension({"year": "year"}, "datetime"),
            "holder": holder,
            "project": dimension({"code": "project"}, "activity"),
            "date": dimension({"as_of": "as_of"}, "datetime"),
        },
    }
