"""Seed 000's province, booked through real movements so that its progress report on
17 September 2024 shows the article's figures.

The article (a provincial meeting of 17/9/2024) does not name its province; the demo books its
figures on Lai Châu (12) and its districts, with their official codes. Its published figures:
the two programs over 556 tỷ (poverty over 196, ethnic-minority over 359), 53.9% disbursed,
investment capital 78.5%, recurrent 29.4%, with 2022 and 2023 funds carried into 2024. How the
totals split between districts, months and payments is synthetic; every movement's note says
so. The plan below reproduces the totals to the đồng:

                     plan (tỷ)                      disbursed by 17/9 (tỷ)
  GNBV  ĐTPT  2024   90.00   + extended 8.25         73.00 + 5.50 of the extended
        SN    2024   98.20                           28.50
  DTTS  ĐTPT  2024  165.00   + extended 14.65       135.15 + 4.50 of the extended
        SN    2024  180.00                           53.29
  total             556.10                          299.94   = 53.94%
  ĐTPT: 218.15 / 277.90 = 78.50%     SN: 81.79 / 278.20 = 29.40%
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from ledger.domain.movements import MovementRequest, movement
from ledger.domain.values import LineKey

TY = 10**9
MILLION = 10**6
NOTE = "demo data: seed 000's totals, synthetic split"
PROVINCE = "12"
HOLDERS = [
    ("12", "Tỉnh Lai Châu", "province", "TW"),
    ("105", "Thành phố Lai Châu", "district", "12"),
    ("106", "Huyện Tam Đường", "district", "12"),
    ("107", "Huyện Mường Tè", "district", "12"),
    ("108", "Huyện Sìn Hồ", "district", "12"),
    ("109", "Huyện Phong Thổ", "district", "12"),
    ("110", "Huyện Than Uyên", "district", "12"),
    ("111", "Huyện Tân Uyên", "district", "12"),
    ("112", "Huyện Nậm Nhùn", "district", "12"),
]
DISTRICTS = [code for code, _, level, _ in HOLDERS if level == "district"]
# How the province shares a plan between its districts, and how fast each pays (Nậm Nhùn
# and Mường Tè, far from the centre, pay slowest).
WEIGHTS = [6, 10, 16, 15, 14, 13, 12, 14]
PACE = [1.0, 1.05, 0.75, 1.1, 1.1, 1.15, 1.2, 0.55]
PAY_MONTHS = [3, 4, 5, 6, 7, 8, 9]

# (program, kind): 2024 plan and what was disbursed of it by 17/9/2024, in đồng.
CURRENT = {
    ("GNBV", "DTPT"): (90_000 * MILLION, 73_000 * MILLION),
    ("GNBV", "SN"): (98_200 * MILLION, 28_500 * MILLION),
    ("DTTS", "DTPT"): (165_000 * MILLION, 135_150 * MILLION),
    ("DTTS", "SN"): (180_000 * MILLION, 53_290 * MILLION),
}
# Earlier years' investment funds carried into 2024: (program, year, district, first
# assigned, paid before 2024, extended into 2024, paid in 2024 by 17/9).
EXTENDED = [
    ("GNBV", 2023, "110", 20_000, 13_750, 6_250, 4_000),
    ("GNBV", 2022, "107", 15_000, 13_000, 2_000, 1_500),
    ("DTTS", 2023, "108", 30_000, 20_350, 9_650, 3_000),
    ("DTTS", 2023, "109", 25_000, 20_000, 5_000, 1_500),
]
REALLOCATION = ("DTTS", "DTPT", "112", "111", 3_000 * MILLION)


def split(total: int, weights: list[float]) -> list[int]:
    """``total`` in whole millions of đồng shared by ``weights``; the last takes the rest."""
    parts = [int(total * w / sum(weights)) // MILLION * MILLION for w in weights[:-1]]
    return [*parts, total - sum(parts)]


class Numbering:
    def __init__(self) -> None:
        self.count = 0

    def __call__(
        self, action: str, day: date, line: LineKey | None, **fields: Any
    ) -> MovementRequest:
        self.count += 1
        return movement(
            action,
            movement_id=f"demo-lc-{self.count:04d}",
            effective_date=day,
            line=line,
            note=NOTE,
            **fields,
        )


def movements() -> Iterator[MovementRequest]:
    request = Numbering()
    for (program, kind), (plan, paid) in CURRENT.items():
        yield from _current(request, program, kind, plan, paid)
    for entry in EXTENDED:
        yield from _extended(request, *entry)


def _current(
    request: Numbering, program: str, kind: str, plan: int, paid: int
) -> Iterator[MovementRequest]:
    centre = LineKey(program, kind, "NSTW", 2024, "TW")
    province = centre.with_holder(PROVINCE)
    yield request(
        "adjust", date(2024, 1, 2), centre, amount_vnd=plan, decision="QĐ 1603/QĐ-TTg 11/12/2023"
    )
    yield request(
        "allocate",
        date(2024, 1, 8),
        centre,
        counterpart=PROVINCE,
        amount_vnd=plan,
        decision="QĐ 1603/QĐ-TTg 11/12/2023",
    )
    shares = split(plan, [float(w) for w in WEIGHTS])
    for district, share in zip(DISTRICTS, shares, strict=True):
        yield request(
            "allocate",
            date(2024, 1, 20),
            province,
            counterpart=district,
            amount_vnd=share,
            decision="QĐ 56/QĐ-UBND 19/01/2024",
        )
    moved = (program, kind) == REALLOCATION[:2]
    if moved:
        _, _, giver, receiver, amount = REALLOCATION
        yield request(
            "reallocate",
            date(2024, 8, 20),
            centre.with_holder(giver),
            counterpart=receiver,
            amount_vnd=amount,
            decision="QĐ 1210/QĐ-UBND 20/08/2024",
        )
    weights = [w * pace for w, pace in zip(WEIGHTS, PACE, strict=True)]
    targets = split(paid, weights)
    for index, (district, target) in enumerate(zip(DISTRICTS, targets, strict=True)):
        line = centre.with_holder(district)
        payments = split(target, [1.0 + (month % 3) for month in PAY_MONTHS])
        reversed_vnd = 150 * MILLION if index == 3 and kind == "DTPT" else 0
        for month, amount in zip(PAY_MONTHS, payments, strict=True):
            gross = amount + (reversed_vnd if month == 6 else 0)
            payment = request(
                "disburse",
                date(2024, month, 10 + index),
                line,
                amount_vnd=gross,
                voucher=f"KBNN-{district}-{program}-{kind}-{month:02d}",
            )
            yield payment
            if month == 6 and reversed_vnd:
                yield request(
                    "reverse",
                    date(2024, 7, 2),
                    None,
                    reverses=payment.movement_id,
                    amount_vnd=reversed_vnd,
                    reason="thu hồi: chứng từ trùng",
                )


def _extended(
    request: Numbering,
    program: str,
    year: int,
    district: str,
    assigned: int,
    paid_before: int,
    extended: int,
    paid_2024: int,
) -> Iterator[MovementRequest]:
    line = LineKey(program, "DTPT", "NSTW", year, district)
    centre, province = line.with_holder("TW"), line.with_holder(PROVINCE)
    amount = assigned * MILLION
    yield request(
        "adjust",
        date(year, 1, 5),
        centre,
        amount_vnd=amount,
        decision=f"QĐ giao kế hoạch {year} (demo)",
    )
    yield request(
        "allocate",
        date(year, 1, 10),
        centre,
        counterpart=PROVINCE,
        amount_vnd=amount,
        decision=f"QĐ giao kế hoạch {year} (demo)",
    )
    yield request(
        "allocate",
        date(year, 2, 1),
        province,
        counterpart=district,
        amount_vnd=amount,
        decision=f"QĐ phân bổ {year} (demo)",
    )
    yield request(
        "disburse",
        date(year, 10, 15),
        line,
        amount_vnd=paid_before * MILLION,
        voucher=f"KBNN-{district}-{program}-{year}",
    )
    if year == 2022:
        yield request(
            "extend",
            date(2023, 1, 20),
            line,
            until=date(2023, 12, 31),
            amount_vnd=extended * MILLION,
            basis="QĐ kéo dài của Thủ tướng Chính phủ (demo)",
        )
    yield request(
        "extend",
        date(2024, 1, 25),
        line,
        until=date(2024, 12, 31),
        amount_vnd=extended * MILLION,
        basis="NQ 111/2024/QH15",
    )
    yield request(
        "disburse",
        date(2024, 6, 20),
        line,
        amount_vnd=paid_2024 * MILLION,
        voucher=f"KBNN-{district}-{program}-{year}-2024",
    )
