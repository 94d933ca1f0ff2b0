"""Benchmark: is a one-shot ``budget-ledger`` command as quick as hledger on the same books?

It loads the demo (``budget-ledger demo``) into a temporary SQLite file, exports the books
for hledger (``budget-ledger export --format hledger``), then times, alternating one run of
each per round, ``budget-ledger --help``, a subtree balance and a holder's history against
hledger's equivalent query on the exported journal, and prints each command's median wall
time and the ratio. Targets (issue 17): the balance at most 2x hledger's, --help under
0.15 s. Each run is a new process, as a user's command is: the time is mostly start-up.

Usage:
  .venv/bin/python bench/cli.py [--runs N]

hledger comes from the machine's package manager (``apt-get install hledger``); without it
the script times budget-ledger alone and says so.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOLDER = "12"  # seed 000's province, Lai Châu
AS_OF = "2024-09-17"
END = "2024-09-18"  # hledger's --end excludes its date (docs/export.md)
HISTORY_HOLDER = "505"
# An account of a line's figure: program:kind:source:year:holder[:project]:figure.
LINE_ACCOUNT = "^[^:]+:[^:]+:[^:]+:[^:]+:({holders})(:[^:]+)?:{figures}$"


def budget_ledger() -> list[str]:
    """The installed command beside this Python, else the same through ``-c``; run with this
    checkout first on the path, so its code is what is measured."""
    script = Path(sys.executable).parent / "budget-ledger"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from cli import main; main()"]


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}


def run(command: list[str]) -> str:
    result = subprocess.run(command, capture_output=True, text=True, env=environment(), check=False)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr}")
    return result.stdout


def subtree(database: str, holder: str) -> list[str]:
    """The codes of ``holder`` and every holder under it on AS_OF."""
    units = json.loads(
        run([*budget_ledger(), "units", "list", "--as-of", AS_OF, "--format", "json",
             "--database", database])
    )  # fmt: skip
    children: dict[str | None, list[str]] = {}
    for unit in units:
        children.setdefault(unit["parent"], []).append(unit["code"])
    found, waiting = [], [holder]
    while waiting:
        code = waiting.pop()
        found.append(code)
        waiting += children.get(code, [])
    return found


def timed(command: list[str]) -> tuple[float, float]:
    """The run's wall time and CPU time (user and system: steadier than the wall time on a
    machine shared with other work)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment(),
        check=True,
    )  # fmt: skip
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs of each command")
    runs = parser.parse_args().runs
    hledger = shutil.which("hledger")
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as directory:
        database = str(Path(directory) / "demo.sqlite3")
        journal = str(Path(directory) / "demo.journal")
        print("loading the demo and exporting it for hledger ...", flush=True)
        run([*budget_ledger(), "demo", "--quiet", "--database", database])
        run([*budget_ledger(), "export", "--format", "hledger", "--output", journal,
             "--database", database])  # fmt: skip
        holders = "|".join(subtree(database, HOLDER))
        on = ["--database", database]
        pairs = {
            "--help": ([*budget_ledger(), "--help"], [hledger or "hledger", "--help"]),
            "balance": (
                [*budget_ledger(), "balance", "--holder", HOLDER, "--subtree", "--as-of", AS_OF,
                 *on],
                [hledger or "hledger", "-f", journal, "balance", "--end", END,
                 LINE_ACCOUNT.format(holders=holders, figures="(available|disbursed|lapsed)")],
            ),
            "history": (
                [*budget_ledger(), "history", "--holder", HISTORY_HOLDER, *on],
                [hledger or "hledger", "-f", journal, "register",
                 LINE_ACCOUNT.format(holders=HISTORY_HOLDER, figures="available")],
            ),
        }  # fmt: skip
        times: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for name, (ours, theirs) in pairs.items():
            # One untimed run of each first: the files in the page cache, as for a user.
            timed(ours)
            if hledger:
                timed(theirs)
            for _ in range(runs):
                times.setdefault((name, "budget-ledger"), []).append(timed(ours))
                if hledger:
                    times.setdefault((name, "hledger"), []).append(timed(theirs))
    print(f"\nmedians of {runs} runs each, alternating, a new process per run (ms):")
    for index, what in enumerate(("wall time", "CPU time")):
        print(f" {what}")
        for name in pairs:
            mine = statistics.median(run[index] for run in times[(name, "budget-ledger")])
            line = f"  {name:8} budget-ledger {mine * 1000:7.1f}"
            if hledger:
                other = statistics.median(run[index] for run in times[(name, "hledger")])
                line += f"   hledger {other * 1000:7.1f}   ratio {mine / other:4.1f}x"
            print(line)
    print("\ntargets: balance at most 2x hledger's; --help under 150 ms")
    if not hledger:
        print("hledger is not installed (apt-get install hledger): no comparison was made")
    for name, (ours, theirs) in pairs.items():
        print(f"\n{name}:\n  {' '.join(ours[-8:])}")
        if hledger:
            print(f"  {' '.join(theirs)}")


if __name__ == "__main__":
    main()
