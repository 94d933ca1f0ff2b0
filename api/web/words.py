"""The pages' words in Vietnamese (the default) and English (``?lang=en``)."""

from __future__ import annotations

LANGS = ("vi", "en")

WORDS: dict[str, dict[str, str]] = {
    "app": {"vi": "Sổ cái ngân sách", "en": "Budget Ledger"},
    "sign_in": {"vi": "Đăng nhập", "en": "Sign in"},
    "sign_out": {"vi": "Đăng xuất", "en": "Sign out"},
    "name": {"vi": "Tên đăng nhập", "en": "Name"},
    "password": {"vi": "Mật khẩu", "en": "Password"},
    "progress": {"vi": "Tiến độ giải ngân", "en": "Disbursement progress"},
    "holder": {"vi": "Đơn vị", "en": "Holder"},
    "as_of": {"vi": "Số liệu đến ngày", "en": "Figures as of"},
    "known_at": {
        "vi": "Theo sổ sách tại thời điểm (để trống: hiện nay)",
        "en": "As the books stood at (empty: now)",
    },
    "by": {"vi": "Nhóm theo", "en": "Group by"},
    "by_holder": {"vi": "Đơn vị", "en": "Holder"},
    "by_program": {"vi": "Chương trình", "en": "Program"},
    "by_kind": {"vi": "Loại vốn (ĐTPT/SN)", "en": "Kind (investment/recurrent)"},
    "by_source": {"vi": "Nguồn vốn", "en": "Source"},
    "show": {"vi": "Xem", "en": "Show"},
    "download": {"vi": "Tải về", "en": "Download"},
    "chart_title": {
        "vi": "Tỷ lệ giải ngân so kế hoạch, theo đơn vị (đường: bình quân {average})",
        "en": "Disbursement rate of the plan, by holder (line: average {average})",
    },
    "average": {"vi": "Bình quân", "en": "Average"},
    "below_average": {"vi": "thấp hơn bình quân", "en": "below average"},
    "ended_landing": {
        "vi": "Đơn vị {holder} đã kết thúc từ ngày {ended} (chuyển cho {successor}): số liệu "
        "đến ngày cuối cùng của đơn vị, {last}. Chọn ngày khác để xem ngày khác.",
        "en": "Holder {holder} ended on {ended} (passed to {successor}): the figures are "
        "as of its last day, {last}. Choose another date to see another.",
    },
    "whole_ledger": {"vi": "Toàn bộ sổ", "en": "Whole ledger"},
    "signed_in_as": {"vi": "Đăng nhập: {name} ({role})", "en": "Signed in: {name} ({role})"},
    "error": {"vi": "Không thực hiện được", "en": "Could not be done"},
    "back": {"vi": "Quay lại", "en": "Back"},
    "no_rows": {"vi": "Chưa có số liệu cho lựa chọn này.", "en": "No figures for this choice."},
    "language": {"vi": "English", "en": "Tiếng Việt"},
    "signed_out": {"vi": "Đã đăng xuất.", "en": "Signed out."},
    "session_ended": {
        "vi": "Phiên làm việc đã hết hạn; hãy đăng nhập lại.",
        "en": "Your session ended; sign in again.",
    },
    "main_nav": {"vi": "Điều hướng chính", "en": "Main navigation"},
    "breadcrumb": {"vi": "Vị trí", "en": "Breadcrumb"},
    "movement": {"vi": "Nghiệp vụ", "en": "Movement"},
    "action": {"vi": "Loại nghiệp vụ", "en": "Kind of movement"},
    "amount": {"vi": "Số tiền", "en": "Amount"},
    "effective_date": {"vi": "Ngày hiệu lực", "en": "Effective date"},
    "recorded_at": {"vi": "Thời điểm ghi sổ (giờ Việt Nam)", "en": "Recorded at (Vietnam time)"},
    "actor": {"vi": "Người ghi", "en": "Recorded by"},
    "asked": {"vi": "Nội dung đề nghị", "en": "What was asked"},
    "postings": {"vi": "Ghi vào các dòng vốn", "en": "Postings on each line"},
    "line": {"vi": "Dòng vốn", "en": "Line"},
    "available_after": {"vi": "Còn lại sau nghiệp vụ", "en": "Available after"},
    "reversals": {"vi": "Thu hồi, điều chỉnh giảm", "en": "Reversals of it"},
    "no_reversals": {"vi": "Không có.", "en": "None."},
    "history": {"vi": "Lịch sử", "en": "History"},
    "reference": {"vi": "Quyết định / chứng từ", "en": "Decision or voucher"},
    "search": {"vi": "Tra cứu", "en": "Search"},
    "search_q": {
        "vi": "Số quyết định, chứng từ hoặc mã nghiệp vụ",
        "en": "Decision, voucher or movement id",
    },
    "recorded_from": {"vi": "Ghi sổ từ (giờ Việt Nam)", "en": "Recorded from (Vietnam time)"},
    "recorded_to": {"vi": "Ghi sổ đến (giờ Việt Nam)", "en": "Recorded to (Vietnam time)"},
    "too_many": {
        "vi": "Chỉ hiện {rows} dòng đầu; hãy thu hẹp tìm kiếm.",
        "en": "Only the first {rows} rows are shown; narrow the search.",
    },
    "over_time": {"vi": "Giải ngân lũy kế theo tháng", "en": "Disbursement month by month"},
    "over_time_caption": {
        "vi": "Tỷ lệ giải ngân lũy kế so kế hoạch cuối mỗi tháng, năm nay và năm trước",
        "en": "Cumulative disbursement rate of the plan at each month's end, this year and last",
    },
    "year": {"vi": "Năm kế hoạch", "en": "Plan year"},
    "month": {"vi": "Tháng", "en": "Month"},
    "plan": {"vi": "Kế hoạch", "en": "Plan"},
    "disbursed_to_date": {"vi": "Lũy kế giải ngân", "en": "Disbursed to date"},
    "unit_dong": {"vi": "Đơn vị tính: đồng", "en": "Unit: đồng"},
    "reallocate": {"vi": "Điều chuyển vốn", "en": "Reallocate"},
    "disburse": {"vi": "Nhập giải ngân", "en": "Record a disbursement"},
    "refused": {"vi": "Bị từ chối, chưa ghi gì", "en": "Refused, nothing recorded"},
    "preview": {"vi": "Xem trước", "en": "Preview"},
    "preview_title": {
        "vi": "Số còn lại của từng dòng vốn trước và sau, ở mọi ngày nghiệp vụ tác động",
        "en": "Each line's available amount before and after, on every date the move touches",
    },
    "date": {"vi": "Ngày", "en": "Date"},
    "before": {"vi": "Trước", "en": "Before"},
    "after": {"vi": "Sau", "en": "After"},
    "nothing_yet": {
        "vi": "Chưa có gì được ghi. Bấm xác nhận để ghi nghiệp vụ này.",
        "en": "Nothing is recorded yet. Confirm to record this movement.",
    },
    "confirm": {"vi": "Xác nhận ghi sổ", "en": "Confirm and record"},
    "field_program": {"vi": "Chương trình", "en": "Program"},
    "field_kind": {"vi": "Loại vốn (DTPT/SN)", "en": "Kind (DTPT/SN)"},
    "field_source": {"vi": "Nguồn vốn (NSTW/NSDP)", "en": "Source (NSTW/NSDP)"},
    "field_year": {"vi": "Năm kế hoạch", "en": "Plan year"},
    "field_from_holder": {"vi": "Từ đơn vị", "en": "From holder"},
    "field_to_holder": {"vi": "Đến đơn vị", "en": "To holder"},
    "field_holder": {"vi": "Đơn vị", "en": "Holder"},
    "field_amount_vnd": {"vi": "Số tiền (đồng)", "en": "Amount (đồng)"},
    "field_decision": {"vi": "Quyết định", "en": "Decision"},
    "field_voucher": {"vi": "Chứng từ kho bạc", "en": "Treasury voucher"},
    "field_effective_date": {"vi": "Ngày hiệu lực", "en": "Effective date"},
    "field_note": {"vi": "Ghi chú", "en": "Note"},
    "proof": {"vi": "Bằng chứng toàn vẹn", "en": "Proof"},
    "position": {"vi": "Vị trí trong nhật ký", "en": "Position in the log"},
    "chain_digest": {"vi": "Mã băm chuỗi tại vị trí này", "en": "Chain digest at it"},
    "head": {"vi": "Đầu chuỗi hiện nay", "en": "Head of the chain now"},
    "proof_note": {
        "vi": "So đầu chuỗi với bản giữ bên ngoài hệ thống (budget-ledger digest); "
        "budget-ledger verify --against VỊ_TRÍ:MÃ chứng minh nhật ký vẫn giữ nguyên đoạn đó.",
        "en": "Compare the head with one kept outside the system (budget-ledger digest); "
        "budget-ledger verify --against POSITION:DIGEST proves the log still holds that prefix.",
    },
}


