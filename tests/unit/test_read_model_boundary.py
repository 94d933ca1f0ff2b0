"""Only the balances package names the balances read model's tables: the queries, reports,
API, CLI and benchmarks ask its reader, so a change of layout changes no caller."""

from __future__ import annotations

import re
from pathlib import Path

from projections.balances.schema import NAME, TABLES

ROOT = Path(__file__).resolve().parents[2]
OWNER = ROOT / "projections" / "balances"
# A table's name, or the writer's and reader's map of them (``.t["days"]``).
NAMING = re.compile(rf"\b{NAME}_(?:{'|'.join(TABLES)})_g|\.t\[")


def test_no_module_outside_the_balances_package_names_its_tables() -> None:
    sources = [
        path
        for package in ("api", "bench", "cli", "ledger", "projections")
        for path in sorted((ROOT / package).rglob("*.py"))
        if OWNER not in path.parents
    ]
    assert len(sources) > 20
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sources
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if NAMING.search(line)
    ]
    assert offenders == []
