"""``budget-ledger report progress``: the disbursement-progress report, in the terminal and
as the files a finance office files (CSV, xlsx, PDF) — one report, one set of columns."""

from __future__ import annotations

import textwrap
from datetime import date, datetime
from typing import Any

import click
from rich.console import Console

from api.services import Services
from cli.common import DATE, TEXT, TIME, emit, to_json, with_services
from cli.projections import read_models
from cli.reads import restated_option
from cli.tables import TableColumn, print_table, terminal_width
from ledger.domain.errors import InvalidInput
from ledger.domain.filters import read_filters
from ledger.domain.values import today_in_vietnam
from ledger.interchange.document import Document
from ledger.interchange.export import CSV_BOM
from projections.progress import (
    LEVELS,
    NEAR_DAYS,
    PERIODS,
    PLAN_STAGES,
    Asked,
    Report,
    month_ends,
    parse_by,
    parse_reference,
)
from projections.progress_document import filed_report, json_body

FORMATS = ("table", "json", "csv", "xlsx", "pdf")


@click.group("report")
def report() -> None:
    """Reports read from the read models."""


def progress_options(func: Any) -> Any:
    """The report's options, shared by ``report progress`` and ``export --what progress``."""
    for option in reversed(
        [
            click.option(
                "--by",
                default="holder",
                show_default=True,
                help=f"Rows per level, several separated by commas and grouped in that order "
                f"with subtotals: {', '.join(LEVELS)} (e.g. program,project,holder).",
            ),
            click.option(
                "--plan",
                "plan_stage",
                type=click.Choice(PLAN_STAGES),
                default="assigned",
                show_default=True,
                help="The plan a rate divides by: what each holder was assigned, or what it "
                "has allocated on in detail (with the count of holders that allocated all).",
            ),
            click.option(
                "--period",
                type=click.Choice(PERIODS),
                default=None,
                help="Add what was disbursed in the month, fortnight or week ending on "
                "--as-of, and the change since the previous one. With --from and --to "
                "(month only): the report at each month's end.",
            ),
            click.option(
                "--target",
                type=click.FloatRange(0, 100, min_open=True),
                default=None,
                help="A year-end target rate (e.g. 95): flags rows that cannot reach it at "
                "their average daily pace so far.",
            ),
            click.option(
                "--reference",
                "references",
                multiple=True,
                type=TEXT,
                help='An outside rate printed beside the report\'s, e.g. "cả nước=32" '
                "(repeatable).",
            ),
            click.option(
                "--near",
                "near_days",
                type=click.IntRange(0, 3660),
                default=NEAR_DAYS,
                show_default=True,
                help="Undisbursed money whose deadline falls within this many days is proposed "
                "for extension (or, extended already, to lapse).",
            ),
            click.option(
                "--lang",
                type=click.Choice(["vi", "en"]),
                default="vi",
                show_default=True,
                help="Headers, names and notes in Vietnamese or English.",
            ),
            click.option(
                "--issuer",
                type=TEXT,
                default=None,
                help="The issuing body in the heading, e.g. 'SỞ TÀI CHÍNH TỈNH LAI CHÂU' "
                "(default: the holder's name).",
            ),
            click.option(
                "--place",
                type=TEXT,
                default=None,
                help="The place on the signing line, e.g. 'Lai Châu'.",
            ),
            click.option(
                "--unit",
                type=click.Choice(["dong", "trieu", "ty"]),
                default="trieu",
                show_default=True,
                help="Amounts in đồng, triệu đồng or tỷ đồng (the table, xlsx and PDF; JSON "
                "and CSV keep whole đồng).",
            ),
        ]
    ):
        func = option(func)
    return func


@report.command("progress")
@click.option("--as-of", "as_of", type=DATE, default=None, help="Report date (default: today).")
@click.option(
    "--known-at",
    "known_at",
    type=TIME,
    default=None,
    help="As the books stood at this time (default: now).",
)
@click.option(
    "--holder",
    default=None,
    help="Whose subtree (default: the root), as the tree stood on the report date.",
)
@restated_option
@progress_options
@click.option("--from", "start", type=DATE, default=None, help="First month of a series.")
@click.option("--to", "end", type=DATE, default=None, help="Last date of a series.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
)
@click.option(
    "--dialect",
    type=click.Choice(["standard", "vn"]),
    default="standard",
    show_default=True,
    help="CSV: standard (comma, decimal point) or vn (semicolon, decimal comma: Excel on "
    "a Vietnamese-locale PC opens it in columns).",
)
@click.option(
    "--output",
    default=None,
    help="The file to write (needed for xlsx and pdf; json and csv go to standard output "
    "without it).",
)
@with_services
def progress_command(
    services: Services,
    as_of: str | None,
    known_at: str | None,
    holder: str | None,
    restated: bool,
    start: str | None,
    end: str | None,
    output_format: str,
    dialect: str,
    output: str | None,
    **options: Any,
) -> None:
    """Plan, disbursed and rate against both plans (the central plan the Prime Minister
    assigned and the locality's whole plan), investment and recurrent side by side, earlier
    years' extended capital apart, unspent and what is near its deadline, the table's
    average and the rows below it flagged; with subtotals per level of --by."""
    filters = read_filters({"holder": holder, "as_of": as_of, "known_at": known_at})
    if start or end:
        _series(services, filters, restated, start, end, output_format, output, options)
        return
    if output_format in ("xlsx", "pdf") and not output:
        raise click.UsageError(f"--format {output_format} writes a file: give --output FILE")
    found, filed = progress_document(
        services,
        as_of=filters.as_of,
        known_at=filters.known_at,
        holder=filters.lines.get("holder"),
        restated=restated,
        **options,
    )
    write_document(found, filed, output_format, dialect, output)


