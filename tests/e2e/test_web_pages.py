"""The web pages through the Flask test client, on SQLite and PostgreSQL: signing in and out
with a CSRF token on every form, the progress page at a date with its drill-down and its
downloads, the same figures as the API, and a scoped person who sees only their subtree.
(The browser tests in tests/e2e/web drive the same pages in Chromium.)"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Any

import openpyxl
import pytest
from flask.testing import FlaskClient

from api import create_app
from api.people import ADDRESS_FAILURES_MAX, PeopleStore
from api.services import Services, bootstrap
from api.web.session import SESSION_COOKIE
from ledger.domain.values import grouped_number
from tests.e2e.cli_story import Cli
from tests.e2e.test_api import LINE, Api, api, move, worked_example  # noqa: F401

PASSWORD = "mật khẩu đủ dài"
AS_OF = "2024-06-30"


@dataclass
class Site:
    services: Services
    tokens: dict[str, str]

    def browser(self, **settings: Any) -> FlaskClient:
        app = create_app(services=self.services, **settings)
        app.config["TESTING"] = True
        return app.test_client()


@pytest.fixture
def site(database: str) -> Any:
    Cli(database).run("demo")
    services = bootstrap(database)
    people = PeopleStore(services.store)
    people.add("auditor", "viewer", None, PASSWORD)
    people.add("lan", "clerk", "505", PASSWORD)
    people.add("binh", "viewer", "504", PASSWORD)
    tokens = {
        "auditor-token": services.tokens().create("auditor-token", "viewer", None)[1],
    }
    yield Site(services, tokens)
    services.close()


def csrf_of(page: bytes) -> str:
    found = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1).decode()


def sign_in(client: FlaskClient, name: str, password: str = PASSWORD) -> Any:
    form = client.get("/login")
    return client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": csrf_of(form.data)},
    )


def signed_in(site: Site, name: str) -> FlaskClient:
    client = site.browser()
    answer = sign_in(client, name)
    assert answer.status_code == 303, answer.data
    return client


def total_row(page: bytes) -> str:
    found = re.search(r'<tr class="total[^"]*">(.*?)</tr>', page.decode(), re.S)
    assert found, page.decode()[:2000]
    return found.group(1)


def test_a_page_without_a_session_goes_to_sign_in_and_back(site: Site) -> None:
    client = site.browser()
    answer = client.get(f"/?holder=49&as_of={AS_OF}")
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith("/login?next=")
    form = client.get(answer.headers["Location"])
    assert form.status_code == 200 and b'lang="vi"' in form.data
    back = client.post(
        "/login",
        data={
            "name": "auditor",
            "password": PASSWORD,
            "csrf_token": csrf_of(form.data),
            "next": f"/?holder=49&as_of={AS_OF}",
        },
    )
    assert back.status_code == 303 and back.headers["Location"] == f"/?holder=49&as_of={AS_OF}"
    cookie = back.headers["Set-Cookie"]
    assert SESSION_COOKIE in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_sign_in_refuses_a_wrong_password_a_missing_csrf_and_another_site(site: Site) -> None:
    client = site.browser()
    assert sign_in(client, "auditor", "not the password").status_code == 401
    assert b"wrong" in sign_in(client, "auditor", "not the password").data
    no_csrf = client.post("/login", data={"name": "auditor", "password": PASSWORD})
    assert no_csrf.status_code == 403
    assert client.get("/").status_code == 303  # still not signed in
    form = client.get("/login")
    away = client.post(
        "/login",
        data={"name": "auditor", "password": PASSWORD, "csrf_token": csrf_of(form.data),
              "next": "//elsewhere.example/"},  # fmt: skip
    )
    assert away.headers["Location"] == "/"
    for elsewhere in ("/\t/evil.example", "/\n/evil.example", "/\\evil.example",
                      "https://evil.example/"):  # fmt: skip
        form = client.get("/login")
        answer = client.post(
            "/login",
            data={"name": "auditor", "password": PASSWORD, "csrf_token": csrf_of(form.data),
                  "next": elsewhere},  # fmt: skip
        )
        assert answer.headers["Location"] == "/", elsewhere


def sign_in_from(client: FlaskClient, name: str, password: str, **headers: str) -> Any:
    form = client.get("/login", headers=headers)
    return client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": csrf_of(form.data)},
        headers=headers,
    )


@pytest.mark.parametrize("hops", [0, 1])
def test_behind_a_proxy_the_throttle_counts_the_client_s_address(site: Site, hops: int) -> None:
    """Twenty failures from one client through a proxy: with the proxy trusted (one hop)
    that client is throttled and another is not; trusting none, X-Forwarded-For is the
    client's say and every request is the proxy's address, so both are throttled."""
    client = site.browser(proxy_hops=hops)
    guesser = {"X-Forwarded-For": "203.0.113.7"}
    colleague = {"X-Forwarded-For": "198.51.100.9"}
    for number in range(ADDRESS_FAILURES_MAX):
        wrong = sign_in_from(client, f"nobody-{number}", "not the password", **guesser)
        assert wrong.status_code == 401, number
    assert sign_in_from(client, "auditor", PASSWORD, **guesser).status_code == 429
    answer = sign_in_from(site.browser(proxy_hops=hops), "auditor", PASSWORD, **colleague)
    assert answer.status_code == (303 if hops else 429)


@pytest.mark.parametrize(
    ("settings", "forwarded", "secure"),
    [
        ({"proxy_hops": 1}, "https", True),
        ({"proxy_hops": 1}, "http", False),
        ({"proxy_hops": 0}, "https", False),
        ({"proxy_hops": 0, "secure_cookies": True}, "http", True),
    ],
)
def test_the_cookie_is_secure_behind_tls_only_as_told(
    site: Site, settings: dict[str, Any], forwarded: str, secure: bool
) -> None:
    client = site.browser(**settings)
    answer = sign_in_from(client, "auditor", PASSWORD, **{"X-Forwarded-Proto": forwarded})
    assert answer.status_code == 303
    cookie = next(c for c in answer.headers.getlist("Set-Cookie") if SESSION_COOKIE in c)
    assert ("; Secure" in cookie) == secure, cookie


def test_the_progress_page_gives_the_api_s_figures(site: Site) -> None:
    client = signed_in(site, "auditor")
    page = client.get(f"/?holder=49&as_of={AS_OF}")
    assert page.status_code == 200
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    answer = site.browser().get(
        "/reports/progress",
        query_string={"holder": "49", "as_of": AS_OF},
        headers={"Authorization": f"Bearer {site.tokens['auditor-token']}"},
    )
    total = next(row for row in answer.get_json()["rows"] if row["code"] is None or
                 row.get("holder") == "TOTAL")  # fmt: skip
    shown = total_row(page.data)
    for key in ("plan_vnd", "disbursed_vnd"):
        assert grouped_number(total[key] / 10**6, 0, "vi") in shown, (key, total[key], shown)
    assert total["disbursed_vnd"] > 0
    # A later date shows more disbursed than an earlier one.
    earlier = client.get("/?holder=49&as_of=2024-03-31")
    assert total_row(earlier.data) != shown


def test_drill_down_two_levels_and_the_breadcrumb_goes_back(site: Site) -> None:
    client = signed_in(site, "auditor")
    top = client.get(f"/?as_of={AS_OF}").data.decode()
    assert 'href="/?as_of=2024-06-30&amp;holder=49"' in top
    province = client.get(f"/?as_of={AS_OF}&holder=49").data.decode()
    assert "holder=505" in province
    district = client.get(f"/?as_of={AS_OF}&holder=505").data.decode()
    crumbs = re.search(r'<nav class="crumbs".*?</nav>', district, re.S)
    assert crumbs and "holder=49" in crumbs.group(0)
    assert 'aria-current="page">505' in crumbs.group(0)


def test_a_scoped_person_sees_only_their_subtree(site: Site) -> None:
    client = signed_in(site, "lan")  # clerk of 505
    own = client.get(f"/?as_of={AS_OF}")
    assert own.status_code == 200 and "505 - " in own.data.decode()
    for path in (
        f"/?holder=504&as_of={AS_OF}",
        f"/?holder=49&as_of={AS_OF}",
        f"/progress.xlsx?holder=504&as_of={AS_OF}",
        "/progress.csv?holder=504",
    ):
        refused = client.get(path)
        assert refused.status_code == 403, path
        assert b"outside the scope" in refused.data and b"Traceback" not in refused.data
    # The API answers the signed-in person by the same rules.
    assert client.get("/reports/progress", query_string={"holder": "504"}).status_code == 403


def test_a_person_whose_holder_ended_lands_on_its_last_day(site: Site) -> None:
    """lan is a clerk of 505, merged into 48 on 1/7/2025: without a date the landing page is
    505 on 30/6/2025, its last day, and says so; the figures are the API's for that day."""
    client = signed_in(site, "lan")
    page = client.get("/")
    assert page.status_code == 200, page.data[:2000]
    text = page.data.decode()
    assert 'name="as_of" type="date" value="2025-06-30"' in text
    assert "Đơn vị 505 đã kết thúc từ ngày 01/07/2025 (chuyển cho 48)" in text
    answer = site.browser().get(
        "/reports/progress",
        query_string={"holder": "505", "as_of": "2025-06-30"},
        headers={"Authorization": f"Bearer {site.tokens['auditor-token']}"},
    )
    total = next(row for row in answer.get_json()["rows"] if row["code"] is None)
    assert grouped_number(total["disbursed_vnd"] / 10**6, 0, "vi") in total_row(page.data)
    english = client.get("/?lang=en").data.decode()
    assert "Holder 505 ended on 01/07/2025" in english
    # Its download without a date is the same day's report; a date asked is kept as asked.
    xlsx = client.get("/progress.xlsx")
    assert xlsx.status_code == 200 and "2025-06-30" in xlsx.headers["Content-Disposition"]
    asked = client.get(f"/?as_of={AS_OF}").data.decode()
    assert 'value="2024-06-30"' in asked and "đã kết thúc" not in asked
    # A holder that has not ended lands on today, as before, with no such word.
    assert "đã kết thúc" not in signed_in(site, "auditor").get("/").data.decode()


