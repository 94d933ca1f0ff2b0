"""The fingerprint and the stored shape of one movement of every kind, byte for byte.

A replay compares the fingerprint of the request sent again with the one recorded when the
movement was first made (years ago, perhaps, by older code): if the same request hashed
differently today, every retry of an old movement would be refused as a conflict. And the
``Movement.Recorded`` event's state is what the store keeps: its bytes must not drift either.
The digests below were computed by the code before the movement kinds were gathered into one
definition each (issue 13); they are never to be updated to follow the code."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from typing import Any

import pytest

from ledger.application import BudgetLedger
from ledger.domain.movements import Movement, MovementRequest, movement
from ledger.domain.values import LineKey

LINE = LineKey("GNBV", "DTPT", "NSTW", 2024, "TW")
PROJECT_LINE = LineKey("GNBV", "DTPT", "NSTW", 2024, "49", "DA4.TDA1")
RECORDED_AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

# movement id -> (action, fields, fingerprint, SHA-256 of the stored Movement.Recorded state)
GOLDEN: dict[str, tuple[str, dict[str, Any], str, str]] = {
    "g-adjust": (
        "adjust",
        {
            "effective_date": date(2024, 1, 2),
            "line": LINE,
            "amount_vnd": -5,
            "decision": "QĐ 1603/QĐ-TTg",
            "note": "ghi chú\ndòng 2",
        },
        "77ed555dbc65dde308382d3a24ebc58d550d185df98919e424f1fac9bfc9c75d",
        "c299772b26fb46d672d398bebbf41b05f12428b0b35d68d38c7f8202b0e4305b",
    ),
    "g-allocate": (
        "allocate",
        {
            "effective_date": date(2024, 1, 5),
            "line": LINE,
            "counterpart": "49",
            "amount_vnd": 400,
            "decision": "QĐ 1",
        },
        "75376b6cf98ffe486aee467b9fa61f947a2ee23920fdeafa7fe4c3d797e6ab57",
        "ec9f2c60444f749fa50ae0e909eb7f7f47221c663cacc17d170053dc528fb311",
    ),
    "g-reallocate": (
        "reallocate",
        {
            "effective_date": date(2024, 4, 1),
            "line": PROJECT_LINE,
            "counterpart": "504",
            "amount_vnd": 50,
            "decision": "QĐ 2",
        },
        "639ba174241f3ea7450b78a8ed98e388d8266a9660e5f25beaca36103d7284af",
        "cf437b01ac6d1211c04c424a134347bea2ac633a0babb05faa9d2f93bb792626",
    ),
    "g-disburse": (
        "disburse",
        {
            "effective_date": date(2024, 3, 1),
            "line": PROJECT_LINE,
            "amount_vnd": 60,
            "voucher": "KB 1",
        },
        "8e27a12f3daf7c90e48411ef11001b6671d9a7bd4639a24053f196d39f10266c",
        "daf7e7607cf03c26ea54dbe1f481cb88155b68f517f07bcde530294cfe128071",
    ),
    "g-reverse": (
        "reverse",
        {
            "effective_date": date(2024, 5, 1),
            "reverses": "g-disburse",
            "amount_vnd": 10,
            "reason": "sai",
        },
        "2384549aeff220e7979c0300688d13de2776a62e68eb4d714f4f7510adb7cbb7",
        "57adb8c6075ea7ff22b8000861865f5a71c04fb6415b4281ceb53030c76b457e",
    ),
    "g-reverse-all": (
        "reverse",
        {"effective_date": date(2024, 5, 1), "reverses": "g-disburse", "reason": "sai"},
        "a7c9ed114b6f3a77ad8bc8e881c2e15e9ffb6aef08a7cbd41e5d6ab55ff7ffda",
        "4aa571e14567d605cf4b24f70b196e5430c5161bc373cbfe3123705e4b4f44d0",
    ),
    "g-extend": (
        "extend",
        {
            "effective_date": date(2025, 1, 20),
            "line": LINE,
            "until": date(2025, 12, 31),
            "amount_vnd": 7,
            "basis": "NQ 111/2024/QH15",
        },
        "19bf82ca48b6299edeabea0da63c13c84b114ac5df10f06fa666b440b5940e15",
        "822e5a551c8e512cb718e59c9a88b5f7fa6c0a2e4821796bc3d9bbba390fde5b",
    ),
    "g-extend-all": (
        "extend",
        {
            "effective_date": date(2025, 1, 20),
            "line": LINE,
            "until": date(2025, 12, 31),
            "basis": "NQ 111/2024/QH15",
        },
        "ac13662587879058704b8b6726e2d3ba13173d1a09b086fe19cdefd283d82dbe",
        "3f14268e1a5ea40cc434c234767aa1046be899a339fa66716fe2b9107a2d4a7d",
    ),
    "g-lapse": (
        "lapse",
        {"effective_date": date(2025, 2, 1), "line": LINE},
        "0977b9f53ffb0d3cdac8dcb92f8767670dd880a094596f3aefbc3ab7866cd6f9",
        "64426652c0a05ea9e678fc28d395d5f28723b1203bf02012dc37587029355484",
    ),
}


def request(movement_id: str) -> MovementRequest:
    action, fields, _, _ = GOLDEN[movement_id]
    return movement(action, movement_id=movement_id, **fields)


def stored_state(movement_request: MovementRequest) -> bytes:
    """The bytes the store keeps for the movement's ``Movement.Recorded`` event."""
    lines = [{"line": LINE.as_dict(), "available_vnd": 100}]
    movement = Movement.record(
        movement_request, actor="tester", amount_vnd=5, lines=lines, recorded_at=RECORDED_AT
    )
    (event,) = movement.collect_events()
    return BudgetLedger().mapper.to_stored_event(event).state


@pytest.mark.parametrize("movement_id", list(GOLDEN))
def test_a_request_fingerprints_as_it_did_when_first_recorded(movement_id: str) -> None:
    _, _, fingerprint, _ = GOLDEN[movement_id]
    assert request(movement_id).fingerprint() == fingerprint


@pytest.mark.parametrize("movement_id", list(GOLDEN))
def test_a_movement_is_stored_as_it_was_when_first_recorded(movement_id: str) -> None:
    _, _, _, state_sha256 = GOLDEN[movement_id]
    assert hashlib.sha256(stored_state(request(movement_id))).hexdigest() == state_sha256


def test_the_canonical_request_names_every_field_in_a_fixed_order() -> None:
    canonical = request("g-disburse").canonical()
    assert list(canonical) == [
        "action",
        "movement_id",
        "effective_date",
        "line",
        "counterpart",
        "amount_vnd",
        "decision",
        "voucher",
        "reason",
        "basis",
        "reverses",
        "until",
        "note",
    ]
    assert canonical["line"] == PROJECT_LINE.as_dict()
    assert canonical["effective_date"] == "2024-03-01"
