"""The PostgreSQL event recorder: the library's, with each write sent as one statement.

eventsourcing 9.5's ``PostgresApplicationRecorder`` writes a movement as BEGIN, SET LOCAL
lock_timeout, LOCK TABLE ... IN EXCLUSIVE MODE, NOTIFY, INSERT, COMMIT: several round trips
for one movement. Its optional database function (POSTGRES_ENABLE_DB_FUNCTIONS) sends one
statement but does not take the table lock, so ids could then commit out of order and a
reader tailing the log could skip an event (see docs/decisions.md).

This recorder installs its own function that does what the default path does, lock
included, and calls it as a single autocommit statement: one round trip and one commit per
movement, with commit order still equal to id order. It reads an aggregate's events (every
command's fast-forward) with the library's query, rendered once per shape. Everything else
(tables, notifications, subscriptions) is the library's.

``LedgerPostgresFactory`` is the library's factory with its pool set to outlive the
database's restarts (see ledger/storage/availability.py).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar, cast

from eventsourcing.persistence import (
    InterfaceError,
    Notification,
    OperationalError,
    StoredEvent,
)
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresFactory,
)
from eventsourcing.utils import Environment, EnvType
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composed, Identifier
from psycopg_pool import PoolTimeout

from ledger.storage.chain import CHAIN_TABLE
from ledger.storage.settings import (
    ATTEMPT_WAIT_S,
    ATTEMPTS,
    CONNECT_TIMEOUT_S,
    IMPORT_IDLE_S,
    RECONNECT_S,
)
from ledger.storage.sql import check_idle_connection

F = TypeVar("F", bound=Callable[..., Any])


def retried(func: F) -> F:
    """The library's retry (ATTEMPTS, ATTEMPT_WAIT_S apart) but for one failure: when the pool
    could not hand out a connection within its wait, the database does not answer, and the
    call fails at once. The library would wait again nine times, holding a request for
    most of a minute while the database is down; failing, it answers 503 within one wait."""

    @functools.wraps(func)
    def call(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return func(*args, **kwargs)
            except (InterfaceError, OperationalError) as error:
                if isinstance(error.__cause__, PoolTimeout) or attempt == ATTEMPTS:
                    raise
                time.sleep(ATTEMPT_WAIT_S)
        raise AssertionError("unreachable")

    return cast(F, call)


def unretried(method: F) -> F:
    """A library recorder's method without the library's own retry decorator."""
    return cast(F, inspect.unwrap(method))


class LedgerApplicationRecorder(PostgresApplicationRecorder):
    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        function = Identifier(f"{events_table_name}_insert_locked")
        schema = Identifier(datastore.schema)
        chain = Identifier(CHAIN_TABLE)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{chain} "
                "(position bigint PRIMARY KEY, digest bytea NOT NULL)"
            ).format(schema=schema, chain=chain)
        )
        # The hash chain (chain.py) is computed here, under the table lock that orders
        # the log, in the statement that inserts the events: both commit or neither does.
        self.sql_create_statements.append(
            SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{function}("
                "  originator_ids {id_type}[], originator_versions bigint[], topics text[], "
                "  states bytea[]) "
                "RETURNS SETOF bigint LANGUAGE plpgsql "
                # It runs with its owner's rights, so a hardened application role (see
                # hardening.py) may call it without holding the rights LOCK TABLE needs.
                "SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $BODY$ "
                "DECLARE previous bytea; topic_bytes bytea; r record; "
                "BEGIN "
                "  SET LOCAL lock_timeout = '{lock_timeout}s'; "
                "  LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
                "  NOTIFY {channel}; "
                "  SELECT c.digest INTO previous FROM {schema}.{chain} c "
                "    ORDER BY c.position DESC LIMIT 1; "
                "  previous := coalesce(previous, decode(repeat('00', 32), 'hex')); "
                "  FOR r IN WITH inserted AS ("
                "    INSERT INTO {schema}.{table} "
                "      (originator_id, originator_version, topic, state) "
                "    SELECT * FROM unnest(originator_ids, originator_versions, topics, states) "
                "    RETURNING notification_id, originator_id, originator_version, topic, state) "
                "    SELECT * FROM inserted ORDER BY notification_id "
                "  LOOP "
                "    topic_bytes := convert_to(r.topic, 'UTF8'); "
                "    previous := sha256(previous || int8send(r.notification_id) "
                "      || uuid_send(r.originator_id) || int8send(r.originator_version::bigint) "
                "      || int4send(length(topic_bytes)) || topic_bytes "
                "      || int4send(length(r.state)) || r.state); "
                "    INSERT INTO {schema}.{chain} (position, digest) "
                "      VALUES (r.notification_id, previous); "
                "    RETURN NEXT r.notification_id; "
                "  END LOOP; "
                "END; $BODY$"
            ).format(
                schema=schema,
                function=function,
                chain=chain,
                id_type=Identifier(datastore.originator_id_type),
                lock_timeout=datastore.lock_timeout,
                table=Identifier(self.events_table_name),
                channel=Identifier(self.channel_name),
            )
        )
        # The log is insert-only for everyone: a trigger refuses UPDATE, DELETE and TRUNCATE
        # on the events and on the chain, whoever the role (a superuser must deliberately
        # disable triggers to get past it, and verify then finds what was changed).
        refuse = Identifier(f"{events_table_name}_refuse_change")
        self.sql_create_statements.append(
            SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{refuse}() RETURNS trigger "
                "LANGUAGE plpgsql AS $BODY$ BEGIN "
                "  RAISE EXCEPTION 'the event log is insert-only: % on % is refused', "
                "    TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege'; "
                "END; $BODY$"
            ).format(schema=schema, refuse=refuse)
        )
        for table in (self.events_table_name, CHAIN_TABLE):
            for level, operations in (("ROW", "UPDATE OR DELETE"), ("STATEMENT", "TRUNCATE")):
                self.sql_create_statements.append(
                    SQL(
                        "CREATE OR REPLACE TRIGGER {trigger} BEFORE {operations} "
                        "ON {schema}.{table} FOR EACH {level} EXECUTE FUNCTION {schema}.{refuse}()"
                    ).format(
                        trigger=Identifier(f"{table}_insert_only_{level.lower()}"),
                        operations=SQL(operations),
                        schema=schema,
                        table=Identifier(table),
                        level=SQL(level),
                        refuse=refuse,
                    )
                )
        # The events go as four array literals (see array_literals), the statement as bytes
        # rendered once (on first use, with a connection).
        self.sql_insert_locked = SQL("SELECT * FROM {schema}.{function}(%s, %s, %s, %s)").format(
            schema=schema, function=function
        )
        self.sql_insert_locked_bytes: bytes | None = None
        self.sql_lock = SQL(
            "SELECT * FROM {schema}.{function}('{{}}', '{{}}', '{{}}', '{{}}')"
        ).format(schema=schema, function=function)
        # select_events's statements, as bytes, by (gt, lte, desc, limit) given or not.
        self.sql_select_bytes: dict[tuple[bool, bool, bool, bool], bytes] = {}
        self.sql_from_snapshot_bytes: bytes | None = None

    @retried
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int]:
        if not stored_events:
            return []
        # One statement in autocommit mode is its own transaction: the lock taken inside
        # the function is held until it commits. A duplicate (originator_id, version) is an
        # IntegrityError (the datastore maps psycopg's errors), and nothing is written.
        with (
            self.datastore.get_connection() as connection,
            connection.cursor(row_factory=tuple_row) as cursor,
        ):
            cursor.execute(
                self._insert_statement(connection), array_literals(stored_events), prepare=True
            )
            return [row[0] for row in cursor.fetchall()]

    @retried
    def select_events(
        self,
        originator_id: Any,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        """The library's query, which reads a line on every command (its fast-forward, usually
        no row). The library composes the statement and renders it on every call, and reads
        rows as dicts (psycopg builds a column description per statement for them); both cost
        more Python than the query. Here each shape is rendered once and rows are tuples."""
        shape = (gt is not None, lte is not None, desc, limit is not None)
        parameters = [originator_id, *(value for value in (gt, lte, limit) if value is not None)]
        with (
            self.datastore.get_connection() as connection,
            connection.cursor(row_factory=tuple_row) as cursor,
        ):
            cursor.execute(self._select_statement(connection, shape), parameters, prepare=True)
            return [
                StoredEvent(
                    originator_id=row[0],
                    originator_version=row[1],
                    topic=row[2],
                    state=bytes(row[3]),
                )
                for row in cursor.fetchall()
            ]

    @retried
    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        select = unretried(PostgresApplicationRecorder.select_notifications)
        found: Sequence[Notification] = select(
            self, start, limit, stop, topics, inclusive_of_start=inclusive_of_start
        )
        return found

    @retried
    def max_notification_id(self) -> int | None:
        found: int | None = unretried(PostgresApplicationRecorder.max_notification_id)(self)
        return found

    @retried
    def select_from_snapshot(self, originator_id: Any, snapshots: Any) -> list[StoredEvent]:
        """An aggregate's latest snapshot (from ``snapshots``, the snapshot store's recorder),
        if any, then its events after it, in version order: what the library reads in two
        queries (see ledger/storage/repository.py), in one, from one state of the store."""
        with (
            self.datastore.get_connection() as connection,
            connection.cursor(row_factory=tuple_row) as cursor,
        ):
            cursor.execute(
                self._from_snapshot_statement(connection, snapshots),
                (originator_id, originator_id),
                prepare=True,
            )
            return [
                StoredEvent(
                    originator_id=originator_id,
                    originator_version=row[1],
                    topic=row[2],
                    state=bytes(row[3]),
                )
                for row in cursor.fetchall()
            ]

    def lock_in(self, cursor: Any) -> None:
        """Take the log's write lock for the rest of the caller's transaction (an import),
        through the insert function, which appends nothing when given nothing.

        An import reads its file between statements while it holds the lock, so the
        session's idle-in-transaction timeout (5 s by default, which keeps a stuck client
        from blocking every writer) is raised to IMPORT_IDLE_S for this transaction
        only: a slow chunk on a loaded machine must not kill a long import, and a client
        that died still lets go of the lock within a minute."""
        cursor.execute(f"SET LOCAL idle_in_transaction_session_timeout = '{IMPORT_IDLE_S}s'")
        cursor.execute(self.sql_lock)

    def insert_in(self, cursor: Any, stored_events: Sequence[StoredEvent]) -> None:
        """Append inside the caller's transaction (an import: many batches, one commit)."""
        assert stored_events
        cursor.execute(
            self._insert_statement(cursor.connection), array_literals(stored_events), prepare=True
        )

    @contextlib.contextmanager
    def appending(self, cursor: Any) -> Iterator[Callable[[Sequence[StoredEvent]], None]]:
        """``append(stored_events)`` for the caller's transaction (an import: many batches,
        one commit), each batch sent while the caller goes on planning the next: the
        server's work on a batch (the insert, the chain's digests), a fifth of an import's
        time, overlaps the Python that plans and encodes the next one. One batch at a time,
        in order, on a writer thread that alone uses the transaction's connection until the
        block ends; a batch's error is raised by the next ``append`` or at the end, and the
        block waits for the batch in flight before the transaction ends either way."""
        pending: Future[None] | None = None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-append") as writer:

            def append(stored_events: Sequence[StoredEvent]) -> None:
                nonlocal pending
                if pending is not None:
                    pending.result()
                pending = writer.submit(self.insert_in, cursor, stored_events)

            try:
                yield append
            except BaseException:
                if pending is not None:
                    wait([pending])  # the transaction rolls back: its error is moot
                raise
            if pending is not None:
                pending.result()

    def _select_statement(self, connection: Any, shape: tuple[bool, bool, bool, bool]) -> bytes:
        statement = self.sql_select_bytes.get(shape)
        if statement is None:
            gt, lte, desc, limit = shape
            composed: Composed = SQL(
                "SELECT originator_id, originator_version, topic, state FROM {schema}.{table} "
                "WHERE originator_id = %s"
            ).format(
                schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name)
            )
            clauses = [
                " AND originator_version > %s" if gt else "",
                " AND originator_version <= %s" if lte else "",
                " ORDER BY originator_version " + ("DESC" if desc else "ASC"),
                " LIMIT %s" if limit else "",
            ]
            composed += SQL("".join(clauses))
            statement = self.sql_select_bytes[shape] = composed.as_bytes(connection)
        return statement

    def _from_snapshot_statement(self, connection: Any, snapshots: Any) -> bytes:
        if self.sql_from_snapshot_bytes is None:
            self.sql_from_snapshot_bytes = (
                SQL(
                    "WITH s AS (SELECT originator_version, topic, state FROM {schema}.{snapshots} "
                    "  WHERE originator_id = %s ORDER BY originator_version DESC LIMIT 1) "
                    "SELECT 0, originator_version, topic, state FROM s UNION ALL "
                    "SELECT 1, originator_version, topic, state FROM {schema}.{table} "
                    "  WHERE originator_id = %s "
                    "  AND originator_version > coalesce((SELECT originator_version FROM s), 0) "
                    "ORDER BY 1, 2"
                )
                .format(
                    schema=Identifier(self.datastore.schema),
                    snapshots=Identifier(snapshots.events_table_name),
                    table=Identifier(self.events_table_name),
                )
                .as_bytes(connection)
            )
        return self.sql_from_snapshot_bytes

    def _insert_statement(self, connection: Any) -> bytes:
        if self.sql_insert_locked_bytes is None:
            self.sql_insert_locked_bytes = self.sql_insert_locked.as_bytes(connection)
        return self.sql_insert_locked_bytes


