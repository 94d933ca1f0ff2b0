"""The tables finance offices exchange: movements and balances, with the Vietnamese column
headers those offices use, as rows and as CSV text (the progress report is a Document of its
own: ledger/interchange/report_files.py).

Everything here is pure: it shapes rows that ``history``, the balances read model and the
progress report already computed, so an export can never disagree with the ledger's own
answers. Amounts stay whole đồng; the CLI (``cli/export.py``) decides where the bytes go.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from ledger.domain.movements import RECORDED_KINDS
from ledger.domain.values import VIETNAM_TIME

Columns = Sequence[tuple[str, str]]

# Excel opens a CSV file as UTF-8 only when it starts with a byte-order mark; without it
# Vietnamese text shows as mojibake on the Windows machines finance offices use.
CSV_BOM = "\ufeff"

# A spreadsheet reads a cell that begins with one of these as a formula (tab and carriage
# return: some read the next character as the cell's first). OWASP's CSV injection rule.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# How finance offices name the movements (the words of the decisions themselves), every kind
# a recorded movement may be of: successions too.
ACTION_LABELS = {action: kind.label for action, kind in RECORDED_KINDS.items()}

LINE_COLUMNS: list[tuple[str, str]] = [
    ("program", "Chương trình"),
    ("kind", "Loại vốn"),
    ("source", "Nguồn vốn"),
    ("year", "Năm kế hoạch"),
    ("holder", "Đơn vị"),
    ("holder_name", "Tên đơn vị"),
    ("project", "Dự án thành phần"),
]

MOVEMENT_COLUMNS: list[tuple[str, str]] = [
    ("effective_date", "Ngày hiệu lực"),
    ("recorded_at", "Thời điểm ghi sổ"),
    ("actor", "Người ghi"),
    ("movement_id", "Mã bút toán"),
    ("action", "Nghiệp vụ"),
    ("reference", "Số quyết định / chứng từ"),
    *LINE_COLUMNS,
    ("amount_vnd", "Số tiền (đồng)"),
    ("available_change_vnd", "Tăng/giảm số dư khả dụng (đồng)"),
    ("available_after_vnd", "Số dư khả dụng sau (đồng)"),
    ("reverses", "Thu hồi của bút toán"),
    ("until", "Kéo dài đến ngày"),
    ("note", "Ghi chú"),
]

BALANCE_COLUMNS: list[tuple[str, str]] = [
    ("as_of", "Ngày số liệu"),
    *LINE_COLUMNS,
    ("assigned_vnd", "Được giao (đồng)"),
    ("received_vnd", "Trong đó nhận kế thừa từ đơn vị cũ (đồng)"),
    ("allocated_on_vnd", "Đã giao tiếp cho đơn vị dưới (đồng)"),
    ("disbursed_vnd", "Đã giải ngân (đồng)"),
    ("lapsed_vnd", "Đã hủy dự toán (đồng)"),
    ("passed_on_vnd", "Đã chuyển cho đơn vị kế thừa (đồng)"),
    ("available_vnd", "Số dư khả dụng (đồng)"),
    ("extended_vnd", "Được kéo dài (đồng)"),
    ("deadline", "Hạn giải ngân"),
]


def recorded_known_by(
    journal: Iterable[tuple[int, dict[str, Any]]], known_at: datetime | None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """The movements recorded at or before ``known_at`` (all when None): the books as they
    stood then. ``history`` run on them recomputes the running balances of that time."""
    assert known_at is None or known_at.tzinfo is not None, "compare aware times only"
    for position, movement in journal:
        if known_at is None or movement["timestamp"] <= known_at:
            yield position, movement


def effective_by(entries: Iterable[dict[str, Any]], as_of: date | None) -> list[dict[str, Any]]:
    """History entries effective on or before ``as_of`` (all when None). ``history`` orders
    them by effective date, so the running balances of what is kept stay right."""
    return [entry for entry in entries if as_of is None or entry["effective_date"] <= as_of]


def movement_rows(
    entries: Iterable[dict[str, Any]], holder_names: dict[str, str]
) -> list[dict[str, Any]]:
    """One flat row per (movement, line touched), from ``ledger.domain.audit.history`` entries."""
    rows = []
    for entry in entries:
        line = entry["line"]
        recorded_at: datetime = entry["recorded_at"]
        assert recorded_at.tzinfo is not None, "the event store keeps aware UTC timestamps"
        rows.append(
            {
                "effective_date": entry["effective_date"],
                # Finance offices read times in Vietnam; the offset keeps the CSV unambiguous.
                "recorded_at": recorded_at.astimezone(VIETNAM_TIME).replace(microsecond=0),
                "actor": entry["actor"],
                "movement_id": entry["movement_id"],
                "action": ACTION_LABELS[entry["action"]],
                "reference": entry["reference"],
                **line,
                "holder_name": holder_names.get(line["holder"]),
                "amount_vnd": entry["amount_vnd"],
                "available_change_vnd": entry["available_change_vnd"],
                "available_after_vnd": entry["available_after_vnd"],
                "reverses": entry["reverses"],
                "until": entry["until"],
                "note": entry["note"],
            }
        )
    return rows


def balance_rows(
    balances: Iterable[dict[str, Any]], as_of: date, holder_names: dict[str, str]
) -> list[dict[str, Any]]:
    """The balances read model's rows (``projections.queries.line_balances``), dated."""
    return [
        {"as_of": as_of, **row, "holder_name": holder_names.get(row["holder"])} for row in balances
    ]


