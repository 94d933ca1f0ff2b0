"""Programs as a finance officer registers and uses them: ``budget-ledger programs add`` and
``programs list``, and ``POST /programs``/``GET /programs`` with the roles that may; a line of
2026 on the merged 2026-2035 program is recorded, one on NTM is refused, nothing recorded."""

from __future__ import annotations

from typing import Any

import pytest

from api import create_app
from api.services import Services
from ledger.application import open_ledger
from tests.e2e.cli_story import TY, Cli, quang_nam

MERGED = "MTQG2635"
MERGED_NAME = (
    "Chương trình MTQG xây dựng nông thôn mới, giảm nghèo bền vững và phát triển KT-XH vùng "
    "đồng bào DTTS và miền núi giai đoạn 2026-2035"
)
ADD_MERGED = (
    "programs", "add", MERGED, MERGED_NAME,
    "--from-year", "2026", "--to-year", "2035", "--decision", "NQ 257/2025/QH15",
)  # fmt: skip


def line(program: str, year: int = 2026) -> tuple[str, ...]:
    return ("--program", program, "--kind", "DTPT", "--source", "NSTW", "--year", str(year))


@pytest.fixture
def tree(database: str) -> Cli:
    return quang_nam(Cli(database).init(), actor="sotaichinh")


def head(database: str) -> int:
    ledger = open_ledger(database)
    try:
        return ledger.head_position()
    finally:
        ledger.close()


def test_init_lists_the_three_programs_valid_up_to_2025(tree: Cli) -> None:
    programs = tree.json("programs", "list")
    assert [(p["code"], p["from_year"], p["to_year"]) for p in programs] == [
        ("DTTS", 2000, 2025),
        ("GNBV", 2000, 2025),
        ("NTM", 2000, 2025),
    ]
    assert {p["actor"] for p in programs} == {"budget-ledger init"}
    table = tree.out("programs", "list")
    assert "NQ 24/2021/QH15" in table and "nông thôn mới" in table


def test_the_merged_program_takes_2026_lines_and_ntm_does_not(tree: Cli, database: str) -> None:
    before = head(database)
    refused = tree.adjust(
        "TW", 5 * TY, decision="QĐ 1", date="2026-01-05", line=line("NTM"), expect=1
    )
    assert refused.output.startswith(
        "Error: refused (program-not-valid): program: program NTM is valid for plan years up "
        "to 2025; no program is registered for 2026; list them with 'budget-ledger programs "
        "list' or register one with 'budget-ledger programs add'"
    )
    assert head(database) == before

    added = tree.out(*ADD_MERGED)
    assert added == f"program {MERGED} {MERGED_NAME}: plan years 2026 to 2035 (NQ 257/2025/QH15)\n"
    tree.adjust("TW", 5 * TY, decision="QĐ 1", date="2026-01-05", line=line(MERGED))
    tree.allocate("TW", "49", 2 * TY, decision="QĐ 2", date="2026-01-06", line=line(MERGED))
    assert tree.balances(program=MERGED)["49"]["available_vnd"] == 2 * TY

    before = head(database)
    refused = tree.adjust(
        "TW", 5 * TY, decision="QĐ 1", date="2026-01-05", line=line("NTM"), expect=1
    )
    assert f"for 2026 the valid programs are: {MERGED} ({MERGED_NAME})" in refused.output
    refused = tree.adjust(
        "TW", 5 * TY, decision="QĐ 1", date="2025-01-05", line=line(MERGED, 2025), expect=1
    )
    assert (
        "program MTQG2635 is valid for plan years 2026 to 2035; for 2025 the valid programs "
        "are: DTTS" in refused.output
    )
    assert head(database) == before
    assert "OK" in tree.check()


def test_adding_a_program_again_records_nothing_and_other_terms_are_refused(
    tree: Cli, database: str
) -> None:
    tree.out(*ADD_MERGED)
    before = head(database)
    again = tree.out(*ADD_MERGED)
    assert again.endswith("(already registered; nothing recorded)\n")
    other_years = [*ADD_MERGED[:4], "--from-year", "2026", "--decision", "NQ 257/2025/QH15"]
    refused = tree.run(*other_years, expect=1)
    assert "refused (invalid-input): code: program MTQG2635 is already registered" in refused.output
    backwards = [
        "programs",
        "add",
        "P2",
        "a program",
        "--from-year",
        "2030",
        "--to-year",
        "2026",
        "--decision",
        "Q",
    ]
    refused = tree.run(*backwards, expect=1)
    assert "to_year: 2026 is before from_year 2030" in refused.output
    malformed = tree.run(
        "programs", "add", "P/2", "a program", "--from-year", "2030", "--decision", "Q", expect=1
    )
    assert "code: 'P/2' is not a program code" in malformed.output
    foreign = tree.run(
        "programs", "add", "P2", "a program", "--from-year", "２０３０", "--decision", "Q", expect=2
    )
    assert "Invalid value for '--from-year'" in foreign.output
    assert head(database) == before
    assert [p["code"] for p in tree.json("programs", "list")] == ["DTTS", "GNBV", MERGED, "NTM"]


