"""The composition root (api/services.py): one ``bootstrap`` makes the ledger and what lives
beside it in its database, for the API, the CLI and the tests alike."""

from __future__ import annotations

import os

import pytest

from api.services import Services, bootstrap
from ledger.domain.errors import NoLedger
from tests.story import worked_example


def test_bootstrap_refuses_a_file_that_holds_no_ledger_unless_asked_to_create(
    tmp_path: os.PathLike[str],
) -> None:
    missing = os.path.join(tmp_path, "typo.sqlite3")
    with pytest.raises(NoLedger):
        bootstrap(missing)
    assert not os.path.exists(missing)
    bootstrap(missing, create=True).close()
    bootstrap(missing).close()


def test_the_read_models_tokens_and_log_share_the_services_one_store(services: Services) -> None:
    worked_example(services.ledger)
    store = services.store
    assert services.projections().store is store
    assert services.tokens().store is store
    assert services.current_projections().state().position == services.ledger.head_position()
    assert services.store is store, "made once, on first use"
