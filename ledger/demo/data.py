"""A small, realistic data set drawn from the seeds, loaded through real movements.

Two provinces: Quảng Nam (below) and seed 000's province, booked on Lai Châu
(``demo_seed000.py``), whose progress report on 17/9/2024 reproduces the article's figures.

Quảng Nam (49) and six of the nine mountain districts of seed 002, with their official codes;
the poverty (GNBV) and ethnic-minority (DTTS) programs; the 2024 plan year with the centre's
appropriation, the province's counterpart funds, allocations to districts, a year of
treasury-confirmed payments (many recorded back-dated), a reallocation from a district that
cannot spend to one that can, a reversal, and 2023 funds extended into 2024 under
NQ 104/2023/QH15. The amounts are synthetic (no report gives them per district) and every
movement says so in its note; so are the times each is recorded at, when the office or the
treasury would have recorded it (``clock.py``). Movement ids are fixed, so loading it again
records nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from ledger.application import BudgetLedger
from ledger.demo import seed000, year2025
from ledger.demo.clock import DemoClock, confirmed_at, office
from ledger.domain.errors import InvalidInput
from ledger.domain.movements import Disburse, MovementRequest, Reverse, movement
from ledger.domain.values import LineKey
from ledger.interchange.reorganise import reorganise
from ledger.interchange.successors import SHIPPED

TY = 10**9  # one tỷ đồng
NOTE = "demo data (synthetic amounts)"

HOLDERS = [
    ("TW", "Trung ương", "central", None),
    ("49", "Tỉnh Quảng Nam", "province", "TW"),
    ("504", "Huyện Tây Giang", "district", "49"),
    ("505", "Huyện Đông Giang", "district", "49"),
    ("510", "Huyện Nam Giang", "district", "49"),
    ("511", "Huyện Phước Sơn", "district", "49"),
    ("515", "Huyện Bắc Trà My", "district", "49"),
    ("516", "Huyện Nam Trà My", "district", "49"),
]
DISTRICTS = [code for code, _, level, _ in HOLDERS if level == "district"]

# (program, kind, source): the province's plan in tỷ, and how fast its districts pay
# (investment capital moves far faster than recurrent, as in every seed).
PLANS = [
    ("GNBV", "DTPT", "NSTW", 120, 0.80),
    ("GNBV", "SN", "NSTW", 60, 0.35),
    ("DTTS", "DTPT", "NSTW", 210, 0.80),
    ("DTTS", "SN", "NSTW", 90, 0.30),
]
COUNTERPART_SHARE = 0.10  # the province's own NSDP funds beside central DTPT funds


def movements() -> Iterator[MovementRequest]:
    rng = random.Random(2024)
    number = 0

    def request(action: str, day: date, line: LineKey | None, **fields: object) -> MovementRequest:
        nonlocal number
        number += 1
        return movement(
            action,
            movement_id=f"demo-{number:04d}",
            effective_date=day,
            line=line,
            note=NOTE,
            **fields,
        )

    for program, kind, source, plan_ty, pace in PLANS:
        centre = LineKey(program, kind, source, 2024, "TW")
        province = centre.with_holder("49")
        plan_vnd = plan_ty * TY
        yield request(
            "adjust",
            date(2024, 1, 2),
            centre,
            amount_vnd=plan_vnd,
            decision="QĐ 1603/QĐ-TTg 11/12/2023",
        )
        yield request(
            "allocate",
            date(2024, 1, 5),
            centre,
            counterpart="49",
            amount_vnd=plan_vnd,
            decision="QĐ 1603/QĐ-TTg 11/12/2023",
        )
        shares = [rng.uniform(0.8, 1.2) for _ in DISTRICTS]
        kept_vnd = plan_vnd // 20  # the province keeps 5% for its own agencies
        for district, share in zip(DISTRICTS, shares, strict=True):
            amount = int((plan_vnd - kept_vnd) * share / sum(shares)) // 10**6 * 10**6
            yield request(
                "allocate",
                date(2024, 1, 15),
                province,
                counterpart=district,
                amount_vnd=amount,
                decision="QĐ 95/QĐ-UBND 12/01/2024",
            )
        if kind == "DTPT":
            counterpart = LineKey(program, kind, "NSDP", 2024, "49")
            yield request(
                "adjust",
                date(2024, 2, 20),
                counterpart,
                amount_vnd=int(plan_vnd * COUNTERPART_SHARE),
                decision="NQ 12/NQ-HĐND 20/02/2024",
            )
        # Monthly treasury-confirmed payments; Nam Giang (510) is slow all year.
        for district in DISTRICTS:
            line = LineKey(program, kind, source, 2024, district)
            for month in range(3, 10):
                day = date(2024, month, 1) + timedelta(days=rng.randrange(0, 27))
                fraction = pace / 7 * (0.3 if district == "510" else rng.uniform(0.7, 1.1))
                amount = int(fraction * plan_vnd / len(DISTRICTS)) // 10**6 * 10**6
                payment = request(
                    "disburse",
                    day,
                    line,
                    amount_vnd=amount,
                    voucher=f"KB-{program}-{kind}-{district}-{month:02d}",
                )
                yield payment
        assert isinstance(payment, Disburse)
        if kind == "DTPT":
            # Seed 002: move money from a district that cannot disburse to one that can.
            slow = LineKey(program, kind, source, 2024, "510")
            yield request(
                "reallocate",
                date(2024, 8, 20),
                slow,
                counterpart="505",
                amount_vnd=plan_vnd // 40,
                decision="QĐ 1850/QĐ-UBND 20/08/2024",
            )
            yield request(
                "disburse",
                date(2024, 9, 10),
                slow.with_holder("505"),
                amount_vnd=plan_vnd // 50,
                voucher=f"KB-{program}-505-0910",
            )
            # The treasury takes back part of the last payment, confirmed against the wrong
            # voucher.
            yield request(
                "reverse",
                date(2024, 9, 16),
                None,
                reverses=payment.movement_id,
                amount_vnd=payment.amount_vnd // 10 // 10**6 * 10**6 or None,
                reason="sai chứng từ (wrong voucher)",
            )


def extension_movements() -> Iterator[MovementRequest]:
    """2023 investment funds of Nam Trà My carried into 2024 and a payment from them."""
    line = LineKey("DTTS", "DTPT", "NSTW", 2023, "516")
    steps: list[tuple[str, date, LineKey, dict[str, Any]]] = [
        (
            "adjust",
            date(2023, 2, 1),
            line.with_holder("TW"),
            {"amount_vnd": 20 * TY, "decision": "QĐ 652/QĐ-TTg 28/05/2022"},
        ),
        (
            "allocate",
            date(2023, 2, 5),
            line.with_holder("TW"),
            {"counterpart": "49", "amount_vnd": 20 * TY, "decision": "QĐ 652/QĐ-TTg 28/05/2022"},
        ),
        (
            "allocate",
            date(2023, 3, 1),
            line.with_holder("49"),
            {"counterpart": "516", "amount_vnd": 20 * TY, "decision": "QĐ 410/QĐ-UBND 01/03/2023"},
        ),
        ("disburse", date(2023, 11, 20), line, {"amount_vnd": 12 * TY, "voucher": "KB-516-2311"}),
        (
            "extend",
            date(2024, 1, 25),
            line,
            {"until": date(2024, 12, 31), "basis": "NQ 104/2023/QH15"},
        ),
        ("disburse", date(2024, 7, 15), line, {"amount_vnd": 5 * TY, "voucher": "KB-516-2407"}),
    ]
    for number, (action, day, key, fields) in enumerate(steps, start=1):
        yield movement(
            action,
            movement_id=f"demo-2023-{number:02d}",
            effective_date=day,
            line=key,
            note=NOTE,
            **fields,
        )


# When the demo's steps that are not movements of a list are recorded (see ledger/demo/clock.py).
CLOSED_AT = office(year2025.YEAR_CLOSED_ON, 8)
REORGANISED_AT = office(year2025.REORGANISED_ON, 7, 30)
# Đông Giang's payment of 27/6/2025, confirmed by the treasury in July.
LATE_JUNE_CONFIRMED_AT = office(date(2025, 7, 8), 9, 30)
# The merged program, registered the morning its 2026 plan is recorded.
MERGED_PROGRAM_AT = office(date(2026, 1, 5), 8)


def load(
    ledger: BudgetLedger, *, actor: str, progress: Callable[[int, int], None] | None = None
) -> tuple[int, int]:
    """Load the demo; returns (movements recorded now, movements already there): 2024, then
    2025 up to the reorganisation of 1/7/2025 from the shipped list of successors, the rest
    of 2025, and the merged program's 2026 (ledger/demo/year2025.py).

    ``ledger`` is opened with a ``DemoClock``: every step is recorded at the time the office
    or the treasury would have recorded it (ledger/demo/clock.py), in the order of those
    times, so that the log reads as the books were kept and ``--known-at`` shows them as
    they stood. ``progress(done, total)`` is told of each step done, of all the steps."""
    clock = ledger.clock
    assert isinstance(clock, DemoClock), "open the demo's ledger with its clock, DemoClock"
    clock.set(ledger.last_recorded_at())
    for code, name, level, parent in [*HOLDERS, *year2025.MORE_HOLDERS, *seed000.HOLDERS]:
        ledger.register_holder(code, name, level, parent, actor=actor)
    counts = [0, 0]
    steps: list[tuple[datetime, Callable[[], None]]] = []

    def record(request: MovementRequest) -> None:
        _, was_replayed = ledger.record(request, actor=actor)
        counts[was_replayed] += 1

    def movements_of(requests: Iterator[MovementRequest], at: datetime | None = None) -> None:
        paid: dict[str, datetime] = {}
        for request in requests:
            reverses = request.reverses if isinstance(request, Reverse) else None
            when = at or confirmed_at(request, paid.get(reverses or ""))
            paid[request.movement_id] = when
            steps.append((when, partial(record, request)))

    def close_year(year: int) -> None:
        counts[0] += len(ledger.close_year(year, year2025.YEAR_CLOSED_ON, actor=actor))

    def reorganise_units() -> None:
        outcome = reorganise(
            ledger,
            SHIPPED,
            day=year2025.REORGANISED_ON,
            decision=year2025.REORGANISATION,
            actor=actor,
        )
        if outcome.bad:
            raise InvalidInput(f"the demo's reorganisation was refused: {outcome.bad[0]}")
        counts[0] += outcome.recorded
        counts[1] += outcome.already

    def register_merged_program() -> None:
        code, name = year2025.MERGED_PROGRAM
        ledger.register_program(code, name, 2026, 2035, year2025.MERGED_DECISION, actor=actor)

    movements_of(movements())
    movements_of(extension_movements())
    movements_of(seed000.movements())
    movements_of(year2025.before_reorganisation())
    # What 2023 and 2024 lines could no longer pay returns to the budget (their extended
    # parts stay), before the reorganisation passes the rest on.
    steps += [(CLOSED_AT, partial(close_year, 2023)), (CLOSED_AT, partial(close_year, 2024))]
    steps.append((REORGANISED_AT, reorganise_units))
    movements_of(year2025.late_june_payment(), LATE_JUNE_CONFIRMED_AT)
    movements_of(year2025.after_reorganisation())
    steps.append((MERGED_PROGRAM_AT, register_merged_program))
    movements_of(year2025.year_2026())
    # In the order recorded (a stable sort: steps of one time keep the order above).
    for done, (at, step) in enumerate(sorted(steps, key=lambda entry: entry[0]), start=1):
        clock.set(at)
        step()
        if progress is not None:
            progress(done, len(steps))
    return counts[0], counts[1]
