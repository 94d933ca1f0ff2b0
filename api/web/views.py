"""The pages' views: sign-in, sign-out, the progress page and its downloads."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as AnyResponse

from api.auth import caller, read_models, require_scope, services
from api.people import SignInRefused, SignInThrottled
from api.web.downloads import attachment
from api.web.session import (
    CSRF_FIELD,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    login_csrf,
    login_csrf_valid,
    page_headers,
    people,
    set_cookie,
)
from api.web.words import ACTIONS, FIGURES, LANGS, named, word
from ledger.domain.errors import InvalidInput
from ledger.domain.values import (
    VIETNAM_TIME,
    grouped_number,
    parse_date,
    parse_moment,
    today_in_vietnam,
)
from ledger.interchange.document import Column, Document, Row
from ledger.interchange.report_files import csv_text, figure_text, write_xlsx
from projections.progress import Report
from projections.progress_document import Question, filed_report

blp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/web",
)
blp.after_request(page_headers)

BY_CHOICES = ("holder", "program", "kind", "source")
# The columns the page shows (the downloads carry all of them): the plan, disbursed and
# rate in total, investment and recurrent side by side, extended capital apart.
PAGE_COLUMNS = (
    "plan_vnd", "disbursed_vnd", "rate_pct",
    "plan_dtpt_vnd", "disbursed_dtpt_vnd", "rate_dtpt_pct",
    "plan_sn_vnd", "disbursed_sn_vnd", "rate_sn_pct",
    "plan_extended_vnd", "disbursed_extended_vnd", "rate_extended_pct",
    "unspent_vnd", "below_average",
)  # fmt: skip


def lang() -> str:
    asked = request.args.get("lang", "vi")
    return asked if asked in LANGS else "vi"


@blp.app_context_processor
def page_words() -> dict[str, Any]:
    current = lang() if request else "vi"

    def t(key: str, **values: str) -> str:
        return word(key, current, **values)

    def here(**changes: Any) -> str:
        return with_query(request.path, **changes)

    return {
        "t": t,
        "lang": current,
        "here": here,
        "link": with_query,
        "vnd": lambda amount: grouped_number(amount, 0, current),
        "day": lambda value: shown_day(value, current),
        "moment": lambda value: shown_moment(value, current),
        "figure": lambda name: named(FIGURES, name, current),
        "action": lambda code: named(ACTIONS, code, current),
        "line_url": line_url,
        "pct": lambda value: "" if value is None else grouped_number(value, 2, current) + "%",
        "csrf_field": CSRF_FIELD,
        "person": g.get("token"),
        "session": g.get("web_session"),
    }


def shown_day(value: date | str, lang: str) -> str:
    """A date as the office writes it: 17/09/2024 (2024-09-17 in English)."""
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return day.isoformat() if lang == "en" else day.strftime("%d/%m/%Y")


def shown_moment(value: datetime, lang: str) -> str:
    """A recorded time in Vietnam time, to the second."""
    local = value.astimezone(VIETNAM_TIME)
    return local.strftime("%Y-%m-%d %H:%M:%S" if lang == "en" else "%d/%m/%Y %H:%M:%S")


def line_url(line: dict[str, Any]) -> str:
    """The address of a line's page (a line's fields as the receipt and history give them)."""
    fields = ("program", "kind", "source", "year", "holder")
    path = "/lines/" + "/".join(str(line[name]) for name in fields)
    return path + (f"?project={line['project']}" if line.get("project") else "")


# -- signing in --------------------------------------------------------------------------------


@blp.get("/login")
def login_form() -> Response:
    return _login_page()


def _login_page(message: str | None = None, status: int = 200) -> Response:
    csrf = login_csrf()
    if message is None and request.args.get("ended"):
        message = word("session_ended", lang())
    if message is None and request.args.get("out"):
        message = word("signed_out", lang())
    response = Response(
        render_template("login.html", csrf=csrf, message=message, next=_next_page()),
        status=status,
    )
    set_cookie(response, LOGIN_COOKIE, csrf)
    return response


def _next_page() -> str:
    """Where to go after signing in: a path of this site only (never another host)."""
    asked = request.values.get("next", "/")
    # Browsers drop tabs and newlines from addresses ("/\t/evil" becomes "//evil"): any
    # control character or space, a backslash, or a scheme or host, and it is home instead.
    parts = urlsplit(asked)
    if (
        any(ord(character) < 0x21 for character in asked)
        or "\\" in asked
        or not asked.startswith("/")
        or asked.startswith("//")
        or parts.scheme
        or parts.netloc
    ):
        return "/"
    return asked


@blp.post("/login")
def login() -> AnyResponse:
    if not login_csrf_valid():
        return _login_page(
            "the form was sent without its security token (CSRF); send it again from this page",
            403,
        )
    name = request.form.get("name", "")
    password = request.form.get("password", "")
    address = request.remote_addr or ""
    try:
        _, secret = people(services()).sign_in(name, password, address)
    except SignInThrottled as throttled:
        response = _login_page(str(throttled), 429)
        response.headers["Retry-After"] = str(throttled.retry_after)
        return response
    except SignInRefused as refused:
        return _login_page(str(refused), 401)
    signed_in = redirect(_next_page(), code=303)
    set_cookie(signed_in, SESSION_COOKIE, secret)
    signed_in.delete_cookie(LOGIN_COOKIE, path="/")
    return signed_in


@blp.post("/logout")
def logout() -> AnyResponse:
    session = g.get("web_session")
    if session is not None:
        people(services()).end(session.key)
    response = redirect(url_for("web.login_form", out=1, lang=request.args.get("lang")), 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- progress ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgressAsked:
    """The progress page's query, read from its URL."""

    holder: str | None
    as_of: date
    known_at: datetime | None
    by: str
    # The holder's end, when no date was asked and the holder had ended by today: the page
    # is then at its last day (a person scoped to a district merged away lands on its
    # figures, not on a refusal), and says so.
    ended_on: date | None = None

    @classmethod
    def from_args(cls, args: Any) -> ProgressAsked:
        holder = (args.get("holder") or "").strip().upper() or caller().scope
        if holder is not None:
            require_scope(holder)  # before anything is read of it
        as_of = _day(args.get("as_of"), "as_of")
        known_at = _moment(args.get("known_at"), "known_at")
        by = args.get("by") or "holder"
        if by not in BY_CHOICES:
            raise InvalidInput(f"must be one of {', '.join(BY_CHOICES)}", field="by")
        if as_of is not None:
            return cls(holder, as_of, known_at, by)
        today = today_in_vietnam()
        ended_on = services().ledger.get_holder(holder).ended_on if holder else None
        if ended_on is not None and ended_on <= today:
            return cls(holder, ended_on - timedelta(days=1), known_at, by, ended_on)
        return cls(holder, today, known_at, by)

    def question(self) -> Question:
        return Question(
            as_of=self.as_of, known_at=self.known_at, holder=self.holder, by=self.by, lang=lang()
        )