# A line's figures (the export's words, without its unit: the page writes "đ" beside each).
FIGURES: dict[str, dict[str, str]] = {
    "assigned_vnd": {"vi": "Được giao", "en": "Assigned"},
    "received_vnd": {"vi": "Trong đó nhận kế thừa từ đơn vị cũ", "en": "Of which received"},
    "allocated_on_vnd": {"vi": "Đã giao tiếp cho đơn vị dưới", "en": "Allocated on"},
    "disbursed_vnd": {"vi": "Đã giải ngân", "en": "Disbursed"},
    "lapsed_vnd": {"vi": "Đã hủy dự toán", "en": "Lapsed"},
    "passed_on_vnd": {"vi": "Đã chuyển cho đơn vị kế thừa", "en": "Passed on"},
    "available_vnd": {"vi": "Số dư khả dụng", "en": "Available"},
    "extended_vnd": {"vi": "Được kéo dài", "en": "Extended"},
    "deadline": {"vi": "Hạn giải ngân", "en": "Deadline"},
}
# Each kind of movement as a finance office names it (its code stays in the exports).
ACTIONS: dict[str, dict[str, str]] = {
    "adjust": {"vi": "Điều chỉnh dự toán", "en": "Adjustment"},
    "allocate": {"vi": "Phân bổ", "en": "Allocation"},
    "reallocate": {"vi": "Điều chuyển", "en": "Reallocation"},
    "disburse": {"vi": "Giải ngân", "en": "Disbursement"},
    "reverse": {"vi": "Thu hồi giải ngân", "en": "Reversal"},
    "extend": {"vi": "Kéo dài", "en": "Extension"},
    "lapse": {"vi": "Hủy dự toán", "en": "Lapse"},
    "succeed": {"vi": "Kế thừa khi sắp xếp đơn vị", "en": "Succession"},
}


def named(words: dict[str, dict[str, str]], key: str, lang: str) -> str:
    """``key``'s word in ``words`` (a figure, a kind of movement), or ``key`` itself."""
    found = words.get(key)
    return found["en" if lang == "en" else "vi"] if found else key


def word(key: str, lang: str, **values: str) -> str:
    text = WORDS[key]["en" if lang == "en" else "vi"]
    return text.format(**values) if values else text
