"""The hash chain that makes the event log tamper-evident.

Every stored event gets, in the transaction that stores it, a SHA-256 digest over a canonical
encoding of its content and the digest of the event before it in the log's order:

    digest(p) = SHA-256( digest(p − 1)                 32 bytes; 32 zero bytes before the first
                         || p                          8 bytes, big-endian (the log position)
                         || aggregate id               16 bytes (the UUID's bytes)
                         || aggregate version          8 bytes, big-endian
                         || len(topic) || topic        4 bytes big-endian, then UTF-8
                         || len(state) || state )      4 bytes big-endian, then the stored bytes

The digests live in table ``ledger_chain`` (position, digest). The writers compute them: the
PostgreSQL insert function in SQL (ledger/storage/postgres.py), the SQLite recorder in Python
(ledger/storage/sqlite.py), both under the lock that orders the log. ``verify`` recomputes the chain
from the stored events; the head digest, kept outside the system, proves later that the log
still holds exactly that prefix. The encoding is versioned by its table: a change would be a
new table, never a silent change of this one.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from uuid import UUID

CHAIN_TABLE = "ledger_chain"
GENESIS = bytes(32)


def link(
    previous: bytes, position: int, aggregate_id: UUID, version: int, topic: str, state: bytes
) -> bytes:
    assert len(previous) == 32
    assert position > 0
    topic_bytes = topic.encode("utf-8")
    return hashlib.sha256(
        b"".join(
            (
                previous,
                struct.pack(">q", position),
                aggregate_id.bytes,
                struct.pack(">q", version),
                struct.pack(">I", len(topic_bytes)),
                topic_bytes,
                struct.pack(">I", len(state)),
                state,
            )
        )
    ).digest()


@dataclass(frozen=True)
class StoredRow:
    position: int
    aggregate_id: UUID
    version: int
    topic: str
    state: bytes


@dataclass(frozen=True)
class Finding:
    """The first place the log and its chain disagree."""

    position: int
    what: str  # "altered", "removed", "inserted"
    detail: str


@dataclass
class Verified:
    count: int = 0
    head_position: int = 0
    head_digest: bytes = GENESIS
    finding: Finding | None = None
    # Recomputed digests at the positions asked about (verify --against).
    digests_at: dict[int, bytes] | None = None


def verify(
    events: Iterable[StoredRow],
    chain: Iterable[tuple[int, bytes]],
    *,
    positions: Iterable[int] = (),
) -> Verified:
    """Walk the events and the stored chain together, in position order, recomputing each
    digest; stop at the first disagreement."""
    wanted = set(positions)
    result = Verified(digests_at={})
    assert result.digests_at is not None
    previous = GENESIS
    for event, stored in _merge(events, chain):
        if event is None:
            assert stored is not None
            result.finding = Finding(
                stored[0], "removed", "the chain records an event here but the log has none"
            )
            return result
        if stored is None:
            result.finding = Finding(
                event.position, "inserted", "the log has an event here that was never chained"
            )
            return result
        digest = link(
            previous, event.position, event.aggregate_id, event.version, event.topic, event.state
        )
        if digest != stored[1]:
            result.finding = Finding(
                event.position,
                "altered",
                "the event (or its chain entry) is not what was recorded here: its content, "
                "its position or an earlier event was changed",
            )
            return result
        if event.position in wanted:
            result.digests_at[event.position] = digest
        previous = digest
        result.count += 1
        result.head_position, result.head_digest = event.position, digest
    return result


def _merge(
    events: Iterable[StoredRow], chain: Iterable[tuple[int, bytes]]
) -> Iterator[tuple[StoredRow | None, tuple[int, bytes] | None]]:
    """Pair events and chain rows by position; a position present on one side only comes
    paired with None."""
    event_iterator, chain_iterator = iter(events), iter(chain)
    event, stored = next(event_iterator, None), next(chain_iterator, None)
    while event is not None or stored is not None:
        if stored is None or (event is not None and event.position < stored[0]):
            yield event, None
            event = next(event_iterator, None)
        elif event is None or stored[0] < event.position:
            yield None, stored
            stored = next(chain_iterator, None)
        else:
            yield event, stored
            event, stored = next(event_iterator, None), next(chain_iterator, None)
