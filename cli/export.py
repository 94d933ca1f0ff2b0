"""``budget-ledger export``: the ledger's tables for finance offices (CSV, xlsx), its journal
for hledger, and a Fiscal Data Package. The choices are in docs/export.md."""

from __future__ import annotations

import functools
import json
import shutil
import tempfile
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

from api.services import Services
from cli.bars import progress_bar, quiet_option
from cli.common import (
    DATE,
    TEXT,
    TIME,
    CannotWrite,
    with_reading_services,
    write_text_file,
    write_xlsx,
)
from cli.projections import read_models
from cli.reads import filter_options
from cli.report import progress_document, write_document
from ledger.application import BudgetLedger, Reached
from ledger.domain.audit import history
from ledger.domain.filters import line_filters
from ledger.domain.values import check_code, parse_date, parse_moment, today_in_vietnam
from ledger.interchange import datapackage, export, hledger
from projections.progress import LEVELS
from projections.progress_document import Question
from projections.queries import line_balances

FORMATS = ("csv", "xlsx", "hledger", "datapackage")
TABLES = ("movements", "balances", "progress")


@click.command("export")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    required=True,
    help="csv or xlsx: one table (--what); hledger: the whole journal; datapackage: a "
    "Fiscal Data Package (a directory, or a .zip).",
)
@click.option(
    "--what",
    type=click.Choice(TABLES),
    default=None,
    help="The table csv and xlsx write [default: movements].",
)
@click.option(
    "--output",
    default=None,
    help="The file (or datapackage directory, or .zip) to write; csv and hledger go to "
    "standard output without it.",
)
@filter_options
@click.option(
    "--decision", type=TEXT, default=None, help="Movements citing this decision or voucher."
)
@click.option(
    "--as-of",
    "as_of",
    type=DATE,
    default=None,
    help="Movements effective on or before this date (default: all); balances and progress "
    "on this date (default: today).",
)
@click.option(
    "--known-at",
    "known_at",
    type=TIME,
    default=None,
    help="Only what was recorded at or before this time (default: now); dd/mm/yyyy HH:MM or "
    "ISO, Vietnam time unless an offset is given.",
)
@click.option(
    "--by",
    default="holder",
    show_default=True,
    help=f"Progress rows, as report progress --by: {', '.join(LEVELS)}, several separated by "
    "commas (e.g. program,holder).",
)
@quiet_option
@with_reading_services
def export_command(
    services: Services,
    output_format: str,
    what: str | None,
    output: str | None,
    decision: str | None,
    as_of: str | None,
    known_at: str | None,
    by: str,
    quiet: bool,
    **filters: Any,
) -> None:
    """Write movements, balances or the progress report as CSV or xlsx with the Vietnamese
    headers finance offices exchange; the journal for hledger; or a Fiscal Data Package.
    Amounts are whole đồng."""
    ledger = services.ledger
    chosen = line_filters(filters)
    reading = functools.partial(
        progress_bar, "reading the log", ledger.head_position(), unit="events", quiet=quiet
    )
    day = parse_date(as_of, field="as_of") if as_of else None
    moment = parse_moment(known_at, field="known_at") if known_at else None
    if output_format in ("xlsx", "datapackage") and not output:
        raise click.UsageError(f"--format {output_format} writes files: give --output")
    if output_format in ("hledger", "datapackage"):
        if what is not None:
            raise click.UsageError(f"--what applies to csv and xlsx, not {output_format}")
    if output_format == "hledger":
        if chosen or decision:
            # A journal must hold each line's whole history: its balance assertions and the
            # balances hledger computes depend on every movement. Filter in hledger instead.
            raise click.UsageError(
                "--format hledger exports every line; filter with hledger's own queries "
                "(e.g. hledger balance ^GNBV:DTPT)"
            )
        with reading() as bar:
            text = _hledger(ledger, day, moment, bar.reach)
        _write_text(output, text)
        return
    if output_format == "datapackage":
        assert output is not None
        if decision:
            raise click.UsageError("--decision applies to csv and xlsx")
        with reading() as bar:
            try:
                _write_datapackage(
                    services, Path(output), chosen, day or today_in_vietnam(), moment, bar.reach
                )
            except OSError as error:
                raise CannotWrite(output, error) from None
        click.echo(f"wrote {output}")
        return
    if what == "progress":
        _progress(services, output_format, output, chosen, decision, day, moment, by)
        return
    with reading() as bar:
        rows, columns, title = _table(
            services, what or "movements", chosen, decision, day, moment, by, bar.reach
        )
    if output_format == "csv":
        _write_text(output, export.CSV_BOM + export.csv_text(rows, columns))
        return
    assert output is not None
    with progress_bar(f"writing {output}", len(rows), unit="rows", quiet=quiet) as bar:
        try:
            write_xlsx(output, export.xlsx_rows(rows), columns, title, advance=bar.advance)
        except OSError as error:
            raise CannotWrite(output, error) from None
    click.echo(f"wrote {output}")


