"""What every command shares: the database and actor options, opening the ledger, turning
refusals into clear messages and exit codes, and printing tables, JSON and CSV."""

from __future__ import annotations

import csv
import functools
import getpass
import io
import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from api.errors import API_PROBLEMS, all_problems, problem_type, rule_problem
from api.services import Services
from cli.session import Session, pass_session
from cli.tables import UNITS, Kind, TableColumn, print_table
from ledger.domain.errors import InvalidInput, LedgerError
from ledger.domain.values import (
    check_characters,
    parse_date,
    parse_moment,
    parse_whole,
    read_amount,
)
from ledger.storage.availability import (
    DOES_NOT_ANSWER,
    STANDBY,
    connection_problem,
    database_errors,
    is_read_only,
    is_unavailable,
    unavailable_reason,
    unreachable_reason,
)
from ledger.storage.config import DATABASE_ENVVAR, default_database
from ledger.storage.settings import MAX_LAG_S, MIN_POSITION_WAIT_S

F = TypeVar("F", bound=Callable[..., Any])


def write_xlsx(
    path: str,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[tuple[str, str]],
    title: str,
    *,
    advance: Callable[[int], None] | None = None,
) -> None:
    """The plain tables' workbook (``write_table_xlsx``), its module imported when a workbook
    is written: a command printing a table need not load it."""
    from ledger.interchange.report_files import write_table_xlsx

    write_table_xlsx(path, rows, columns, title, advance=advance)


FORMATS = click.Choice(["table", "json", "csv"])
# A flag's mark in a table, by column key (others: "x").
FLAG_MARKS = {"below_average": "▼ below"}
EXIT_UNAVAILABLE = 75


# The command line's way on from a refusal, by rule: the ledger's message (``{message}``)
# speaks of codes and fields; these name the commands to run, from the values it carries.
HINTS = {
    "unknown-holder": "{message}; list them with 'budget-ledger units list' or register it "
    "with 'budget-ledger units add'",
    "program-not-valid": "{message}; list them with 'budget-ledger programs list' or register "
    "one with 'budget-ledger programs add'",
    "no-ledger": "{message}; create one with 'budget-ledger init --database {database}' or "
    "check the path",
    "holder-ended": "{message}; 'budget-ledger units show {code}' shows its life, "
    "'budget-ledger units show {successor}' its successor's",
}
# The command that records the movement a refusal names as its remedy.
REMEDIES = {"extend": "budget-ledger extend"}
# The option that gives a field a refusal says is missing.
OPTIONS = {
    "parent": "--parent CODE",
    "holder": "--holder CODE",
    "reverses": "--of",
    "until": "--until",
}


def with_hint(error: LedgerError) -> str:
    """The refusal as the command line tells it: the field, the ledger's message, and the
    command or option that helps."""
    message = error.message
    if error.rule in HINTS:
        try:
            message = HINTS[error.rule].format(message=message, **error.values)
        except KeyError:  # the refusal lacks a value the hint names (a holder not yet begun)
            pass
    elif error.values.get("remedy") in REMEDIES:
        message = f"{message} ({REMEDIES[error.values['remedy']]})"
    elif error.values.get("missing") and error.field in OPTIONS:
        message = f"{message} ({OPTIONS[error.field]})"
    return f"{error.field}: {message}" if error.field else message


class Refused(click.ClickException):
    """A ledger refusal: exit code 1, the field and the reason on stderr, nothing recorded."""

    exit_code = 1

    def __init__(self, error: LedgerError) -> None:
        super().__init__(with_hint(error))
        self.error = error
        self.reads_only = _reads_only()

    def format_message(self) -> str:
        said = f"refused ({self.error.rule}): {self.message}."
        return said if self.reads_only else f"{said} Nothing was recorded."


# The commands that only read: a refusal of theirs has nothing to say about recording.
READ_COMMANDS = {
    "balance", "history", "check", "verify", "export", "report progress", "units list",
    "units show", "programs list", "programs ratios", "projections status", "tokens list",
    "users list",
}  # fmt: skip


