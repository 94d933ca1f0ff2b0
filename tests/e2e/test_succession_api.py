"""The 2025 reorganisation over HTTP (issue 14): ``POST /successions``, ``GET /holders`` as the
tree stood, a holder's life, moves and renames; who may record them; and the rules that a
succession's edges must keep, each tried: nothing effective from its day on an ended
holder's lines (rule 1), and what a token scoped to a successor or to an ended holder may
read and write (rule 5). Through the Flask test client, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from api.services import Services
from tests.e2e.test_api import LINE, TY, Api, api, move, worked_example  # noqa: F401 (fixture)

DAY = "2024-07-01"
DECISION = "NQ 1/2024 sáp nhập"


@pytest.fixture
def books(api: Api, services: Services) -> Api:  # noqa: F811
    """The worked example's books, and an approver without a scope."""
    api.tokens["approver"] = services.tokens().create("approver", "approver", None)[1]
    worked_example(api)
    return api


def holders(books: Api, who: str, **query: str) -> list[dict[str, Any]]:
    """GET /holders, one page (these books have fewer holders than a page holds)."""
    found: list[dict[str, Any]] = books.ok(books.get("/holders", who, **query))["holders"]
    return found


def succession(movement_id: str = "s1", **fields: Any) -> dict[str, Any]:
    body = {
        "from_holders": ["504"],
        "to_holder": "505",
        "effective_date": DAY,
        "decision": DECISION,
        "movement_id": movement_id,
    }
    return {**body, **fields}


def state(books: Api) -> tuple[Any, ...]:
    """What a refused request must leave as it was: balances, journal, holders."""
    return (
        books.balances("admin"),
        books.ok(books.get("/history", "admin"))["entries"],
        holders(books, "admin", all="true", as_of="2030-01-01"),
    )


def test_a_succession_is_recorded_once_and_a_reused_id_is_refused(books: Api) -> None:
    first = books.post("/successions", "approver", succession())
    assert first.status_code == 201, first.get_json()
    receipt = first.get_json()
    assert receipt["action"] == "succeed" and receipt["amount_vnd"] > 0
    assert first.headers["Location"] == "/movements/s1"
    again = books.post("/successions", "approver", succession())
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == receipt
    before = state(books)
    other = books.post("/successions", "approver", succession(to_holder="49"))
    assert other.status_code == 409, other.get_json()
    assert other.get_json()["rule"] == "movement-id-reused"
    assert state(books) == before
    assert books.balances("admin", as_of=DAY)["504"]["available_vnd"] == 0


@pytest.mark.parametrize(
    ("who", "status"),
    [("clerk-505", 403), ("viewer-505", 403), ("approver-49", 403), ("approver-505", 403)],
)
def test_only_an_unscoped_approver_or_admin_records_a_succession(
    books: Api, who: str, status: int
) -> None:
    before = state(books)
    refused = books.post("/successions", who, succession())
    assert refused.status_code == status, refused.get_json()
    assert refused.get_json()["rule"] == "forbidden"
    assert state(books) == before
    assert books.post("/successions", "admin", succession()).status_code == 201


BREAKS = [
    ("/disbursements", {"holder": "504", "voucher": "KB 9"}),
    ("/allocations", {"from_holder": "49", "to_holder": "504", "decision": "QĐ 9"}),
    ("/reallocations", {"from_holder": "504", "to_holder": "505", "decision": "QĐ 9"}),
    ("/reallocations", {"from_holder": "505", "to_holder": "504", "decision": "QĐ 9"}),
]


@pytest.mark.parametrize("day", [DAY, "2024-12-31"])
@pytest.mark.parametrize(("path", "sides"), BREAKS)
def test_nothing_effective_from_the_day_is_recorded_on_an_ended_holder(
    books: Api, path: str, sides: dict[str, str], day: str
) -> None:
    books.ok(books.post("/successions", "admin", succession()), 201)
    before = state(books)
    body = move("late-1", day, amount_vnd=TY, **sides)
    refused = books.post(path, "admin", body)
    assert refused.status_code == 409, refused.get_json()
    problem = refused.get_json()
    assert problem["rule"] == "holder-ended" and problem["type"] == "/problems/holder-ended"
    assert "505" in problem["detail"]  # the successor, named
    assert problem["links"] == {"holder": "/holders/504", "successor": "/holders/505"}
    assert state(books) == before
    assert books.ok(books.get("/problems/holder-ended", None))["status"] == 409