def csv_text(rows: Iterable[dict[str, Any]], columns: Columns) -> str:
    """RFC 4180 CSV (comma, double quotes, ``\\r\\n``) with the columns' headers; amounts are
    plain integers of đồng and rates plain decimals with a point, so any tool reads them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([header for _, header in columns])
    for row in rows:
        writer.writerow([csv_cell(row.get(name)) for name, _ in columns])
    return buffer.getvalue()


def spreadsheet_text(text: str) -> str:
    """Text as a spreadsheet must show it, never run it: text that begins with ``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return gets a ``'`` before it (OWASP's CSV injection
    rule). Every text cell of every CSV and xlsx the ledger writes passes through here, the
    CLI's ``--format csv|xlsx`` included; numbers and dates are not text and never do, so a
    negative amount stays a number."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_cell(value: Any) -> str:
    """A value as a CSV cell, for the exports and the CLI's ``--format csv`` alike: blank for
    none, ``true``/``false``, ISO dates, two decimals for a rate, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, int):
        return str(value)
    return spreadsheet_text(str(value))


def xlsx_value(value: Any) -> Any:
    """A value for a workbook cell: numbers, dates, booleans and blanks as they are; anything
    else is text, neutralised (the caller writes it as a text cell, never a formula), its C0
    control characters but tab, line feed and carriage return shown as their symbols (U+2400
    and on: ␛ for ESC): a workbook cannot hold them, and text recorded before they were
    refused on input must still export."""
    if value is None or isinstance(value, (int, float, date)):
        return value
    return _XLSX_ILLEGAL.sub(_control_picture, spreadsheet_text(str(value)))


# What openpyxl refuses in a cell (its ILLEGAL_CHARACTERS_RE).
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _control_picture(match: re.Match[str]) -> str:
    return chr(0x2400 + ord(match.group()))


def xlsx_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same rows for a workbook: Excel holds no time zone, so times become Vietnam
    wall-clock times (the header says which)."""
    shaped = []
    for row in rows:
        copy = dict(row)
        recorded_at = copy.get("recorded_at")
        if isinstance(recorded_at, datetime):
            copy["recorded_at"] = recorded_at.astimezone(VIETNAM_TIME).replace(tzinfo=None)
        shaped.append(copy)
    return shaped
