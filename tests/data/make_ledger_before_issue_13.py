"""Make ``ledger-before-issue-13.sql`` and the answers in ``before-issue-13/``.

It was run once, with the code of commit d62c919 (the last commit before issue 13's
refactor), from the root of a checkout of that commit holding this file:

    .venv/bin/python tests/data/make_ledger_before_issue_13.py

It records, through the command line of that code, the README's short tour (every movement
kind), the treasury sample file, a lapse of its own, a payment through the HTTP API, two
tokens and a read-model rebuild, then writes the SQLite file as a text dump (the sqlite3
shell's ``.dump --preserve-rowids``) and what that code answered (digest, balances, history,
the progress report) as JSON, with the secret of the viewer token (a test token of this
throwaway ledger) so that a later API can be asked with it.
``tests/e2e/test_old_database.py`` loads the dump with later code and checks that it
opens, verifies and answers the same. Running this script with later code would make a
different file: that is not its use.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from click.testing import CliRunner

from api import create_app
from cli import main

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DUMP = HERE / "ledger-before-issue-13.sql"
ANSWERS = HERE / "before-issue-13"

# One command a line, as a user types it.
# fmt: off
LINE = ["--program", "GNBV", "--kind", "DTPT", "--source", "NSTW", "--year", "2024"]
LOCAL_2023 = ["--program", "NTM", "--kind", "SN", "--source", "NSDP", "--year", "2023"]
BEFORE_IMPORT = [
    ["units", "add", "TW", "Trung ương", "--level", "central"],
    ["units", "add", "49", "Tỉnh Quảng Nam", "--level", "province", "--parent", "TW"],
    ["units", "add", "505", "Huyện Đông Giang", "--level", "district", "--parent", "49"],
    ["units", "add", "504", "Huyện Tây Giang", "--level", "district", "--parent", "49"],
    ["adjust", *LINE, "--holder", "TW", "--amount", "500.000.000.000",
     "--decision", "QĐ 1603/QĐ-TTg 11/12/2023", "--date", "2024-01-02"],
    ["allocate", *LINE, "--from", "TW", "--to", "49", "--amount", "400000000000",
     "--decision", "QĐ 1603/QĐ-TTg", "--date", "2024-01-05"],
    ["allocate", *LINE, "--from", "49", "--to", "505", "--amount", "150000000000",
     "--decision", "QĐ 95/QĐ-UBND", "--date", "2024-01-10"],
    ["allocate", *LINE, "--from", "49", "--to", "504", "--amount", "100000000000",
     "--decision", "QĐ 95/QĐ-UBND", "--date", "2024-01-10"],
    ["disburse", *LINE, "--holder", "505", "--amount", "60000000000", "--voucher", "KB 0123",
     "--date", "2024-03-01", "--id", "pay-505-1"],
    ["reallocate", *LINE, "--from", "505", "--to", "504", "--amount", "50000000000",
     "--decision", "QĐ 1850/QĐ-UBND", "--date", "2024-04-01"],
    ["reverse", "--of", "pay-505-1", "--amount", "10000000000", "--reason", "sai chứng từ",
     "--date", "2024-05-01"],
    # A province's own recurrent line of 2023, paid in part and lapsed by hand.
    ["adjust", *LOCAL_2023, "--holder", "49", "--amount", "2.000.000.000",
     "--decision", "NQ 12/NQ-HĐND", "--date", "2023-02-01", "--actor", "sotaichinh",
     "--note", "dự toán đầu năm\nđợt 1"],
    ["disburse", *LOCAL_2023, "--holder", "49", "--amount", "1.200.000.000",
     "--voucher", "KB 0099", "--date", "2023-11-15", "--id", "pay-49-2023"],
    ["lapse", *LOCAL_2023, "--holder", "49", "--date", "2024-02-01", "--id", "lapse-49-2023"],
    ["balance", "--format", "json"],  # brings the read models up to here (generation 1)
    ["projections", "rebuild"],  # generation 2 active from here on
    ["import", str(ROOT / "samples" / "treasury-confirmations.csv")],
]
AFTER_IMPORT = [
    ["extend", *LINE, "--holder", "504", "--until", "2025-12-31", "--basis", "NQ 111/2024/QH15",
     "--date", "2025-01-20"],
    ["close-year", "2024", "--date", "2025-02-01"],
]
# What the code answered, each kept as before-issue-13/<name>.json.
QUESTIONS = {
    "balance-all": ["balance", "--as-of", "2025-03-31", "--format", "json"],
    "balance-505": ["balance", "--holder", "505", "--format", "json"],
    "balance-504-2024-09-17": ["balance", "--holder", "504", "--as-of", "2024-09-17",
                               "--format", "json"],
    "balance-49-subtree": ["balance", "--holder", "49", "--subtree", "--as-of", "2024-09-17",
                           "--format", "json"],
    "history-505": ["history", "--holder", "505", "--format", "json"],
    "history-decision": ["history", "--decision", "QĐ 95/QĐ-UBND", "--format", "json"],
    "progress-49": ["report", "progress", "--holder", "49", "--as-of", "2024-09-17",
                    "--format", "json"],
}
# fmt: on
# The same through the HTTP API, asked with the viewer token.
API_QUESTIONS = {
    "api-balances-504": "/balances?holder=504&as_of=2025-03-31",
    "api-progress-49": "/reports/progress?holder=49&as_of=2024-09-17",
    "api-history-504": "/history?holder=504",
    "api-movement-pay-505-1": "/movements/pay-505-1",
    "api-events": "/events?after=0&limit=100",
}


def run(database: str, args: list[str]) -> str:
    result = CliRunner().invoke(main, [*args, "--database", database], catch_exceptions=False)
    assert result.exit_code == 0, (args, result.output)
    return result.output


def main_() -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory() as directory:
        database = str(Path(directory) / "ledger.sqlite3")
        run(database, ["init"])
        for args in BEFORE_IMPORT:
            run(database, args)
        # A clerk of 504 pays through the HTTP API: its token's name becomes the actor.
        secret = run(
            database,
            ["tokens", "create", "--name", "kt-tay-giang", "--role", "clerk", "--scope", "504"],
        ).splitlines()[-1]
        app = create_app(database)
        try:
            response = app.test_client().post(
                "/disbursements",
                headers={"Authorization": f"Bearer {secret}"},
                json={
                    "program": "GNBV",
                    "kind": "DTPT",
                    "source": "NSTW",
                    "year": 2024,
                    "holder": "504",
                    "amount_vnd": 5000000000,
                    "voucher": "KB 0125",
                    "effective_date": "2024-09-03",
                    "movement_id": "pay-504-1",
                },
            )
            assert response.status_code == 201, response.get_json()
        finally:
            app.extensions["budget_ledger"].close()
        for args in AFTER_IMPORT:
            run(database, args)
        viewer = run(database, ["tokens", "create", "--name", "kiem-toan", "--role", "viewer"])
        viewer_secret = viewer.splitlines()[-1]
        ANSWERS.mkdir(exist_ok=True)
        answers = {name: json.loads(run(database, args)) for name, args in QUESTIONS.items()}
        answers["digest"] = run(database, ["digest"]).strip()
        app = create_app(database)
        try:
            client = app.test_client()
            for name, path in API_QUESTIONS.items():
                response = client.get(path, headers={"Authorization": f"Bearer {viewer_secret}"})
                assert response.status_code == 200, (path, response.get_json())
                answers[name] = response.get_json()
        finally:
            app.extensions["budget_ledger"].close()
        answers["questions"] = QUESTIONS
        answers["api-questions"] = API_QUESTIONS
        answers["viewer-token"] = viewer_secret
        for name, value in answers.items():
            text = json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
            (ANSWERS / f"{name}.json").write_text(text, encoding="utf-8")
        # --preserve-rowids: a SQLite event's rowid is its log position (what the chain and
        # the read models count by), and a plain dump would renumber them on load.
        dump = subprocess.run(
            ["sqlite3", database, ".dump --preserve-rowids"],
            capture_output=True,
            text=True,
            encoding="utf-8",
            check=True,
        ).stdout
    header = f"-- Made at commit {commit} by tests/data/make_ledger_before_issue_13.py.\n"
    DUMP.write_text(header + dump, encoding="utf-8")


if __name__ == "__main__":
    main_()
