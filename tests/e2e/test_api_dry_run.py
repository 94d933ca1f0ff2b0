"""``?dry_run=true`` on the HTTP writes: checked as the real write, nothing recorded, 200 with
``Dry-Run: true``, the answer the write would give and (for a movement) the preview."""

from __future__ import annotations

import pytest

from tests.e2e.test_api import TY, Api, api, move, worked_example  # noqa: F401 (fixture)


@pytest.fixture
def web(api: Api) -> Api:  # noqa: F811 (the books of tests/e2e/test_api.py)
    return api


def dry(web: Api, path: str, who: str, body: object, flag: str = "true") -> object:
    return web.client.post(
        f"{path}?dry_run={flag}", json=body, headers=web.headers(who)
    )


def test_a_dry_run_payment_changes_nothing_and_previews_its_line(web: Api) -> None:
    worked_example(web)
    head, balances = web.ledger.head_position(), web.balances()
    payment = move("d1", "2024-02-01", holder="505", amount_vnd=5 * TY, voucher="KB 9")
    response = dry(web, "/disbursements", "clerk-505", payment)
    body = web.ok(response, 200)
    assert response.headers["Dry-Run"] == "true"
    assert "Location" not in response.headers
    assert body["dry_run"] is True
    assert (body["movement_id"], body["action"], body["amount_vnd"]) == ("d1", "disburse", 5 * TY)
    assert body["lines"][0]["line"]["holder"] == "505"
    [line] = body["preview"]
    assert line["line"]["holder"] == "505"
    # Back-dated before the March payment and the April reallocation: every later date shows.
    dates = [d["date"] for d in line["dates"]]
    assert dates[0] == "2024-02-01" and "2024-03-01" in dates and "2024-04-01" in dates
    for d in line["dates"]:
        assert d["before_vnd"] - d["after_vnd"] == 5 * TY
    assert web.ledger.head_position() == head
    assert web.balances() == balances
    assert web.get("/movements/d1", "admin").status_code == 404
    # The real write afterwards is recorded as usual, under the same id.
    assert web.post("/disbursements", "clerk-505", payment).status_code == 201


def test_an_overdrawing_dry_run_gets_the_real_write_s_refusal(web: Api) -> None:
    worked_example(web)
    head = web.ledger.head_position()
    overdraw = move("d2", "2024-07-01", holder="505", amount_vnd=10**6 * TY, voucher="KB")
    dried = dry(web, "/disbursements", "clerk-505", overdraw)
    real = web.post("/disbursements", "clerk-505", overdraw)
    assert dried.status_code == real.status_code == 409
    assert dried.content_type == real.content_type == "application/problem+json"
    assert dried.get_json() == real.get_json()
    assert "Dry-Run" not in dried.headers
    assert web.ledger.head_position() == head


def test_a_viewer_s_or_another_district_s_dry_run_is_refused_as_the_write(web: Api) -> None:
    worked_example(web)
    head = web.ledger.head_position()
    payment = move("d3", "2024-07-01", holder="505", amount_vnd=TY, voucher="KB")
    for who, status in (("viewer-505", 403), ("auditor", 403), ("clerk-504", 403)):
        dried, real = dry(web, "/disbursements", who, payment), web.post(
            "/disbursements", who, payment
        )
        assert dried.status_code == real.status_code == status
        assert dried.get_json() == real.get_json()
    assert web.ledger.head_position() == head


def test_dry_run_must_be_true_or_false(web: Api) -> None:
    worked_example(web)
    head = web.ledger.head_position()
    payment = move("d4", "2024-07-01", holder="505", amount_vnd=TY, voucher="KB")
    response = dry(web, "/disbursements", "clerk-505", payment, flag="maybe")
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    detail = response.get_json()["detail"]
    assert "dry_run must be true or false" in detail and "\n" not in detail
    assert web.ledger.head_position() == head
    # false records, as no flag does.
    assert dry(web, "/disbursements", "clerk-505", payment, flag="false").status_code == 201
    assert web.ledger.head_position() > head


