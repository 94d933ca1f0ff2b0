"""The folders are the layers (README, "Layout"): each package imports only from the layers
below it, and the domain imports nothing of the ledger's outside itself. Read from the source
files' import statements, so a new module cannot slip past."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Each layer, and the project's packages it may import from (besides itself).
MAY_IMPORT = {
    "ledger/domain": set(),
    "ledger/storage": {"ledger.domain"},
    "ledger/interchange": {"ledger.domain", "ledger.application", "ledger.storage"},
    "ledger/demo": {"ledger.domain", "ledger.application", "ledger.interchange"},
    "projections": {"ledger"},
    "api": {"ledger", "projections"},
    "cli": {"ledger", "projections", "api"},
}
PROJECT = ("ledger", "projections", "api", "cli")


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name.split(".")[0] in PROJECT}


def allowed(name: str, own: str, may: set[str]) -> bool:
    return any(name == root or name.startswith(root + ".") for root in {own, *may})


def test_each_layer_imports_only_from_the_layers_below_it() -> None:
    offenders = []
    for folder, may in MAY_IMPORT.items():
        own = folder.replace("/", ".")
        sources = sorted((ROOT / folder).rglob("*.py"))
        assert sources, folder
        for path in sources:
            for name in sorted(imported(path)):
                # "from ledger.domain import values" names the package and the module: both
                # are checked; a bare "ledger" (the package) is only a parent.
                if name == "ledger" and own.startswith("ledger"):
                    continue
                if not allowed(name, own, may):
                    offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []
