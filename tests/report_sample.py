"""A report document built by hand, for the renderers' tests: two programs, one grouped by
component project, the other straight into holders; a total; a holder with no plan (its rate
must stay blank, never a division by zero); a name long enough to wrap; a name that looks
like a formula."""

from __future__ import annotations

from datetime import date
from typing import Any

from ledger.interchange.document import Column, Document, Row

COLUMNS = [
    Column("plan_central_vnd", "NSTW", "Central", "vnd", band="Kế hoạch vốn năm 2024",
           band_en="2024 plan"),
    Column("plan_vnd", "NSTW + NSĐP", "Central + local", "vnd", band="Kế hoạch vốn năm 2024",
           band_en="2024 plan"),
    Column("disbursed_vnd", "Giải ngân lũy kế", "Disbursed to date", "vnd"),
    Column("rate_central_pct", "Tỷ lệ so với KH NSTW", "Rate of central plan", "pct",
           ratio=("disbursed_vnd", "plan_central_vnd"), band="Tỷ lệ giải ngân",
           band_en="Rate"),
    Column("rate_pct", "Tỷ lệ so với KH giao", "Rate of plan", "pct",
           ratio=("disbursed_vnd", "plan_vnd"), band="Tỷ lệ giải ngân", band_en="Rate"),
    Column("allocated_count", "Đơn vị đã phân bổ hết", "Holders fully allocated", "count"),
    Column("below_average", "Thấp hơn bình quân", "Below average", "flag"),
]  # fmt: skip

LONG_NAME = "Ban Quản lý dự án đầu tư xây dựng các công trình giao thông và nông nghiệp huyện"


def figures(central: int, local: int, disbursed: int, count: int, below: bool) -> dict[str, Any]:
    plan = central + local
    return {
        "plan_central_vnd": central,
        "plan_vnd": plan,
        "disbursed_vnd": disbursed,
        "rate_central_pct": round(100 * disbursed / central, 2) if central else None,
        "rate_pct": round(100 * disbursed / plan, 2) if plan else None,
        "allocated_count": count,
        "below_average": below,
    }


def add(*rows: dict[str, Any]) -> dict[str, Any]:
    summed = figures(
        sum(row["plan_central_vnd"] for row in rows),
        sum(row["plan_vnd"] - row["plan_central_vnd"] for row in rows),
        sum(row["disbursed_vnd"] for row in rows),
        sum(row["allocated_count"] for row in rows),
        False,
    )
    return summed


# Details, in đồng.
DONG_GIANG_1 = figures(60_123_456_789, 6_000_000_000, 41_987_654_321, 1, False)
NAM_GIANG_1 = figures(45_500_000_000, 4_550_000_000, 12_250_000_500, 0, True)
DONG_GIANG_2 = figures(30_000_000_000, 0, 25_400_000_000, 1, False)
DONG_GIANG_3 = figures(70_000_000_000, 7_000_000_000, 52_000_000_000, 1, False)
NAM_GIANG_3 = figures(0, 0, 0, 0, False)  # a holder with no plan
PROJECT_1 = add(DONG_GIANG_1, NAM_GIANG_1)
PROJECT_2 = add(DONG_GIANG_2)
GNBV = add(PROJECT_1, PROJECT_2)
NTM = add(DONG_GIANG_3, NAM_GIANG_3)
TOTAL = add(GNBV, NTM)


def sample_document(lang: str = "vi", unit: str = "trieu") -> Document:
    rows = [
        Row("total", (), "", None, "Tổng cộng" if lang == "vi" else "Total", TOTAL),
        Row("group", ("GNBV",), "I", "GNBV", "Giảm nghèo bền vững", GNBV),
        Row("group", ("GNBV", "DA1"), "1", "DA1", "Hỗ trợ đầu tư phát triển hạ tầng", PROJECT_1),
        Row("detail", ("GNBV", "DA1", "505"), "a", "505", "Huyện Đông Giang", DONG_GIANG_1),
        Row("detail", ("GNBV", "DA1", "506"), "b", "506", LONG_NAME, NAM_GIANG_1),
        Row("group", ("GNBV", "DA2"), "2", "DA2", "Đa dạng hóa sinh kế", PROJECT_2),
        Row("detail", ("GNBV", "DA2", "505"), "a", "505", "Huyện Đông Giang", DONG_GIANG_2),
        Row("group", ("NTM",), "II", "NTM", "Xây dựng nông thôn mới", NTM),
        Row("detail", ("NTM", "505"), "1", "505", "Huyện Đông Giang", DONG_GIANG_3),
        Row("detail", ("NTM", "507"), "2", None, '=HYPERLINK("x")', NAM_GIANG_3),
    ]
    return Document(
        issuer="UBND tỉnh Quảng Nam\nSở Tài chính",
        title="Tình hình giải ngân vốn các chương trình mục tiêu quốc gia năm 2024",
        subtitle="Số liệu đến ngày 17/9/2024",
        as_of=date(2024, 9, 17),
        known_at=None,
        unit=unit,
        columns=COLUMNS,
        rows=rows,
        notes=["Số liệu giải ngân theo xác nhận của Kho bạc Nhà nước tỉnh."],
        lang=lang,
        place="Quảng Nam",
        signed_on=date(2024, 9, 18),
    )