def test_a_token_scoped_to_the_successor_reads_its_predecessors(books: Api) -> None:
    assert books.get("/holders/504", "viewer-505").status_code == 403
    assert books.get("/balances", "viewer-505", holder="504").status_code == 403
    books.ok(books.post("/successions", "admin", succession()), 201)
    life = books.ok(books.get("/holders/504", "viewer-505"))
    assert life["ended_on"] == DAY and life["successor"] == "505"
    assert life["changes"][0]["decision"] == DECISION
    listed = holders(books, "viewer-505", all="true")
    assert [h["code"] for h in listed] == ["504", "505"]
    assert books.ok(books.get("/holders/505", "viewer-505"))["predecessors"][0]["code"] == "504"


def test_a_token_scoped_to_the_successor_reads_its_predecessors_lines(books: Api) -> None:
    books.ok(books.post("/successions", "admin", succession()), 201)
    rows = books.ok(books.get("/balances", "viewer-505", holder="504", as_of=DAY))["balances"]
    assert rows and rows[0]["passed_on_vnd"] > 0 and rows[0]["available_vnd"] == 0
    entries = books.ok(books.get("/history", "viewer-505", holder="504"))["entries"]
    assert {e["action"] for e in entries} >= {"allocate", "succeed"}


def test_a_token_scoped_to_an_ended_holder_reads_but_writes_nothing_from_the_day(
    books: Api,
) -> None:
    books.ok(books.post("/successions", "admin", succession()), 201)
    before = state(books)
    assert books.ok(books.get("/balances", "clerk-504", holder="504"))["balances"]
    assert books.ok(books.get("/holders/504", "clerk-504"))["successor"] == "505"
    own = books.post(
        "/disbursements", "clerk-504", move("c1", DAY, holder="504", amount_vnd=TY, voucher="KB 9")
    )
    assert own.status_code == 409 and own.get_json()["rule"] == "holder-ended"
    successor = books.post(
        "/disbursements", "clerk-504", move("c2", DAY, holder="505", amount_vnd=TY, voucher="KB 9")
    )
    assert successor.status_code == 403, successor.get_json()
    assert books.get("/holders/505", "clerk-504").status_code == 403
    assert state(books) == before


def test_a_token_scoped_to_an_ended_holder_writes_nothing_below_it_from_the_day(
    books: Api,
) -> None:
    # 20308 sits under 504; 504 ends into 505. From DAY 20308 sits under 505: a token scoped
    # to 504 no longer covers it for writes effective from DAY (it still reads it).
    commune = {"code": "20308", "name": "Xã A Ting", "level": "commune", "parent": "504"}
    books.ok(books.post("/holders", "admin", commune), 201)
    given = move("a1", "2024-06-01", from_holder="504", to_holder="20308", amount_vnd=10 * TY)
    books.ok(books.post("/allocations", "admin", {**given, "decision": "QĐ 7"}), 201)
    books.ok(books.post("/successions", "admin", succession()), 201)
    before = state(books)
    late = move("c3", "2024-08-01", holder="20308", amount_vnd=TY, voucher="KB 10")
    refused = books.post("/disbursements", "clerk-504", late)
    assert refused.status_code == 403, refused.get_json()
    assert "on 2024-08-01" in refused.get_json()["detail"]
    assert state(books) == before
    assert books.ok(books.get("/balances", "clerk-504", holder="20308"))["balances"]
    # A payment dated before the end is still the old district's to record.
    early = move("c4", "2024-06-15", holder="20308", amount_vnd=TY, voucher="KB 11")
    books.ok(books.post("/disbursements", "clerk-504", early), 201)


