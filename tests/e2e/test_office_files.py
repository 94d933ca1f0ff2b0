"""``budget-ledger import`` takes the files offices exchange: ``;`` or ``,`` between cells,
UTF-8 or Windows-1258, dates written day first, the ledger's own export of movements with its
Vietnamese headers (imported back: nothing new; into a fresh ledger: the same balances), and
the sheet of a workbook named by ``--sheet``. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from tests.e2e.cli_story import LINE, TY, Cli, funded, quang_nam
from tests.e2e.test_import_files import windows_1258

HEADER = (
    "action;effective_date;program;kind;source;year;holder;to_holder;amount_vnd;decision;"
    "voucher;note"
)
ROWS = [
    "disburse;17/09/2024;GNBV;DTPT;NSTW;2024;505;;2.500.000.000;;KB 0201;Xác nhận KBNN tháng 9",
    "allocate;1/7/2024;GNBV;DTPT;NSTW;2024;49;504;5.000.000.000;QĐ 1204/QĐ-UBND;;Bổ sung kế hoạch",
]


@pytest.fixture
def cli(database: str) -> Cli:
    return funded(quang_nam(Cli(database).init()))


def worked_example(cli: Cli) -> Cli:
    """The README's tour after the funding: a payment, a reallocation, a partial reversal, a
    cut, an extension and the year closed: every kind a file may hold."""
    cli.disburse("505", 60 * TY, voucher="KB 0123", date="01/03/2024", id="pay-505-1")
    cli.reallocate("505", "504", 50 * TY, decision="QĐ 1850/QĐ-UBND", date="2024-04-01")
    cli.reverse("pay-505-1", amount=10 * TY, reason="sai chứng từ", date="2024-05-01")
    cli.adjust("TW", "-50.000.000.000", decision="QĐ cắt giảm", date="2024-06-01")
    cli.extend("504", until="31/12/2025", basis="NQ 111/2024/QH15", date="2025-01-20")
    cli.close_year(2024, date="2025-02-01")
    return cli


def test_a_windows_1258_file_with_semicolons_and_day_first_dates_is_recorded(
    cli: Cli, tmp_path: Path
) -> None:
    path = tmp_path / "kbnn.csv"
    path.write_bytes(windows_1258("\r\n".join([HEADER, *ROWS]) + "\r\n"))
    assert "\u0323".encode("cp1258") in path.read_bytes()  # combining tone marks, as Excel's
    result = cli.run("import", str(path))
    assert "2 recorded" in result.output, result.output
    history = {e["movement_id"]: e for e in cli.history(holder="505")}
    paid = [e for e in history.values() if e["reference"] == "KB 0201"]
    assert paid[0]["effective_date"] == "2024-09-17"
    assert paid[0]["note"] == "Xác nhận KBNN tháng 9"  # NFC: equal to the same text typed
    allocated = cli.history(decision="QĐ 1204/QĐ-UBND")
    assert {e["effective_date"] for e in allocated} == {"2024-07-01"}
    # The same rows with commas, as UTF-8 with a byte-order mark: the same movements.
    comma = tmp_path / "kbnn-utf8.csv"
    comma.write_text(
        "\r\n".join(line.replace(";", ",") for line in [HEADER, *ROWS]),
        encoding="utf-8-sig",
    )
    assert "nothing new was recorded" in cli.out("import", str(comma))


def test_a_wrong_date_in_a_cell_is_a_bad_row_showing_both_forms(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "sai-ngay.csv"
    path.write_text("\n".join([HEADER, ROWS[0].replace("17/09/2024", "31/09/2024")]))
    before = cli.history()
    result = cli.run("import", str(path), expect=1)
    assert "row 2: effective_date: '31/09/2024' is not a real date" in result.output
    assert "dd/mm/yyyy" in result.output and "yyyy-mm-dd" in result.output
    assert cli.history() == before


def test_a_file_neither_utf_8_nor_windows_1258_is_one_line(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "utf16-khong-bom.csv"
    path.write_bytes("\r\n".join([HEADER, *ROWS]).encode("utf-16-le"))
    result = cli.run("import", str(path), expect=1)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert "utf16-khong-bom.csv" in lines[0] and "CSV UTF-8" in lines[0]


@pytest.mark.parametrize("form", ["csv", "xlsx", "csv in Windows-1258 with ';'"])
def test_the_ledger_s_own_export_imported_back_records_nothing_new(
    cli: Cli, tmp_path: Path, form: str
) -> None:
    worked_example(cli)
    path = tmp_path / ("so-cai.xlsx" if form == "xlsx" else "so-cai.csv")
    cli.export(what="movements", format=form[:4].strip(), output=str(path))
    if form.startswith("csv in"):
        text = path.read_text(encoding="utf-8-sig")
        path.write_bytes(windows_1258(text.replace(",", ";")))  # no cell of it holds a comma
    before = cli.history()
    result = cli.run("import", str(path))
    assert "all already recorded; nothing new was recorded" in result.output, result.output
    assert cli.history() == before


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_an_export_imported_into_a_fresh_ledger_gives_the_same_balances(
    database: str, tmp_path: Path, form: str
) -> None:
    """Exported from a ledger on SQLite, imported into a fresh one on each store."""
    source = worked_example(funded(quang_nam(Cli(str(tmp_path / "source.sqlite3")).init())))
    path = tmp_path / f"so-cai.{form}"
    source.export(what="movements", format=form, output=str(path))
    fresh = quang_nam(Cli(database).init())
    result = fresh.run("import", str(path))
    assert "recorded" in result.output and "bad" not in result.output
    for day in ("2024-09-17", "2025-12-31"):
        assert fresh.balance(as_of=day) == source.balance(as_of=day)
    assert [e["movement_id"] for e in fresh.history()] == [
        e["movement_id"] for e in source.history()
    ]
    assert "OK" in fresh.check()
    # The same file again, and the year closed again: nothing twice.
    assert "nothing new was recorded" in fresh.out("import", str(path))
    fresh.close_year(2024, date="2025-02-01")
    assert fresh.balance(as_of="2025-12-31") == source.balance(as_of="2025-12-31")


def test_one_holder_s_export_into_a_fresh_ledger_is_refused_whole(cli: Cli, tmp_path: Path) -> None:
    worked_example(cli)
    path = tmp_path / "so-cai-505.csv"
    cli.export(what="movements", format="csv", holder="505", output=str(path))
    fresh = quang_nam(Cli(str(tmp_path / "fresh.sqlite3")).init())
    result = fresh.run("import", str(path), expect=1)
    assert "has 1 row(s) on this day, where it has 2" in result.output
    assert "nothing was recorded" in result.output
    assert fresh.history() == []


def workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def test_sheet_names_the_sheet_of_a_workbook(cli: Cli, tmp_path: Path) -> None:
    header = ["effective_date", "program", "kind", "source", "year", "holder", "amount_vnd",
              "voucher"]  # fmt: skip
    path = workbook(
        tmp_path / "kbnn.xlsx",
        {
            "Hướng dẫn": [["Điền sheet Giải ngân"]],
            "Giải ngân": [header, ["17/09/2024", *LINE[1::2], "505", 2_500_000_000, "KB 7"]],
        },
    )
    first = cli.run("import", str(path), expect=1)  # the first sheet is not a table of rows
    assert "unknown column" in first.output
    result = cli.run("import", str(path), "--sheet", "Giải ngân")
    assert "1 recorded" in result.output, result.output
    assert [e["effective_date"] for e in cli.history(voucher=None, holder="505")][-1] == (
        "2024-09-17"
    )
    unknown = cli.run("import", str(path), "--sheet", "Sheet1", expect=1)
    lines = unknown.output.strip().splitlines()
    assert len(lines) == 1
    assert "has no sheet 'Sheet1'; its sheets are 'Hướng dẫn', 'Giải ngân'" in lines[0]
    text = tmp_path / "kbnn.csv"
    text.write_text(HEADER + "\n")
    assert (
        "--sheet names a sheet of an .xlsx"
        in cli.run("import", str(text), "--sheet", "x", expect=1).output
    )


def test_the_export_s_workbook_reads_as_its_csv(cli: Cli, tmp_path: Path) -> None:
    """The xlsx export's dates are date cells and its amounts numbers: read as the CSV's."""
    worked_example(cli)
    path = tmp_path / "so-cai.xlsx"
    cli.export(what="movements", format="xlsx", output=str(path))
    book = load_workbook(path)
    cells = book.worksheets[0]
    assert cells.cell(row=1, column=1).value == "Ngày hiệu lực"
    assert cells.cell(row=2, column=2).is_date  # recorded at: a date-time cell
    book.close()
    before = cli.history()
    assert "nothing new" in cli.out("import", str(path))
    assert cli.history() == before


def test_a_reversal_finds_only_the_file_s_newest_payments(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An export's reversal of a payment in the same file is found among the payments the
    import keeps in hand (limits.IMPORT_PAYMENTS_HELD_MAX); an older one is refused, and
    nothing is recorded."""
    source = funded(quang_nam(Cli(str(tmp_path / "source.sqlite3")).init()))
    source.disburse("505", TY, voucher="KB 1", date="2024-03-01", id="pay-1")
    source.disburse("505", TY, voucher="KB 2", date="2024-03-02", id="pay-2")
    source.reverse("pay-1", reason="sai chứng từ", date="2024-03-03")
    path = tmp_path / "so-cai.csv"
    source.export(what="movements", format="csv", output=str(path))
    monkeypatch.setattr("ledger.domain.limits.IMPORT_PAYMENTS_HELD_MAX", 1)
    fresh = quang_nam(Cli(database).init())
    refused = fresh.run("import", str(path), expect=1)
    assert "reverses: pay-1 is no movement" in refused.output
    assert fresh.history() == []
    monkeypatch.setattr("ledger.domain.limits.IMPORT_PAYMENTS_HELD_MAX", 2)
    fresh.run("import", str(path))
    assert fresh.balance(holder="505") == source.balance(holder="505")