def test_the_downloads_are_the_report_on_screen(site: Site) -> None:
    client = signed_in(site, "auditor")
    xlsx = client.get(f"/progress.xlsx?holder=49&as_of={AS_OF}")
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(xlsx.data))
    texts = [str(cell) for row in book.active.iter_rows(values_only=True) for cell in row if cell]
    assert any("Huyện Đông Giang" in text for text in texts)
    csv = client.get(f"/progress.csv?holder=49&as_of={AS_OF}")
    assert csv.status_code == 200 and "Huyện Đông Giang" in csv.data.decode("utf-8")


def test_bad_input_on_a_page_is_one_line_not_a_traceback(site: Site) -> None:
    client = signed_in(site, "auditor")
    for query, said in (("as_of=yesterday", b"yesterday"), ("by=colour", b"must be one of"),
                        ("holder=NOWHERE", b"NOWHERE")):  # fmt: skip
        answer = client.get(f"/?{query}")
        assert answer.status_code == 422, (query, answer.status_code)
        assert said in answer.data and b"Traceback" not in answer.data


def test_sign_out_needs_its_csrf_token_and_ends_the_session(site: Site) -> None:
    client = signed_in(site, "auditor")
    page = client.get(f"/?as_of={AS_OF}")
    assert client.post("/logout").status_code == 403
    assert client.get("/").status_code == 200  # still signed in
    out = client.post("/logout", data={"csrf_token": csrf_of(page.data)})
    assert out.status_code == 303
    assert client.get("/").status_code == 303