def _table(
    services: Services,
    what: str,
    filters: dict[str, Any],
    decision: str | None,
    day: date | None,
    moment: datetime | None,
    by: str,
    reached: Reached,
) -> tuple[list[dict[str, Any]], list[tuple[str, str]], str]:
    ledger = services.ledger
    names = _holder_names(ledger)
    if what == "movements":
        return (
            export.movement_rows(_entries(ledger, filters, decision, day, moment, reached), names),
            export.MOVEMENT_COLUMNS,
            "Nghiệp vụ",
        )
    if decision:
        raise click.UsageError("--decision applies to --what movements")
    day = day or today_in_vietnam()
    if what == "balances":
        with read_models(services) as projections:
            balances = line_balances(projections, filters, day, moment)
        return export.balance_rows(balances, day, names), export.BALANCE_COLUMNS, "Số dư"
    raise AssertionError(what)


def _progress(
    services: Services,
    output_format: str,
    output: str | None,
    filters: dict[str, Any],
    decision: str | None,
    day: date | None,
    moment: datetime | None,
    by: str,
) -> None:
    """The progress report, exactly as ``report progress --format csv|xlsx`` writes it."""
    if decision:
        raise click.UsageError("--decision applies to --what movements")
    if set(filters) - {"holder"}:
        raise click.UsageError("--what progress takes --holder (whose subtree), not line filters")
    scope = check_code(filters["holder"], field="holder") if "holder" in filters else None
    found, filed = progress_document(
        services,
        Question(as_of=day or today_in_vietnam(), known_at=moment, holder=scope, by=by),
    )
    write_document(found, filed, output_format, "standard", output)


def _entries(
    ledger: BudgetLedger,
    filters: dict[str, Any],
    decision: str | None,
    day: date | None,
    moment: datetime | None,
    reached: Reached | None = None,
) -> list[dict[str, Any]]:
    journal = export.recorded_known_by(ledger.journal(reached), moment)
    return export.effective_by(history(journal, decision=decision, **filters), day)


def _holder_names(ledger: BudgetLedger) -> dict[str, str]:
    """Each holder's name now (a holder renamed since it was registered: its new name)."""
    return {code: holder.name for code, holder in ledger.holders().items()}


def _hledger(
    ledger: BudgetLedger, day: date | None, moment: datetime | None, reached: Reached
) -> str:
    title = "Budget ledger journal"
    if day:
        title += f", movements effective on or before {day.isoformat()}"
    if moment:
        title += f", as recorded by {moment.isoformat()}"
    return hledger.journal_text(_entries(ledger, {}, None, day, moment, reached), title=title)


def _write_text(output: str | None, text: str) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    # newline="" keeps the CSV's \r\n line ends exactly as written.
    write_text_file(output, text)
    click.echo(f"wrote {output}")


def _write_datapackage(
    services: Services,
    output: Path,
    filters: dict[str, Any],
    day: date,
    moment: datetime | None,
    reached: Reached,
) -> None:
    ledger = services.ledger
    names = _holder_names(ledger)
    with read_models(services) as projections:
        balances = line_balances(projections, filters, day, moment)
    files = {
        datapackage.BALANCES_PATH: export.csv_text(
            export.balance_rows(balances, day, names),
            [(name, name) for name, _ in export.BALANCE_COLUMNS],
        ),
        datapackage.MOVEMENTS_PATH: export.csv_text(
            datapackage.movement_rows(_entries(ledger, filters, None, day, moment, reached), names),
            [(name, name) for name, _ in export.MOVEMENT_COLUMNS],
        ),
        "datapackage.json": export_json(
            datapackage.descriptor(
                as_of=day,
                known_at=moment,
                created=datetime.now(UTC),
                programs=[program.code for program in ledger.list_programs()],
            )
        ),
    }
    if output.suffix == ".zip":
        with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, text in files.items():
                archive.writestr(name, text)
        return
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise click.UsageError(f"{output} exists and is not an empty directory; name a new one")
    # Write beside the target, then move it in, so a failure leaves no half-written package.
    staging = Path(tempfile.mkdtemp(prefix=".datapackage-", dir=output.parent.resolve()))
    try:
        for name, text in files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="")
        if output.exists():
            output.rmdir()
        staging.rename(output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def export_json(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


COMMANDS = (export_command,)
