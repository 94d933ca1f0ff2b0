"""The page of a line (its figures and its whole history, each row leading to the movement)
and the search page (by decision, voucher, movement id, actor or recorded-time range). Both
read the audit trail the API's ``GET /history`` reads, within the person's scope."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template, request

from api.auth import read_model, require_scope, services
from api.reads import aware, scope_holders
from api.web.views import blp
from ledger.domain.errors import InvalidInput, UnknownMovement
from ledger.domain.values import LineKey, parse_moment
from projections.history import HistoryQuestion, history, history_page

# At most this many rows on the search page: a search that finds more says so and asks for
# a narrower one (the audit feed and the CLI's history give everything).
SEARCH_ROWS_MAX = 500


@blp.get("/lines/<program>/<kind>/<source>/<int:year>/<holder>")
def line_page(program: str, kind: str, source: str, year: int, holder: str) -> Response:
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
    projections = services().current_projections(read_model())
    entries = history(projections, HistoryQuestion(line=key))
    return Response(
        render_template("line.html", key=key, figures=line.figures(), entries=entries)
    )


@blp.get("/search")
def search() -> Response:
    asked = {name: (request.args.get(name) or "").strip() for name in
             ("q", "actor", "recorded_from", "recorded_to")}  # fmt: skip
    entries: list[dict[str, Any]] = []
    searched = any(asked.values())
    if searched:
        entries = _found(asked)
    more = len(entries) > SEARCH_ROWS_MAX
    return Response(
        render_template(
            "search.html",
            asked=asked,
            searched=searched,
            entries=entries[:SEARCH_ROWS_MAX],
            more=more,
            rows_max=SEARCH_ROWS_MAX,
        )
    )


def _found(asked: dict[str, str]) -> list[dict[str, Any]]:
    """The first postings matching the search (one more than the page shows, to tell that
    there are more), within the person's scope: ``q`` is a movement id, or a decision or
    voucher (exactly, ignoring case); the actor and the recorded-time range narrow it."""
    recorded = {
        name: aware(parse_moment(asked[name], field=name)) if asked[name] else None
        for name in ("recorded_from", "recorded_to")
    }
    projections = services().current_projections(read_model())
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
