# ruff: noqa: E501  (the column tables read best one column a line)
"""The progress report as a finance office files it: the ``Document`` every format renders
(terminal, CSV, xlsx, PDF), from ``projections.progress.report``. Its columns depend on what
was asked (a period adds the period's movement, a target its reach, recorded counterpart
ratios the counterpart funds, ``--plan allocated`` the plan stage), never on the format."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from ledger.application import BudgetLedger
from ledger.domain.errors import InvalidInput
from ledger.domain.programs import display_name
from ledger.domain.values import grouped_number
from ledger.interchange.document import Column, Document, Row, roman, vietnamese_date
from projections.progress import (
    NEAR_DAYS,
    NO_PROJECT,
    Asked,
    Report,
    month_ends,
    parse_by,
    parse_reference,
    report,
)
from projections.runner import Projections

KIND_NAMES = {
    "vi": {"DTPT": "Vốn đầu tư phát triển", "SN": "Vốn sự nghiệp"},
    "en": {"DTPT": "Development investment", "SN": "Recurrent"},
}
SOURCE_NAMES = {
    "vi": {"NSTW": "Ngân sách trung ương", "NSDP": "Ngân sách địa phương", "KHAC": "Nguồn khác"},
    "en": {"NSTW": "Central budget", "NSDP": "Local budget", "KHAC": "Other sources"},
}
NO_PROJECT_NAME = {"vi": "Không thuộc dự án thành phần", "en": "No component project"}
TOTAL_NAME = {"vi": "Tổng cộng", "en": "Total"}


def _plan_columns(year: int, stage: str) -> list[Column]:
    if stage == "allocated":
        band, band_en = (
            f"Kế hoạch vốn năm {year} đã giao chi tiết",
            f"Plan {year} allocated in detail",
        )
    else:
        band, band_en = f"Kế hoạch vốn năm {year}", f"Plan {year}"

    def plan(key: str, vi: str, en: str, optional: bool = False) -> Column:
        return Column(key, vi, en, "vnd", band=band, band_en=band_en, optional=optional)

    central = "NSTW đã giao chi tiết" if stage == "allocated" else "NSTW (Thủ tướng giao)"
    return [
        plan("plan_central_vnd", central, "Central (NSTW)"),
        plan("plan_vnd", "Tổng (NSTW + NSĐP)", "Total (NSTW + NSĐP)"),
        plan("plan_dtpt_vnd", "KH ĐTPT", "Plan, investment", True),
        plan("plan_sn_vnd", "KH SN", "Plan, recurrent", True),
        plan(
            "plan_extended_vnd",
            "KH vốn năm trước kéo dài",
            "Plan extended from earlier years",
            True,
        ),
    ]


def _disbursed_columns(report: Report) -> list[Column]:
    band, band_en = "Giải ngân", "Disbursed"

    def paid(key: str, vi: str, en: str, optional: bool = False) -> Column:
        return Column(key, vi, en, "vnd", band=band, band_en=band_en, optional=optional)

    columns = []
    if report.period:
        start = vietnamese_date(report.period.start)
        columns.append(
            paid(
                "disbursed_period_vnd",
                f"GN trong kỳ (từ {start})",
                f"Disbursed in the period (from {start})",
            )
        )
    return columns + [
        paid("disbursed_central_vnd", "GN lũy kế NSTW", "Disbursed, central", True),
        paid("disbursed_vnd", "GN lũy kế tổng", "Disbursed, total"),
        paid("disbursed_dtpt_vnd", "GN ĐTPT", "Disbursed, investment", True),
        paid("disbursed_sn_vnd", "GN SN", "Disbursed, recurrent", True),
        paid("disbursed_extended_vnd", "GN vốn kéo dài", "Disbursed, extended", True),
    ]


def _rate_columns(report: Report) -> list[Column]:
    band, band_en = "Tỷ lệ giải ngân (%)", "Disbursement rate (%)"

    def rate(key: str, vi: str, en: str, ratio: tuple[str, str], optional: bool = False) -> Column:
        return Column(key, vi, en, "pct", ratio, band, band_en, optional)

    columns = [
        rate("rate_central_pct", "Tỷ lệ so KH TTg giao", "Rate of the central plan", ("disbursed_central_vnd", "plan_central_vnd")),
        rate("rate_pct", "Tỷ lệ so KH địa phương giao", "Rate of the local plan", ("disbursed_vnd", "plan_vnd")),
        rate("rate_dtpt_pct", "Tỷ lệ ĐTPT", "Rate, investment", ("disbursed_dtpt_vnd", "plan_dtpt_vnd"), True),
        rate("rate_sn_pct", "Tỷ lệ SN", "Rate, recurrent", ("disbursed_sn_vnd", "plan_sn_vnd"), True),
        rate("rate_extended_pct", "Tỷ lệ vốn kéo dài", "Rate, extended", ("disbursed_extended_vnd", "plan_extended_vnd"), True),
    ]  # fmt: skip
    if report.period:
        columns.append(
            Column(
                "rate_change_pct",
                "Tăng so với kỳ trước (điểm %)",
                "Change since previous period (points)",
                "pct",
                band=band,
                band_en=band_en,
            )
        )
    return columns


def _remaining_columns() -> list[Column]:
    band, band_en = "Chưa giải ngân", "Undisbursed"
    return [
        Column("unspent_vnd", "Chưa giải ngân", "Undisbursed", "vnd", band=band, band_en=band_en),
        Column(
            "proposed_extension_vnd",
            "Đề nghị kéo dài",
            "To propose for extension",
            "vnd",
            band=band,
            band_en=band_en,
            optional=True,
        ),
        Column(
            "proposed_lapse_vnd",
            "Đã kéo dài, dự kiến hủy",
            "Extended already, to lapse",
            "vnd",
            band=band,
            band_en=band_en,
            optional=True,
        ),
    ]


def _counterpart_columns() -> list[Column]:
    band, band_en = "Vốn đối ứng NSĐP", "Counterpart funds (NSĐP)"
    return [
        Column("plan_current_central_vnd", "KH NSTW năm nay", "Central plan this year", "vnd", band=band, band_en=band_en, optional=True),
        Column("counterpart_vnd", "NSĐP đã bố trí", "NSĐP planned", "vnd", band=band, band_en=band_en),
        Column("counterpart_required_vnd", "NSĐP phải bố trí", "NSĐP required", "vnd", band=band, band_en=band_en),
        Column("counterpart_pct", "Tỷ lệ đối ứng (%)", "Ratio (%)", "pct", ("counterpart_vnd", "plan_current_central_vnd"), band, band_en, True),
        Column("counterpart_short", "Thiếu vốn đối ứng", "Counterpart short", "flag", band=band, band_en=band_en),
    ]  # fmt: skip


def _allocation_columns() -> list[Column]:
    band, band_en = "Giao chi tiết", "Allocated in detail"
    return [
        Column("plan_assigned_vnd", "KH được giao", "Assigned", "vnd", band=band, band_en=band_en),
        Column("plan_allocated_vnd", "Đã giao chi tiết", "Allocated", "vnd", band=band, band_en=band_en),
        Column("allocated_pct", "Tỷ lệ giao chi tiết (%)", "Allocated (%)", "pct", ("plan_allocated_vnd", "plan_assigned_vnd"), band, band_en),
        Column("allocated_all_count", "Số đơn vị giao hết", "Units fully allocated", "count", band=band, band_en=band_en),
        Column("units_count", "Số đơn vị", "Units", "count", band=band, band_en=band_en),
    ]  # fmt: skip


def columns_of(report: Report) -> list[Column]:
    """The report's columns, the same in every format, from what was asked."""
    asked = report.asked
    columns = _plan_columns(report.year, asked.plan)
    columns += _disbursed_columns(report) + _rate_columns(report)
    columns += _remaining_columns()
    if asked.ratios:
        columns += _counterpart_columns()
    if asked.plan == "allocated":
        columns += _allocation_columns()
    if asked.target_pct is not None:
        target = f"{asked.target_pct:g}".replace(".", ",")
        columns += [
            Column("projected_rate_pct", "Ước tỷ lệ cuối năm (%)", "Year-end rate at this pace (%)", "pct"),
            Column("off_target", f"Không đạt {target}%", f"Below {target}%", "flag"),
        ]  # fmt: skip
    columns.append(Column("below_average", "Thấp hơn bình quân", "Below average", "flag"))
    return columns