def _reads_only() -> bool:
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return False
    words = ctx.command_path.split()[1:]  # without the program's own name
    return " ".join(words) in READ_COMMANDS


class BadValue(click.BadParameter):
    """An option's value that cannot be read as what it is (an amount, a date, a time,
    text): a malformed command line, exit code 2, one line naming the option; the command
    did not run, so nothing was recorded."""

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", file=file, err=file is None)


class Value(click.ParamType[Any]):
    """An option read by one of ledger/domain/values.py's rules (the rules the API and the import
    apply too); a value it refuses is a BadValue naming the option."""

    def __init__(self, name: str, read: Callable[[str], Any]) -> None:
        self.name = name
        self._read = read

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value  # a default, already a value
        try:
            return self._read(value)
        except InvalidInput as error:
            raise BadValue(error.message, ctx=ctx, param=param) from None


class FileToRead(click.Path):
    """A file the command reads (an import, a list of successors): one that is missing, a
    directory or unreadable is one line naming it (BadValue, exit 2), without the usage."""

    def __init__(self) -> None:
        super().__init__(exists=True, dir_okay=False, readable=True, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as error:
            raise BadValue(error.message, ctx=ctx, param=param) from None


class CannotWrite(click.ClickException):
    """A file the command writes (an export, a report) that cannot be written: one line
    naming it and why (exit 1), never a traceback."""

    def __init__(self, path: str, error: OSError) -> None:
        why = error.strerror or str(error)
        super().__init__(
            f"cannot write {path}: {why}; name a file in a folder that exists and you may write to"
        )


def write_text_file(path: str, text: str) -> None:
    """``text`` to ``path`` as UTF-8, line ends as given; CannotWrite when it cannot be."""
    try:
        with open(path, "w", encoding="utf-8", newline="") as file:
            file.write(text)
    except OSError as error:
        raise CannotWrite(path, error) from None


class WholeRange(click.IntRange):
    """click.IntRange reading ASCII digits only (int() also reads "８０８０")."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            try:
                value = parse_whole(value, field="", example="a whole number")
            except InvalidInput as error:
                raise BadValue(error.message, ctx=ctx, param=param) from None
        return super().convert(value, param, ctx)


AMOUNT = Value("amount", read_amount)
YEAR = Value("year", lambda text: parse_whole(text, field="", example="a year such as 2024"))
DATE = Value("date", lambda text: parse_date(text, field=""))
TIME = Value("time", lambda text: parse_moment(text, field=""))
TEXT = Value("text", lambda text: check_characters(text, field=""))
NOTE = Value("note", lambda text: check_characters(text, field="", multiline=True))
PORT = WholeRange(1, 65535)


class Unavailable(click.ClickException):
    """The database does not answer: exit code 75 (EX_TEMPFAIL of sysexits.h, "try again
    later"), one line on stderr. A write may or may not have been recorded; sent again with
    the same movement id it is recorded at most once."""

    exit_code = EXIT_UNAVAILABLE

    def __init__(
        self, error: BaseException, movement_id: str | None = None, database: str | None = None
    ) -> None:
        """``database``: name it (PostgreSQL's host and port, and why it cannot be reached)."""
        reason = unreachable_reason(database, error) if database else unavailable_reason(error)
        super().__init__(reason)
        self.movement_id = movement_id

    def format_message(self) -> str:
        said = f"the ledger's database does not answer ({self.message})"
        if self.movement_id:
            return (
                f"{said}; movement {self.movement_id} may or may not have been recorded: once "
                f"the database answers, run the command again with --id {self.movement_id}, "
                "which records it at most once."
            )
        return (
            f"{said}; run the command again once it does. A write under way may or may not "
            "have been recorded; sent again with the same movement id (--id) it is recorded "
            "at most once."
        )


def error_document(error: click.ClickException) -> dict[str, Any]:
    """An error as JSON, with the keys of the API's problem bodies (api/errors.py): ``type``,
    ``title``, ``detail`` (the line the text would print), ``rule``, ``errors`` ``{field:
    [message]}`` when one field is at fault; and the command's ``exit_code``."""
    field: str | None = None
    said = error.message
    if isinstance(error, Refused):
        rule, title = error.error.rule, rule_problem(error.error).title
        field, said = error.error.field, error.error.message
    elif isinstance(error, Unavailable):
        rule, title = "unavailable", API_PROBLEMS["unavailable"].title
    elif isinstance(error, click.BadParameter):
        rule, title = InvalidInput.rule, rule_problem(InvalidInput("")).title
        field = error.param.opts[0] if error.param is not None and error.param.opts else None
    elif isinstance(error, click.UsageError):
        rule, title = "usage", "Malformed command line"
    else:
        rule, title = "failed", "Failed"
    body: dict[str, Any] = {"title": title, "detail": error.format_message(), "rule": rule}
    if rule in all_problems():
        body = {"type": problem_type(rule), **body}  # what the API answers for the rule
    if field:
        body["errors"] = {field: [said]}
    if isinstance(error, Unavailable) and error.movement_id:
        body["movement_id"] = error.movement_id
    body["exit_code"] = error.exit_code
    return {"error": body}


def show_json(error: click.ClickException) -> None:
    """``error_document`` on stderr, one line, for a command asked for ``--format json``."""
    click.echo(json.dumps(error_document(error), ensure_ascii=False), err=True)


def database_option(func: F) -> F:
    return click.option(
        "--database",
        envvar=DATABASE_ENVVAR,
        default=None,
        show_envvar=True,
        help=f"A SQLite file path or a postgresql:// URL [default: {default_database()}]",
    )(func)


def actor_option(func: F) -> F:
    return click.option(
        "--actor",
        type=TEXT,
        default=None,
        help="Who records this (default: your login name).",
    )(func)


DRY_RUN_DONE = "Dry run: nothing was recorded."


def dry_run_option(func: F) -> F:
    """--dry-run, on every write: see ``said_dry_run``."""
    return click.option(
        "--dry-run",
        is_flag=True,
        default=False,
        help="Check it as usual and record nothing: print what would be recorded (for a "
        "movement, also each line's available amount before and after).",
    )(func)


def said_dry_run(preview: Sequence[dict[str, Any]] = (), *, err: bool = False) -> None:
    """The end of a dry run's output: a movement's preview (``BudgetLedger.preview``) as a
    table, then the line saying nothing was recorded (to stderr, ``err``, after JSON)."""
    rows = [
        {
            "line": "/".join(str(v) for v in shown["line"].values() if v is not None),
            "date": day["date"],
            "before_vnd": day["before_vnd"],
            "after_vnd": day["after_vnd"],
        }
        for shown in preview
        for day in shown["dates"]
    ]
    if rows and not err:
        columns = [
            ("line", "line"),
            ("date", "date"),
            ("before_vnd", "available before (đồng)"),
            ("after_vnd", "available after (đồng)"),
        ]
        emit(rows, columns, "table", title="Preview", formats=None)
    click.echo(DRY_RUN_DONE, err=err)


def format_option(func: F) -> F:
    return click.option(
        "--format",
        "output_format",
        type=FORMATS,
        default="table",
        show_default=True,
        help="table for people, json or csv for scripts.",
    )(func)


def resolve_actor(actor: str | None) -> str:
    if actor:
        return actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")


@contextmanager
def refusals(database: str | None = None) -> Iterator[None]:
    """Refusals as exit code 1, a database that does not answer as exit code 75 (naming
    ``database``'s host and port when it is PostgreSQL)."""
    try:
        yield
    except LedgerError as error:
        raise Refused(error) from None
    except database_errors() as error:
        if not is_unavailable(error):
            raise
        raise Unavailable(error, database=database) from None
    except Exception as error:
        if not is_read_only(error):
            raise
        raise click.ClickException(f"{STANDBY}. Nothing was recorded") from None


def with_services(func: F) -> F:
    """Give the command the services of its --database as ``services`` (from the group's
    session, see cli/session.py) and map refusals to exit code 1, a database that does not
    answer to 75."""

    def wrapper(session: Session, /, database: str | None, **kwargs: Any) -> Any:
        with refusals(database or default_database()):
            return func(services=session.open(database), **kwargs)

    return database_option(functools.wraps(func)(pass_session(wrapper)))  # type: ignore[return-value]


READ_DATABASES_ENVVAR = "BUDGET_LEDGER_READ_DATABASES"


def read_options(func: F) -> F:
    """--read-database (repeatable), --max-lag and --min-position: where a read may be
    served from (api/routing.py says how the server uses the same)."""
    func = click.option(
        "--min-position",
        type=WholeRange(0, 2**63 - 1),
        default=None,
        help="Answer as of this log position at least (one a write answered with): a "
        "replica that has not reached it is waited for briefly, else the primary answers.",
    )(func)
    func = max_lag_option(func)
    return read_database_option(func)


def read_database_option(func: F) -> F:
    return click.option(
        "--read-database",
        "read_databases",
        multiple=True,
        envvar=READ_DATABASES_ENVVAR,
        show_envvar=True,
        help="A streaming replica of the --database primary (postgresql:// URL) to read from; "
        "repeat for several (the variable: separated by spaces). Writes go to the primary.",
    )(func)


def max_lag_option(func: F) -> F:
    return click.option(
        "--max-lag",
        "max_lag_s",
        type=click.FloatRange(min=0, min_open=True, max=3600),
        default=MAX_LAG_S,
        show_default=True,
        help="Seconds a replica may be behind the primary and still serve reads.",
    )(func)


def with_reading_services(func: F) -> F:
    """``with_services`` for a command that only reads: given ``--read-database``, the
    services of a replica that may serve it (``Services.reading``), else the primary's.
    Which one answered, at which log position, is said on stderr (the output itself is the
    same)."""

    def wrapper(
        session: Session,
        /,
        database: str | None,
        read_databases: tuple[str, ...],
        max_lag_s: float,
        min_position: int | None,
        **kwargs: Any,
    ) -> Any:
        with refusals(database or default_database()):
            primary = session.open(database, read_databases=read_databases, max_lag_s=max_lag_s)
            chosen = primary.reading(min_position)
            try:
                done = func(services=chosen, **kwargs)
            except Exception as error:
                from api.services import replica_unreachable  # loaded by session.open

                if chosen is not primary and replica_unreachable(error):
                    # The replica failed under the command (it stopped, or its read models
                    # cannot answer): the primary answers, as under a server (api/routing.py).
                    chosen.replica_failed(error)
                    chosen = primary
                elif not read_databases and is_read_only(error):
                    # --database named a standby (an auditor's replica): PostgreSQL refused
                    # the read models' catch-up, so they answer at their own position.
                    primary.read_as_standby()
                else:
                    raise
                done = func(services=chosen, **kwargs)
            if chosen.read_only:
                where = STANDBY_READ if chosen.label == "standby" else chosen.label
                position = chosen.projections().position_in_use
                click.echo(f"Read from {where}, at log position {position}.", err=True)
            elif read_databases:
                _say_why_the_primary(primary, min_position)
            return done

    wrapped = functools.wraps(func)(pass_session(wrapper))
    return database_option(read_options(wrapped))  # type: ignore[return-value]


# How the line on stderr names a standby given as --database.
STANDBY_READ = "a standby (a streaming replica)"


def _say_why_the_primary(primary: Services, min_position: int | None) -> None:
    """One line on stderr: why no replica answered."""
    replicas = primary.replicas
    assert replicas is not None
    why = []
    for replica, row in zip(replicas.replicas, replicas.status(), strict=True):
        reason = str(row.get("reason", ""))
        if row["status"] == "down" and reason.startswith(DOES_NOT_ANSWER):
            # The pool only says it got no connection in time: one direct attempt says why.
            problem = connection_problem(replica.store.database)
            reason = f"{DOES_NOT_ANSWER}: {problem}" if problem else reason
        elif row["status"] == "lagging":
            reason = (
                f"is {row['lag_s']} s behind the primary, more than --max-lag "
                f"{replicas.max_lag_s:g} s"
            )
        elif row["status"] == "ok" and min_position is not None:
            reason = f"had not reached position {min_position} within {MIN_POSITION_WAIT_S:g} s"
        elif row["status"] == "ok":  # it came back between the read and this line
            reason = "could not serve the read when it began, and serves reads again now"
        why.append(f"{replica.describe()} {reason}")
    said = f"Read from the primary: {'; '.join(why)}"
    click.echo(said if said.endswith("?") else f"{said}.", err=True)


def with_ledger(func: F) -> F:
    """``with_services`` for a command that needs only the ledger, as ``ledger``."""

    @with_services
    @functools.wraps(func)
    def wrapper(services: Services, **kwargs: Any) -> Any:
        return func(ledger=services.ledger, **kwargs)

    return wrapper  # type: ignore[return-value]


def line_options(func: F) -> F:
    """--program --kind --source --year --project: the identity of a line but its holder."""
    for option in reversed(
        [
            click.option(
                "--program",
                required=True,
                help="A program registered for the plan year (budget-ledger programs list).",
            ),
            click.option("--kind", required=True, help="DTPT (investment) or SN (recurrent)."),
            click.option("--source", required=True, help="NSTW, NSDP or KHAC."),
            click.option("--year", type=YEAR, required=True, help="The plan year, e.g. 2024."),
            click.option("--project", default=None, help="Component-project code, e.g. DA4.TDA1."),
        ]
    ):
        func = option(func)
    return func


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


def unit_option(default: str) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        return click.option(
            "--unit",
            type=click.Choice(list(UNITS)),
            default=default,
            show_default=True,
            help="Amounts in terminal tables: đồng, triệu đồng or tỷ đồng (JSON, CSV and "
            "xlsx keep whole đồng).",
        )(func)

    return decorate


def emit(
    rows: Sequence[dict[str, Any]],
    given: Sequence[tuple[str, str] | TableColumn],
    output_format: str,
    *,
    title: str | None = None,
    unit: str = "dong",
    output: str | None = None,
    formats: str | None = "csv|json",
) -> None:
    """Print rows as a terminal table (``cli/tables.py``: fitted to the terminal, no number
    cut), a JSON array, or CSV; or write an .xlsx workbook to ``output``. A column is a
    (key, header) pair, its kind read from its key and cells (``table_columns``), or a
    TableColumn; ``formats`` names the command's other --format choices (None: none)."""
    columns = [(c.key, c.header) if isinstance(c, TableColumn) else c for c in given]
    if output_format == "xlsx":
        if not output:
            raise click.UsageError("--format xlsx writes a file: give --output FILE.xlsx")
        write_xlsx(output, rows, columns, title or "report")
        click.echo(f"wrote {output}")
        return
    if output_format == "json":
        click.echo(to_json(list(rows)))
        return
    if output_format == "csv":
        # The exports' module (it loads the domain's classes) when a CSV is written: a
        # table or JSON does not need it (decisions §28).
        from ledger.interchange.export import csv_cell

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([name for name, _ in columns])
        for row in rows:
            writer.writerow([csv_cell(row.get(name)) for name, _ in columns])
        click.echo(buffer.getvalue(), nl=False)
        return
    print_table(rows, table_columns(given, rows), title=title, unit=unit, formats=formats)


def table_columns(
    columns: Sequence[tuple[str, str] | TableColumn], rows: Sequence[dict[str, Any]]
) -> list[TableColumn]:
    """The terminal table's columns: a (key, header) pair's kind is read from its key
    (``_vnd`` an amount, ``_pct`` a rate) or else from its cells' type."""
    return [
        column
        if isinstance(column, TableColumn)
        else TableColumn(
            column[0],
            column[1],
            _kind(column[0], rows),
            mark=FLAG_MARKS.get(column[0], "x"),
        )
        for column in columns
    ]


def _kind(name: str, rows: Sequence[dict[str, Any]]) -> Kind:
    if name.endswith("_vnd"):
        return "vnd"
    if name.endswith("_pct"):
        return "pct"
    value = next((row[name] for row in rows if row.get(name) is not None), None)
    if isinstance(value, bool):
        return "flag"
    if isinstance(value, datetime):
        return "time"
    if isinstance(value, date):
        return "date"
    if isinstance(value, int):
        return "count"
    return "text"
