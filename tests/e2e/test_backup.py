"""``budget-ledger backup FILE``: an online, consistent copy of a SQLite ledger."""

from __future__ import annotations

import re
import threading
from datetime import date
from pathlib import Path

from click.testing import CliRunner, Result

from ledger.application import open_ledger
from tests.story import LINE, TY, record, register_tree

WRITERS = 3
BACKUPS = 3
HEAD_LINE = re.compile(r"^(\d+):([0-9a-f]{64})$")


def run(*args: str) -> Result:
    from cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def funded_ledger(path: Path) -> str:
    database = str(path)
    ledger = open_ledger(database, create=True)
    try:
        register_tree(ledger)
        record(ledger, "adjust", "fund", date(2024, 1, 2), LINE, amount_vnd=500 * TY)
    finally:
        ledger.close()
    return database


def write_until(database: str, writer: int, stop: threading.Event, recorded: list[int]) -> None:
    """Record small disbursements until told to stop (each its own transaction)."""
    ledger = open_ledger(database)
    try:
        count = 0
        while not stop.is_set():
            record(
                ledger,
                "disburse",
                f"pay-{writer}-{count}",
                date(2024, 3, 1),
                LINE,
                amount_vnd=1_000_000,
            )
            count += 1
            recorded[writer] = count
    finally:
        ledger.close()


def test_a_backup_taken_while_writers_record_is_consistent_and_verifies(tmp_path: Path) -> None:
    database = funded_ledger(tmp_path / "ledger.sqlite3")
    stop = threading.Event()
    recorded = [0] * WRITERS
    writers = [
        threading.Thread(target=write_until, args=(database, n, stop, recorded))
        for n in range(WRITERS)
    ]
    for writer in writers:
        writer.start()
    heads = []
    try:
        for number in range(BACKUPS):
            before = sum(recorded)
            while sum(recorded) < before + WRITERS:  # the writers are recording right now
                stop.wait(0.01)
                assert all(writer.is_alive() for writer in writers), "a writer failed"
            copy = tmp_path / f"copy-{number}.sqlite3"
            result = run("backup", str(copy), "--database", database)
            assert result.exit_code == 0, result.output
            found = HEAD_LINE.match(result.stdout.strip())
            assert found, result.stdout
            heads.append((copy, result.stdout.strip(), int(found.group(1))))
    finally:
        stop.set()
        for writer in writers:
            writer.join(timeout=60)
    assert all(not writer.is_alive() for writer in writers)
    source = open_ledger(database)
    final_head = source.head_position()
    source.close()
    assert heads[0][2] < heads[-1][2] < final_head, (heads, final_head)
    for copy, kept, position in heads:
        # The copy is a whole ledger on its own: the chain and every rule check out on it,
        # and its head is the one printed.
        checked = run("verify", "--database", str(copy))
        assert checked.exit_code == 0, checked.output
        assert f"head position {position}, digest {kept.split(':')[1]}" in checked.output
        assert run("digest", "--database", str(copy)).stdout.strip() == kept
        assert not list(tmp_path.glob(f"{copy.name}-*")), "the copy must be one file"
        # The source, which went on recording, still holds exactly that prefix.
        against = run("verify", "--against", kept, "--database", database)
        assert against.exit_code == 0, against.output
        assert f"prefix up to position {position}" in against.output
    assert not list(tmp_path.glob(".*partial*"))


def test_a_backup_never_overwrites_a_file_without_force(tmp_path: Path) -> None:
    database = funded_ledger(tmp_path / "ledger.sqlite3")
    target = tmp_path / "kept.sqlite3"
    target.write_bytes(b"an earlier backup")
    refused = run("backup", str(target), "--database", database)
    assert refused.exit_code == 1
    assert refused.output.strip() == f"Error: {target} exists; choose another FILE or add --force"
    assert target.read_bytes() == b"an earlier backup"

    replaced = run("backup", str(target), "--force", "--database", database)
    assert replaced.exit_code == 0, replaced.output
    assert run("verify", "--database", str(target)).exit_code == 0
    assert run("digest", "--database", str(target)).stdout == replaced.stdout


def test_a_backup_onto_the_ledger_itself_is_refused(tmp_path: Path) -> None:
    database = funded_ledger(tmp_path / "ledger.sqlite3")
    before = Path(database).read_bytes()
    refused = run("backup", database, "--force", "--database", database)
    assert refused.exit_code == 1
    assert "is the ledger itself" in refused.output
    assert Path(database).read_bytes() == before


def test_a_backup_of_no_ledger_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    refused = run("backup", str(tmp_path / "copy.sqlite3"), "--database", str(tmp_path / "no"))
    assert refused.exit_code == 1
    assert "there is no ledger at" in refused.output
    assert not (tmp_path / "copy.sqlite3").exists()


def test_a_backup_of_postgresql_points_to_pg_dump(tmp_path: Path) -> None:
    target = tmp_path / "copy.sqlite3"
    refused = run("backup", str(target), "--database", "postgresql://ledger@db.example/ledger")
    assert refused.exit_code == 1
    lines = refused.output.strip().splitlines()
    assert len(lines) == 1 and "pg_dump -Fc" in lines[0] and "README.md" in lines[0], lines
    assert not target.exists()