def _day(text: str | None, field: str) -> date | None:
    """A date picker's value (or dd/mm/yyyy typed), within the ledger's calendar."""
    return parse_date(text, field=field) if text else None


def _moment(text: str | None, field: str) -> datetime | None:
    """A time picker's value; without an offset it is Vietnam time, as everywhere."""
    return parse_moment(text, field=field) if text else None


def progress_report(asked: ProgressAsked) -> tuple[Report, Document]:
    """The report the API's ``GET /reports/progress`` gives for the same query, within the
    person's scope."""
    if asked.holder is not None:
        require_scope(asked.holder)
    projections = read_models()
    return filed_report(projections, services().ledger, asked.question())


@blp.get("/")
def progress() -> Response:
    asked = ProgressAsked.from_args(request.args)
    report, document = progress_report(asked)
    columns = [column for key in PAGE_COLUMNS for column in _column(document, key)]
    return Response(
        render_template(
            "progress.html",
            asked=asked,
            document=document,
            columns=columns,
            rows=[_cells(document, row, columns) for row in document.rows],
            bars=_bars(report, document),
            average_pct=report.average_pct,
            average_text=_pct_text(report.average_pct, document),
            crumbs=_breadcrumb(asked.holder),
            by_choices=BY_CHOICES,
            known_at_text=asked.known_at.strftime("%Y-%m-%dT%H:%M") if asked.known_at else "",
            ended_note=_ended_note(asked),
        )
    )


def _ended_note(asked: ProgressAsked) -> str | None:
    """What the page says when it landed on an ended holder's last day."""
    if asked.ended_on is None or asked.holder is None:
        return None
    successor = services().ledger.get_holder(asked.holder).successor or ""
    return word(
        "ended_landing",
        lang(),
        holder=asked.holder,
        ended=asked.ended_on.strftime("%d/%m/%Y"),
        successor=successor,
        last=asked.as_of.strftime("%d/%m/%Y"),
    )


