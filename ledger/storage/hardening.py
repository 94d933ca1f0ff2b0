"""Insert-only storage on PostgreSQL: a login role for the application that can append to the
event log but can neither update nor delete it.

The insert-only triggers (postgres.py) already refuse UPDATE, DELETE and TRUNCATE on the
log for every role. ``harden`` adds the second wall: the application role holds no UPDATE,
DELETE or TRUNCATE right on the log at all, and appends only through the insert function (which
runs with its owner's rights, takes the lock and writes the hash chain). It keeps full rights
on what is not the log: read models, tokens, snapshots.
"""

from __future__ import annotations

from typing import Any

from psycopg import sql

from ledger.domain.errors import InvalidInput
from ledger.domain.values import check_code
from ledger.storage.chain import CHAIN_TABLE


def harden(connection: Any, recorder: Any, role: str, password: str | None) -> None:
    """Create (or update) ``role`` and give it exactly the rights the application needs.
    ``connection`` is an autocommit psycopg connection of the database's owner."""
    role_name = check_code(role, field="app_role").lower()
    if not role_name.replace("_", "").isalnum():
        raise InvalidInput("use letters, digits and '_' only", field="app_role")
    schema = sql.Identifier(recorder.datastore.schema)
    events = sql.Identifier(recorder.events_table_name)
    chain = sql.Identifier(CHAIN_TABLE)
    ident = sql.Identifier(role_name)
    function = sql.Identifier(f"{recorder.events_table_name}_insert_locked")
    with connection.transaction():
        exists = connection.execute(
            "SELECT 1 FROM pg_roles WHERE rolname = %s", (role_name,)
        ).fetchone()
        if exists is None:
            connection.execute(sql.SQL("CREATE ROLE {} LOGIN").format(ident))
        if password:
            connection.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(ident, sql.Literal(password))
            )
        statements = [
            "GRANT USAGE, CREATE ON SCHEMA {schema} TO {role}",
            # Everything but the log: read models, tokens, snapshots, now and later.
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
            "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
            "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
            # The log: read it, append through the function only.
            "REVOKE ALL ON {schema}.{events}, {schema}.{chain} FROM {role}",
            "GRANT SELECT ON {schema}.{events}, {schema}.{chain} TO {role}",
            "REVOKE ALL ON FUNCTION {schema}.{function} FROM PUBLIC",
            "GRANT EXECUTE ON FUNCTION {schema}.{function} TO {role}",
        ]
        for statement in statements:
            connection.execute(
                sql.SQL(statement).format(
                    schema=schema, role=ident, events=events, chain=chain, function=function
                )
            )