def document(
    report: Report,
    *,
    program_names: Mapping[str, str],
    lang: str = "vi",
    unit: str = "trieu",
    issuer: str | None = None,
    place: str | None = None,
    signed_on: date | None = None,
) -> Document:
    """The filed report: heading, title with the date, rows numbered and named, notes."""
    asked = report.asked
    holder_name = _holder_name(report, report.scope) or report.scope
    rows = []
    counters: dict[tuple[str, ...], int] = {}
    for figures in report.rows:
        path = tuple(figures["path"])
        if not path:
            rows.append(Row("total", (), "", None, TOTAL_NAME[lang], figures))
            continue
        number = counters.get(path[:-1], 0) + 1
        counters[path[:-1]] = number
        level = asked.by[len(path) - 1]
        code, name = _named(report, level, path[-1], program_names, lang)
        rows.append(
            Row(
                figures["row_kind"],
                path,
                _stt(len(path), len(asked.by), number),
                code,
                name,
                figures,
            )
        )
    date_text = vietnamese_date(asked.as_of)
    if lang == "en":
        title = f"DISBURSEMENT OF NATIONAL TARGET PROGRAM FUNDS TO {date_text}"
        subtitle = f"{holder_name}, as of {date_text}"
    else:
        title = f"BÁO CÁO TÌNH HÌNH GIẢI NGÂN VỐN CÁC CHƯƠNG TRÌNH MỤC TIÊU QUỐC GIA ĐẾN NGÀY {date_text}"
        subtitle = f"{holder_name}"
    if asked.known_at is not None:
        moment = asked.known_at.strftime("%H:%M %d/%m/%Y")
        subtitle += f" ({'as the books stood at' if lang == 'en' else 'theo sổ sách lúc'} {moment})"
    if asked.restated:
        subtitle += ", through today's holder tree" if lang == "en" else ", theo địa giới hiện nay"
    return Document(
        issuer=issuer or holder_name.upper(),
        title=title,
        subtitle=subtitle,
        as_of=asked.as_of,
        known_at=asked.known_at,
        unit=unit,
        columns=columns_of(report),
        rows=rows,
        notes=notes(report, lang),
        lang=lang,
        place=place,
        signed_on=signed_on,
    )


