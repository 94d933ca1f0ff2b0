"""The web pages in a real browser (headless Chromium), on SQLite and PostgreSQL, driven as
a finance officer and an auditor would: sign in, drill down two levels, change the date and
see the figures the API gives, open a movement and see its digest, download the xlsx and read
it back, a scoped clerk who cannot see a neighbouring district by any page or address, a form
posted without its CSRF token refused, sign out. Screenshots of each page are kept."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from playwright.sync_api import Page, expect

from api.people import PeopleStore
from api.services import bootstrap
from cli import main
from ledger.domain.values import grouped_number
from tests.e2e.web.conftest import ServedApp

PASSWORD = "mật khẩu đủ dài"
TOKENS: dict[str, str] = {}
# A refused page (403) is a document the server answers with an error status: Chromium says
# so on the console ("Failed to load resource"), which is what the test wants.
REFUSED_PAGES = "the scoped clerk's refused pages are 403s, which Chromium logs"

Served = Callable[[Callable[[str], Any]], ServedApp]
Shot = Callable[[Page, str], Path]


def demo_with_people(database: str) -> None:
    result = CliRunner().invoke(main, ["demo", "--database", database])
    assert result.exit_code == 0, result.output
    services = bootstrap(database)
    try:
        people = PeopleStore(services.store)
        people.add("kiem-toan", "viewer", None, PASSWORD)
        people.add("ke-toan-505", "clerk", "505", PASSWORD)
        people.add("so-tai-chinh", "approver", "48", PASSWORD)
        TOKENS[database] = services.tokens().create(f"api-{len(TOKENS)}", "viewer", None)[1]
    finally:
        services.close()


def sign_in(page: Page, app: ServedApp, name: str, path: str = "/") -> None:
    page.goto(app.url + path)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Tên đăng nhập").fill(name)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()


def api_total(app: ServedApp, **query: str) -> dict[str, Any]:
    url = app.url + "/reports/progress?" + "&".join(f"{k}={v}" for k, v in query.items())
    token = {"Authorization": f"Bearer {TOKENS[app.database]}"}
    request = urllib.request.Request(url, headers=token)
    with urllib.request.urlopen(request) as answer:
        rows = json.load(answer)["rows"]
    return next(row for row in rows if row["code"] is None)


def shown_total(page: Page) -> str:
    return page.locator("table.report tr.total").inner_text()


def test_an_auditor_reads_drills_down_proves_and_downloads(
    served_app: Served, page: Page, shot: Shot, tmp_path: Path
) -> None:
    app = served_app(demo_with_people)
    sign_in(page, app, "kiem-toan", "/?as_of=2024-06-30")
    expect(page).to_have_url(re.compile(r"/\?as_of=2024-06-30$"))
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    shot(page, "progress-whole-ledger")

    # A tablet's width: the table scrolls in its own region, the page does not.
    page.set_viewport_size({"width": 820, "height": 1180})
    shot(page, "progress-tablet")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 820, width
    page.set_viewport_size({"width": 1366, "height": 900})

    # Down two levels (the first from the keyboard: focus the link, press Enter), then back
    # up by the breadcrumb.
    page.locator("table.report").get_by_role("link", name="49 - Tỉnh Quảng Nam").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"holder=49"))
    # One bar per row: the province's own lines and its six districts.
    expect(page.locator("svg[role=img] rect.bar")).to_have_count(7)
    shot(page, "progress-49")
    page.locator("table.report").get_by_role("link", name="505 - Huyện Đông Giang").click()
    expect(page).to_have_url(re.compile(r"holder=505"))
    shot(page, "progress-505")
    page.locator("nav.crumbs").get_by_role("link", name="49 - Tỉnh Quảng Nam").click()
    expect(page).to_have_url(re.compile(r"holder=49"))

    # Another date: the figures are the API's for the same query.
    page.get_by_label("Số liệu đến ngày").fill("2024-03-31")
    page.get_by_role("button", name="Xem").click()
    expect(page).to_have_url(re.compile(r"as_of=2024-03-31"))
    total = api_total(app, holder="49", as_of="2024-03-31")
    for key in ("plan_vnd", "disbursed_vnd"):
        assert grouped_number(total[key] / 10**6, 0, "vi") in shown_total(page), key
    page.go_back()
    expect(page).to_have_url(re.compile(r"holder=49$"))

    # The xlsx of what is on screen, read back.
    with page.expect_download() as download:
        page.get_by_role("link", name="xlsx").click()
    saved = tmp_path / "progress.xlsx"
    download.value.save_as(saved)
    cells = [str(c) for row in openpyxl.load_workbook(saved).active.iter_rows(values_only=True)
             for c in row if c is not None]  # fmt: skip
    assert any("Huyện Đông Giang" in cell for cell in cells)

    # The curve month by month, this year beside last year.
    page.get_by_role("link", name="Giải ngân lũy kế theo tháng").click()
    page.get_by_label("Đơn vị").fill("49")
    page.get_by_label("Năm kế hoạch").fill("2025")
    page.get_by_role("button", name="Xem").click()
    expect(page.locator("polyline.curve")).to_have_count(2)
    shot(page, "over-time")

    # A line, then one of its movements with its proof.
    page.goto(app.url + "/lines/GNBV/DTPT/NSTW/2024/505")
    shot(page, "line-505")
    page.locator("table.report a[href^='/movements/']").first.click()
    expect(page).to_have_url(re.compile(r"/movements/"))
    digest = page.locator("#digest").inner_text()
    assert re.fullmatch(r"[0-9a-f]{64}", digest), digest
    shot(page, "movement")

    # Search by the movement's id finds it.
    movement_id = page.url.rsplit("/", 1)[1]
    page.goto(app.url + "/search")
    page.get_by_label("Số quyết định, chứng từ hoặc mã nghiệp vụ").fill(movement_id)
    page.get_by_role("button", name="Tra cứu").last.click()
    expect(page.locator(f"a[href='/movements/{movement_id}']").first).to_be_visible()
    shot(page, "search")
    with page.expect_download() as found:
        page.get_by_role("link", name="csv").click()
    text = Path(found.value.path()).read_text(encoding="utf-8-sig")
    assert movement_id in text and text.startswith("Ngày hiệu lực,")

    # Sign out: back to the sign-in page, and the pages are closed again.
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.get_by_role("alert")).to_contain_text("Đã đăng xuất")
    page.goto(app.url + "/?as_of=2024-06-30")
    expect(page).to_have_url(re.compile(r"/login"))


PAGES = [
    "/?as_of=2024-06-30&holder=49",
    "/over-time?holder=49&year=2025",
    "/lines/GNBV/DTPT/NSTW/2024/505",
    "/search?q=demo-lc-0169",
    "/movements/demo-lc-0169",
]


def reached_by_tab(page: Page, presses: int = 40) -> set[str]:
    """The ids of the controls focus reaches by pressing Tab from the top of the page."""
    page.locator("body").focus()
    reached = set()
    for _ in range(presses):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement.id || document.activeElement.name"))
    return reached


def test_every_page_fits_a_tablet_and_its_controls_work_from_the_keyboard(
    served_app: Served, page: Page, shot: Shot
) -> None:
    app = served_app(demo_with_people)
    sign_in(page, app, "kiem-toan", PAGES[0])
    page.set_viewport_size({"width": 820, "height": 1180})
    for path in PAGES:
        page.goto(app.url + path)
        expect(page.locator("html")).to_have_attribute("lang", "vi")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 820, (path, width)
        shot(page, "tablet-" + (path.strip("/").split("?")[0].replace("/", "-") or "progress"))
    # Every control of the search form is reached from the keyboard, and Enter searches.
    page.goto(app.url + "/search")
    assert {"q", "actor", "recorded_from", "recorded_to"} <= reached_by_tab(page)
    page.get_by_label("Số quyết định, chứng từ hoặc mã nghiệp vụ").focus()
    page.keyboard.type("demo-lc-0169")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"q=demo-lc-0169"))
    expect(page.locator("a[href='/movements/demo-lc-0169']").first).to_be_visible()
    # The curve's form likewise.
    page.goto(app.url + "/over-time")
    assert {"holder", "program", "year"} <= reached_by_tab(page)


@pytest.mark.allow_console_errors(REFUSED_PAGES)
def test_a_scoped_clerk_cannot_see_a_neighbouring_district(
    served_app: Served, page: Page, shot: Shot
) -> None:
    app = served_app(demo_with_people)
    sign_in(page, app, "ke-toan-505", "/?as_of=2024-06-30")
    expect(page.locator("table.report")).to_contain_text("505 - Huyện Đông Giang")
    expect(page.locator("table.report")).not_to_contain_text("504")
    for path in ("/?holder=504&as_of=2024-06-30", "/?holder=49&as_of=2024-06-30",
                 "/lines/GNBV/DTPT/NSTW/2024/504", "/progress.csv?holder=504"):  # fmt: skip
        answer = page.goto(app.url + path)
        assert answer is not None and answer.status == 403, path
    expect(page.get_by_role("alert")).to_contain_text("outside the scope")
    shot(page, "refused")


@pytest.mark.allow_console_errors("the form posted without its token is answered 403")
def test_a_form_without_its_csrf_token_is_refused(
    served_app: Served, page: Page, shot: Shot
) -> None:
    app = served_app(demo_with_people)
    sign_in(page, app, "kiem-toan", "/?as_of=2024-06-30")
    page.locator("form.signout input[name=csrf_token]").evaluate("node => node.remove()")
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.get_by_role("alert")).to_contain_text("CSRF")
    shot(page, "csrf-refused")
    page.goto(app.url + "/?as_of=2024-06-30")  # still signed in: nothing was done
    expect(page.locator("table.report")).to_be_visible()


def test_an_approver_previews_then_records_a_reallocation(
    served_app: Served, page: Page, shot: Shot
) -> None:
    app = served_app(demo_with_people)
    # Đà Nẵng (48) moves some of the merged program's 2026 money on to a commune.
    sign_in(page, app, "so-tai-chinh", "/?as_of=2026-11-30")
    page.get_by_role("link", name="Điều chuyển vốn").click()
    fields = {"Chương trình": "MTQG2635", "Loại vốn (DTPT/SN)": "DTPT",
              "Nguồn vốn (NSTW/NSDP)": "NSTW", "Năm kế hoạch": "2026", "Từ đơn vị": "48",
              "Đến đơn vị": "20476", "Số tiền (đồng)": "1.000.000.000",
              "Quyết định": "QĐ 12/QĐ-UBND", "Ngày hiệu lực": "2026-11-30"}  # fmt: skip
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Xem trước").click()
    expect(page).to_have_url(re.compile(r"preview=1"))
    preview = page.locator("table.preview")
    expect(preview).to_contain_text("MTQG2635 / DTPT / NSTW / 2026 / 48")
    expect(preview).to_contain_text("MTQG2635 / DTPT / NSTW / 2026 / 20476")
    shot(page, "reallocate-preview")
    page.get_by_role("button", name="Xác nhận ghi sổ").click()
    expect(page).to_have_url(re.compile(r"/movements/web-"))
    expect(page.locator("dl.facts").first).to_contain_text("so-tai-chinh")
    shot(page, "reallocate-recorded")
