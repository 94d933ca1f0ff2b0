"""Every answer says the log position it reflects (Ledger-Position; ``position`` in a body
with metadata), every write answers with its own, and a read may ask for at least a
position (Min-Position or min_position). Here with one database, SQLite and PostgreSQL alike;
tests/e2e/test_replicas.py has the same through a streaming replica."""

from __future__ import annotations

import pytest

from api.services import Services
from tests.e2e.test_api import TY, Api, api, move, worked_example  # noqa: F401


@pytest.fixture
def books(api: Api) -> Api:  # noqa: F811
    worked_example(api)
    return api


def test_a_write_answers_with_the_position_of_its_last_event(books: Api) -> None:
    head = books.ledger.head_position()
    payment = move("pay-1", "2024-07-01", holder="505", amount_vnd=TY, voucher="UNC 1")
    response = books.post("/disbursements", "admin", payment)
    books.ok(response, 201)
    position = int(response.headers["Ledger-Position"])
    assert position > head
    assert position == books.ledger.head_position()
    assert response.headers["Ledger-Served-By"] == "primary"


def test_a_write_sent_again_answers_with_a_position_that_holds_it(books: Api) -> None:
    payment = move("pay-again", "2024-07-01", holder="505", amount_vnd=TY, voucher="UNC 9")
    first = books.post("/disbursements", "admin", payment)
    books.ok(first, 201)
    again = books.post("/disbursements", "admin", payment)
    books.ok(again, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert int(again.headers["Ledger-Position"]) >= int(first.headers["Ledger-Position"])


def test_a_read_states_the_position_it_reflects_in_its_header_and_body(books: Api) -> None:
    response = books.get("/balances", "auditor")
    body = books.ok(response)
    head = books.ledger.head_position()
    assert int(response.headers["Ledger-Position"]) == head
    assert body["position"] == head
    history = books.get("/history", "auditor")
    assert books.ok(history)["position"] == int(history.headers["Ledger-Position"]) == head


def test_read_your_write_with_min_position(books: Api) -> None:
    payment = move("pay-2", "2024-07-01", holder="505", amount_vnd=TY, voucher="UNC 2")
    written = books.post("/disbursements", "admin", payment).headers["Ledger-Position"]
    for asked in ({"min_position": written}, {}):
        response = books.client.get(
            "/history",
            query_string={"holder": "505", **asked},
            headers=books.headers("auditor", **({} if asked else {"Min-Position": written})),
        )
        body = books.ok(response)
        assert int(response.headers["Ledger-Position"]) >= int(written)
        assert "pay-2" in [entry["movement_id"] for entry in body["entries"]]


@pytest.mark.parametrize(
    ("query", "headers", "said"),
    [
        ({"min_position": "abc"}, {}, "'abc' is not a log position"),
        ({"min_position": "-3"}, {}, "'-3' is not a log position"),
        ({}, {"Min-Position": "1e9"}, "'1e9' is not a log position"),
        ({"min_position": "7"}, {"Min-Position": "8"}, "header says 8 but min_position says 7"),
        ({"min_position": "999999"}, {}, "position 999999 is past the log's head"),
    ],
)
def test_a_position_that_cannot_be_asked_is_refused_in_one_line(
    books: Api, services: Services, query: dict[str, str], headers: dict[str, str], said: str
) -> None:
    head = books.ledger.head_position()
    response = books.client.get(
        "/balances", query_string=query, headers=books.headers("auditor", **headers)
    )
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert said in body["detail"]
    assert "\n" not in body["detail"]
    assert books.ledger.head_position() == head  # a refused read wrote nothing


def test_the_openapi_document_names_the_position_parameters(books: Api) -> None:
    document = books.ok(books.client.get("/openapi.json"))
    balances = document["paths"]["/balances"]["get"]
    names = {(p["in"], p["name"]) for p in balances["parameters"]}
    assert {("query", "min_position"), ("header", "Min-Position")} <= names
    assert "Ledger-Position" in balances["responses"]["200"]["headers"]
    health = document["paths"]["/health"]["get"]
    assert "min_position" not in {p["name"] for p in health.get("parameters", [])}
