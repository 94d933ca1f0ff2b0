"""The browser-test harness, proven on the API's own Swagger page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from playwright.sync_api import Page, expect

from cli import main
from tests.e2e.web.conftest import ServedApp

FAVICON_401 = (
    "the API answers the browser's own /favicon.ico request with 401 (not an open path); "
    "the web face is to serve one"
)


def init(database: str) -> None:
    result = CliRunner().invoke(main, ["init", "--database", database])
    assert result.exit_code == 0, result.output


@pytest.mark.allow_console_errors(FAVICON_401)
def test_the_docs_page_opens_in_a_browser(
    served_app: Callable[[Callable[[str], object]], ServedApp],
    page: Page,
    shot: Callable[[Page, str], Path],
) -> None:
    app = served_app(init)
    page.goto(f"{app.url}/docs")
    expect(page).to_have_title("Budget Ledger")
    # Swagger UI ran: it drew into its container.
    expect(page.locator("#swagger-ui-container")).not_to_be_empty()
    assert shot(page, "docs").stat().st_size > 0


@pytest.mark.allow_console_errors(FAVICON_401)
def test_the_docs_page_renders_the_api_document(
    served_app: Callable[[Callable[[str], object]], ServedApp],
    page: Page,
    shot: Callable[[Page, str], Path],
) -> None:
    app = served_app(init)
    page.goto(f"{app.url}/docs")
    try:
        expect(page.locator("#swagger-ui-container .info .title")).to_contain_text("Budget Ledger")
        # Every operation is listed, and Swagger UI found nothing in the document to refuse.
        expect(page.locator(".opblock-summary-path", has_text="/reallocations")).to_be_visible()
        expect(page.locator(".errors-wrapper")).to_have_count(0)
    finally:
        shot(page, "rendered")