def test_a_disabled_person_is_out_on_the_next_page(site: Site) -> None:
    client = signed_in(site, "binh")
    assert client.get(f"/?as_of={AS_OF}").status_code == 200
    PeopleStore(site.services.store).disable("binh")
    assert client.get(f"/?as_of={AS_OF}").status_code == 303


def test_a_person_writes_through_the_api_as_a_token_would_with_csrf(
    api: Api, services: Services  # noqa: F811
) -> None:
    worked_example(api)
    PeopleStore(services.store).add("lan", "clerk", "505", PASSWORD)
    client = api.client
    assert sign_in(client, "lan").status_code == 303
    csrf = csrf_of(client.get(f"/?as_of={AS_OF}").data)
    body = {**LINE, "holder": "505", "amount_vnd": 1_000_000, "voucher": "KB web 1",
            "effective_date": "2024-07-01", "movement_id": "web-person-1"}  # fmt: skip
    head = services.ledger.head_position()
    refused = client.post("/disbursements", json=body)
    assert refused.status_code == 403 and "CSRF" in refused.get_json()["detail"]
    assert services.ledger.head_position() == head
    done = client.post("/disbursements", json=body, headers={"X-CSRF-Token": csrf})
    assert done.status_code == 201, done.get_json()
    assert services.ledger.get_movement("web-person-1").actor == "lan"
    # The same refusals as a clerk token of 505: outside the scope, and a clerk's limits.
    outside = {**body, "holder": "504", "movement_id": "web-person-2"}
    by_person = client.post("/disbursements", json=outside, headers={"X-CSRF-Token": csrf})
    by_token = api.post("/disbursements", "clerk-505", {**outside, "movement_id": "web-tok-2"})
    assert by_person.status_code == by_token.status_code == 403
    move_ = move("web-person-3", "2024-07-01", from_holder="505", to_holder="504",
                 amount_vnd=1, decision="QĐ 1")  # fmt: skip
    by_person = client.post("/reallocations", json=move_, headers={"X-CSRF-Token": csrf})
    by_token = api.post("/reallocations", "clerk-505", {**move_, "movement_id": "web-tok-3"})
    assert by_person.status_code == by_token.status_code == 403


HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def test_a_movement_s_page_shows_its_proof_and_the_api_still_answers_json(
    api: Api, services: Services  # noqa: F811
) -> None:
    worked_example(api)
    people = PeopleStore(services.store)
    people.add("auditor-person", "viewer", None, PASSWORD)
    people.add("binh", "viewer", "504", PASSWORD)
    client = api.client
    # Without a session a browser is sent to sign in, and comes back.
    away = client.get("/movements/w2", headers=HTML)
    assert away.status_code == 303 and "next=%2Fmovements%2Fw2" in away.headers["Location"]
    assert sign_in(client, "auditor-person").status_code == 303
    page = client.get("/movements/w2", headers=HTML)
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.data.decode()
    log = services.log()
    position = log.positions_of(services.ledger.get_movement("w2").id)[0][0]
    digest = log.digest_at(position)
    assert digest is not None
    assert f'<dd id="position">{position}</dd>' in text
    assert digest.hex() in text
    head_position, head = log.head()
    assert f"{head_position}:{head.hex()}" in text
    assert "QĐ 1603/QĐ-TTg 11/12/2023" in text  # what was asked
    # A client of the API (a token, or no Accept for HTML) gets the JSON receipt.
    answer = api.get("/movements/w2", "auditor")
    assert answer.status_code == 200 and answer.get_json()["movement_id"] == "w2"
    # An unknown movement is a page saying so.
    assert client.get("/movements/nope", headers=HTML).status_code == 404
    # A person scoped to 504 cannot open a movement of 505 only.
    scoped = create_app(services=services).test_client()
    assert sign_in(scoped, "binh").status_code == 303
    refused = scoped.get("/movements/w5", headers=HTML)  # a payment of 505
    assert refused.status_code == 403 and b"scope" in refused.data


