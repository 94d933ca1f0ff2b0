"""The page of a line (its figures and its whole history, each row leading to the movement)
and the search page (by decision, voucher, movement id, actor or recorded-time range). Both
read the audit trail the API's ``GET /history`` reads, within the person's scope, and both
download what they show (``…/HOLDER.xlsx``, ``/search.csv``, with the page's query) as
``budget-ledger export --what movements`` writes it."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template, request

from api.auth import read_models, require_scope, services
from api.reads import aware, scope_holders
from api.web.downloads import movements_file
from api.web.views import blp
from ledger.domain.errors import InvalidInput, UnknownMovement
from ledger.domain.values import LineKey, parse_moment
from projections.history import HistoryQuestion, history, history_page

# At most this many rows on the search page: a search that finds more says so and asks for
# a narrower one (the audit feed and the CLI's history give everything).
SEARCH_ROWS_MAX = 500


LINE_PATH = "/lines/<program>/<kind>/<source>/<int:year>/<holder>"


@blp.get(LINE_PATH)
def line_page(program: str, kind: str, source: str, year: int, holder: str) -> Response:
    key, figures, entries = _line(program, kind, source, year, holder)
    return Response(render_template("line.html", key=key, figures=figures, entries=entries))


@blp.get(LINE_PATH + ".<any(xlsx, csv):extension>")
def line_download(
    program: str, kind: str, source: str, year: int, holder: str, extension: str
) -> Response:
    key, _, entries = _line(program, kind, source, year, holder)
    parts = [key.program, key.kind, key.source, str(key.year), key.holder, key.project]
    name = "lich-su-" + "-".join(part for part in parts if part)
    return movements_file(entries, extension, name)


def _line(
    program: str, kind: str, source: str, year: int, holder: str
) -> tuple[LineKey, dict[str, Any], list[dict[str, Any]]]:
    """A line the person may see: its key, its figures now and its whole history."""
    key = LineKey.parse(
        program=program,
        kind=kind,
        source=source,
        year=year,
        holder=holder,
        project=request.args.get("project") or None,
    )
    require_scope(key.holder)
    line = services().ledger.get_line(key)
    if line is None:
        raise InvalidInput(
            f"no line {key.program}/{key.kind}/{key.source}/{key.year} of holder {key.holder}"
            " has been opened; check the address or search for it",
            field="line",
        )
    projections = read_models()
    return key, line.figures(), history(projections, HistoryQuestion(line=key))


@blp.get("/search")
def search() -> Response:
    asked, entries = _searched()
    return Response(
        render_template(
            "search.html",
            asked=asked,
            searched=any(asked.values()),
            entries=entries[:SEARCH_ROWS_MAX],
            more=len(entries) > SEARCH_ROWS_MAX,
            rows_max=SEARCH_ROWS_MAX,
        )
    )


@blp.get("/search.<any(xlsx, csv):extension>")
def search_download(extension: str) -> Response:
    """The rows the search page shows (at most ``SEARCH_ROWS_MAX``, as on the page)."""
    _, entries = _searched()
    return movements_file(entries[:SEARCH_ROWS_MAX], extension, "tra-cuu")


def _searched() -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The search's query from the URL and the first postings it finds within the
    person's scope, one more than a page shows (none before anything is asked)."""
    asked = {name: (request.args.get(name) or "").strip() for name in
             ("q", "actor", "recorded_from", "recorded_to")}  # fmt: skip
    if not any(asked.values()):
        return asked, []
    return asked, _found(asked)


def _found(asked: dict[str, str]) -> list[dict[str, Any]]:
    """The first postings matching the search (one more than the page shows, to tell that
    there are more), within the person's scope: ``q`` is a movement id, or a decision or
    voucher (exactly, ignoring case); the actor and the recorded-time range narrow it."""
    recorded = {
        name: aware(parse_moment(asked[name], field=name)) if asked[name] else None
        for name in ("recorded_from", "recorded_to")
    }
    projections = read_models()
    narrowing: dict[str, Any] = {
        "actor": asked["actor"] or None,
        "within": scope_holders(projections),
        **recorded,
    }
    query = asked["q"]
    if query:
        try:
            movement = services().ledger.get_movement(query)
        except (UnknownMovement, InvalidInput):
            movement = None
        if movement is not None:
            narrowing["movement_id"] = movement.movement_id
        else:
            narrowing["decision"] = query
    page = history_page(
        projections, HistoryQuestion(**narrowing), after=None, limit=SEARCH_ROWS_MAX + 1
    )
    return page.entries
