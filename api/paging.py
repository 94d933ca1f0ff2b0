"""Pages of every list the API answers (docs/decisions.md §29).

A page holds at most ``limit`` rows (``PageQuerySchema``: 100 unless the request asks, never
more than 1,000), in the order of the list's sort key (``Ordering``: unique per row), from
just after the ``cursor`` the request gives. Each page says where the next begins: ``next``
in the body, the address of the same request with a new cursor (null on the last page), and
the same address in a ``Link: <...>; rel="next"`` header.

The cursor is the last row's sort key, with the path of the list it belongs to, as
base64url JSON. It is opaque by contract: a client copies it from ``next``, never makes one.
A cursor this module cannot read back into a key of the list's shape is refused (422), and
one made up by hand only moves where the page starts: every row is still within the token's
scope. Keyset paging: the next page is the rows whose key comes after the cursor's, so a row
written between two pages neither repeats a row nor hides one.

Where the rows come from SQL, the query asks ``WHERE key > after(...) ORDER BY key LIMIT
limit + 1`` and ``cut`` makes the page; where a list is built in memory whole (the holders,
the programs, the balances today), ``page`` sorts it by the key and slices it the same way.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import request

from ledger.domain.errors import InvalidInput

GARBLED = "is not one this API gave; start again without cursor"


@dataclass(frozen=True)
class Ordering:
    """A list's sort key: ``key`` gives a row's, a tuple unique per row, each element of
    the type ``types`` names at its place (str or int: what a cursor may carry)."""

    key: Callable[[Any], tuple[Any, ...]]
    types: tuple[type, ...]


@dataclass(frozen=True)
class Page:
    """The rows of one page, and the address of the next (None: this is the last)."""

    rows: list[Any]
    next: str | None
    headers: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        link = {"Link": f'<{self.next}>; rel="next"'} if self.next is not None else {}
        object.__setattr__(self, "headers", link)


def page(rows: Iterable[Any], ordering: Ordering, args: Mapping[str, Any]) -> Page:
    """The page ``args`` (``limit``, ``cursor``) asks of ``rows``, a list built whole in
    memory: sorted by the key, the rows after the cursor's."""
    start = after(ordering, args)
    ordered = sorted(rows, key=ordering.key)
    if start is not None:
        ordered = [row for row in ordered if ordering.key(row) > start]
    return cut(ordered, ordering, args["limit"])


def cut(rows: Sequence[Any], ordering: Ordering, limit: int) -> Page:
    """The page of ``rows``, already in key order from after the cursor (at least
    ``limit + 1`` of them when there are more: a keyset query's ``LIMIT limit + 1``)."""
    shown = list(rows[:limit])
    more = len(rows) > limit
    return Page(shown, link(cursor=encode(ordering.key(shown[-1]))) if more else None)


def after(ordering: Ordering, args: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The key the page begins after: the request's cursor read back (refused, naming
    ``cursor``, if it is not one this list gave); None without a cursor."""
    cursor = args.get("cursor")
    if cursor is None:
        return None
    try:
        found = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):  # not base64, not UTF-8, not JSON
        raise InvalidInput(GARBLED, field="cursor") from None
    if not isinstance(found, dict) or found.get("p") != request.path:
        raise InvalidInput(GARBLED, field="cursor")
    key = found.get("k")
    if (
        not isinstance(key, list)
        or len(key) != len(ordering.types)
        or any(type(value) is not kind for value, kind in zip(key, ordering.types, strict=True))
    ):
        raise InvalidInput(GARBLED, field="cursor")
    return tuple(key)


def encode(key: tuple[Any, ...]) -> str:
    """A cursor: ``key`` and the list's path, as base64url JSON without padding."""
    text = json.dumps({"p": request.path, "k": list(key)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def link(**changed: str) -> str:
    """The address of this request (its path, relative to the server, as ``Location``
    headers are) with the query parameters ``changed`` set and the others as asked."""
    kept = [(name, value) for name, value in request.args.items(multi=True) if name not in changed]
    return f"{request.path}?{urlencode([*kept, *changed.items()])}"