def test_a_line_s_page_and_search_lead_to_the_movements(
    api: Api, services: Services  # noqa: F811
) -> None:
    worked_example(api)
    people = PeopleStore(services.store)
    people.add("auditor-person", "viewer", None, PASSWORD)
    people.add("binh", "viewer", "504", PASSWORD)
    client = api.client
    assert sign_in(client, "auditor-person").status_code == 303
    line = client.get("/lines/GNBV/DTPT/NSTW/2024/505")
    assert line.status_code == 200
    text = line.data.decode()
    assert 'href="/movements/w5"' in text and "KB 1" in text
    assert 'href="/movements/w3-505"' in text
    by_voucher = client.get("/search", query_string={"q": "kb 1"}).data.decode()
    assert 'href="/movements/w5"' in by_voucher and "w3-505" not in by_voucher
    by_decision = client.get("/search", query_string={"q": "QĐ 95/QĐ-UBND"}).data.decode()
    assert 'href="/movements/w3-504"' in by_decision and 'href="/movements/w5"' not in by_decision
    by_id = client.get("/search", query_string={"q": "w5"}).data.decode()
    assert 'href="/movements/w5"' in by_id and "w3-505" not in by_id
    by_actor = client.get("/search", query_string={"actor": "clerk-505"}).data.decode()
    assert 'href="/movements/w5"' in by_actor and "w3-505" not in by_actor
    future = client.get("/search", query_string={"recorded_from": "2099-01-01T00:00"})
    assert "/movements/" not in future.data.decode()
    bad = client.get("/search", query_string={"recorded_from": "yesterday"})
    assert bad.status_code == 422 and b"Traceback" not in bad.data
    # A person scoped to 504 finds nothing of 505 and cannot open its line.
    scoped = create_app(services=services).test_client()
    assert sign_in(scoped, "binh").status_code == 303
    assert scoped.get("/lines/GNBV/DTPT/NSTW/2024/505").status_code == 403
    found = scoped.get("/search", query_string={"q": "QĐ 95/QĐ-UBND"}).data.decode()
    assert "w3-504" in found and "w3-505" not in found
    assert "/movements/w5" not in scoped.get("/search", query_string={"q": "w5"}).data.decode()
    unknown = client.get("/lines/GNBV/DTPT/NSTW/2024/999")
    assert unknown.status_code in (404, 422) and b"Traceback" not in unknown.data


