"""The pages' downloads: what a page shows, as xlsx and csv, written by the same writers as
the CLI's ``export`` (``ledger.interchange``): a plain table's workbook carries values, never
a formula, and its CSV starts with the byte-order mark Excel needs. The progress report is a
filed document of its own (``report_files``), downloaded as ``report progress`` writes it."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from flask import Response

from api.auth import services
from ledger.interchange import export
from ledger.interchange.report_files import write_table_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
EXTENSIONS = ("xlsx", "csv")


def attachment(body: bytes, extension: str, name: str) -> Response:
    """``body`` as a file to save, named ``name.extension``."""
    response = Response(body, mimetype=XLSX if extension == "xlsx" else CSV)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{extension}"'
    return response


def table_file(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[tuple[str, str]],
    title: str,
    extension: str,
    name: str,
) -> Response:
    """A table (cells by column key) as ``budget-ledger export`` writes one: a workbook of
    values with a bold, frozen header, or RFC 4180 CSV with a byte-order mark."""
    assert extension in EXTENSIONS, extension
    if extension == "csv":
        body = (export.CSV_BOM + export.csv_text(rows, columns)).encode("utf-8")
        return attachment(body, "csv", name)
    out = io.BytesIO()
    write_table_xlsx(out, export.xlsx_rows(rows), columns, title)
    return attachment(out.getvalue(), "xlsx", name)


def movements_file(entries: Sequence[dict[str, Any]], extension: str, name: str) -> Response:
    """History entries (``ledger.domain.audit.history``) as ``budget-ledger export --what
    movements`` writes them: one row per movement and line, with the holders' names now."""
    names = {code: holder.name for code, holder in services().ledger.holders().items()}
    rows = export.movement_rows(entries, names)
    return table_file(rows, export.MOVEMENT_COLUMNS, "Nghiệp vụ", extension, name)
