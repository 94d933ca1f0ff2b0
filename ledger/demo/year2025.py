"""The demo goes on into 2025 and 2026: the reorganisation and the merged program.

- 2025: Quảng Nam's nine mountain districts get their 2025 plan and pay through the first
  half of the year; Nam Giang's (510) 2024 investment funds are extended into 2025.
- 1/7/2025: the shipped list of successors (ledger/interchange/data/, ``successors.SHIPPED``)
  reorganises those districts and their communes into Đà Nẵng (48), and Lai Châu (12) into its
  new communes; each district's lines pass to its province with their extensions.
- A June payment of Đông Giang (505) confirmed by the treasury in July: recorded after the
  succession, dated before it, so what Đông Giang passed on shrinks by it.
- Đà Nẵng allocates what it received to new communes, which pay until November; it pays
  from Nam Giang's extended 2024 funds, which kept their deadline.
- 2026: the merged program for 2026-2035 (NQ 257/2025/QH15) is registered and its 2026 lines
  assigned to Đà Nẵng and Lai Châu and on to communes.

Amounts are synthetic; every movement's note says so. Movement ids are fixed, so loading again
records nothing twice.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta

from ledger.domain.movements import MovementRequest, movement
from ledger.domain.values import LineKey

TY = 10**9
MILLION = 10**6
NOTE = "demo data (synthetic amounts)"
REORGANISED_ON = date(2025, 7, 1)
# The day the demo closes 2023 and 2024 (``budget-ledger close-year``): after the ordinary
# deadline of 31/1/2025 and Nam Giang's extension, before the reorganisation.
YEAR_CLOSED_ON = date(2025, 2, 3)
REORGANISATION = (
    "NQ 202/2025/QH15; NQ 1670/NQ-UBTVQH15 (Lai Châu) và NQ của UBTVQH về xã, phường TP Đà Nẵng"
)
# The three mountain districts of seed 002 not in the 2024 demo, registered for 2025.
MORE_HOLDERS = [
    ("509", "Huyện Quế Sơn", "district", "49"),
    ("512", "Huyện Hiệp Đức", "district", "49"),
    ("514", "Huyện Tiên Phước", "district", "49"),
]
NINE = ["504", "505", "509", "510", "511", "512", "514", "515", "516"]
DA_NANG = "48"
# (program, kind): the province's 2025 plan in tỷ and how much of it its districts pay by
# the end of June.
PLANS_2025 = [
    ("GNBV", "DTPT", 130, 0.45),
    ("DTTS", "DTPT", 230, 0.40),
    ("GNBV", "SN", 55, 0.15),
    ("DTTS", "SN", 85, 0.12),
]
# New communes of Đà Nẵng that receive the inherited 2025 investment funds (from the shipped
# list: each one the successor of communes of the district named).
COMMUNES_2025 = [("20467", "505"), ("20476", "505"), ("20443", "504"), ("20455", "504")]
MERGED_PROGRAM = (
    "MTQG2635",
    "Chương trình MTQG xây dựng nông thôn mới, giảm nghèo bền vững và phát triển KT-XH vùng "
    "đồng bào DTTS và miền núi giai đoạn 2026-2035",
)
MERGED_DECISION = "NQ 257/2025/QH15"
# The merged program's 2026 investment plan (tỷ) of the two provinces, and their communes.
PLANS_2026 = [(DA_NANG, 180, ["20467", "20476", "20443", "20455"]), ("12", 240, ["03388", "03408"])]


class _Numbered:
    """Movement requests with fixed ids ``demo-<part>-NNNN``."""

    def __init__(self, part: str) -> None:
        self.part = part
        self.number = 0

    def __call__(
        self, action: str, day: date, line: LineKey | None, **fields: object
    ) -> MovementRequest:
        self.number += 1
        return movement(
            action,
            movement_id=f"demo-{self.part}-{self.number:04d}",
            effective_date=day,
            line=line,
            note=NOTE,
            **fields,
        )


def before_reorganisation() -> Iterator[MovementRequest]:
    """The 2025 plan of Quảng Nam's nine mountain districts, paid until June, and Nam
    Giang's 2024 investment funds extended into 2025."""
    rng = random.Random(2025)
    request = _Numbered("2025")
    for program, kind, plan_ty, paid_share in PLANS_2025:
        centre = LineKey(program, kind, "NSTW", 2025, "TW")
        province = centre.with_holder("49")
        plan_vnd = plan_ty * TY
        assigned = "QĐ 1500/QĐ-TTg 30/11/2024"
        yield request("adjust", date(2025, 1, 3), centre, amount_vnd=plan_vnd, decision=assigned)
        yield request(
            "allocate",
            date(2025, 1, 6),
            centre,
            counterpart="49",
            amount_vnd=plan_vnd,
            decision=assigned,
        )
        shares = [rng.uniform(0.8, 1.2) for _ in NINE]
        for district, share in zip(NINE, shares, strict=True):
            amount = int(plan_vnd * 0.95 * share / sum(shares)) // MILLION * MILLION
            yield request(
                "allocate",
                date(2025, 1, 15),
                province,
                counterpart=district,
                amount_vnd=amount,
                decision="QĐ 102/QĐ-UBND 14/01/2025",
            )
            line = province.with_holder(district)
            for month in range(2, 7):
                day = date(2025, month, 1) + timedelta(days=rng.randrange(0, 25))
                pace = 0.3 if district == "510" else rng.uniform(0.8, 1.2)
                paid = int(amount * paid_share / 5 * pace) // MILLION * MILLION
                if paid:
                    yield request(
                        "disburse",
                        day,
                        line,
                        amount_vnd=paid,
                        voucher=f"KB-{program}-{kind}-{district}-25{month:02d}",
                    )
    for program in ("GNBV", "DTTS"):
        line = LineKey(program, "DTPT", "NSTW", 2024, "510")
        yield request(
            "extend",
            date(2025, 1, 22),
            line,
            until=date(2025, 12, 31),
            basis="QĐ kéo dài kế hoạch vốn NSTW 2024 sang 2025 (demo)",
        )
        yield request(
            "disburse",
            date(2025, 4, 10),
            line,
            amount_vnd=TY // 2,
            voucher=f"KB-{program}-510-2024-2504",
        )


