"""The hash chain's arithmetic: any change to the log is found at its first position."""

from __future__ import annotations

import dataclasses
import uuid

from ledger.storage.chain import GENESIS, StoredRow, link, verify


def log(count: int) -> tuple[list[StoredRow], list[tuple[int, bytes]]]:
    rows = [
        StoredRow(p, uuid.uuid5(uuid.NAMESPACE_DNS, str(p % 3)), p, "budget_ledger:X", b"{%d}" % p)
        for p in range(1, count + 1)
    ]
    chain, previous = [], GENESIS
    for row in rows:
        previous = link(previous, row.position, row.aggregate_id, row.version, row.topic, row.state)
        chain.append((row.position, previous))
    return rows, chain


def test_an_untouched_log_verifies_with_its_head() -> None:
    rows, chain = log(10)
    result = verify(rows, chain, positions=[4])
    assert (result.finding, result.count, result.head_position) == (None, 10, 10)
    assert result.head_digest == chain[-1][1]
    assert result.digests_at == {4: chain[3][1]}


def test_every_field_of_an_event_is_covered() -> None:
    rows, chain = log(5)
    for change in (
        {"state": b"{99}"},
        {"topic": "budget_ledger:Y"},
        {"version": 7},
        {"aggregate_id": uuid.uuid4()},
    ):
        altered = list(rows)
        altered[2] = dataclasses.replace(rows[2], **change)  # type: ignore[arg-type]
        finding = verify(altered, chain).finding
        assert finding is not None and (finding.position, finding.what) == (3, "altered"), change


def test_a_removed_event_is_found_where_it_was() -> None:
    rows, chain = log(5)
    finding = verify(rows[:2] + rows[3:], chain).finding
    assert finding is not None and (finding.position, finding.what) == (3, "removed")
    finding = verify(rows[:4], chain).finding  # the last one
    assert finding is not None and (finding.position, finding.what) == (5, "removed")


def test_an_event_slipped_in_is_found() -> None:
    rows, chain = log(5)
    extra = StoredRow(6, uuid.uuid4(), 1, "budget_ledger:X", b"{}")
    finding = verify([*rows, extra], chain).finding
    assert finding is not None and (finding.position, finding.what) == (6, "inserted")


def test_reordered_events_are_found_at_the_first_moved() -> None:
    rows, chain = log(6)
    swapped = list(rows)
    swapped[1] = dataclasses.replace(rows[4], position=2)
    swapped[4] = dataclasses.replace(rows[1], position=5)
    finding = verify(swapped, chain).finding
    assert finding is not None and (finding.position, finding.what) == (2, "altered")


def test_a_rewritten_chain_does_not_match_a_digest_kept_outside() -> None:
    rows, chain = log(6)
    kept = chain[-1]
    altered = list(rows)
    altered[0] = dataclasses.replace(rows[0], state=b"{changed}")
    # Whoever altered the event recomputed the whole chain to hide it:
    forged, previous = [], GENESIS
    for row in altered:
        previous = link(previous, row.position, row.aggregate_id, row.version, row.topic, row.state)
        forged.append((row.position, previous))
    result = verify(altered, forged, positions=[kept[0]])
    assert result.finding is None
    assert result.digests_at is not None and result.digests_at[kept[0]] != kept[1]
