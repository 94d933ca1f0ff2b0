"""How many connections the ledger holds and how long it waits: every pool size, timeout and
retry wait, in one place (as ledger/domain/limits.py holds every bound), with the relations between
them asserted. The modules that open connections read them from here; none writes its own."""

from __future__ import annotations

# -- Waiting for a lock -----------------------------------------------------------------------

# A writer waits this long for SQLite's write lock held by another process, or for the
# exclusive lock on PostgreSQL's events table that keeps ids in commit order; never forever.
# A read model's SQLite connection and the backup's reader wait as long.
LOCK_WAIT_S = 10
# How long an import's transaction may wait on its own client (see postgres.py lock_in):
# PostgreSQL's idle-in-transaction timeout is raised to this for that transaction only.
IMPORT_IDLE_S = 60

# -- Waiting for the database (see availability.py) ------------------------------------------

# How long a caller waits for a pooled connection before the request fails: long enough to
# ride out a restart (the server is back within a second or two), short enough that a client
# hears 503 well before its own timeout while the database is down.
CONNECTION_WAIT_S = 5
# While a pool is known to have found the database down (its last wait ended without a
# connection, less than RETRY_AFTER_S ago), callers wait only this long: each request still
# checks, so the server answers again as soon as the database does, but requests arriving
# during an outage are answered 503 at once instead of each holding a server thread for
# CONNECTION_WAIT_S (which queued the requests behind them for ever longer).
DOWN_WAIT_S = 0.5
# libpq's own bound on one connection attempt (an unreachable host does not refuse at once).
CONNECT_TIMEOUT_S = 5
# A pool whose connections were lost tries to reconnect for this long, then stops until a
# caller asks again: while callers keep asking it tries about once a second, so it answers
# within a second or so of the database's return, however long the database was away. (The
# pool's default, five minutes of exponential backoff, left a server waiting up to minutes
# after the database was back.)
RECONNECT_S = 1.0
# What a 503 tells a client to wait before sending the request again (Retry-After).
RETRY_AFTER_S = 5
# The library's retry of a recorder's call on PostgreSQL: a connection lost under it, a lock
# wait that timed out (ledger/storage/postgres.py ``retried``).
ATTEMPTS = 10
ATTEMPT_WAIT_S = 0.2

# -- Pools -------------------------------------------------------------------------------------

# The ledger's PostgreSQL pool per process (the library's POSTGRES_POOL_SIZE and
# POSTGRES_MAX_OVERFLOW).
LEDGER_POOL_SIZE = 4
LEDGER_POOL_OVERFLOW = 4
# Server threads per worker process. Measured against 4 threads and against 4 workers x 4
# threads on 2 cores (docs/api.md, "Cost of a request"): 4 workers cost more CPU per request;
# 4 threads did not differ from 8 by more than the noise.
THREADS_PER_WORKER = 8
# A process's connections for the read models and tokens at most: one per server thread, and
# two for the follower that keeps them current when replicas serve the reads (one to LISTEN,
# one to catch up; api/services.py ``keep_following``).
READ_MODEL_CONNECTIONS_MAX = THREADS_PER_WORKER + 2

# Every server thread can hold a ledger connection at once.
assert THREADS_PER_WORKER <= LEDGER_POOL_SIZE + LEDGER_POOL_OVERFLOW

# -- Replicas (ledger/storage/replicas.py) -----------------------------------------------------

# How often a server process standing by asks again for the follow lock (api/services.py
# ``keep_following``): the longest the read models go unfollowed after its holder dies.
FOLLOW_RETRY_S = 1.0
# How long a server's follower waits at most before starting again after a fault (not an
# outage): the waits double from FOLLOW_RETRY_S, so a lasting fault logs a few times an hour.
FOLLOW_FAULT_WAIT_S_MAX = 60.0
# A replica further behind the primary than this (seconds, at most: see replicas.py) serves no
# read: the primary does, until the replica catches up (``serve --max-lag``).
MAX_LAG_S = 5.0
# How often a process asks each replica how far behind it is (and one that was down whether
# it is back): the bound a replica's lag is known to is the lag found plus this.
REPLICA_CHECK_S = 1.0
# How long a read that asks for a position (Min-Position) waits for a replica to reach it
# before the primary answers it instead.
MIN_POSITION_WAIT_S = 1.0
# How often that read asks the replica again meanwhile.
MIN_POSITION_POLL_S = 0.005
# How long a request waits for a replica's connection before the primary answers it: a
# replica that does not give one this soon is taken as down.
REPLICA_CONNECTION_WAIT_S = 1.0

assert REPLICA_CHECK_S < MAX_LAG_S, "a replica is checked more often than it may lag"
