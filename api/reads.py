"""Queries: balances and the progress report from the read models, the audit trail, and the
audit feed of raw events in log order. Each answers within the token's scope."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask.views import MethodView

from api import paging, schemas
from api.auth import caller, read_models, require_scope, require_unscoped, services
from api.extensions import Blueprint
from ledger.domain.errors import InvalidInput
from ledger.domain.filters import line_filters, read_filters
from ledger.domain.values import VIETNAM_TIME
from projections.history import HistoryQuestion, history_page
from projections.progress_document import Question, filed_report, filed_series, json_body
from projections.queries import descendants, line_balances, line_order, subtree_balances
from projections.runner import Projections

blp = Blueprint("reads", __name__, description="Balances, reports, the audit trail and feed.")
# GET /balances, by the line's identity (a subtree's rows have no project).
BY_LINE = paging.Ordering(line_order, (str, str, str, int, str, str))


def aware(value: datetime | None) -> datetime | None:
    """A time without an offset is Vietnam time, as on the command line."""
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=VIETNAM_TIME)
    return value


def scope_holders(projections: Projections | None = None) -> set[str] | None:
    """The codes a scoped token may read (from the read model's holders, through
    ``projections`` if the caller already has them up to date), or None for the whole
    ledger."""
    scope = caller().scope
    if scope is None:
        return None
    return descendants(projections or read_models(), scope)


@blp.route("/balances")
class BalancesEndpoint(MethodView):
    @blp.arguments(schemas.BalanceQuerySchema(), location="query")
    @blp.response(200, schemas.BalancesSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Every derived figure of the chosen lines (or of a holder's subtree rolled up) at
        a date, as the books stood at a time; by line, a page at a time."""
        asked = read_filters(args)
        filters, day, known_at = asked.lines, asked.as_of, asked.known_at
        if asked.restated and not asked.subtree:
            raise InvalidInput(
                "restated reads a subtree through today's holder tree: give holder and "
                "subtree=true",
                field="restated",
            )
        # A scoped token's holder is checked before anything is read. For a token without a
        # scope the check only says whether the holder exists, which the lines found say
        # already: the ledger is asked (a round trip to the log) only when none are found.
        holder_unchecked = "holder" in filters
        if holder_unchecked and (asked.subtree or caller().scope is not None):
            require_scope(filters["holder"])
            holder_unchecked = False
        projections = read_models()
        if asked.subtree:
            if "holder" not in filters:
                raise InvalidInput(
                    "subtree rolls up a holder's subtree: give holder", field="holder"
                )
            rows = subtree_balances(
                projections, filters["holder"], filters, day, known_at, restated=asked.restated
            )
            found = paging.page(rows, BY_LINE, args)
        else:
            # A page of lines, chosen before their figures are worked out (keyset).
            rows = line_balances(
                projections,
                filters,
                day,
                known_at,
                holders=scope_holders(projections),
                after=paging.after(BY_LINE, args),
                first=args["limit"] + 1,
            )
            found = paging.cut(rows, BY_LINE, args["limit"])
            if holder_unchecked and not rows:
                require_scope(filters["holder"])  # an unknown holder is refused as such
        body = {"as_of": day, "known_at": known_at, "balances": found.rows, "next": found.next}
        return body, 200, found.headers


@blp.route("/reports/progress")
class ProgressEndpoint(MethodView):
    @blp.arguments(schemas.ProgressQuerySchema(), location="query")
    @blp.response(200, schemas.ProgressSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """The disbursement-progress table: plan, disbursed and rate, investment and
        recurrent side by side, earlier years' extended capital apart, the table's average
        and the rows below it flagged; with period=month, month by month."""
        asked = read_filters(args)
        holder = asked.lines.get("holder") or caller().scope
        if holder is not None:
            require_scope(holder)
        ledger = services().ledger
        projections = read_models()
        question = Question(
            as_of=asked.as_of,
            known_at=asked.known_at,
            holder=holder,
            restated=asked.restated,
            by=args["by"],
            plan=args["plan"],
            period=args.get("period"),
            target=args.get("target"),
            references=tuple(args["reference"]),
            near_days=args["near"],
            year=args.get("year"),
            lang=args["lang"],
        )
        start, end = args.get("start"), args.get("end")
        if start is not None or end is not None:
            if start is None or end is None:
                raise InvalidInput("a series needs both from and to", field="from")
            rows, filed = filed_series(projections, ledger, question, start, end)
            return {"as_of": None, "known_at": asked.known_at, "by": args["by"], "holder": holder,
                    "title": filed.title, "rows": rows}  # fmt: skip
        return json_body(*filed_report(projections, ledger, question))


# The trail's order (projections.history): effective day, debit, position, holder, and the
# posting's place in its movement; unique per entry.
HISTORY_ORDER = paging.Ordering(key=lambda key: key, types=(int, int, int, str, int))


@blp.route("/history")
class HistoryEndpoint(MethodView):
    @blp.arguments(schemas.HistoryQuerySchema(), location="query")
    @blp.response(200, schemas.HistorySchema)
    def get(self, args: dict[str, Any]) -> Any:
        """The movements of a line, a holder or a decision, oldest effective date first, with
        who recorded each, when, under which decision, and the line's available amount after."""
        filters = line_filters(args)
        if "holder" in filters:
            require_scope(filters["holder"])
        if args["subtree"] and "holder" not in filters:
            raise InvalidInput("subtree takes the subtree of holder: give holder", field="holder")
        projections = read_models()
        question = HistoryQuestion(
            lines=filters,
            subtree=args["subtree"],
            within=scope_holders(projections),
            decision=args.get("decision"),
            actor=args.get("actor"),
            recorded_from=aware(args.get("recorded_from")),
            recorded_to=aware(args.get("recorded_to")),
        )
        found = history_page(
            projections, question, after=paging.after(HISTORY_ORDER, args), limit=args["limit"]
        )
        following = paging.link(cursor=paging.encode(found.next)) if found.next else None
        page = paging.Page(found.entries, following)
        return {"entries": page.rows, "next": page.next}, 200, page.headers


@blp.route("/events")
class EventsEndpoint(MethodView):
    @blp.arguments(schemas.EventsQuerySchema(), location="query")
    @blp.response(200, schemas.EventsSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """The audit feed: every stored event after a log position, in log order, for
        systems that follow the ledger; ``next`` (null once at the head) asks for the page
        after. Needs a token without a scope."""
        require_unscoped("the audit feed")
        head, found = services().ledger.audit_feed(args["after"], args["limit"])
        events = [
            {
                **event,
                "recorded_at": event["recorded_at"].isoformat(),
                "data": _jsonable(event["data"]),
            }
            for event in found
        ]
        next_after = events[-1]["position"] if events else args["after"]
        # The log's position is the feed's cursor: public, as clients already keep it.
        page = paging.Page(
            events, paging.link(after=str(next_after)) if next_after < head else None
        )
        body = {"events": events, "next_after": next_after, "head": head, "next": page.next}
        return body, 200, page.headers


def _jsonable(value: Any) -> Any:
    """Dates and times as ISO text, everything else as JSON has it."""
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
