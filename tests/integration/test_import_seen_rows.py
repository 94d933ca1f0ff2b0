"""What an import remembers of the rows before the current one (``SeenRows``, in a private
temporary SQLite database, written once a chunk, with bitmaps that spare the query for a
content or a movement id never seen): the counts and first fingerprints are those of a plain
tally, whether keys share a bit of the bitmaps or not, across chunks."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from ledger.interchange import importer
from ledger.interchange.importer import SeenRows


@pytest.mark.parametrize("bits", [8, importer.SEEN_BITS])  # 8: every content shares a byte
def test_counts_and_first_fingerprints_are_a_plain_tallys(
    bits: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "SEEN_BITS", bits)
    rng = random.Random(17)
    tally: Counter[str] = Counter()
    first: dict[str, str] = {}
    seen = SeenRows()
    try:
        for _chunk in range(5):
            for _ in range(200):
                digest = f"d{rng.randrange(300)}"
                tally[digest] += 1
                assert seen.count(digest) == tally[digest]
            given = [(f"m{rng.randrange(300)}", f"f{rng.randrange(2)}") for _ in range(200)]
            expected = []
            for movement_id, fingerprint in given:
                expected.append(first.get(movement_id))
                first.setdefault(movement_id, fingerprint)
            assert seen.first_fingerprints(given) == expected
            seen.flush()
    finally:
        seen.close()