def test_a_dry_run_of_a_recorded_movement_is_a_replay_that_previews_nothing(web: Api) -> None:
    worked_example(web)
    head = web.ledger.head_position()
    payment = move("w5", "2024-03-01", holder="505", amount_vnd=60 * TY, voucher="KB 1")
    response = dry(web, "/disbursements", "clerk-505", payment)
    body = web.ok(response, 200)
    assert response.headers["Idempotent-Replayed"] == "true"
    assert (body["dry_run"], body["preview"]) == (True, [])
    assert web.ledger.head_position() == head


def test_the_openapi_document_declares_dry_run_on_every_write(web: Api) -> None:
    document = web.ok(web.client.get("/openapi.json"))
    writes = ("/disbursements", "/allocations", "/reversals", "/successions", "/holders")
    for path in (*writes, "/holders/{code}/moves", "/holders/{code}/renames", "/programs"):
        post = document["paths"][path]["post"]
        assert "dry_run" in {p["name"] for p in post["parameters"]}, path
        assert "200" in post["responses"], path


def test_a_dry_run_registration_move_and_rename_record_nothing(web: Api) -> None:
    web.ledger.register_holder("48", "Thành phố Đà Nẵng", "province", "TW", actor="setup")
    head = web.ledger.head_position()
    commune = {"code": "20308", "name": "Xã A Ting", "level": "commune", "parent": "505"}
    response = dry(web, "/holders", "approver-49", commune)
    body = web.ok(response, 200)
    assert response.headers["Dry-Run"] == "true"
    assert (body["code"], body["parent"], body["actor"], body["dry_run"]) == (
        "20308",
        "505",
        "approver-49",
        True,
    )
    assert web.get("/holders/20308", "admin").status_code == 404
    # Refused as the real registration is: outside the scope, by a clerk.
    assert dry(web, "/holders", "clerk-505", commune).status_code == 403
    elsewhere = {"code": "01", "name": "Hà Nội", "level": "province", "parent": "TW"}
    assert dry(web, "/holders", "approver-49", elsewhere).status_code == 403
    moved = {"parent": "49", "effective_date": "2024-07-01", "decision": "NQ 1"}
    moved_to_48 = {**moved, "parent": "48"}
    body = web.ok(dry(web, "/holders/505/moves", "admin", moved_to_48), 200)
    assert body["dry_run"] is True
    assert [(c["change"], c["parent"]) for c in body["changes"]] == [("moved", "48")]
    renamed = {"name": "Huyện Mới", "effective_date": "2024-07-01", "decision": "NQ 2"}
    body = web.ok(dry(web, "/holders/505/renames", "admin", renamed), 200)
    assert [(c["change"], c["name"]) for c in body["changes"]] == [("renamed", "Huyện Mới")]
    # A move below itself is refused as the real move is.
    below = {**moved, "parent": "505"}
    dried, real = (
        dry(web, "/holders/49/moves", "admin", below),
        web.post("/holders/49/moves", "admin", below),
    )
    assert dried.status_code == real.status_code == 422
    assert dried.get_json() == real.get_json()
    assert web.ok(web.get("/holders/505", "admin"))["changes"] == []
    assert web.ledger.head_position() == head


def test_a_dry_run_program_registration_records_nothing(web: Api) -> None:
    head = web.ledger.head_position()
    program = {"code": "MTQG2635", "name": "Chương trình mới", "from_year": 2026,
               "to_year": 2030, "decision": "NQ 257/2025/QH15"}
    response = dry(web, "/programs", "admin", program)
    body = web.ok(response, 200)
    assert response.headers["Dry-Run"] == "true"
    assert (body["code"], body["from_year"], body["dry_run"]) == ("MTQG2635", 2026, True)
    assert "MTQG2635" not in {p["code"] for p in web.ok(web.get("/programs", "admin"))["programs"]}
    assert dry(web, "/programs", "approver-49", program).status_code == 403
    assert dry(web, "/programs", "clerk-505", program).status_code == 403
    assert dry(web, "/programs", "admin", program, flag="yes").status_code == 422
    assert web.ledger.head_position() == head
    assert web.post("/programs", "admin", program).status_code == 201
