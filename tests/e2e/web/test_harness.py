"""The page fixture's error catching catches: what it collects fails a test at teardown."""

from __future__ import annotations

from playwright.sync_api import Browser

from tests.e2e.web.conftest import collect_errors


def test_console_errors_and_uncaught_errors_are_collected(browser: Browser) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        errors = collect_errors(page)
        page.set_content("<p>quiet</p><script>console.log('fine'); console.warn('fine')</script>")
        assert errors == []
        page.set_content("<script>console.error('boom')</script>")
        page.set_content("<script>throw new Error('unhandled')</script>")
        assert [error.split(":")[0] for error in errors] == ["console error", "page error"]
        assert "boom" in errors[0] and "unhandled" in errors[1]
    finally:
        context.close()