def _column(document: Document, key: str) -> list[Column]:
    return [column for column in document.columns if column.key == key]


@dataclass(frozen=True)
class Cell:
    text: str
    numeric: bool


@dataclass(frozen=True)
class ShownRow:
    row: Row
    cells: list[Cell]
    below_average: bool
    link: str | None


def _cells(document: Document, row: Row, columns: list[Column]) -> ShownRow:
    below = bool(row.values.get("below_average"))
    cells = []
    for column in columns:
        if column.key == "below_average":
            text = "▼ " + word("below_average", document.lang) if below else ""
        else:
            text = figure_text(document, column, row.values.get(column.key))
        cells.append(Cell(text, column.kind in ("vnd", "pct", "count")))
    link = None
    if row.kind != "total" and row.code and _drills(row):
        link = _page_with(holder=row.code)
    return ShownRow(row, cells, below, link)


def _drills(row: Row) -> bool:
    """A holder's row leads a level down to its own children (not the row of the holder
    the page is about: its own lines, already on this page)."""
    here = (request.args.get("holder") or "").strip().upper() or caller().scope
    by_holder = request.args.get("by", "holder") == "holder"
    return by_holder and row.level == 1 and row.code != here


def with_query(path: str, **changes: Any) -> str:
    """``path`` with this page's query, some of it changed (None drops a parameter): a
    page's state lives in its URL, and links keep it."""
    query = {**request.args.to_dict(), **changes}
    kept = {key: value for key, value in query.items() if value not in (None, "")}
    return path + ("?" + urlencode(kept) if kept else "")


def _page_with(**changes: Any) -> str:
    return with_query("/", **changes)


@dataclass(frozen=True)
class Bar:
    label: str
    rate_pct: float
    text: str
    below: bool
    link: str | None
    y: int
    width: float


CHART_WIDTH = 560  # the bars' room, in the SVG's units


def _bars(report: Report, document: Document) -> list[Bar]:
    """One bar per row of the first level: its rate of the plan."""
    firsts = [row for row in document.rows if row.level == 1]
    rates = [row.values.get("rate_pct") or 0.0 for row in firsts]
    top = max([100.0, *rates])
    bars = []
    for index, (row, rate) in enumerate(zip(firsts, rates, strict=True)):
        shown = _cells(document, row, [])
        bars.append(
            Bar(
                label=row.label,
                rate_pct=rate,
                text=_pct_text(rate, document),
                below=shown.below_average,
                link=shown.link,
                y=index * 28,
                width=round(rate / top * CHART_WIDTH, 1),
            )
        )
    return bars


def chart_x(rate_pct: float | None, bars: list[Bar]) -> float:
    top = max([100.0, *(bar.rate_pct for bar in bars)])
    return round((rate_pct or 0.0) / top * CHART_WIDTH, 1)


blp.add_app_template_global(chart_x, "chart_x")


def _pct_text(value: float | None, document: Document) -> str:
    rate = Column("rate", "", "", "pct")
    return figure_text(document, rate, value) if value is not None else ""


def _breadcrumb(holder: str | None) -> list[tuple[str, str | None]]:
    """(label, link) from the top the person may see down to ``holder``."""
    scope = caller().scope
    ledger = services().ledger
    crumbs: list[tuple[str, str | None]] = []
    code = holder
    while code is not None:
        found = ledger.get_holder(code)
        crumbs.append((f"{found.code} - {found.name}", _page_with(holder=found.code)))
        if code == scope:
            break
        code = found.parent
    if scope is None:
        crumbs.append((word("whole_ledger", lang()), _page_with(holder=None)))
    crumbs.reverse()
    if crumbs:
        crumbs[-1] = (crumbs[-1][0], None)
    return crumbs


# -- downloads -------------------------------------------------------------------------------


@blp.get("/progress.<any(xlsx, csv):extension>")
def progress_download(extension: str) -> Response:
    """The report on screen as ``report progress --format xlsx|csv`` files it."""
    _, document = progress_report(ProgressAsked.from_args(request.args))
    if extension == "csv":
        body = csv_text(document).encode("utf-8")
    else:
        out = io.BytesIO()
        write_xlsx(document, out)
        body = out.getvalue()
    return attachment(body, extension, f"tien-do-giai-ngan-{document.as_of.isoformat()}")
