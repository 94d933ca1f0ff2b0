"""Who may do what over HTTP: adjustments of central funds, reading a movement that touches a
line in scope, expiring tokens and repeated failed authentications, through the Flask test
client on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api import create_app
from api.tokens import TokenStore
from ledger.application import open_ledger
from projections.sql import ViewStore
from tests.e2e.test_api import Api, api, move, worked_example  # noqa: F401 (fixture)

HOLDERS = (
    ("TW", "Trung ương", "central", None),
    ("49", "Tỉnh Quảng Nam", "province", "TW"),
    ("505", "Huyện Đông Giang", "district", "49"),
    ("504", "Huyện Tây Giang", "district", "49"),
)
# The token's scope against the adjusted holder 505: none, its own, an ancestor, outside.
SCOPES = {"none": None, "own": "505", "ancestor": "49", "outside": "504"}


@pytest.fixture
def fresh(database: str) -> Iterator[tuple[Api, ViewStore]]:
    """Holders only, no tokens: each test makes the tokens it needs."""
    ledger = open_ledger(database, create=True)
    for code, name, level, parent in HOLDERS:
        ledger.register_holder(code, name, level, parent, actor="setup")
    store = ViewStore(database)
    app = create_app(ledger=ledger)
    app.config["TESTING"] = True
    yield Api(app.test_client(), ledger, {}), store
    store.close()
    app.extensions["budget_ledger"].close()


def may_adjust(role: str, source: str, scope: str) -> bool:
    """The rule under test, written out: approvers and admins adjust; central money (NSTW)
    only with a token over the whole ledger, local money (NSDP, KHAC) within the scope."""
    if role not in ("approver", "admin") or scope == "outside":
        return False
    return source != "NSTW" or scope == "none"


@pytest.mark.parametrize("scope", list(SCOPES))
@pytest.mark.parametrize("source", ["NSTW", "NSDP", "KHAC"])
@pytest.mark.parametrize("role", ["viewer", "clerk", "approver", "admin"])
def test_who_may_adjust_which_source_where(
    fresh: tuple[Api, ViewStore], role: str, source: str, scope: str
) -> None:
    http, store = fresh
    name = f"{role}-{scope}"
    _, http.tokens[name] = TokenStore(store).create(name, role, SCOPES[scope])
    head = http.ledger.head_position()
    body = {
        **move("adj-1", "2024-01-02", holder="505", amount_vnd=10**15, decision="QĐ 1"),
        "source": source,
    }
    response = http.post("/adjustments", name, body)
    if may_adjust(role, source, scope):
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["actor"] == name
        assert http.ledger.head_position() > head
        return
    assert response.status_code == 403, response.get_json()
    assert response.content_type == "application/problem+json"
    detail = response.get_json()["detail"]
    assert detail.endswith("Nothing was recorded.")
    if role in ("approver", "admin") and scope != "outside":
        assert "central funds (NSTW)" in detail and "without a scope" in detail
    assert http.ledger.head_position() == head


def test_a_scoped_approver_cannot_lower_central_funds_either(
    fresh: tuple[Api, ViewStore],
) -> None:
    http, store = fresh
    tokens = TokenStore(store)
    _, http.tokens["admin"] = tokens.create("admin", "admin", None)
    _, http.tokens["approver-505"] = tokens.create("approver-505", "approver", "505")
    raise_ = move("a1", "2024-01-02", holder="505", amount_vnd=10 * 10**9, decision="QĐ 1")
    http.ok(http.post("/adjustments", "admin", raise_), 201)
    head = http.ledger.head_position()
    lower = move("a2", "2024-01-03", holder="505", amount_vnd=-10 * 10**9, decision="QĐ 2")
    assert http.post("/adjustments", "approver-505", lower).status_code == 403
    assert http.ledger.head_position() == head


def test_a_movement_touching_a_line_in_scope_is_readable(api: Api) -> None:  # noqa: F811
    worked_example(api)
    store = ViewStore(api.ledger.database or "")
    _, api.tokens["viewer-504"] = TokenStore(store).create("viewer-504", "viewer", "504")
    store.close()
    # The allocation 49 -> 505 that funded 505's line: 505 is its receiving side.
    funded = api.ok(api.get("/movements/w3-505", "viewer-505"))
    assert [line["line"]["holder"] for line in funded["lines"]] == ["49", "505"]
    # The reallocation 505 -> 504, from either side.
    assert api.ok(api.get("/movements/w6", "viewer-505"))["movement_id"] == "w6"
    assert api.ok(api.get("/movements/w6", "viewer-504"))["movement_id"] == "w6"
    # Its history lists what it can open.
    listed = {e["movement_id"] for e in api.ok(api.get("/history", "viewer-505"))["entries"]}
    for movement_id in listed:
        assert api.get(f"/movements/{movement_id}", "viewer-505").status_code == 200
    # A movement that touches no line in scope stays closed; an unknown id is 404.
    for movement_id, who in (("w8", "viewer-505"), ("w3-505", "viewer-504"), ("w5", "clerk-504")):
        refused = api.get(f"/movements/{movement_id}", who)
        assert refused.status_code == 403, (movement_id, who)
        assert "no line" in refused.get_json()["detail"]
    assert api.get("/movements/nope", "viewer-505").status_code == 404