def notes(report: Report, lang: str) -> list[str]:
    """The lines under the table: the average, the references beside it, the plan stage's
    count, the target's reach, and which books were read."""
    asked = report.asked
    total = report.total
    details = report.details
    found = []
    average = report.average_pct
    below = sum(1 for row in details if row["below_average"])
    if average is not None:
        if lang == "en":
            found.append(
                f"Average rate: {_pct(average, lang)}; {below} of {len(details)} rows below it."
            )
        else:
            found.append(
                f"Tỷ lệ giải ngân bình quân: {_pct(average, lang)}; {below}/{len(details)} dòng thấp hơn "
                "bình quân."
            )
    for label, rate in report.references:
        own = _pct(average, lang) if average is not None else "-"
        if lang == "en":
            found.append(f"Reference: {label} {_pct(rate, lang)} (this report: {own}).")
        else:
            found.append(f"Tham chiếu: {label} {_pct(rate, lang)} (báo cáo này: {own}).")
    if asked.plan == "allocated":
        allocated = total["plan_allocated_vnd"]
        count, rows = total["allocated_all_count"], total["units_count"]
        rate = total["allocated_pct"]
        if lang == "en":
            found.append(
                f"{count}/{rows} units have allocated all of their plan in detail; allocated in "
                f"detail {_amount(allocated, lang)} đồng, {_pct(rate, lang)} of the plan assigned."
            )
        else:
            found.append(
                f"{count}/{rows} đơn vị đã giao chi tiết hết kế hoạch; đã giao chi tiết "
                f"{_amount(allocated, lang)} đồng, đạt {_pct(rate, lang)} kế hoạch được giao."
            )
    if asked.target_pct is not None:
        off = sum(1 for row in details if row.get("off_target"))
        target = _pct(asked.target_pct, lang)
        if lang == "en":
            found.append(
                f"Target {target}: {off} of {len(details)} rows cannot reach it at their pace so far."
            )
        else:
            found.append(
                f"Mục tiêu {target}: {off}/{len(details)} dòng không đạt nếu giữ tốc độ giải ngân "
                "bình quân từ đầu năm."
            )
    if report.period:
        start, end = vietnamese_date(report.period.start), vietnamese_date(asked.as_of)
        previous = vietnamese_date(report.period.previous_end)
        if lang == "en":
            found.append(f"Period: {start} to {end}; change against the rate on {previous}.")
        else:
            found.append(
                f"Kỳ báo cáo: từ {start} đến {end}; so sánh với tỷ lệ đến ngày {previous}."
            )
    near = asked.near_days
    if lang == "en":
        found.append(
            f"Undisbursed near its deadline: deadline within {near} days of the report date."
        )
    else:
        found.append(
            f"Đề nghị kéo dài / dự kiến hủy: vốn chưa giải ngân có hạn giải ngân trong {near} ngày tới."
        )
    return found


def _holder_name(report: Report, code: str) -> str | None:
    life = report.tree.holders.get(code)
    return life.name_on(report.tree.day) if life else None


def _named(
    report: Report, level: str, key: str, program_names: Mapping[str, str], lang: str
) -> tuple[str | None, str]:
    if level == "holder":
        return key, _holder_name(report, key) or key
    if level == "program":
        return key, program_names.get(key, key)
    if level == "kind":
        return key, KIND_NAMES[lang].get(key, key)
    if level == "source":
        return key, SOURCE_NAMES[lang].get(key, key)
    assert level == "project", level
    if key == NO_PROJECT:
        return None, NO_PROJECT_NAME[lang]
    return key, key