def test_the_tree_as_it_stood_moves_and_renames(books: Api) -> None:
    books.ok(
        books.post(
            "/holders",
            "admin",
            {"code": "20308", "name": "Xã A Ting", "level": "commune", "parent": "504"},
        ),
        201,
    )
    books.ok(books.post("/successions", "admin", succession()), 201)
    before = {h["code"]: h for h in holders(books, "auditor", as_of="2024-06-30")}
    assert before["20308"]["parent"] == "504" and "504" in before
    after = {h["code"]: h for h in holders(books, "auditor", as_of=DAY)}
    assert "504" not in after and after["20308"]["parent"] == "505"
    every = {h["code"]: h for h in holders(books, "auditor", as_of=DAY, all="true")}
    assert every["504"]["ended_on"] == DAY and every["504"]["successor"] == "505"
    renamed = books.post(
        "/holders/505/renames",
        "approver-49",
        {"name": "Huyện Đông Tây Giang", "effective_date": DAY, "decision": "NQ 2"},
    )
    assert renamed.status_code == 201, renamed.get_json()
    assert renamed.get_json()["changes"][-1]["name"] == "Huyện Đông Tây Giang"
    stood = {h["code"]: h for h in holders(books, "auditor", as_of="2024-06-30")}
    assert stood["505"]["name"] == "Huyện Đông Giang"
    moved = books.post(
        "/holders/20308/moves",
        "admin",
        {"parent": "49", "effective_date": "2024-08-01", "decision": "QĐ 3"},
    )
    assert moved.status_code == 201, moved.get_json()
    assert moved.get_json()["changes"][0] == {**moved.get_json()["changes"][0], "parent": "49"}
    before_bad = state(books)
    for path, who, body, status, rule in (
        (
            "/holders/505/renames",
            "clerk-505",
            {"name": "X", "effective_date": DAY, "decision": "D"},
            403,
            "forbidden",
        ),
        (
            "/holders/20308/moves",
            "admin",
            {"parent": "504", "effective_date": "2024-09-01", "decision": "D"},
            409,
            "holder-ended",
        ),
        (
            "/holders/504/renames",
            "admin",
            {"name": "X", "effective_date": "2024-09-01", "decision": "D"},
            409,
            "holder-ended",
        ),
        (
            "/holders/777/moves",
            "admin",
            {"parent": "49", "effective_date": DAY, "decision": "D"},
            422,
            "unknown-holder",
        ),
        (
            "/holders/505/moves",
            "admin",
            {"parent": "49", "effective_date": "someday", "decision": "D"},
            422,
            "validation",
        ),
    ):
        refused = books.post(path, who, body)
        assert refused.status_code == status, (path, refused.get_json())
        assert refused.get_json()["rule"] == rule, (path, refused.get_json())
    assert state(books) == before_bad


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"from_holders": "504"}, "from_holders"),
        ({"from_holders": []}, "from_holders"),
        ({"effective_date": "2024-02-30"}, "effective_date"),
        ({"to_holder": "506"}, "name"),
        ({"to_holder": "506", "name": "M", "level": "district", "parent": "504"}, "parent"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_malformed_succession_is_422_and_records_nothing(
    books: Api, fields: dict[str, Any], field: str
) -> None:
    before = state(books)
    refused = books.post("/successions", "admin", succession(**fields))
    assert refused.status_code in (409, 422), refused.get_json()
    assert field in refused.get_json().get("errors", {}) or field in refused.get_json()["detail"]
    assert state(books) == before


def test_a_new_successor_is_registered_from_the_day(books: Api) -> None:
    body = succession(
        from_holders=["504", "505"],
        to_holder="506",
        name="Huyện Mới",
        level="district",
        parent="49",
    )
    books.ok(books.post("/successions", "approver", body), 201)
    life = books.ok(books.get("/holders/506", "auditor"))
    assert life["since"] == DAY and [p["code"] for p in life["predecessors"]] == ["504", "505"]
    assert LINE["program"] == books.balances("admin", as_of=DAY)["506"]["program"]


def test_a_holder_registered_from_a_day_and_moves_within_the_scope(books: Api) -> None:
    body = {"code": "20309", "name": "Xã Mới", "level": "commune", "parent": "505"}
    made = books.ok(books.post("/holders", "approver-505", {**body, "since": DAY}), 201)
    assert made["since"] == DAY and made["ended_on"] is None
    assert "20309" not in {h["code"] for h in holders(books, "auditor", as_of="2024-06-30")}
    before = state(books)
    outside = books.post(
        "/holders/20309/moves",
        "approver-505",
        {"parent": "504", "effective_date": "2024-08-01", "decision": "D"},
    )
    assert outside.status_code == 403, outside.get_json()
    assert state(books) == before
    inside = books.post(
        "/holders/20309/moves",
        "approver-49",
        {"parent": "504", "effective_date": "2024-08-01", "decision": "D"},
    )
    assert inside.status_code == 201, inside.get_json()
