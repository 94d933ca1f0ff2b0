"""Fixtures of the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from api.services import Services, bootstrap
from cli import main


@pytest.fixture
def demo(database: str) -> Iterator[Services]:
    """The demo's books (2024, the 2025 reorganisation, 2026), read models up to date."""
    result = CliRunner().invoke(main, ["demo", "--database", database, "--quiet"])
    assert result.exit_code == 0, result.output
    made = bootstrap(database)
    made.projections().catch_up()
    yield made
    made.close()
