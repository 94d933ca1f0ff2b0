"""``budget-ledger report progress``: the disbursement-progress report, in the terminal and
as the files a finance office files (CSV, xlsx, PDF) — one report, one set of columns."""

from __future__ import annotations

import textwrap
from datetime import date
from typing import Any

import click
from rich.console import Console

from api.services import Services
from cli.common import (
    DATE,
    TEXT,
    TIME,
    YEAR,
    CannotWrite,
    emit,
    to_json,
    with_reading_services,
    write_text_file,
)
from cli.projections import read_models
from cli.reads import restated_option
from cli.tables import TableColumn, print_table, terminal_width
from ledger.domain.filters import read_filters
from ledger.domain.values import today_in_vietnam
from ledger.interchange import export
from ledger.interchange.document import Document
from ledger.interchange.export import CSV_BOM
from projections.progress import (
    LEVELS,
    NEAR_DAYS,
    PERIODS,
    PLAN_STAGES,
    Report,
)
from projections.progress_document import Question, filed_report, filed_series, json_body

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
                "--year",
                type=YEAR,
                default=None,
                help="The plan year reported on (default: the report date's); a year's "
                "money is disbursed until 31 January of the next, so --year 2024 --as-of "
                "31/01/2025 reads 2024's plan at its deadline.",
            ),
            click.option(
                "--plan",
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
    help="The file to write csv, json, xlsx or pdf to (needed for xlsx and pdf; csv and json "
    "go to standard output without it).",
)
@with_reading_services
def progress_command(
    services: Services,
    as_of: str | None,
    known_at: str | None,
    holder: str | None,
    restated: bool,
    start: date | None,
    end: date | None,
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
    if output_format == "table" and output:
        raise click.UsageError(
            "--output writes csv, json, xlsx or pdf: add --format (the table is for the terminal)"
        )
    if output_format in ("xlsx", "pdf") and not output:
        raise click.UsageError(f"--format {output_format} writes a file: give --output FILE")
    question = Question(
        as_of=filters.as_of,
        known_at=filters.known_at,
        holder=filters.lines.get("holder"),
        restated=restated,
        **options,
    )
    if start or end:
        if not (start and end):
            raise click.UsageError("a series needs both --from DATE and --to DATE")
        if output_format in ("xlsx", "pdf"):
            raise click.UsageError("a series is written as table, json or csv")
        _series(services, question, start, end, output_format, output)
        return
    found, filed = progress_document(services, question)
    write_document(found, filed, output_format, dialect, output)


def progress_document(services: Services, question: Question) -> tuple[Report, Document]:
    """The report and its document (see ``filed_report``), signed today."""
    with read_models(services) as projections:
        return filed_report(projections, services.ledger, question, signed_on=today_in_vietnam())


def write_document(
    found: Report, filed: Document, output_format: str, dialect: str, output: str | None
) -> None:
    """The report in one format: to the terminal, standard output or ``output``; a file that
    cannot be written is one line naming it (nothing half written is left: see
    ``report_files``)."""
    from ledger.interchange import report_files

    if output_format == "table":
        print_document(filed)
        return
    try:
        if output_format in ("xlsx", "pdf"):
            assert output is not None
            write = report_files.write_xlsx if output_format == "xlsx" else report_files.write_pdf
            write(filed, output)
        elif output_format == "csv" and output is not None:
            report_files.write_csv(filed, output, dialect)
        else:
            if output_format == "json":
                # The rows, as this command has always printed them (scripts read an array);
                # the API's body adds what was asked, the columns and the notes around them.
                text = to_json(json_body(found, filed)["rows"]) + "\n"
            else:
                # Excel reads a file as UTF-8 only after a byte-order mark: standard output
                # may well be redirected into one.
                text = CSV_BOM + report_files.csv_text(filed, dialect)
            if output is None:
                click.echo(text, nl=False)
                return
            write_text_file(output, text)
    except OSError as error:
        raise CannotWrite(output or "", error) from None
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
        rows,
        columns,
        title=title,
        unit=filed.unit,
        formats="csv|xlsx|pdf|json",
        bold_rows=bold,
        lang=filed.lang,
    )
    width = terminal_width(Console())
    for note in filed.notes:
        click.echo(textwrap.fill(note, width=width) if width else note)


def _series(
    services: Services,
    question: Question,
    start: date,
    end: date,
    output_format: str,
    output: str | None,
) -> None:
    """The report at each month's end from --from to --to: one table, a row per month and
    row of the report."""
    with read_models(services) as projections:
        rows, filed = filed_series(projections, services.ledger, question, start, end)
    columns = [("as_of", "Ngày"), ("name", "Nội dung")]
    columns += [(column.key, column.header(filed.lang)) for column in filed.columns]
    if output_format == "table":
        emit(rows, columns, "table", title=filed.subtitle, unit=filed.unit)
        return
    if output is None:
        emit(rows, columns, output_format)
        return
    if output_format == "json":
        write_text_file(output, to_json(rows) + "\n")
    else:
        write_text_file(output, CSV_BOM + export.csv_text(rows, columns))
    click.echo(f"wrote {output}")


COMMANDS = (report,)
