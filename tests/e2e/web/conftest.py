"""Fixtures for browser tests: the real server, the system Chromium, a page that fails the
test on any console or page error, and full-page screenshots kept per run.

    def test_something(served_app, page, shot):
        app = served_app(lambda database: run_cli("init", "--database", database))
        page.goto(f"{app.url}/docs")
        expect(page).to_have_title("Budget Ledger")
        shot(page, "docs")
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.test_server import served

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

CHROMIUM = "/usr/bin/chromium"
# Headless, and nothing that reaches out to the internet on its own.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS_ENVVAR = "BUDGET_LEDGER_SCREENSHOTS"
REPO_ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS_KEY = pytest.StashKey[Path]()


@dataclass(frozen=True)
class ServedApp:
    url: str  # base URL, no trailing slash
    database: str
    store: str  # "sqlite" or "postgres"


def _store(request: pytest.FixtureRequest) -> str:
    callspec = getattr(request.node, "callspec", None)
    return str(callspec.params.get("database", "nostore")) if callspec else "nostore"


@pytest.fixture
def served_app(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[[Callable[[str], Any]], ServedApp]]:
    """``served_app(prepare)``: runs ``prepare(database)`` to build the ledger, then starts
    ``budget-ledger serve`` on it (1 worker, 2 threads); stopped when the test ends."""
    with ExitStack() as stack:
        started: list[ServedApp] = []

        def start(prepare: Callable[[str], Any]) -> ServedApp:
            prepare(database)
            log = tmp_path / f"server-{len(started)}.log"
            base, _ = stack.enter_context(served(database, log, 1, ("--threads", "2")))
            started.append(ServedApp(url=base, database=database, store=_store(request)))
            return started[-1]

        yield start


def _chromium_missing() -> str | None:
    if not os.path.exists(CHROMIUM) and not shutil.which("chromium"):
        return "no chromium: install Debian's chromium (scripts/test does, as root)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "no playwright: pip install -e '.[test]'"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """The system Chromium, headless, for the whole run."""
    missing = _chromium_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{missing}: CI must run the browser tests")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    executable = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def collect_errors(page: Page) -> list[str]:
    """The console errors and uncaught page errors ``page`` reports from now on, as lines."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"console error: {message.text} ({message.location['url']})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    return errors


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh context (vi-VN, 1366x900) and page; any console error or uncaught page error
    fails the test, unless it is marked ``allow_console_errors(reason)``."""
    allowed = request.node.get_closest_marker("allow_console_errors")
    if allowed is not None and not (allowed.args or allowed.kwargs.get("reason")):
        pytest.fail("allow_console_errors needs a reason")
    context = browser.new_context(locale="vi-VN", viewport={"width": 1366, "height": 900})
    opened = context.new_page()
    errors = collect_errors(opened)
    yield opened
    context.close()
    if errors and allowed is None:
        pytest.fail("the browser reported errors:\n" + "\n".join(errors))


def _screenshots(config: pytest.Config) -> Path:
    if SCREENSHOTS_KEY not in config.stash:
        chosen = os.environ.get(SCREENSHOTS_ENVVAR)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        config.stash[SCREENSHOTS_KEY] = (
            Path(chosen) if chosen else REPO_ROOT / "test-screenshots" / stamp
        )
    return config.stash[SCREENSHOTS_KEY]


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """``shot(page, name)``: a full-page PNG ``<test>-<store>-<name>.png`` in this run's
    screenshot folder; returns its path."""

    def take(page: Page, name: str) -> Path:
        folder = _screenshots(request.config)
        folder.mkdir(parents=True, exist_ok=True)
        test = getattr(request.node, "originalname", request.node.name)
        path = folder / f"{test}-{_store(request)}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if SCREENSHOTS_KEY in config.stash:
        terminalreporter.write_line(f"browser screenshots: {config.stash[SCREENSHOTS_KEY]}")