ROLES = {
    "admin": ("admin", None),
    "approver": ("approver", None),
    "approver-49": ("approver", "49"),
    "clerk": ("clerk", None),
    "viewer-505": ("viewer", "505"),
}
BODY = {
    "code": MERGED,
    "name": MERGED_NAME,
    "from_year": 2026,
    "to_year": 2035,
    "decision": "NQ 257/2025/QH15",
}


def test_the_api_registers_programs_for_approvers_and_lists_them_to_anyone(
    services: Services,
) -> None:
    ledger = services.ledger
    for code, name, level, parent in (
        ("TW", "Trung ương", "central", None),
        ("49", "Tỉnh Quảng Nam", "province", "TW"),
        ("505", "Huyện Đông Giang", "district", "49"),
    ):
        ledger.register_holder(code, name, level, parent, actor="setup")
    tokens = services.tokens()
    secrets = {name: tokens.create(name, role, scope)[1] for name, (role, scope) in ROLES.items()}
    app = create_app(services=services)
    app.config["TESTING"] = True
    client = app.test_client()

    def call(method: str, path: str, who: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {secrets[who]}"}
        return client.open(path, method=method, json=body, headers=headers)

    def adjust(program: str, who: str = "admin") -> Any:
        body = {
            "program": program, "kind": "DTPT", "source": "NSTW", "year": 2026,
            "holder": "TW", "amount_vnd": 5 * TY, "decision": "QĐ 1",
            "effective_date": "2026-01-05", "movement_id": f"a-{program}",
        }  # fmt: skip
        return call("POST", "/adjustments", who, body)

    before = ledger.head_position()
    for who in ("clerk", "viewer-505", "approver-49"):
        assert call("POST", "/programs", who, BODY).status_code == 403, who
    refused = adjust(MERGED)
    assert refused.status_code == 422
    problem = refused.get_json()
    assert (problem["rule"], problem["type"]) == (
        "program-not-valid",
        "/problems/program-not-valid",
    )
    assert list(problem["errors"]) == ["program"] and problem["links"] == {"programs": "/programs"}
    assert ledger.head_position() == before

    created = call("POST", "/programs", "approver", BODY)
    assert created.status_code == 201, created.get_json()
    assert created.get_json() | {"registered_at": None} == BODY | {
        "actor": "approver",
        "registered_at": None,
    }
    assert call("POST", "/programs", "admin", BODY).status_code == 200  # already so
    other = call("POST", "/programs", "admin", BODY | {"to_year": None})
    assert (other.status_code, other.get_json()["rule"]) == (422, "invalid-input")
    malformed = call("POST", "/programs", "admin", BODY | {"code": "MTQG/2635", "to_year": "2035"})
    assert malformed.status_code == 422 and set(malformed.get_json()["errors"]) == {
        "code",
        "to_year",
    }

    listed = call("GET", "/programs", "viewer-505")
    assert listed.status_code == 200
    assert [p["code"] for p in listed.get_json()["programs"]] == ["DTTS", "GNBV", MERGED, "NTM"]

    assert adjust(MERGED).status_code == 201
    ntm = adjust("NTM")
    assert (ntm.status_code, ntm.get_json()["rule"]) == (422, "program-not-valid")
    assert f"for 2026 the valid programs are: {MERGED}" in ntm.get_json()["detail"]
    assert adjust("N-T-M").status_code == 422  # not a program code: the schema's refusal


def test_a_counterpart_ratio_is_recorded_once_and_bad_ones_change_nothing(
    tree: Cli, database: str
) -> None:
    ratio = ("programs", "ratio", "GNBV", "--year", "2024", "--decision", "QĐ 90/QĐ-TTg")
    said = tree.out(*ratio, "--percent", "10,5")
    assert said == "program GNBV 2024: NSĐP at least 10,5% of NSTW (QĐ 90/QĐ-TTg)\n"
    before = head(database)
    again = tree.out(*ratio, "--percent", "10.50")
    assert again.endswith("(already in force; nothing recorded)\n")
    for percent, told in [
        ("mười", "ratio: 'mười' is not a percentage"),
        ("2000", "ratio: '2000' is above 1000%"),
    ]:
        refused = tree.run(*ratio, "--percent", percent, expect=1)
        assert told in refused.output and "Nothing was recorded." in refused.output
    late = tree.run(
        "programs", "ratio", "GNBV", "--year", "2030", "--percent", "10", "--decision", "Q",
        expect=1,
    )  # fmt: skip
    assert "year: program GNBV is valid for plan years up to 2025, not 2030" in late.output
    assert head(database) == before
    assert tree.json("programs", "ratios", "--year", "2024") == [
        {"program": "GNBV", "year": 2024, "ratio_pct": 10.5}
    ]