def progress_document(
    services: Services,
    *,
    as_of: date,
    known_at: datetime | None,
    holder: str | None,
    restated: bool,
    by: str,
    plan_stage: str,
    period: str | None,
    target: float | None,
    references: tuple[str, ...],
    near_days: int,
    lang: str,
    issuer: str | None,
    place: str | None,
    unit: str,
) -> tuple[Report, Document]:
    """The report and its document, from the options of ``progress_options``."""
    asked = Asked(
        as_of=as_of,
        known_at=known_at,
        holder=holder,
        by=parse_by(by),
        plan=plan_stage,
        period=period,
        target_pct=target,
        restated=restated,
        near_days=near_days,
        ratios=services.ledger.counterpart_ratios(as_of.year),
    )
    outside = [parse_reference(text) for text in references]
    names = {program.code: program.name for program in services.ledger.list_programs()}
    with read_models(services) as projections:
        return filed_report(
            projections,
            asked,
            program_names=names,
            references=outside,
            lang=lang,
            unit=unit,
            issuer=issuer,
            place=place,
            signed_on=today_in_vietnam(),
        )


def write_document(
    found: Report, filed: Document, output_format: str, dialect: str, output: str | None
) -> None:
    """The report in one format: to the terminal, standard output or ``output``."""
    if output_format == "table":
        print_document(filed)
        return
    if output_format in ("xlsx", "pdf"):
        from ledger.interchange import report_files

        assert output is not None
        write = report_files.write_xlsx if output_format == "xlsx" else report_files.write_pdf
        write(filed, output)
        click.echo(f"wrote {output}")
        return
    if output_format == "csv" and output is not None:
        from ledger.interchange import report_files

        report_files.write_csv(filed, output, dialect)
        click.echo(f"wrote {output}")
        return
    if output_format == "json":
        # The rows, as this command has always printed them (scripts read an array); the
        # API's body adds what was asked, the columns and the notes around them.
        text = to_json(json_body(found, filed)["rows"]) + "\n"
    else:
        from ledger.interchange import report_files

        # Excel reads a file as UTF-8 only after a byte-order mark: standard output may
        # well be redirected into one.
        text = CSV_BOM + report_files.csv_text(filed, dialect)
    if output is None:
        click.echo(text, nl=False)
        return
    with open(output, "w", encoding="utf-8", newline="") as file:
        file.write(text)
    click.echo(f"wrote {output}")


def document_table(filed: Document) -> tuple[list[dict[str, Any]], list[TableColumn], list[int]]:
    """The document as the terminal shows it: rows (the label with its number first), the
    columns, and the rows to print in bold (totals and groups)."""
    label = "Nội dung" if filed.lang == "vi" else "Item"
    columns = [TableColumn("label", label, "text")]
    columns += [
        TableColumn(column.key, column.header(filed.lang), column.kind, column.optional)
        for column in filed.columns
    ]
    rows = [
        {**row.values, "label": f"{row.stt}. {row.label}" if row.stt else row.label}
        for row in filed.rows
    ]
    bold = [index for index, row in enumerate(filed.rows) if row.kind != "detail"]
    return rows, columns, bold


def print_document(filed: Document) -> None:
    """The document as a terminal table: the title, the unit, the rows (totals in bold) and
    the notes. A narrow terminal leaves out the optional columns first (print_table)."""
    rows, columns, bold = document_table(filed)
    title = f"{filed.title}\n{filed.subtitle or ''}\n{filed.unit_line}"
    print_table(
        rows, columns, title=title, unit=filed.unit, formats="csv|xlsx|pdf|json", bold_rows=bold
    )
    width = terminal_width(Console())
    for note in filed.notes:
        click.echo(textwrap.fill(note, width=width) if width else note)


def _series(
    services: Services,
    filters: Any,
    restated: bool,
    start: str | None,
    end: str | None,
    output_format: str,
    output: str | None,
    options: dict[str, Any],
) -> None:
    """The report at each month's end from --from to --to: one table, a row per month and
    row of the report."""
    if not (start and end):
        raise click.UsageError("a series needs both --from DATE and --to DATE")
    if options["period"] not in (None, "month"):
        raise click.UsageError("a series (--from, --to) is month by month: --period month")
    if output_format in ("xlsx", "pdf"):
        raise click.UsageError("a series is written as table, json or csv")
    first, last = DATE.convert(start, None, None), DATE.convert(end, None, None)
    if last < first:
        raise InvalidInput("is before the first month asked for (from)", field="to")
    rows: list[dict[str, Any]] = []
    filed: Document | None = None
    for day in month_ends(first, last):
        found, filed = progress_document(
            services,
            as_of=day,
            known_at=filters.known_at,
            holder=filters.lines.get("holder"),
            restated=restated,
            **{**options, "period": None},
        )
        labels = [row.label for row in filed.rows[1:] + filed.rows[:1]]
        for label, row in zip(labels, json_body(found, filed)["rows"], strict=True):
            rows.append({"as_of": day, "label": label, **row})
    assert filed is not None
    columns = [("as_of", "Ngày"), ("label", "Nội dung")]
    columns += [(column.key, column.header(filed.lang)) for column in filed.columns]
    if output_format == "table":
        emit(rows, columns, "table", title=filed.subtitle, unit=filed.unit)
        return
    emit(rows, columns, output_format, output=output)
