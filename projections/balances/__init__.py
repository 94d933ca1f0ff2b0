"""The balances read model: every figure of every line and every holder's subtree, at any
effective date and as the books stood after any log position, each an index lookup.

For each node (a line, or a holder's subtree within one program/kind/source/year) the model
keeps figures versioned by log position, in three levels:

- ``days``: the figures of each effective day that has postings (that day's total);
- ``blocks``: the same for each block of ``BLOCK_DAYS`` days that has postings (its total);
- ``eras``: per era of ``ERA_BLOCKS`` blocks that has postings, the cumulative figures from
  the beginning through the era's end.

The figures at (date D, position P) are the latest version at or before P of the last era
before D's era, plus the latest version at or before P of each block of D's era before D's
block, plus that of each day up to D in D's block: at most ERA_BLOCKS + BLOCK_DAYS index
seeks, whatever the history. A posting writes one version of its day, of its block and of
its era, plus one of each later era that already has postings (rarely any: an era is about
eight months). Two postings of one movement are one version, so moves inside a subtree
cancel and write nothing there.

Known-at times map to log positions through ``clock``: the recorded time of each version,
made non-decreasing along the log (see docs/projections.md).

One module per reason to change:

- ``schema``: the tables of a generation, their indexes and layout number (a change there
  bumps ``LAYOUT`` and rebuilds every database's read model);
- ``fold``: how postings change the figures, in memory, with no database (the arithmetic);
- ``writer``: the fold fed from the log and its rows stored, with what it keeps in memory;
- ``reader``: every question the queries and reports ask, each answered by SQL on the
  tables (nothing outside this package names them).
"""
