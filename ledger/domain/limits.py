"""Every bound the ledger enforces, in one place, with the relations between them asserted.

Python integers never overflow, so the limits are written down instead: they keep every
figure inside a signed 64-bit integer (PostgreSQL ``bigint``) and every piece of state small.
"""

from __future__ import annotations

from datetime import date, timedelta

# One movement moves at most 10^15 đồng (a million tỷ): forty times the whole 2024 national
# investment plan of the three programs, so no real decision is refused by it.
AMOUNT_VND_MAX = 10**15

# A line lives within a bounded window of effective dates: from 1 January of the year before
# its plan year (decisions assigning a plan are signed late in the year before) to 31 December
# of plan year + LINE_YEARS_AFTER_MAX. National Assembly resolutions carry funds years on
# (NQ 104/2023/QH15 and NQ 108/2023/QH15 let 2022 and 2023 MTQG funds be spent in 2024), and
# capital of 2021-2025 was carried into 2026 (a 2021 line paying five years on); seven leaves
# room for more. NQ 257/2025/QH15 is not one of them: it approves the merged 2026-2035 program.
LINE_YEARS_BEFORE_MAX = 1
LINE_YEARS_AFTER_MAX = 7
LINE_DAYS_MAX = 366 * (LINE_YEARS_BEFORE_MAX + 1 + LINE_YEARS_AFTER_MAX)

# A line is extended a handful of times at most (one ordinary extension, then National
# Assembly resolutions).
EXTENSIONS_MAX = 8

# A line's cumulative figures (assigned, disbursed, ...) are capped so that every figure, and
# the sum of two of them, fits a signed 64-bit integer; a movement that would pass it is refused.
LINE_FIGURE_VND_MAX = 2**61
assert AMOUNT_VND_MAX < LINE_FIGURE_VND_MAX
assert 4 * LINE_FIGURE_VND_MAX <= 2**63

YEAR_MIN = 2000
YEAR_MAX = 2100

# The ledger's calendar: every date it holds or answers for (an effective date, a deadline,
# an as-of date, a known-at time), from the first day a year-YEAR_MIN line can have to the
# last day a year-YEAR_MAX line can have. Outside it a question can only be a mistake, and
# Python's dates end at years 1 and 9999: a time near them cannot even change time zone.
DATE_MIN = date(YEAR_MIN - LINE_YEARS_BEFORE_MAX, 1, 1)
DATE_MAX = date(YEAR_MAX + LINE_YEARS_AFTER_MAX, 12, 31)
assert date.min < DATE_MIN - timedelta(days=2) and DATE_MAX + timedelta(days=2) < date.max

CODE_LENGTH_MAX = 32
# A program code heads every line's label and report row: short, like NTM or MTQG2635.
PROGRAM_CODE_LENGTH_MAX = 16
NAME_LENGTH_MAX = 200
REFERENCE_LENGTH_MAX = 200
NOTE_LENGTH_MAX = 1000
MOVEMENT_ID_LENGTH_MAX = 64
ACTOR_LENGTH_MAX = 100

# A command that loses an optimistic-concurrency race is retried this many times in all;
# each retry re-reads the lines, so a busy line is never overdrawn, and a client is never
# left waiting without bound.
COMMAND_ATTEMPTS_MAX = 20
# Between attempts a command waits a random time below this bound (it doubles per attempt
# from 2 ms), so racing writers spread out instead of colliding again.
RETRY_WAIT_S_MAX = 0.05

# Lines are snapshotted every so many events so that loading a line without a warm cache
# replays at most this many events, whatever its history.
LINE_SNAPSHOT_INTERVAL = 100

# Log positions are signed 64-bit integers in both stores; a question "as the books stand
# now" reads up to this position.
LOG_POSITION_MAX = 2**63 - 1

# The holder tree is at most this many holders deep, counting the centre: five levels, and
# room for agencies under agencies. Registering a holder below it is refused, so every walk
# up the tree ends within it; a longer walk means the stored tree is broken (a cycle).
HOLDER_DEPTH_MAX = 16

# One succession ends at most this many holders (a national reorganisation is many
# successions, one per new unit: the most old communes merged into one is about a dozen).
SUCCESSION_HOLDERS_MAX = 1000

# The payments an import keeps in hand after planning them, so that a later row of the same
# file may reverse them (the ledger's own export holds a payment and its reversal): the
# newest this many; a reversal of an older payment of the file is refused, as one of a
# payment never recorded. A payment's Movement is a few kB: tens of MB at most.
IMPORT_PAYMENTS_HELD_MAX = 10_000

# Every list the API answers (api/paging.py), the audit feed (GET /events) too: this many
# rows a page unless the request asks for fewer or more, never more than the maximum.
PAGE_LIMIT_MAX = 1000
PAGE_LIMIT_DEFAULT = 100
assert PAGE_LIMIT_DEFAULT <= PAGE_LIMIT_MAX
# A page's cursor is the last row's sort key, a few codes: never longer than this.
CURSOR_LENGTH_MAX = 1000
