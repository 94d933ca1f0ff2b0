"""Every list the API answers comes a page at a time (``limit``, an opaque ``cursor``, the
next page's address in ``next`` and a ``Link`` header), and no request's query parameter is
ignored: one the operation does not take is refused, naming it. Through the Flask test
client, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from api.services import Services
from tests.e2e.test_api import TY, Api, api, move, refused, worked_example  # noqa: F401

COMMUNES = {"505": ["20308", "20311", "20314"], "504": ["20227", "20230"]}


@pytest.fixture
def books(api: Api, services: Services) -> Api:  # noqa: F811
    """The worked example, with communes under both districts, each commune's own line,
    and the province's lines of two more programs."""
    worked_example(api)
    for district, communes in COMMUNES.items():
        for code in communes:
            body = {"code": code, "name": f"Xã {code}", "level": "commune", "parent": district}
            api.ok(api.post("/holders", "admin", body), 201)
            allocation = move(
                f"to-{code}",
                "2024-06-02",
                from_holder=district,
                to_holder=code,
                amount_vnd=TY,
                decision="QĐ 7/QĐ-UBND",
            )
            api.ok(api.post("/allocations", "admin", allocation), 201)
    for program in ("NTM", "DTTS"):  # a subtree's rows: one per program, kind, source, year
        plan = move(f"plan-{program}", "2024-01-02", program=program, holder="49",
                    amount_vnd=TY, decision="QĐ 1/QĐ-TTg")  # fmt: skip
        api.ok(api.post("/adjustments", "admin", plan), 201)
    return api


def walk(books: Api, path: str, who: str, rows: str, **query: Any) -> list[list[Any]]:
    """Each page of ``path`` from the first, following ``next`` to the end."""
    return follow(books, books.get(path, who, **query), who, rows)


def follow(books: Api, response: Any, who: str, rows: str) -> list[list[Any]]:
    """The page ``response`` answered and each after it, following ``next`` to the end."""
    pages: list[list[Any]] = []
    while True:
        body = books.ok(response)
        pages.append(body[rows])
        if body["next"] is None:
            assert "Link" not in response.headers
            return pages
        assert response.headers["Link"] == f'<{body["next"]}>; rel="next"'
        assert len(pages) < 100, "next never ends"
        response = books.client.get(body["next"], headers=books.headers(who))


LISTS = [
    ("/holders", "holders", {}),
    ("/holders", "holders", {"all": "true", "as_of": "2030-01-01"}),
    ("/programs", "programs", {}),
    ("/balances", "balances", {"as_of": "2024-12-31"}),
    ("/balances", "balances", {"holder": "49", "subtree": "true"}),
    ("/history", "entries", {}),
    ("/history", "entries", {"holder": "49", "subtree": "true", "decision": "qđ 7/qđ-ubnd"}),
]


@pytest.mark.parametrize(("path", "rows", "query"), LISTS)
def test_every_list_walked_a_page_at_a_time_is_the_whole_list(
    books: Api, path: str, rows: str, query: dict[str, str]
) -> None:
    whole = books.ok(books.get(path, "auditor", **query))
    assert whole["next"] is None and whole[rows]
    for limit in (1, 2, 3):
        pages = walk(books, path, "auditor", rows, limit=limit, **query)
        assert all(len(page) == limit for page in pages[:-1])
        assert 1 <= len(pages[-1]) <= limit
        assert [row for page in pages for row in page] == whole[rows]
    # The query asked is kept in the next page's address.
    first = books.ok(books.get(path, "auditor", limit=1, **query))
    kept = parse_qs(urlsplit(first["next"]).query)
    assert all(kept[name] == [value] for name, value in query.items())


def test_a_page_is_a_hundred_rows_unless_asked_and_at_most_a_thousand(books: Api) -> None:
    for code in range(30001, 30201):
        body = {"code": str(code), "name": f"Xã {code}", "level": "commune", "parent": "49"}
        books.ok(books.post("/holders", "admin", body), 201)
    first = books.ok(books.get("/holders", "auditor"))
    assert len(first["holders"]) == 100 and first["next"]
    assert len(books.ok(books.get("/holders", "auditor", limit=1000))["holders"]) > 200
    for limit in ("1001", "0", "-1", "many"):
        problem = refused(books.get("/holders", "auditor", limit=limit), "limit")
        if limit in ("1001", "0"):
            assert "at most 1000 rows" in problem["detail"], problem


