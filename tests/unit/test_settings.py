"""Pool sizes and timeouts have one home, ledger/storage/settings.py: the stores are configured
from it."""

from __future__ import annotations

from ledger.storage import settings
from ledger.storage.config import persistence_environment
from ledger.storage.sql import ViewStore


def test_the_ledger_pool_and_lock_waits_come_from_the_settings() -> None:
    postgres = persistence_environment("postgresql://clerk@db.example/ledger")
    assert postgres["POSTGRES_POOL_SIZE"] == str(settings.LEDGER_POOL_SIZE)
    assert postgres["POSTGRES_MAX_OVERFLOW"] == str(settings.LEDGER_POOL_OVERFLOW)
    assert postgres["POSTGRES_LOCK_TIMEOUT"] == str(settings.LOCK_WAIT_S)
    assert postgres["POSTGRES_CONNECT_TIMEOUT"] == str(settings.CONNECTION_WAIT_S)


def test_every_server_thread_can_hold_a_connection_of_each_pool() -> None:
    ledger_connections = settings.LEDGER_POOL_SIZE + settings.LEDGER_POOL_OVERFLOW
    assert settings.THREADS_PER_WORKER <= ledger_connections
    # One read-model connection per thread, and two for the follower (LISTEN, catch up).
    assert settings.READ_MODEL_CONNECTIONS_MAX == settings.THREADS_PER_WORKER + 2
    assert ViewStore.__init__.__kwdefaults__ == {
        "connections_max": settings.READ_MODEL_CONNECTIONS_MAX,
        "wait_s": settings.CONNECTION_WAIT_S,
    }


def test_a_replica_is_given_up_on_sooner_than_the_primary() -> None:
    # A read waits less for a replica than for the primary, which answers it instead.
    assert settings.REPLICA_CONNECTION_WAIT_S < settings.CONNECTION_WAIT_S
    assert settings.MIN_POSITION_POLL_S < settings.MIN_POSITION_WAIT_S
    assert settings.REPLICA_CHECK_S < settings.MAX_LAG_S