def sheet_rows(data: bytes) -> list[dict[str, Any]]:
    """A downloaded plain table's rows, by header; it must hold values, never a formula."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    cells = list(book.active.iter_rows(values_only=True))
    assert not [cell for row in cells for cell in row if str(cell or "").startswith("=")]
    header = cells[0]
    return [dict(zip(header, row, strict=True)) for row in cells[1:]]


def csv_rows(data: bytes) -> list[dict[str, str]]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads it as UTF-8
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def history_ids(through: Api, who: str, **query: str) -> list[tuple[str, str, int]]:
    answer = through.client.get("/history", query_string=query, headers=through.headers(who))
    assert answer.status_code == 200, answer.get_json()
    return [(entry["movement_id"], entry["line"]["holder"], entry["available_after_vnd"])
            for entry in answer.get_json()["entries"]]  # fmt: skip


def test_a_line_s_and_a_search_s_downloads_are_the_rows_on_screen(
    api: Api, services: Services  # noqa: F811
) -> None:
    worked_example(api)
    people = PeopleStore(services.store)
    people.add("auditor-person", "viewer", None, PASSWORD)
    people.add("binh", "viewer", "504", PASSWORD)
    client = api.client
    assert sign_in(client, "auditor-person").status_code == 303
    line = "/lines/GNBV/DTPT/NSTW/2024/505"
    page = client.get(line).data.decode()
    assert f'href="{line}.xlsx"' in page and f'href="{line}.csv"' in page
    wanted = history_ids(api, "auditor", program="GNBV", kind="DTPT", source="NSTW",
                         year="2024", holder="505")  # fmt: skip
    assert wanted
    xlsx = client.get(line + ".xlsx")
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["Content-Disposition"]
    rows = sheet_rows(xlsx.data)
    assert [(row["Mã bút toán"], row["Đơn vị"], row["Số dư khả dụng sau (đồng)"])
            for row in rows] == wanted  # fmt: skip
    assert rows[0]["Tên đơn vị"] == "Huyện Đông Giang"
    in_csv = csv_rows(client.get(line + ".csv").data)
    assert [(row["Mã bút toán"], row["Đơn vị"], int(row["Số dư khả dụng sau (đồng)"]))
            for row in in_csv] == wanted  # fmt: skip
    # The search's download: the rows the page lists, with the page's query.
    query = "q=QĐ+95/QĐ-UBND"
    searched = client.get(f"/search?{query}").data.decode()
    assert 'href="/search.xlsx?q=' in searched
    on_page = re.findall(r'href="/movements/([^"]+)"', searched)
    downloaded = sheet_rows(client.get(f"/search.xlsx?{query}").data)
    by_decision = [row["Mã bút toán"] for row in downloaded]
    assert by_decision == on_page and by_decision
    assert [m for m, _, _ in history_ids(api, "auditor", decision="QĐ 95/QĐ-UBND")] == on_page
    found = csv_rows(client.get(f"/search.csv?{query}").data)
    assert [row["Mã bút toán"] for row in found] == on_page
    # A person scoped to 504 downloads nothing of 505, by search or by a line's address.
    scoped = create_app(services=services).test_client()
    assert sign_in(scoped, "binh").status_code == 303
    theirs = sheet_rows(scoped.get(f"/search.xlsx?{query}").data)
    assert theirs and {row["Đơn vị"] for row in theirs} == {"504"}
    assert {row["Đơn vị"] for row in csv_rows(scoped.get(f"/search.csv?{query}").data)} == {"504"}
    everything = sheet_rows(scoped.get("/search.xlsx?recorded_from=2000-01-01T00:00").data)
    assert everything and {row["Đơn vị"] for row in everything} == {"504"}
    for path in (line + ".xlsx", line + ".csv"):
        refused = scoped.get(path)
        assert refused.status_code == 403 and b"scope" in refused.data, path


def test_the_curve_s_download_is_its_table(site: Site) -> None:
    client = signed_in(site, "auditor")
    page = client.get("/over-time?holder=49&year=2025").data.decode()
    assert 'href="/over-time.xlsx?holder=49&amp;year=2025"' in page
    rows = sheet_rows(client.get("/over-time.xlsx?holder=49&year=2025").data)
    assert [row["Tháng"] for row in rows] == list(range(1, 13))
    total = next(
        row for row in site.browser().get(
            "/reports/progress",
            query_string={"holder": "49", "as_of": "2024-06-30"},
            headers={"Authorization": f"Bearer {site.tokens['auditor-token']}"},
        ).get_json()["rows"] if row["code"] is None
    )
    june = rows[5]
    assert june["Kế hoạch 2024 (đồng)"] == total["plan_vnd"]
    assert june["Lũy kế giải ngân 2024 (đồng)"] == total["disbursed_vnd"]
    assert june["% 2024"] == pytest.approx(total["disbursed_vnd"] / total["plan_vnd"])
    in_csv = csv_rows(client.get("/over-time.csv?holder=49&year=2025").data)
    assert int(in_csv[5]["Lũy kế giải ngân 2024 (đồng)"]) == total["disbursed_vnd"]
    # lan is a clerk of 505: their own curve downloads, a neighbour's is refused.
    scoped = signed_in(site, "lan")
    assert scoped.get("/over-time.csv?year=2025").status_code == 200
    for path in ("/over-time.xlsx?holder=504&year=2025", "/over-time.csv?holder=49"):
        assert scoped.get(path).status_code == 403, path


def test_the_curve_month_by_month_this_year_beside_last_year(site: Site) -> None:
    client = signed_in(site, "auditor")
    page = client.get("/over-time?holder=49&year=2025")
    assert page.status_code == 200
    text = page.data.decode()
    assert text.count('<polyline points="') == 2
    # The row of June 2024 (last year's column) holds the progress report's total at 30/6.
    total = next(
        row for row in site.browser().get(
            "/reports/progress",
            query_string={"holder": "49", "as_of": "2024-06-30"},
            headers={"Authorization": f"Bearer {site.tokens['auditor-token']}"},
        ).get_json()["rows"] if row["code"] is None
    )
    june = re.search(r'<th scope="row">6</th>(.*?)</tr>', text, re.S)
    assert june and grouped_number(total["disbursed_vnd"], 0, "vi") in june.group(1)
    by_program = client.get("/over-time?holder=49&year=2024&program=GNBV")
    assert by_program.status_code == 200
    for query in ("year=twenty", "holder=NOWHERE", "program=???"):
        bad = client.get(f"/over-time?{query}")
        assert bad.status_code == 422 and b"Traceback" not in bad.data, query
    scoped = signed_in(site, "lan")
    assert scoped.get("/over-time?holder=504&year=2024").status_code == 403


REALLOCATION = {"program": "GNBV", "kind": "DTPT", "source": "NSTW", "year": "2024",
                "from_holder": "505", "to_holder": "504", "amount_vnd": "10.000.000.000",
                "decision": "QĐ 7/QĐ-UBND", "effective_date": "2024-02-01"}  # fmt: skip


def test_a_reallocation_is_previewed_then_recorded_once(
    api: Api, services: Services  # noqa: F811
) -> None:
    worked_example(api)
    people = PeopleStore(services.store)
    people.add("approver-person", "approver", "49", PASSWORD)
    people.add("clerk-person", "clerk", "505", PASSWORD)
    client = api.client
    assert sign_in(client, "approver-person").status_code == 303
    head = services.ledger.head_position()
    first = client.get("/reallocate", query_string={**REALLOCATION, "preview": "1"})
    # The preview's address gains the movement id it will record under, so that reloading
    # it, sending it, or confirming again after Back records nothing twice.
    assert first.status_code == 303 and "movement_id=web-" in first.headers["Location"]
    preview = client.get(first.headers["Location"])
    assert preview.status_code == 200, preview.data
    text = preview.data.decode()
    # Both lines, before and after, on the effective date and every later date they moved.
    row = (
        r"<tr><td>GNBV / DTPT / NSTW / 2024 / (50[45])</td>\s*<td>([\d/]+)</td>"
        r'<td class="num">([\d.]+)</td><td class="num">([\d.]+)</td>'
    )
    rows = re.findall(row, text)
    assert ("505", "01/02/2024", "150.000.000.000", "140.000.000.000") in rows
    assert ("504", "01/02/2024", "100.000.000.000", "110.000.000.000") in rows
    assert any(row[0] == "505" and row[1] == "01/03/2024" for row in rows)  # w5's payment
    assert services.ledger.head_position() == head  # a preview records nothing
    chosen = re.search(r'name="movement_id" value="([^"]+)"', text)
    assert chosen
    movement_id = chosen.group(1)
    form = {**REALLOCATION, "movement_id": movement_id, "csrf_token": csrf_of(preview.data)}
    assert client.post("/reallocate", data={**form, "csrf_token": "wrong"}).status_code == 403
    assert services.ledger.head_position() == head
    done = client.post("/reallocate", data=form)
    assert done.status_code == 303 and done.headers["Location"] == f"/movements/{movement_id}"
    assert services.ledger.get_movement(movement_id).actor == "approver-person"
    again = client.post("/reallocate", data=form)  # a second click records nothing twice
    assert again.status_code == 303
    assert services.ledger.head_position() > head
    after = services.ledger.head_position()
    # An overdraw is refused in the preview, with the ledger's own words, nothing recorded.
    too_much = {**REALLOCATION, "amount_vnd": "500.000.000.000", "preview": "1"}
    refused = client.get("/reallocate", query_string=too_much, follow_redirects=True)
    assert refused.status_code == 409 and b"negative" in refused.data
    assert services.ledger.head_position() == after
    # A clerk may not reallocate, by the page or by the form posted.
    clerk = create_app(services=services).test_client()
    assert sign_in(clerk, "clerk-person").status_code == 303
    assert clerk.get("/reallocate").status_code == 403
    csrf = csrf_of(clerk.get("/disburse").data)
    assert clerk.post("/reallocate", data={**form, "csrf_token": csrf}).status_code == 403


def test_a_clerk_previews_and_records_a_disbursement(
    api: Api, services: Services  # noqa: F811
) -> None:
    worked_example(api)
    PeopleStore(services.store).add("clerk-person", "clerk", "505", PASSWORD)
    client = api.client
    assert sign_in(client, "clerk-person").status_code == 303
    payment = {"program": "GNBV", "kind": "DTPT", "source": "NSTW", "year": "2024",
               "holder": "505", "amount_vnd": "1000000", "voucher": "KB 77",
               "effective_date": "2024-07-01"}  # fmt: skip
    preview = client.get(
        "/disburse", query_string={**payment, "preview": "1"}, follow_redirects=True
    )
    assert preview.status_code == 200, preview.data
    movement_id = re.search(rb'name="movement_id" value="([^"]+)"', preview.data)
    assert movement_id
    form = {**payment, "movement_id": movement_id.group(1).decode(),
            "csrf_token": csrf_of(preview.data)}  # fmt: skip
    assert client.post("/disburse", data=form).status_code == 303
    outside = client.get("/disburse", query_string={**payment, "holder": "504", "preview": "1"},
                         follow_redirects=True)  # fmt: skip
    assert outside.status_code == 403
    bad = client.get("/disburse", query_string={**payment, "amount_vnd": "1,5", "preview": "1"},
                     follow_redirects=True)  # fmt: skip
    assert bad.status_code == 422 and b"Traceback" not in bad.data


def test_far_dates_and_reorganised_holders_are_answered_not_crashed(site: Site) -> None:
    client = signed_in(site, "auditor")
    for path in ("/?holder=48&as_of=9999-12-31", "/progress.csv?as_of=9999-12-31",
                 "/?known_at=9999-12-31T00:00"):  # fmt: skip
        answer = client.get(path)
        assert answer.status_code == 422, (path, answer.status_code)
        assert b"Traceback" not in answer.data
    # Đà Nẵng (48) exists from 1/7/2025: its curve starts there, and last year's is empty.
    for path in ("/over-time?holder=48&year=2025", "/over-time?holder=48&year=2026",
                 "/over-time?holder=48&program=MTQG2635&year=2026"):  # fmt: skip
        assert client.get(path).status_code == 200, path


def test_signing_out_after_the_session_ended_is_not_an_error(site: Site) -> None:
    client = signed_in(site, "auditor")
    page = client.get(f"/?as_of={AS_OF}")
    PeopleStore(site.services.store).disable("auditor")
    out = client.post("/logout", data={"csrf_token": csrf_of(page.data)})
    assert out.status_code == 303 and "next=" not in out.headers["Location"]