@pytest.mark.parametrize(
    ("path", "rows", "code"), [("/holders", "holders", "code"), ("/balances", "balances", "holder")]
)
def test_a_write_between_two_pages_neither_repeats_nor_hides_a_row(
    books: Api, path: str, rows: str, code: str
) -> None:
    def identity(row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(row[name] for name in ("program", "holder", code) if name in row)

    first = books.ok(books.get(path, "auditor", limit=3))
    seen = [identity(row) for row in first[rows]]
    # Two new holders, each with its line: one sorts before the page's end, one after it.
    for new in ("10000", "99999"):
        body = {"code": new, "name": f"Xã {new}", "level": "commune", "parent": "49"}
        books.ok(books.post("/holders", "admin", body), 201)
        allocation = move(f"to-{new}", "2024-06-03", from_holder="49", to_holder=new,
                          amount_vnd=TY, decision="QĐ 8/QĐ-UBND")  # fmt: skip
        books.ok(books.post("/allocations", "admin", allocation), 201)
    assert first[rows][-1][code] not in ("10000", "99999")
    rest = follow(books, books.client.get(first["next"], headers=books.headers("auditor")),
                  "auditor", rows)  # fmt: skip
    seen += [identity(row) for page in rest for row in page]
    now = [identity(row) for row in books.ok(books.get(path, "auditor"))[rows]]
    assert len(seen) == len(set(seen))
    assert seen == [row for row in now if "10000" not in row]
    assert any("99999" in row for row in seen)


@pytest.mark.parametrize(("path", "rows"), [("/holders", "holders"), ("/balances", "balances")])
def test_a_scoped_token_sees_only_its_subtree_on_every_page(
    books: Api, path: str, rows: str
) -> None:
    pages = walk(books, path, "viewer-505", rows, limit=1, as_of="2024-12-31")
    found = [row for page in pages for row in page]
    codes = {row["code"] if path == "/holders" else row["holder"] for row in found}
    assert codes == {"505", *COMMUNES["505"]}
    assert len(found) == len(books.ok(books.get(path, "viewer-505", as_of="2024-12-31"))[rows])


def test_a_scoped_token_sees_only_its_subtree_on_every_page_of_history(books: Api) -> None:
    pages = walk(books, "/history", "viewer-505", "entries", limit=1)
    found = [row for page in pages for row in page]
    assert {row["line"]["holder"] for row in found} == {"505", *COMMUNES["505"]}
    assert found == books.ok(books.get("/history", "viewer-505"))["entries"]


def test_a_payment_recorded_between_two_pages_of_history_comes_on_a_later_one(
    books: Api,
) -> None:
    earlier = move("pay-1", "2024-06-10", holder="20308", amount_vnd=1000, voucher="KB 1")
    books.ok(books.post("/disbursements", "admin", earlier), 201)
    first = books.ok(books.get("/history", "auditor", holder="20308", limit=1))
    assert first["next"] is not None
    payment = move("pay-20308", "2024-07-01", holder="20308", amount_vnd=1000, voucher="KB 2")
    books.ok(books.post("/disbursements", "admin", payment), 201)
    rest = follow(books, books.client.get(first["next"], headers=books.headers("auditor")),
                  "auditor", "entries")  # fmt: skip
    seen = first["entries"] + [row for page in rest for row in page]
    assert seen == books.ok(books.get("/history", "auditor", holder="20308"))["entries"]
    assert seen[-1]["movement_id"] == "pay-20308"


def cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def test_a_cursor_the_api_did_not_give_is_refused(books: Api) -> None:
    programs = books.ok(books.get("/programs", "auditor", limit=1))["next"]
    given = programs.split("cursor=")[1]
    balances = books.ok(books.get("/balances", "auditor", limit=1))["next"].split("cursor=")[1]
    for garbled in (
        "garbage!",
        "bm90IGpzb24",  # "not json"
        cursor(["NTM"]),
        cursor({"p": "/holders", "k": [49]}),  # a code is text
        cursor({"p": "/holders", "k": ["49", "50"]}),
        given,  # a cursor of /programs
        "x" * 1001,
    ):
        problem = refused(books.get("/holders", "auditor", cursor=garbled), "cursor")
        if garbled != "x" * 1001:
            assert "is not one this API gave; start again without cursor" in problem["detail"]
    refused(books.get("/balances", "auditor", cursor=given), "cursor")
    assert books.ok(books.get("/balances", "auditor", cursor=balances))["balances"]


def test_the_audit_feed_gives_its_next_page_the_same_way(books: Api) -> None:
    head = books.ledger.head_position()
    pages = walk(books, "/events", "auditor", "events", limit=7)
    assert [event["position"] for page in pages for event in page] == list(range(1, head + 1))
    # The old way still works: after, and next_after.
    page = books.ok(books.get("/events", "auditor", after=head - 2, limit=7))
    assert (page["next_after"], page["next"]) == (head, None)


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/balances", {"holdr": "12"}),
        ("/balances", {"holder": "505", "asof": "2024-12-31"}),
        ("/holders", {"al": "true"}),
        ("/programs", {"year": "2024"}),
        ("/holders/505", {"as_of": "2024-01-01"}),
        ("/movements/w5", {"verbose": "1"}),
        ("/history", {"holdr": "505"}),
        ("/events", {"afterr": "3"}),
        ("/reports/progress", {"holdr": "49"}),
        ("/health", {"x": "1"}),
        ("/problems/invalid-input", {"lang": "vi"}),
    ],
)
def test_an_unknown_query_parameter_is_refused_naming_it(
    books: Api, path: str, query: dict[str, str]
) -> None:
    (name,) = [name for name in query if name not in ("holder",)]
    problem = refused(books.get(path, "auditor", **query), name)
    assert "is not a query parameter of GET" in problem["errors"][name][0]


def test_a_misspelt_dry_run_records_nothing(books: Api) -> None:
    before = books.balances("auditor")
    payment = move("late-1", "2024-07-01", holder="505", amount_vnd=TY, voucher="KB 9")
    response = books.client.post(
        "/disbursements?dryrun=true", json=payment, headers=books.headers("clerk-505")
    )
    problem = refused(response, "dryrun")
    assert "it takes dry_run" in problem["errors"]["dryrun"][0]
    assert books.balances("auditor") == before
    assert books.get("/movements/late-1", "auditor").status_code == 404
    dry = books.client.post(
        "/disbursements?dry_run=true", json=payment, headers=books.headers("clerk-505")
    )
    assert dry.status_code == 200 and dry.headers["Dry-Run"] == "true"


def test_the_openapi_document_states_the_paging(books: Api) -> None:
    spec = books.ok(books.client.get("/openapi.json"))
    for path in ("/holders", "/programs", "/balances"):
        parameters = {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}
        assert {"limit", "cursor"} <= parameters.keys(), path
        assert parameters["limit"]["schema"]["maximum"] == 1000
