"""Which database answers a request, and the log position its answer reflects
(docs/decisions.md §33).

With ``serve --read-database URL`` (streaming replicas of the primary) a read (GET, HEAD)
goes to a replica that is behind by ``--max-lag`` seconds at most (``Services.reading``);
writes, and whatever must write (signing in, counting failed tokens, the read models'
catch-up), go to the primary. Every answer says the position it reflects in
``Ledger-Position`` (a read: at least every event up to it; a write: its own last event),
and a read may ask for at least a position (``Min-Position`` header or ``min_position``
parameter): a replica serves it once it has got there, waiting MIN_POSITION_WAIT_S at most,
else the primary does. A replica that stops answering before the read has used it is marked
down and the primary (or another replica) serves the read.

Without read databases every request is the primary's, as before; the headers are the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, request
from werkzeug.wrappers import Response

from api.services import Services, replica_failures, replica_unreachable
from ledger.application import forget_written, written_position
from ledger.domain.errors import InvalidInput
from projections.runner import Projections, ReadModelState

T = TypeVar("T")
READS = ("GET", "HEAD")
# Served by the primary whatever the method: they speak of this server and its database.
PRIMARY_PATHS = ("/health", "/metrics", "/openapi.json", "/docs", "/problems/")
POSITION_HEADER = "Ledger-Position"
MIN_POSITION_HEADER = "Min-Position"
MIN_POSITION_PARAMETER = "min_position"
# Which database answered: "primary" or "replica N" (for operators and tests).
SERVED_BY_HEADER = "Ledger-Served-By"
POSITION_DIGITS_MAX = 19  # a BIGINT


def primary() -> Services:
    found: Services = current_app.extensions["budget_ledger"]
    return found


def side() -> Services:
    """The services answering this request: a replica's for a read sent to one, else the
    primary's."""
    found: Services | None = g.get("side")
    return found if found is not None else primary()


def route() -> None:
    """``before_request``, first of all: choose the database, keep its connection."""
    forget_written()
    g.min_position = asked_position()
    chosen = primary()
    if request.method in READS and not request.path.startswith(PRIMARY_PATHS):
        chosen = chosen.reading(g.min_position)
    _use(chosen)


def release(_: BaseException | None) -> None:
    """``teardown_request``: give back the connection ``route`` kept."""
    chosen: Services | None = g.pop("side", None)
    if chosen is not None:
        chosen.store.release()


def _use(chosen: Services) -> None:
    g.side = chosen
    chosen.store.keep()


def fall_back(error: BaseException) -> bool:
    """The request's replica failed before the read used it (``error``): mark it down and
    serve the read elsewhere. False (the caller raises) when the primary is serving or
    ``error`` does not say the replica cannot serve."""
    current = side()
    if not current.read_only or not replica_unreachable(error):
        return False
    current.replica_failed(error)
    current.store.release()
    _use(primary().reading(g.get("min_position")))
    return True


def on_side(ask: Callable[[Services], T]) -> T:
    """``ask(services)`` of the request's database; if a replica fails there, again of the
    database ``fall_back`` hands the read to."""
    while True:
        try:
            return ask(side())
        except replica_failures() as error:
            if not fall_back(error):
                raise


def asked_position() -> int | None:
    """The position the request asks its answer to reflect at least: the Min-Position header
    or the min_position parameter (one of them, or both the same); None if neither."""
    args, headers = request.args, request.headers
    if MIN_POSITION_HEADER not in headers and MIN_POSITION_PARAMETER not in args:
        return None  # most reads: nothing to read
    given = {
        name: value
        for name, value in (
            (MIN_POSITION_HEADER, headers.get(MIN_POSITION_HEADER)),
            (MIN_POSITION_PARAMETER, args.get(MIN_POSITION_PARAMETER)),
        )
        if value is not None
    }
    positions = {name: read_position(value) for name, value in given.items()}
    if len(set(positions.values())) > 1:
        raise InvalidInput(
            f"the {MIN_POSITION_HEADER} header says {positions[MIN_POSITION_HEADER]} but "
            f"{MIN_POSITION_PARAMETER} says {positions[MIN_POSITION_PARAMETER]}; send one",
            field=MIN_POSITION_PARAMETER,
        )
    return next(iter(positions.values()), None)


def read_position(text: str) -> int:
    """A log position as a request writes it: ASCII digits, a whole number."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > POSITION_DIGITS_MAX:
        raise InvalidInput(
            f"{text[:40]!r} is not a log position; give the whole number a write answered "
            f"with in {POSITION_HEADER}",
            field=MIN_POSITION_PARAMETER,
        )
    return int(text)


def authenticate_on_side(secret: str, address: str) -> tuple[Any, ReadModelState]:
    """The token and the read models' state, from the request's database (see
    ``Services.authenticate``)."""
    return on_side(lambda chosen: chosen.authenticate(secret, address))


def read_models(state: ReadModelState | None) -> Projections:
    """The read models that answer this request (``Services.current_projections``), and the
    position the answer reflects, for ``Ledger-Position``. ``state``: what the request found
    where it was first sent (read again if a replica failed and it went elsewhere)."""
    first = side()

    def ask(chosen: Services) -> tuple[Services, Projections, ReadModelState]:
        return (chosen, *chosen.answering(state if chosen is first else None))

    chosen, projections, found = on_side(ask)
    g.position = chosen.position(found)
    return projections


def answered_position() -> int | None:
    """The position this request's answer reflects (None: it read or wrote nothing of the
    log)."""
    written = written_position()
    if written is not None:
        return written
    found: int | None = g.get("position")
    if found is not None:
        return found
    state: ReadModelState | None = g.get("read_model")
    if state is not None and request.method in READS:
        return side().position(state)
    return None


def state_position(response: Response) -> Response:
    """``after_request``: Ledger-Position and Ledger-Served-By on every answer that has
    them."""
    if "side" not in g:
        return response
    position = answered_position()
    if position is not None:
        response.headers[POSITION_HEADER] = str(position)
    response.headers[SERVED_BY_HEADER] = side().label
    return response
