"""One rule set: a person signed in to the pages and a token of the same role and scope may
do exactly the same things. Every write (as a dry run, so that the first caller's write
does not change what the second is asked) and every read is sent by both, for each role and
scope, and must be answered with the same status; nothing is recorded."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from api import create_app
from api.people import PeopleStore
from api.services import Services
from tests.e2e.test_api import LINE, ROLES, TY, Api, api, move, worked_example  # noqa: F401

PASSWORD = "mật khẩu đủ dài"

WRITES: list[tuple[str, dict[str, Any]]] = [
    ("/adjustments", move("d1", "2024-05-01", holder="505", amount_vnd=TY, decision="QĐ 1")),
    ("/adjustments", {**move("d2", "2024-05-01", holder="TW", amount_vnd=TY, decision="QĐ 1")}),
    ("/allocations", move("d3", "2024-05-01", from_holder="49", to_holder="505",
                          amount_vnd=TY, decision="QĐ 2")),  # fmt: skip
    ("/reallocations", move("d4", "2024-05-01", from_holder="505", to_holder="504",
                            amount_vnd=TY, decision="QĐ 3")),  # fmt: skip
    ("/disbursements", move("d5", "2024-05-01", holder="505", amount_vnd=TY, voucher="KB 9")),
    ("/disbursements", move("d6", "2024-05-01", holder="504", amount_vnd=TY, voucher="KB 9")),
    ("/reversals", {"movement_id": "d7", "effective_date": "2024-05-02", "reverses": "w5",
                    "amount_vnd": TY, "reason": "KB 9 sai"}),  # fmt: skip
    ("/extensions", move("d8", "2024-12-31", holder="505", amount_vnd=TY, basis="QĐ 4",
                         until="2025-12-31")),  # fmt: skip
    ("/lapses", move("d9", "2025-02-01", holder="504")),
    ("/successions", {"movement_id": "d10", "effective_date": "2025-07-01",
                      "from_holders": ["504"], "to_holder": "505",
                      "decision": "NQ 1"}),  # fmt: skip
    ("/holders", {"code": "599", "name": "Xã mới", "level": "commune", "parent": "505"}),
    ("/holders/505/renames", {"name": "Huyện Đông Giang mới", "effective_date": "2024-05-01",
                              "decision": "QĐ 9"}),  # fmt: skip
    ("/holders/504/moves", {"parent": "48", "effective_date": "2024-05-01",
                            "decision": "QĐ 10"}),  # fmt: skip
    ("/programs", {"code": "NEWP", "name": "Chương trình mới", "from_year": 2026,
                   "to_year": 2030, "decision": "QĐ 7"}),  # fmt: skip
]
READS = [
    "/balances?holder=505&as_of=2024-06-30",
    "/balances?holder=504&as_of=2024-06-30",
    "/balances?holder=49&subtree=true&as_of=2024-06-30",
    "/reports/progress?holder=49&as_of=2024-06-30",
    "/reports/progress?holder=505&as_of=2024-06-30",
    "/history?holder=505",
    "/history?holder=504",
    "/events?after=0&limit=5",
    "/holders",
    "/holders/505",
    "/programs",
    "/movements/w5",
    "/movements/w3-504",
]


def csrf_of(page: bytes) -> str:
    found = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1).decode()


def person(services: Services, name: str) -> tuple[FlaskClient, str]:
    client = create_app(services=services).test_client()
    form = client.get("/login")
    signed = client.post(
        "/login", data={"name": name, "password": PASSWORD, "csrf_token": csrf_of(form.data)}
    )
    assert signed.status_code == 303, signed.data
    return client, csrf_of(client.get("/?as_of=2024-06-30").data)


def test_a_person_and_a_token_of_the_same_role_and_scope_are_answered_alike(
    api: Api, services: Services  # noqa: F811
) -> None:
    worked_example(api)
    # A second province, for a district to move to.
    province = {"code": "48", "name": "Thành phố Đà Nẵng", "level": "province", "parent": "TW"}
    api.ok(api.post("/holders", "admin", province), 201)
    people = PeopleStore(services.store)
    for name, (role, scope) in ROLES.items():
        people.add(f"person-{name}", role, scope, PASSWORD)
    head = services.ledger.head_position()
    compared = 0
    statuses: set[tuple[str, int]] = set()
    for name in ROLES:
        client, csrf = person(services, f"person-{name}")
        for path, body in WRITES:
            by_token = api.post(f"{path}?dry_run=true", name, body)
            by_person = client.post(
                f"{path}?dry_run=true", json=body, headers={"X-CSRF-Token": csrf}
            )
            assert by_person.status_code == by_token.status_code, (
                name, path, by_token.get_json(), by_person.get_json())  # fmt: skip
            compared += 1
            statuses.add((path, by_token.status_code))
        for path in READS:
            by_token = api.client.get(path, headers=api.headers(name))
            by_person = client.get(path)
            assert by_person.status_code == by_token.status_code, (name, path)
            if by_token.status_code == 200 and path.startswith("/balances"):
                assert by_person.get_json() == by_token.get_json(), (name, path)
            compared += 1
    assert services.ledger.head_position() == head  # dry runs recorded nothing
    assert compared == len(ROLES) * (len(WRITES) + len(READS))
    # Every write reached the ledger for some role and was refused its role or scope for
    # another: the bodies are well-formed, so what is compared is the rules.
    for path, _ in WRITES:
        codes = {code for (p, code) in statuses if p == path}
        assert 403 in codes and codes - {403, 422}, (path, codes)
    admin = api.post("/disbursements?dry_run=true", "admin", WRITES[4][1])
    viewer = api.post("/disbursements?dry_run=true", "viewer-505", WRITES[4][1])
    assert (admin.status_code, viewer.status_code) == (200, 403)
