"""An import's transaction on PostgreSQL: it may wait on its own client (reading the next
chunk of the file) longer than an ordinary session may sit idle in a transaction, and only
that transaction gets the longer limit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from ledger.application import BudgetLedger, open_ledger
from ledger.storage.settings import IMPORT_IDLE_S

pytestmark = pytest.mark.postgres


@pytest.fixture
def ledger(postgres_url: str) -> Iterator[BudgetLedger]:
    opened = open_ledger(postgres_url, create=True)
    yield opened
    opened.close()


def idle_limit(cursor: Any) -> str:
    cursor.execute("SHOW idle_in_transaction_session_timeout")
    value: str = cursor.fetchone()["idle_in_transaction_session_timeout"]
    return value


def test_an_import_transaction_survives_a_pause_longer_than_a_session_may_idle(
    ledger: BudgetLedger,
) -> None:
    recorder: Any = ledger.recorder
    with recorder.datastore.transaction(commit=False) as cursor:
        ordinary = idle_limit(cursor)
    assert ordinary == "5s"
    with recorder.datastore.transaction(commit=True) as cursor:
        recorder.lock_in(cursor)
        assert idle_limit(cursor) == f"{IMPORT_IDLE_S // 60}min"
        time.sleep(5.5)  # longer than the ordinary limit: the server would end the session
        assert idle_limit(cursor) == f"{IMPORT_IDLE_S // 60}min"
    with recorder.datastore.transaction(commit=False) as cursor:
        assert idle_limit(cursor) == ordinary
