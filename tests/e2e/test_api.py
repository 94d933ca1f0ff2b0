"""The HTTP API as the districts, the treasury's jobs and the auditors use it, through the
Flask test client, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from api import create_app
from api.services import Services, bootstrap
from cli import main
from ledger.application import BudgetLedger
from ledger.domain.movements import movement
from ledger.domain.values import LineKey

TY = 10**9
LINE = {"program": "GNBV", "kind": "DTPT", "source": "NSTW", "year": 2024}
ROLES = {
    "admin": ("admin", None),
    "approver-49": ("approver", "49"),
    "approver-505": ("approver", "505"),
    "clerk-505": ("clerk", "505"),
    "clerk-504": ("clerk", "504"),
    "viewer-505": ("viewer", "505"),
    "auditor": ("viewer", None),
}


@dataclass
class Api:
    client: FlaskClient
    ledger: BudgetLedger
    tokens: dict[str, str]

    def headers(self, who: str | None, **extra: str) -> dict[str, str]:
        headers = dict(extra)
        if who is not None:
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        return headers

    def post(self, path: str, who: str | None, body: Any, **headers: str) -> Any:
        return self.client.post(path, json=body, headers=self.headers(who, **headers))

    def get(self, path: str, who: str | None, **query: Any) -> Any:
        return self.client.get(path, query_string=query, headers=self.headers(who))

    def ok(self, response: Any, status: int = 200) -> Any:
        assert response.status_code == status, response.get_json()
        return response.get_json()

    def balances(self, who: str = "auditor", **query: Any) -> dict[str, dict[str, Any]]:
        found = self.ok(self.get("/balances", who, **query))["balances"]
        return {row["holder"]: row for row in found}


@pytest.fixture
def api(services: Services) -> Api:
    return api_over(services)


def api_over(services: Services) -> Api:
    """The worked example's holders and a token of each role (``ROLES``) in ``services``,
    and a test client of the API over them."""
    ledger = services.ledger
    for code, name, level, parent in (
        ("TW", "Trung ương", "central", None),
        ("49", "Tỉnh Quảng Nam", "province", "TW"),
        ("505", "Huyện Đông Giang", "district", "49"),
        ("504", "Huyện Tây Giang", "district", "49"),
    ):
        ledger.register_holder(code, name, level, parent, actor="setup")
    tokens = services.tokens()
    secrets = {name: tokens.create(name, role, scope)[1] for name, (role, scope) in ROLES.items()}
    app = create_app(services=services)
    app.config["TESTING"] = True
    return Api(app.test_client(), ledger, secrets)


def move(movement_id: str, day: str, **fields: Any) -> dict[str, Any]:
    return {**LINE, "movement_id": movement_id, "effective_date": day, **fields}


def worked_example(api: Api) -> None:
    decision = "QĐ 1603/QĐ-TTg 11/12/2023"
    api.ok(
        api.post(
            "/adjustments",
            "admin",
            move("w1", "2024-01-02", holder="TW", amount_vnd=500 * TY, decision=decision),
        ),
        201,
    )
    api.ok(
        api.post(
            "/allocations",
            "admin",
            move(
                "w2",
                "2024-01-05",
                from_holder="TW",
                to_holder="49",
                amount_vnd=400 * TY,
                decision=decision,
            ),
        ),
        201,
    )
    for child, amount in (("505", 150), ("504", 100)):
        api.ok(
            api.post(
                "/allocations",
                "approver-49",
                move(
                    f"w3-{child}",
                    "2024-01-10",
                    from_holder="49",
                    to_holder=child,
                    amount_vnd=amount * TY,
                    decision="QĐ 95/QĐ-UBND",
                ),
            ),
            201,
        )
    api.ok(
        api.post(
            "/disbursements",
            "clerk-505",
            move("w5", "2024-03-01", holder="505", amount_vnd=60 * TY, voucher="KB 1"),
        ),
        201,
    )
    api.ok(
        api.post(
            "/reallocations",
            "approver-49",
            move(
                "w6",
                "2024-04-01",
                from_holder="505",
                to_holder="504",
                amount_vnd=50 * TY,
                decision="QĐ 1850/QĐ-UBND",
            ),
        ),
        201,
    )
    reversal = {
        "movement_id": "w7",
        "effective_date": "2024-05-01",
        "reverses": "w5",
        "amount_vnd": 10 * TY,
        "reason": "wrong voucher",
    }
    api.ok(api.post("/reversals", "clerk-505", reversal), 201)
    api.ok(
        api.post(
            "/disbursements",
            "clerk-504",
            move("w8", "2024-06-01", holder="504", amount_vnd=120 * TY, voucher="KB 2"),
        ),
        201,
    )


def test_the_worked_example_over_http(api: Api) -> None:
    worked_example(api)
    row = api.balances(holder="505")["505"]
    assert row == {
        **LINE,
        "holder": "505",
        "project": None,
        "assigned_vnd": 100 * TY,
        "allocated_on_vnd": 0,
        "disbursed_vnd": 50 * TY,
        "lapsed_vnd": 0,
        "passed_on_vnd": 0,
        "received_vnd": 0,
        "available_vnd": 50 * TY,
        "extended_vnd": 0,
        "deadline": "2025-01-31",
    }
    # Before the reallocation and the reversal, as the books stood then.
    early = api.balances(holder="505", as_of="2024-03-31")["505"]
    assert (early["assigned_vnd"], early["disbursed_vnd"]) == (150 * TY, 60 * TY)
    province = api.ok(api.get("/balances", "auditor", holder="49", subtree="true"))
    assert province["balances"][0]["assigned_vnd"] == 400 * TY
    assert province["balances"][0]["disbursed_vnd"] == 170 * TY
    receipt = api.ok(api.get("/movements/w5", "clerk-505"))
    assert (receipt["actor"], receipt["amount_vnd"]) == ("clerk-505", 60 * TY)
    history = api.ok(api.get("/history", "auditor", decision="QĐ 1850/QĐ-UBND"))["entries"]
    assert sorted((e["line"]["holder"], e["actor"]) for e in history) == [
        ("504", "approver-49"),
        ("505", "approver-49"),
    ]
    report = api.ok(api.get("/reports/progress", "auditor", as_of="2024-06-30", holder="49"))
    total = report["rows"][-1]
    assert (total["plan_vnd"], total["disbursed_vnd"]) == (400 * TY, 170 * TY)
    monthly = api.ok(
        api.get(
            "/reports/progress",
            "viewer-505",
            period="month",
            **{"from": "2024-01-01"},
            to="2024-03-31",
        )
    )
    assert {row["as_of"] for row in monthly["rows"]} >= {"2024-01-31", "2024-03-31"}


def test_the_filed_report_over_http_is_the_cli_s(api: Api) -> None:
    worked_example(api)
    report = api.ok(
        api.get(
            "/reports/progress",
            "auditor",
            as_of="2024-06-10",
            holder="49",
            by="holder",
            period="fortnight",
            target="95",
            reference="cả nước=32",
        )
    )
    assert report["period"] == {
        "kind": "fortnight",
        "start": "2024-05-28",
        "previous_start": "2024-05-14",
    }
    assert report["references"] == [{"label": "cả nước", "rate_pct": 32.0}]
    keys = [column["key"] for column in report["columns"]]
    assert keys[:2] == ["plan_central_vnd", "plan_vnd"] and "disbursed_period_vnd" in keys
    assert report["columns"][0]["header"] == "NSTW (Thủ tướng giao)"
    assert any(note.startswith("Tham chiếu: cả nước 32,00%") for note in report["notes"])
    total = report["rows"][-1]
    assert total["holder"] == "TOTAL" and total["row_kind"] == "total"
    assert (total["plan_central_vnd"], total["disbursed_period_vnd"]) == (400 * TY, 120 * TY)
    # 42.5% by 10 June (day 162 of 366) is on pace for 96.02% by year end: not below 95.
    assert (total["projected_rate_pct"], total["off_target"]) == (96.02, False)
    assert [row["stt"] for row in report["rows"]] == ["1", "2", "3", ""]


def test_extension_and_lapse_over_http(api: Api) -> None:
    worked_example(api)
    extension = move(
        "x1",
        "2025-01-20",
        holder="504",
        until="2025-12-31",
        amount_vnd=10 * TY,
        basis="NQ 111/2024/QH15",
    )
    api.ok(api.post("/extensions", "approver-49", extension), 201)
    assert api.balances(holder="504", as_of="2025-02-01")["504"]["deadline"] == "2025-12-31"
    lapsed = api.ok(api.post("/lapses", "approver-49", move("l1", "2025-02-01", holder="505")), 201)
    assert lapsed["amount_vnd"] == 50 * TY


def test_a_clerk_of_one_district_cannot_touch_another(api: Api) -> None:
    worked_example(api)
    head = api.ledger.head_position()
    before = api.balances(holder="504")
    payment = move("bad-1", "2024-07-01", holder="504", amount_vnd=TY, voucher="KB 9")
    response = api.post("/disbursements", "clerk-505", payment)
    assert response.status_code == 403
    assert response.content_type == "application/problem+json"
    assert "outside the scope" in response.get_json()["detail"]
    # Reversing the other district's payment is refused the same way.
    reversal = {
        "movement_id": "bad-2",
        "effective_date": "2024-07-01",
        "reverses": "w8",
        "reason": "x",
    }
    assert api.post("/reversals", "clerk-505", reversal).status_code == 403
    # Its own role stops it allocating even inside its district.
    allocation = move(
        "bad-3", "2024-07-01", from_holder="505", to_holder="504", amount_vnd=TY, decision="x"
    )
    assert api.post("/reallocations", "clerk-505", allocation).status_code == 403
    # An approver of 505 cannot take money from the province.
    take = move(
        "bad-4", "2024-07-01", from_holder="49", to_holder="505", amount_vnd=TY, decision="x"
    )
    assert api.post("/allocations", "approver-505", take).status_code == 403
    # Nothing was recorded by any of them.
    assert api.ledger.head_position() == head
    assert api.balances(holder="504") == before


def test_viewers_read_within_their_scope_and_write_nothing(api: Api) -> None:
    worked_example(api)
    head = api.ledger.head_position()
    payment = move("v1", "2024-07-01", holder="505", amount_vnd=TY, voucher="KB")
    assert api.post("/disbursements", "viewer-505", payment).status_code == 403
    assert api.post("/disbursements", "auditor", payment).status_code == 403
    assert api.ledger.head_position() == head
    assert set(api.balances("viewer-505")) == {"505"}
    assert api.get("/balances", "viewer-505", holder="504").status_code == 403
    assert api.get("/balances", "viewer-505", holder="49", subtree="true").status_code == 403
    assert api.get("/reports/progress", "viewer-505", holder="49").status_code == 403
    own = api.ok(api.get("/reports/progress", "viewer-505", as_of="2024-06-30"))
    assert own["holder"] == "505"
    entries = api.ok(api.get("/history", "viewer-505"))["entries"]
    assert entries and {e["line"]["holder"] for e in entries} == {"505"}
    assert api.get("/movements/w8", "viewer-505").status_code == 403
    assert api.get("/events", "viewer-505").status_code == 403
    assert {h["code"] for h in api.ok(api.get("/holders", "viewer-505"))["holders"]} == {"505"}
    assert len(api.ok(api.get("/holders", "auditor"))["holders"]) == 4


def test_missing_bad_and_revoked_tokens_are_refused(api: Api, database: str) -> None:
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer blt_nope"}):
        response = api.client.get("/balances", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.get_json()["type"] == "/problems/unauthenticated"
    assert api.get("/balances", "clerk-505").status_code == 200
    result = CliRunner().invoke(main, ["tokens", "revoke", "clerk-505", "--database", database])
    assert result.exit_code == 0, result.output
    assert api.get("/balances", "clerk-505").status_code == 401


def test_a_read_sees_what_another_process_wrote_since_the_previous_read(
    api: Api, database: str
) -> None:
    """This process keeps a holder's lines while the log stands still; a write by another
    process (its own services and connections) moves the log, and the very next read shows
    it: a line opened there, and new figures on a line read before."""
    worked_example(api)
    day = "2024-07-01"
    first = api.ok(api.get("/balances", "auditor", holder="505", as_of=day))["balances"]
    assert api.ok(api.get("/balances", "auditor", holder="505", as_of=day))["balances"] == first
    other = bootstrap(database)
    try:
        for action, line, amount in (
            ("adjust", LineKey("GNBV", "SN", "NSDP", 2024, "505"), 7 * TY),
            ("disburse", LineKey("GNBV", "DTPT", "NSTW", 2024, "505"), TY),
        ):
            request = movement(
                action,
                movement_id=f"other-{action}",
                effective_date=date(2024, 7, 1),
                line=line,
                amount_vnd=amount,
                decision="QĐ 7" if action == "adjust" else None,
                voucher="UNC 7" if action == "disburse" else None,
            )
            other.ledger.record(request, actor="admin")
        # Its read models caught up too (as a follower does), so that this process finds
        # them current, at a later position.
        other.current_projections()
    finally:
        other.close()
    after = api.ok(api.get("/balances", "auditor", holder="505", as_of=day))["balances"]
    by_line = {(row["program"], row["kind"], row["source"]): row for row in after}
    assert by_line[("GNBV", "SN", "NSDP")]["assigned_vnd"] == 7 * TY
    before = {(row["program"], row["kind"], row["source"]): row for row in first}
    paid = before[("GNBV", "DTPT", "NSTW")]["disbursed_vnd"] + TY
    assert by_line[("GNBV", "DTPT", "NSTW")]["disbursed_vnd"] == paid


def test_a_replay_answers_what_the_first_answered(api: Api) -> None:
    worked_example(api)
    payment = move("r1", "2024-07-01", holder="505", amount_vnd=TY, voucher="KB 3")
    first = api.post("/disbursements", "clerk-505", payment)
    head = api.ledger.head_position()
    again = api.post("/disbursements", "clerk-505", payment)
    assert (again.status_code, again.get_json()) == (first.status_code, first.get_json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert api.ledger.head_position() == head
    # The id may come in the Idempotency-Key header instead.
    keyed = {k: v for k, v in payment.items() if k != "movement_id"}
    third = api.post("/disbursements", "clerk-505", keyed, **{"Idempotency-Key": "r1"})
    assert (third.status_code, third.get_json()) == (first.status_code, first.get_json())
    # The same id with a different body is a conflict, and records nothing.
    changed = api.post("/disbursements", "clerk-505", {**payment, "amount_vnd": 2 * TY})
    assert changed.status_code == 409
    assert changed.get_json()["rule"] == "movement-id-reused"
    # Two different ids at once, or none at all, are refused.
    both = api.post("/disbursements", "clerk-505", payment, **{"Idempotency-Key": "other"})
    assert both.status_code == 422
    none = api.post("/disbursements", "clerk-505", keyed)
    assert (none.status_code, list(none.get_json()["errors"])) == (422, ["movement_id"])
    assert api.ledger.head_position() == head
    assert api.balances(holder="505")["505"]["disbursed_vnd"] == 51 * TY


def test_each_error_is_problem_json_and_records_nothing(api: Api) -> None:
    worked_example(api)
    head = api.ledger.head_position()

    def problem(response: Any, status: int, rule: str) -> dict[str, Any]:
        assert response.status_code == status, response.get_json()
        assert response.content_type == "application/problem+json"
        body = response.get_json()
        assert {"type", "title", "status", "detail"} <= set(body)
        assert (body["status"], body["rule"], body["type"]) == (status, rule, f"/problems/{rule}")
        return body

    bad = move("e1", "2024-07-01", holder="505", amount_vnd="lots", voucher="KB", colour="red")
    body = problem(api.post("/disbursements", "admin", bad), 422, "validation")
    assert set(body["errors"]) == {"amount_vnd", "colour"}
    body = problem(api.post("/disbursements", "admin", {}), 422, "validation")
    assert {"program", "holder", "amount_vnd", "effective_date"} <= set(body["errors"])
    not_json = api.client.post(
        "/disbursements",
        data="amount=1",
        headers=api.headers("admin"),
        content_type="text/plain",
    )
    assert not_json.status_code == 422
    overdraw = move("e2", "2024-07-01", holder="505", amount_vnd=10**6 * TY, voucher="KB")
    body = problem(api.post("/disbursements", "admin", overdraw), 409, "available-never-negative")
    assert body["errors"] == {"amount_vnd": [body["errors"]["amount_vnd"][0]]}
    late = move("e3", "2025-03-01", holder="505", amount_vnd=TY, voucher="KB")
    problem(api.post("/disbursements", "admin", late), 409, "past-deadline")
    stranger = move("e4", "2024-07-01", holder="999", amount_vnd=TY, voucher="KB")
    problem(api.post("/disbursements", "admin", stranger), 422, "unknown-holder")
    nowhere = {
        "movement_id": "e5",
        "effective_date": "2024-07-01",
        "reverses": "nope",
        "reason": "x",
    }
    problem(api.post("/reversals", "admin", nowhere), 422, "unknown-movement")
    skip = move("e6", "2024-07-01", from_holder="TW", to_holder="505", amount_vnd=TY, decision="x")
    problem(api.post("/allocations", "admin", skip), 422, "holders-not-related")
    outside = move("e7", "2032-01-01", holder="505", amount_vnd=TY, voucher="KB")
    problem(api.post("/disbursements", "admin", outside), 422, "invalid-input")
    problem(api.get("/movements/nope", "admin"), 404, "not-found")
    problem(api.get("/holders/999", "admin"), 404, "not-found")
    problem(api.get("/nowhere", "admin"), 404, "not-found")
    problem(api.client.delete("/balances", headers=api.headers("admin")), 405, "method-not-allowed")
    problem(api.get("/balances", "admin", as_of="yesterday"), 422, "validation")
    assert api.ledger.head_position() == head
    # Every problem type says what it means.
    meaning = api.ok(api.client.get("/problems/past-deadline"))
    assert (meaning["status"], meaning["title"]) == (409, "Past deadline")


def raw(api: Api, path: str, body: str | bytes, who: str = "admin") -> Any:
    return api.client.post(
        path, data=body, headers=api.headers(who), content_type="application/json"
    )


def refused(response: Any, field: str) -> dict[str, Any]:
    """422 problem+json naming ``field``."""
    assert response.status_code == 422, (response.status_code, response.get_data()[:300])
    assert response.content_type == "application/problem+json"
    body = response.get_json()
    assert field in body["errors"], body
    return body


def test_a_body_that_cannot_be_read_whole_is_422_naming_the_field(api: Api) -> None:
    """Each of these was a 500 or was recorded half-understood."""
    worked_example(api)
    head = api.ledger.head_position()
    pay = move("bad-1", "2024-07-01", holder="505", amount_vnd=TY, voucher="KB 1")
    text = json.dumps(pay)
    # A 9,999-digit integer: Python refuses to convert it (ValueError), so it is never read.
    body = refused(raw(api, "/disbursements", text.replace(str(TY), "9" * 9999)), "amount_vnd")
    assert "9999 digits" in body["errors"]["amount_vnd"][0]
    refused(raw(api, "/disbursements", text.replace(str(TY), "-" + "9" * 9999)), "amount_vnd")
    # Nested 50,000 and 100,000 deep (RecursionError in the parser).
    for depth in (50_000, 100_000):
        refused(raw(api, "/disbursements", "[" * depth + "]" * depth), "body")
        nested = text[:-1] + ', "note": ' + "[" * depth + "]" * depth + "}"
        refused(raw(api, "/disbursements", nested), "body")
    # A lone surrogate (UnicodeEncodeError), as a JSON escape, in a value or a key.
    refused(raw(api, "/disbursements", json.dumps({**pay, "voucher": "KB\ud800"})), "voucher")
    refused(raw(api, "/disbursements", json.dumps({**pay, "\udcff": 1})), "body")
    # The same key twice was recorded with the last value.
    twice = text[:-1] + f', "amount_vnd": {2 * TY}}}'
    body = refused(raw(api, "/disbursements", twice), "amount_vnd")
    assert "twice" in body["detail"]
    # Not JSON at all, or not UTF-8, or JSON's non-numbers.
    refused(raw(api, "/disbursements", text.encode("utf-16")), "body")
    refused(raw(api, "/disbursements", text.encode("utf-8").replace(b"KB 1", b"KB \xff")), "body")
    for constant in ("NaN", "Infinity", "-Infinity"):
        refused(raw(api, "/disbursements", text.replace(str(TY), constant)), "body")
    refused(raw(api, "/disbursements", text.replace(str(TY), "1e400")), "amount_vnd")
    assert api.ledger.head_position() == head


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("voucher", "KB\x00 1"),
        ("voucher", "KB\n1"),
        ("voucher", "\t=1+1"),
        ("voucher", "KB \x1b[31m1"),
        ("voucher", "KB\u202e1"),
        ("note", "dòng 1\x00"),
        ("note", "dòng 1\r\ndòng 2"),
        ("note", "\x1b[2J"),
        ("holder", "505\x00"),
        ("program", "GNBV\x00"),
        ("movement_id", "bad-2\n"),
        ("effective_date", "２０２４-07-01"),
        ("effective_date", "2024-07-01\x00"),
    ],
)
def test_control_characters_and_foreign_digits_in_a_write_are_422(
    api: Api, field: str, value: str
) -> None:
    worked_example(api)
    head = api.ledger.head_position()
    pay = move("bad-2", "2024-07-01", holder="505", amount_vnd=TY, voucher="KB 1")
    refused(api.post("/disbursements", "admin", {**pay, field: value}), field)
    assert api.ledger.head_position() == head


def test_a_note_keeps_its_newlines_and_tabs(api: Api) -> None:
    worked_example(api)
    note = "dòng 1\n\tdòng 2"
    pay = move("ok-1", "2024-07-01", holder="505", amount_vnd=TY, voucher="KB 1", note=note)
    api.ok(api.post("/disbursements", "admin", pay), 201)
    entries = api.ok(api.get("/history", "admin", holder="505"))["entries"]
    assert [e["note"] for e in entries if e["movement_id"] == "ok-1"] == [note]


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/balances", {"known_at": "0001-01-01T00:00"}, "known_at"),  # OverflowError
        ("/balances", {"known_at": "9999-12-31T23:59:59-12:00"}, "known_at"),
        ("/balances", {"as_of": "9999-12-31"}, "as_of"),
        ("/balances", {"year": "２０２４"}, "year"),
        ("/balances", {"holder": "505\x00"}, "holder"),
        ("/reports/progress", {"known_at": "0001-01-01T00:00"}, "known_at"),
        (
            "/reports/progress",
            {"period": "month", "from": "0001-01-01", "to": "2024-01-01"},
            "from",
        ),
        ("/history", {"recorded_from": "0001-01-01T00:00"}, "recorded_from"),
        ("/history", {"recorded_to": "9999-12-31T23:59:59-12:00"}, "recorded_to"),
        ("/history", {"decision": "QĐ\x00"}, "decision"),
        ("/history", {"actor": "bob\x1b[31m"}, "actor"),
        ("/reports/progress", {"by": "district"}, "by"),
        ("/reports/progress", {"by": "holder,holder"}, "by"),
        ("/reports/progress", {"plan": "detailed"}, "plan"),
        ("/reports/progress", {"period": "quarter"}, "period"),
        ("/reports/progress", {"target": "0"}, "target"),
        ("/reports/progress", {"reference": "cả nước"}, "reference"),
        ("/reports/progress", {"near": "-1"}, "near"),
        ("/events", {"after": "１"}, "after"),
        ("/events", {"after": "9" * 9999}, "after"),
    ],
)
def test_a_query_that_cannot_be_read_is_422_naming_the_parameter(
    api: Api, path: str, query: dict[str, str], field: str
) -> None:
    refused(api.get(path, "admin", **query), field)


def test_405_says_which_methods_are_allowed(api: Api) -> None:
    response = api.client.delete("/balances", headers=api.headers("admin"))
    assert response.status_code == 405
    assert response.content_type == "application/problem+json"
    assert {"GET", "HEAD", "OPTIONS"} <= set(response.headers["Allow"].split(", "))
    response = api.client.get("/disbursements", headers=api.headers("admin"))
    assert response.status_code == 405 and "POST" in response.headers["Allow"]


def test_holders_are_registered_within_scope(api: Api) -> None:
    commune = {"code": "20308", "name": "Xã A Ting", "level": "commune", "parent": "505"}
    created = api.ok(api.post("/holders", "approver-49", commune), 201)
    assert (created["code"], created["actor"]) == ("20308", "approver-49")
    assert api.ok(api.post("/holders", "approver-49", commune), 201) == created
    elsewhere = {"code": "01", "name": "Hà Nội", "level": "province", "parent": "TW"}
    assert api.post("/holders", "approver-49", elsewhere).status_code == 403
    assert api.post("/holders", "clerk-505", commune).status_code == 403
    assert api.ok(api.get("/holders/20308", "viewer-505"))["parent"] == "505"
    reused = {**commune, "name": "Another"}
    assert api.post("/holders", "admin", reused).status_code == 422


def test_the_audit_feed_pages_through_the_log_in_order(api: Api) -> None:
    worked_example(api)
    head = api.ledger.head_position()
    seen: list[int] = []
    after = 0
    while True:
        page = api.ok(api.get("/events", "auditor", after=after, limit=7))
        assert page["head"] == head
        if not page["events"]:
            break
        seen += [event["position"] for event in page["events"]]
        after = page["next_after"]
    assert seen == list(range(1, head + 1))
    # A new ledger's log opens with its built-in programs, then come the holders.
    opening = api.ok(api.get("/events", "auditor", after=0, limit=4))["events"]
    assert [event["topic"] for event in opening] == [
        *["budget_ledger:Program.Registered"] * 3,
        "budget_ledger:Holder.Registered",
    ]
    assert [event["data"]["code"] for event in opening] == ["NTM", "GNBV", "DTTS", "TW"]
    assert api.get("/events", "auditor", limit=5000).status_code == 422


def test_openapi_document_and_offline_docs(api: Api) -> None:
    spec = api.ok(api.client.get("/openapi.json"))
    for path in (
        "/allocations",
        "/adjustments",
        "/reallocations",
        "/disbursements",
        "/reversals",
        "/extensions",
        "/lapses",
        "/holders",
        "/balances",
        "/reports/progress",
        "/history",
        "/events",
        "/health",
    ):
        assert path in spec["paths"], path
    error = spec["components"]["responses"]["UNPROCESSABLE_ENTITY"]["content"]
    assert "application/problem+json" in error
    page = api.client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"):
        assert f"/docs/assets/{asset}" in html
        with api.client.get(f"/docs/assets/{asset}") as served:
            assert served.status_code == 200 and served.content_length
    assert api.ok(api.client.get("/health"))["status"] == "ok"


def test_tokens_from_the_command_line(api: Api, database: str) -> None:
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(main, [*args, "--database", database])
        assert result.exit_code == 0, result.output
        return result.output

    secret = run("tokens", "create", "--name", "kb-batch", "--role", "clerk", "--scope", "504")
    token = secret.strip().splitlines()[-1]
    assert token.startswith("blt_")
    listing = run("tokens", "list", "--format", "json")
    assert "kb-batch" in listing and token not in listing
    response = api.client.get("/balances", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    refused = runner.invoke(
        main, ["tokens", "create", "--name", "kb-batch", "--role", "clerk", "--database", database]
    )
    assert refused.exit_code == 1 and "never reused" in refused.output


def test_history_filters_over_http(api: Api) -> None:
    worked_example(api)
    province = api.ok(api.get("/history", "auditor", holder="49", subtree="true"))["entries"]
    assert {e["line"]["holder"] for e in province} == {"49", "505", "504"}
    clerk = api.ok(api.get("/history", "auditor", actor="clerk-505"))["entries"]
    assert {e["movement_id"] for e in clerk} == {"w5", "w7"}
    first = min(e["recorded_at"] for e in province)
    assert api.ok(api.get("/history", "auditor", recorded_to=first))["entries"]
    assert api.get("/history", "viewer-505", holder="49", subtree="true").status_code == 403


def test_a_read_after_a_rebuild_in_another_process_uses_the_new_generation(
    api: Api, database: str
) -> None:
    # Each request reads which generation is active together with its token; a generation
    # remembered from an earlier request would now name dropped tables.
    worked_example(api)
    before = api.balances(program="GNBV")
    assert api.balances(program="GNBV") == before  # the read model was current: no catch-up
    result = CliRunner().invoke(main, ["projections", "rebuild", "--database", database])
    assert result.exit_code == 0, result.output
    assert api.balances(program="GNBV") == before
    payment = move("after-rebuild", "2024-07-02", holder="505", amount_vnd=TY, voucher="KB 9")
    api.ok(api.post("/disbursements", "clerk-505", payment), 201)
    after = api.balances(program="GNBV")
    assert after["505"]["disbursed_vnd"] == before["505"]["disbursed_vnd"] + TY


def test_a_refusal_over_http_links_to_what_helps_and_names_no_command(api: Api) -> None:
    """The ledger's refusals carry codes and fields; the command line adds its commands
    (tests/e2e/test_cli.py), the API its links, and neither reaches the other's clients."""
    worked_example(api)
    stranger = move("h1", "2024-07-01", holder="NOPE", amount_vnd=TY, voucher="KB")
    late = move("h2", "2025-03-01", holder="505", amount_vnd=TY, voucher="KB")
    answers = {
        "unknown-holder": api.get("/balances", "auditor", holder="NOPE"),
        "past-deadline": api.post("/disbursements", "admin", late),
    }
    unknown_write = api.post("/disbursements", "admin", stranger)
    assert unknown_write.get_json()["links"] == {"holders": "/holders"}
    assert api.ok(api.get("/holders", "auditor"))  # the link answers
    for rule, response in answers.items():
        body = response.get_json()
        assert body["rule"] == rule
        assert "budget-ledger" not in json.dumps(body)
        assert "--" not in json.dumps(body)
    assert answers["unknown-holder"].status_code == 422
    assert answers["unknown-holder"].get_json()["detail"] == "holder: no holder has code NOPE."
    assert answers["unknown-holder"].get_json()["links"] == {"holders": "/holders"}
    assert answers["past-deadline"].get_json()["links"] == {"extensions": "/extensions"}
    early = {"movement_id": "h3", "effective_date": "2024-12-01", **LINE, "holder": "505"}
    too_early = api.post("/lapses", "admin", early).get_json()
    assert too_early["rule"] == "past-deadline"
    assert "links" not in too_early  # an extension would not help