VIETNAMESE_HEADER = (
    "Ngày hiệu lực;Nghiệp vụ;Chương trình;Loại vốn;Nguồn vốn;Năm kế hoạch;Đơn vị;Tên đơn vị;"
    "Đơn vị nhận;Số tiền (đồng);Số quyết định / chứng từ;Ghi chú"
)
VIETNAMESE_ROWS = [
    "17/09/2024;Giải ngân;GNBV;DTPT;NSTW;2024;505;Huyện Đông Giang;;2.500.000.000;KB 0201;"
    "Xác nhận KBNN tháng 9",
    "1/7/2024;giao vốn;GNBV;DTPT;NSTW;2024;49;Tỉnh Quảng Nam;504;5.000.000.000;"
    "QĐ 1204/QĐ-UBND;Bổ sung kế hoạch",
]


def test_an_office_s_own_list_in_the_export_s_vietnamese_words_is_recorded(
    cli: Cli, tmp_path: Path
) -> None:
    """Not an export (no recorded times, no ids): an office's list of movements with the
    export's Vietnamese headers, one row per movement, the receiver in "Đơn vị nhận", and
    "Số quyết định / chứng từ" read as the decision or the voucher the movement cites."""
    path = tmp_path / "danh-sach.csv"
    path.write_bytes(windows_1258("\r\n".join([VIETNAMESE_HEADER, *VIETNAMESE_ROWS]) + "\r\n"))
    result = cli.run("import", str(path))
    assert "2 recorded" in result.output, result.output
    paid = [e for e in cli.history(holder="505") if e["reference"] == "KB 0201"]
    assert [(e["action"], e["effective_date"]) for e in paid] == [("disburse", "2024-09-17")]
    allocated = cli.history(decision="QĐ 1204/QĐ-UBND")
    assert {e["line"]["holder"] for e in allocated} == {"49", "504"}
    assert "nothing new was recorded" in cli.out("import", str(path))
    # A list without the movement's date is refused whole, in one line.
    undated = tmp_path / "khong-ngay.csv"
    undated.write_text(
        "\n".join([VIETNAMESE_HEADER.replace("Ngày hiệu lực;", ""), "Giải ngân"]),
        encoding="utf-8",
    )
    before = cli.history()
    refused = cli.run("import", str(undated), expect=1)
    assert "the header lacks Ngày hiệu lực" in refused.output
    assert cli.history() == before
