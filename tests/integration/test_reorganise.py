"""``reorganise``: a reorganisation recorded from the official list of successors, on both
stores. A small list built here (two provinces, three districts, four communes, lines with
money on them) shows what is recorded; the shipped list shows Lai Châu's 106 communes
becoming 38; every way of breaking it leaves the ledger as it was."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ledger.application import BudgetLedger
from ledger.domain.audit import check as check_ledger
from ledger.domain.errors import HolderEnded, InvalidInput
from ledger.domain.movements import movement
from ledger.domain.values import LineKey
from ledger.interchange.reorganise import Outcome, reorganise
from ledger.interchange.successors import COLUMNS, SHIPPED
from tests.e2e.test_import_files import windows_1258

TY = 10**9
D = date(2025, 7, 1)
DECISION = "NQ 1670/NQ-UBTVQH15"
LIST = [
    # old province, district and commune; new province and commune
    ("91", "Tỉnh A", "911", "Huyện X", "91101", "Xã Một", "91", "Tỉnh A B", "91101", "Xã Một Hai"),
    ("91", "Tỉnh A", "911", "Huyện X", "91102", "Xã Hai", "91", "Tỉnh A B", "91101", "Xã Một Hai"),
    ("91", "Tỉnh A", "912", "Huyện Y", "91201", "Xã Ba", "91", "Tỉnh A B", "91205", "Xã Ba Bốn"),
    ("92", "Tỉnh B", "921", "Huyện Z", "92101", "Xã Bốn", "91", "Tỉnh A B", "91205", "Xã Ba Bốn"),
]  # fmt: skip


def line(holder: str, year: int = 2025) -> LineKey:
    return LineKey("GNBV", "DTPT", "NSTW", year, holder)


def write(path: Path, rows: list[tuple[str, ...]], encode: Any = None) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([*row, ""])
    if encode is not None:
        path.write_bytes(encode(path.read_text(encoding="utf-8")))
    return path


def record(
    ledger: BudgetLedger, action: str, mid: str, day: date, key: LineKey, **more: Any
) -> None:
    ledger.record(
        movement(action, movement_id=mid, effective_date=day, line=key, **more), actor="t"
    )


def old_books(ledger: BudgetLedger) -> None:
    """The old tree (all but commune 92101, which the list registers) with money on it: a
    2025 line down to the communes, a payment, and 2024 money extended into 2025."""
    for code, name, level, parent in [
        ("TW", "Trung ương", "central", None),
        ("91", "Tỉnh A", "province", "TW"),
        ("92", "Tỉnh B", "province", "TW"),
        ("911", "Huyện X", "district", "91"),
        ("912", "Huyện Y", "district", "91"),
        ("921", "Huyện Z", "district", "92"),
        ("91101", "Xã Một", "commune", "911"),
        ("91102", "Xã Hai", "commune", "911"),
        ("91201", "Xã Ba", "commune", "912"),
    ]:
        ledger.register_holder(code, name, level, parent, actor="t")
    q = {"decision": "QĐ 1"}
    record(ledger, "adjust", "a", date(2025, 1, 2), line("TW"), amount_vnd=1000 * TY, **q)
    for number, (giver, taker, amount) in enumerate(
        [("TW", "91", 600), ("TW", "92", 300), ("91", "911", 200), ("911", "91101", 50),
         ("911", "91102", 40), ("91", "912", 100), ("912", "91201", 30), ("92", "921", 100)]
    ):  # fmt: skip
        record(ledger, "allocate", f"al{number}", date(2025, 1, 5), line(giver),
               counterpart=taker, amount_vnd=amount * TY, **q)  # fmt: skip
    record(ledger, "disburse", "p1", date(2025, 3, 1), line("91102"), amount_vnd=10 * TY,
           voucher="KB 1")  # fmt: skip
    record(ledger, "adjust", "a24", date(2024, 1, 2), line("TW", 2024), amount_vnd=20 * TY, **q)
    for number, (giver, taker) in enumerate([("TW", "91"), ("91", "911"), ("911", "91102")]):
        record(ledger, "allocate", f"b{number}", date(2024, 1, 5), line(giver, 2024),
               counterpart=taker, amount_vnd=20 * TY, **q)  # fmt: skip
    record(ledger, "extend", "e", date(2025, 1, 20), line("91102", 2024),
           until=date(2025, 12, 31), basis="NQ 111/2024/QH15")  # fmt: skip


def run(ledger: BudgetLedger, path: Path, decision: str = DECISION) -> Outcome:
    return reorganise(ledger, path, day=D, decision=decision, actor="t")


def state(ledger: BudgetLedger) -> tuple[int, Any, Any]:
    """What a refused reorganisation must leave as it was."""
    holders = {code: (h.version, h.name, h.parent) for code, h in ledger.holders().items()}
    lines = {line.key: line.figures() for line in ledger.replay_lines()}
    return ledger.head_position(), holders, lines


def available(ledger: BudgetLedger, key: LineKey) -> int:
    found = ledger.get_line(key)
    assert found is not None, key
    return found.available_vnd


def test_a_list_registers_ends_and_passes_every_line_on(
    stored_ledger: BudgetLedger, tmp_path: Path
) -> None:
    ledger = stored_ledger
    old_books(ledger)
    done = run(ledger, write(tmp_path / "list.csv", LIST))
    assert done.bad == []
    # 91205's succession, 91101's, the districts' into 91, and 92 into 91.
    assert (done.successions, done.recorded, done.already) == (4, 4, 0)
    assert done.registered == 2  # 92101 (an old one, from the list), 91205 by its succession
    assert done.changed == 2  # 91101 moved under 91 and renamed; 91 renamed
    holders = ledger.holders()
    assert holders["92101"].since is None and holders["92101"].successor == "91205"
    assert holders["91205"].since == D and holders["91205"].parent == "91"
    assert holders["91101"].name_on(D) == "Xã Một Hai" and holders["91101"].parent_on(D) == "91"
    assert holders["91101"].name_on(date(2025, 6, 30)) == "Xã Một"
    assert holders["91"].name_on(D) == "Tỉnh A B" and holders["91"].ended_on is None
    for code, successor in [("91102", "91101"), ("91201", "91205"), ("911", "91"),
                            ("912", "91"), ("921", "91"), ("92", "91")]:  # fmt: skip
        assert (holders[code].ended_on, holders[code].successor) == (D, successor), code
    # Every line passed on whole; nothing left on an ended holder's line.
    assert available(ledger, line("91102")) == 0
    assert available(ledger, line("91101")) == (50 + 30) * TY
    assert available(ledger, line("91205")) == 30 * TY
    assert available(ledger, line("91")) == (300 + 110 + 70 + 200 + 100) * TY
    assert done.lines_passed == 7  # 91102's two, 91201's, 911's, 912's, 921's and 92's
    # Money kept its deadline: 91102's extended 2024 money is payable by 91101 until 2025.
    moved = ledger.get_line(line("91101", 2024))
    assert moved is not None and moved.extended_vnd == 20 * TY
    assert moved.deadline == date(2025, 12, 31)
    record(ledger, "disburse", "p2", date(2025, 8, 1), line("91101", 2024),
           amount_vnd=20 * TY, voucher="KB 2")  # fmt: skip
    # Nothing effective from D on an ended holder; its code is never registered again.
    with pytest.raises(HolderEnded):
        record(ledger, "disburse", "p3", D, line("91102"), amount_vnd=TY, voucher="KB 3")
    with pytest.raises(InvalidInput):
        ledger.register_holder("91102", "Xã Hai", "commune", "91", actor="t")
    assert check_ledger(ledger.journal(), ledger.replay_lines()) == []


def test_the_same_list_again_records_nothing(stored_ledger: BudgetLedger, tmp_path: Path) -> None:
    old_books(stored_ledger)
    path = write(tmp_path / "list.csv", LIST)
    first = run(stored_ledger, path)
    before = state(stored_ledger)
    again = run(stored_ledger, path)
    assert (again.recorded, again.already, again.events, again.bad) == (0, first.recorded, 0, [])
    # Saved as Windows-1258, as Excel on a Vietnamese Windows does: the same list.
    legacy = run(stored_ledger, write(tmp_path / "legacy.csv", LIST, windows_1258))
    assert (legacy.recorded, legacy.already, legacy.bad) == (0, first.recorded, [])
    assert state(stored_ledger) == before
    # Under another decision it is not the same reorganisation: refused, row by row.
    other = run(stored_ledger, path, decision="NQ 9999")
    assert other.bad and all("already recorded" in bad.reason for bad in other.bad)
    assert state(stored_ledger) == before


def test_every_bad_row_is_reported_and_nothing_is_recorded(
    stored_ledger: BudgetLedger, tmp_path: Path
) -> None:
    old_books(stored_ledger)
    before = state(stored_ledger)
    rows = [
        *LIST,
        (
            "91",
            "Tỉnh A",
            "911",
            "Huyện X",
            "9110!",
            "Xã Sai",
            "91",
            "Tỉnh A B",
            "91101",
            "Xã Một Hai",
        ),  # noqa: E501
        ("91", "Tỉnh A", "911", "Huyện X", "91103", "Xã Năm", "91", "Tỉnh A B", "91106", ""),
        # A split: 91102 to 91101 (row 3) and to 91205 here.
        (
            "91",
            "Tỉnh A",
            "911",
            "Huyện X",
            "91102",
            "Xã Hai",
            "91",
            "Tỉnh A B",
            "91205",
            "Xã Ba Bốn",
        ),  # noqa: E501
        # 91201 ends into 91205 (row 4): never a successor again.
        ("92", "Tỉnh B", "921", "Huyện Z", "92102", "Xã Sáu", "91", "Tỉnh A B", "91201", "Xã Ba"),  # noqa: E501
    ]
    done = run(stored_ledger, write(tmp_path / "bad.csv", rows))
    found = {(bad.row, bad.field) for bad in done.bad}
    assert found == {
        (6, "old_commune_code"),
        (7, "new_commune"),
        (8, "old_commune_code"),
        (9, "new_commune_code"),
    }, done.bad
    split = next(bad for bad in done.bad if bad.row == 8)
    assert "91101 on row 3" in split.reason and "91205 here" in split.reason
    assert done.recorded == 0 and done.events == 0
    assert state(stored_ledger) == before


def test_a_succession_the_ledger_refuses_records_nothing_of_the_list(
    stored_ledger: BudgetLedger, tmp_path: Path
) -> None:
    old_books(stored_ledger)
    # A payment on 91201 dated on the day it is to end: the list cannot end it then.
    record(stored_ledger, "disburse", "late", D, line("91201"), amount_vnd=TY, voucher="KB 9")
    before = state(stored_ledger)
    done = run(stored_ledger, write(tmp_path / "list.csv", LIST))
    assert [(bad.row, bad.field) for bad in done.bad] == [(4, "new_commune_code")]
    assert "on or after 2025-07-01" in done.bad[0].reason
    assert state(stored_ledger) == before


def test_the_shipped_list_makes_lai_chau_38_communes(stored_ledger: BudgetLedger) -> None:
    ledger = stored_ledger
    ledger.register_holder("TW", "Trung ương", "central", None, actor="t")
    done = reorganise(ledger, SHIPPED, day=D, decision=DECISION, actor="t")
    assert done.bad == []
    holders = ledger.holders()

    def communes(tree: dict[str, str | None], province: str) -> int:
        below = {code for code, parent in tree.items() if parent == province}
        below |= {code for code, parent in tree.items() if parent in below}
        return sum(1 for code in below if holders[code].level == "commune")

    assert communes(ledger.tree_on(date(2025, 6, 30)), "12") == 106
    today = {c: p for c, p in ledger.tree_on(D).items() if not holders[c].ended_by(D)}
    assert communes(today, "12") == 38
    assert communes(today, "48") == 40
    assert (holders["49"].ended_on, holders["49"].successor) == (D, "48")
    assert holders["12"].ended_on is None
    again = reorganise(ledger, SHIPPED, day=D, decision=DECISION, actor="t")
    assert (again.recorded, again.already) == (0, done.successions)


def test_successions_chain_into_a_later_list_without_districts(
    stored_ledger: BudgetLedger, tmp_path: Path
) -> None:
    """Units below standard merge again from 2026: a later list names no districts."""
    ledger = stored_ledger
    old_books(ledger)
    run(ledger, write(tmp_path / "2025.csv", LIST))
    later = [
        ("91", "Tỉnh A B", "", "", "91101", "Xã Một Hai", "91", "Tỉnh A B", "91101", "Xã Một Hai"),
        ("91", "Tỉnh A B", "", "", "91205", "Xã Ba Bốn", "91", "Tỉnh A B", "91101", "Xã Một Hai"),
    ]  # fmt: skip
    day = date(2026, 1, 1)
    done = reorganise(
        ledger, write(tmp_path / "2026.csv", later), day=day, decision="NQ 2", actor="t"
    )
    assert (done.bad, done.recorded, done.registered, done.lines_passed) == ([], 1, 0, 1)
    assert available(ledger, line("91101")) == (80 + 30) * TY
    holders = ledger.holders()
    assert (holders["91205"].ended_on, holders["91205"].successor) == (day, "91101")
    # 91201 ended into 91205, which ended into 91101: it sits under 91101 from then on.
    assert ledger.tree_on(day)["91201"] == "91101"
    assert ledger.tree_on(date(2025, 12, 31))["91201"] == "91205"
    assert check_ledger(ledger.journal(), ledger.replay_lines()) == []


def test_a_code_the_ledger_holds_at_another_level_is_a_bad_row(
    stored_ledger: BudgetLedger, tmp_path: Path
) -> None:
    old_books(stored_ledger)
    stored_ledger.register_holder("92101", "Ban quản lý dự án", "agency", "TW", actor="t")
    before = state(stored_ledger)
    done = run(stored_ledger, write(tmp_path / "list.csv", LIST))
    assert [(bad.row, bad.field) for bad in done.bad] == [(5, "old_commune_code")]
    assert (
        "92101 is registered as an agency (Ban quản lý dự án), not a commune" in done.bad[0].reason
    )
    assert state(stored_ledger) == before