def late_june_payment() -> Iterator[MovementRequest]:
    """Đông Giang's payment of 27 June, confirmed by the treasury after the reorganisation."""
    request = _Numbered("2025-late")
    yield request(
        "disburse",
        date(2025, 6, 27),
        LineKey("GNBV", "DTPT", "NSTW", 2025, "505"),
        amount_vnd=800 * MILLION,
        voucher="KB-GNBV-DTPT-505-250627",
    )


def after_reorganisation() -> Iterator[MovementRequest]:
    """Đà Nẵng allocates its inherited 2025 investment funds to new communes; they pay; it
    pays from Nam Giang's extended 2024 funds, which kept their deadline."""
    rng = random.Random(2026)
    request = _Numbered("2025-h2")
    for program in ("GNBV", "DTTS"):
        city = LineKey(program, "DTPT", "NSTW", 2025, DA_NANG)
        for commune, _ in COMMUNES_2025:
            amount = rng.randrange(4, 9) * TY
            yield request(
                "allocate",
                date(2025, 7, 15),
                city,
                counterpart=commune,
                amount_vnd=amount,
                decision="QĐ 35/QĐ-UBND 14/07/2025 (TP Đà Nẵng)",
            )
            for month in (8, 9, 10, 11):
                day = date(2025, month, 5) + timedelta(days=rng.randrange(0, 20))
                paid = amount * rng.randrange(15, 22) // 100 // MILLION * MILLION
                yield request(
                    "disburse",
                    day,
                    city.with_holder(commune),
                    amount_vnd=paid,
                    voucher=f"KB-{program}-{commune}-25{month:02d}",
                )
        yield request(
            "disburse",
            date(2025, 9, 18),
            LineKey(program, "DTPT", "NSTW", 2024, DA_NANG),
            amount_vnd=TY,
            voucher=f"KB-{program}-48-2024-2509",
        )


def year_2026() -> Iterator[MovementRequest]:
    """The merged program's 2026 investment lines for Đà Nẵng and Lai Châu and their
    communes (the program is registered first: see ``load``)."""
    rng = random.Random(2027)
    request = _Numbered("2026")
    code = MERGED_PROGRAM[0]
    for province, plan_ty, communes in PLANS_2026:
        centre = LineKey(code, "DTPT", "NSTW", 2026, "TW")
        plan_vnd = plan_ty * TY
        assigned = "QĐ giao kế hoạch vốn NSTW 2026 (demo)"
        yield request("adjust", date(2026, 1, 5), centre, amount_vnd=plan_vnd, decision=assigned)
        yield request(
            "allocate",
            date(2026, 1, 8),
            centre,
            counterpart=province,
            amount_vnd=plan_vnd,
            decision=assigned,
        )
        for commune in communes:
            amount = plan_vnd // (len(communes) + 1) // MILLION * MILLION
            yield request(
                "allocate",
                date(2026, 1, 20),
                centre.with_holder(province),
                counterpart=commune,
                amount_vnd=amount,
                decision=f"QĐ phân bổ vốn 2026 của tỉnh {province} (demo)",
            )
            for month in range(3, 11):
                day = date(2026, month, 3) + timedelta(days=rng.randrange(0, 22))
                paid = amount * rng.randrange(6, 11) // 100 // MILLION * MILLION
                yield request(
                    "disburse",
                    day,
                    centre.with_holder(commune),
                    amount_vnd=paid,
                    voucher=f"KB-{code}-{commune}-26{month:02d}",
                )