def _stt(depth: int, levels: int, number: int) -> str:
    """One level: 1, 2, 3. Several: I, II / 1, 2 / a, b / -."""
    if levels == 1:
        return str(number)
    style = ["I", "1", "a"][depth - 1] if depth <= 3 else "-"
    if style == "I":
        return roman(number)
    if style == "1":
        return str(number)
    if style == "a":
        return chr(ord("a") + (number - 1) % 26)
    return "-"


def _pct(value: float | None, lang: str = "vi") -> str:
    return "-" if value is None else grouped_number(value, 2, lang) + "%"


def _amount(value_vnd: int, lang: str = "vi") -> str:
    return grouped_number(value_vnd, 0, lang)


def json_body(report: Report, found: Document) -> dict[str, Any]:
    """The report as JSON (CLI ``--format json`` and the API): what was asked, the columns,
    the notes, and every row with all its figures in đồng; rows in print order but the
    total last, labelled ``TOTAL`` under the first level (as the API has always given it)."""
    asked = report.asked
    rows = []
    for row in found.rows[1:] + found.rows[:1]:
        shaped = {**row.values, "stt": row.stt, "code": row.code, "name": row.name}
        if row.kind == "total":
            shaped[asked.by[0]] = "TOTAL"
        rows.append(shaped)
    return {
        "as_of": asked.as_of,
        "known_at": asked.known_at,
        "by": ",".join(asked.by),
        "holder": report.scope,
        "plan": asked.plan,
        "period": (
            {
                "kind": report.period.kind,
                "start": report.period.start,
                "previous_start": report.period.previous_start,
            }
            if report.period
            else None
        ),
        "target_pct": asked.target_pct,
        "average_pct": report.average_pct,
        "references": [{"label": label, "rate_pct": rate} for label, rate in report.references],
        "title": found.title,
        "columns": [
            {"key": column.key, "header": column.header(found.lang)} for column in found.columns
        ],
        "notes": found.notes,
        "rows": rows,
    }


@dataclass(frozen=True)
class Question:
    """A progress report as the CLI, the API and the exports ask it: the report's options
    (``Asked`` less what the ledger supplies) and the document's."""

    as_of: date
    known_at: datetime | None = None
    holder: str | None = None
    restated: bool = False
    by: str = "holder"
    plan: str = "assigned"
    period: str | None = None
    target: float | None = None
    references: tuple[str, ...] = ()
    near_days: int = NEAR_DAYS
    year: int | None = None
    lang: str = "vi"
    unit: str = "trieu"
    issuer: str | None = None
    place: str | None = None


def filed_report(
    projections: Projections,
    ledger: BudgetLedger,
    question: Question,
    *,
    signed_on: date | None = None,
) -> tuple[Report, Document]:
    """The report and its document: the one path of the CLI, the API and the exports. The
    counterpart ratios are those recorded by ``known_at``, as the rest of the books."""
    references = [parse_reference(text) for text in question.references]
    plan_year = question.year if question.year is not None else question.as_of.year
    asked = Asked(
        as_of=question.as_of,
        known_at=question.known_at,
        holder=question.holder,
        by=parse_by(question.by),
        plan=question.plan,
        period=question.period,
        target_pct=question.target,
        restated=question.restated,
        near_days=question.near_days,
        ratios=ledger.counterpart_ratios(plan_year, question.known_at),
        year=question.year,
    )
    found = report(projections, asked)
    found.references.extend(references)
    names = {p.code: display_name(p, question.lang) for p in ledger.list_programs()}
    filed = document(
        found,
        program_names=names,
        lang=question.lang,
        unit=question.unit,
        issuer=question.issuer,
        place=question.place,
        signed_on=signed_on,
    )
    return found, filed


def filed_series(
    projections: Projections, ledger: BudgetLedger, question: Question, start: date, end: date
) -> tuple[list[dict[str, Any]], Document]:
    """The report at each month's end from ``start`` to ``end`` (and at ``end``): the JSON
    rows of each, with ``as_of``, and the last month's document (its columns and labels)."""
    if end < start:
        raise InvalidInput("is before the first month asked for (from)", field="to")
    if question.period not in (None, "month"):
        raise InvalidInput("a series (from, to) is month by month", field="period")
    rows: list[dict[str, Any]] = []
    filed: Document | None = None
    for day in month_ends(start, end):
        found, filed = filed_report(projections, ledger, replace(question, as_of=day, period=None))
        rows += [{"as_of": day, **row} for row in json_body(found, filed)["rows"]]
    assert filed is not None
    return rows, filed