class LedgerSnapshotRecorder(PostgresAggregateRecorder):
    """The library's snapshot recorder, with the log's retry (see ``retried``)."""

    @retried
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        insert = unretried(PostgresAggregateRecorder.insert_events)
        inserted: Sequence[int] | None = insert(self, stored_events, **kwargs)
        return inserted

    @retried
    def select_events(
        self,
        originator_id: Any,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        select = unretried(PostgresAggregateRecorder.select_events)
        found: Sequence[StoredEvent] = select(
            self, originator_id, gt=gt, lte=lte, desc=desc, limit=limit
        )
        return found


class LedgerPostgresFactory(PostgresFactory):
    """The library's factory, its connection pool made to outlive the database's restarts:
    a connection is checked before it is handed out (POSTGRES_PRE_PING, set in
    ledger/storage/config.py; the check is the read models' ``check_idle_connection``, which
    asks the server only when it has said something) and replaced if a restart killed it; a
    lost connection is sought again for RECONNECT_S, then whenever a caller asks (see
    ledger/storage/settings.py); one attempt to connect gives up after CONNECT_TIMEOUT_S.
    Snapshots go through a recorder with the same retry as the log's."""

    aggregate_recorder_class = LedgerSnapshotRecorder

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        pool = self.datastore.pool
        pool.reconnect_timeout = RECONNECT_S
        assert pool._check is not None, "POSTGRES_PRE_PING is set"  # noqa: SLF001
        # The library's pre-ping sent a statement on every checkout: three of a cached
        # disbursement's six round trips (docs/decisions.md §32).
        pool._check = check_idle_connection  # noqa: SLF001 (the pool takes it only when made)
        assert isinstance(pool.kwargs, dict)
        pool.kwargs["connect_timeout"] = CONNECT_TIMEOUT_S


def array_literals(stored_events: Sequence[StoredEvent]) -> tuple[str, str, str, str]:
    """The events' four columns as PostgreSQL array literals, sent as text the function's
    parameters are typed from. psycopg's lists cost more: each new cursor looks up a dumper
    for every list's elements again (about 0.1 ms of a movement's server CPU), and in text
    format it dumps a long list element by element in Python (an import's batches); these
    are built in a few joins. Ids and topics are quoted; a state is bytea's hex form (its
    backslash escaped for the array)."""
    ids = ",".join([_quoted(str(e.originator_id)) for e in stored_events])
    versions = ",".join([str(int(e.originator_version)) for e in stored_events])
    topics = ",".join([_quoted(e.topic) for e in stored_events])
    states = ",".join(["\\\\x" + e.state.hex() for e in stored_events])
    return f"{{{ids}}}", f"{{{versions}}}", f"{{{topics}}}", f"{{{states}}}"


def _quoted(text: str) -> str:
    """An array element in double quotes, its backslashes and quotes escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
