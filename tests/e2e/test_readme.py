"""The tour in README.md works as written: run in order as a user would (on SQLite), and its
short tour and HTTP examples on both stores."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from api import create_app
from cli import main
from tests.e2e.cli_story import Cli

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
# The line before each ```sh block of README.md says whether the block is part of the tour.
TOUR = "<!-- tour -->"
NOT_IN_TOUR = re.compile(r"<!-- not in the tour: .+ -->")
# What a tour block holds but this test does not run, and why.
NOT_RUN = {
    "python3": "installs the ledger; this test runs the one installed",
    ".": "activates the virtual environment the ledger is installed in",
    "pip": "installs the ledger; this test runs the one installed",
    "scripts/test": "the test suite itself",
    "serve": "starts a server (test_the_readme_api_example_works sends the requests)",
    "curl": "needs the server running (test_the_readme_api_example_works sends them)",
}
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def tour_commands() -> list[list[str]]:
    text = README.read_text(encoding="utf-8")
    block = text.split("## A short tour", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    line_options = re.search(r'^L="(.*)"$', block, re.MULTILINE)
    assert line_options is not None
    commands = []
    for raw in block.splitlines():
        command = raw.split("  #", 1)[0].strip()
        if not command.startswith("budget-ledger "):
            continue
        words = shlex.split(command.replace("$L", line_options.group(1)))
        # The sample file as the README names it, from the repository's root.
        commands.append([str(ROOT / w) if w.startswith("samples/") else w for w in words[1:]])
    return commands


def test_the_readme_tour_runs_and_checks_out(database: str) -> None:
    cli = Cli(database)
    commands = tour_commands()
    assert len(commands) > 15
    for args in commands:
        cli.run(*args)
    rows = cli.balance(holder="504")
    assert rows[0]["deadline"] == "2025-12-31"
    # 150 tỷ, less June's confirmations imported from the sample file (2.5 + 1.75 tỷ)
    assert rows[0]["available_vnd"] == rows[0]["extended_vnd"] == 145_750_000_000


def api_requests() -> list[tuple[str, str, dict[str, Any] | None]]:
    """(method, path, JSON body) of each curl in the README's HTTP API section."""
    text = README.read_text(encoding="utf-8")
    block = text.split("## The HTTP API", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    found = []
    for raw in block.splitlines():
        if not raw.startswith("curl "):
            continue
        words = shlex.split(raw)
        url = next(word for word in words if word.startswith("http://"))
        path = url.split("8080", 1)[1]
        body = json.loads(words[words.index("-d") + 1]) if "-d" in words else None
        found.append(("POST" if "-X" in words else "GET", path, body))
    return found


def test_the_readme_api_example_works(database: str) -> None:
    cli = Cli(database)
    for args in tour_commands():
        cli.run(*args, expect=None)
    token = cli.token("so-tai-chinh", "admin").output.strip().splitlines()[-1]
    requests = api_requests()
    assert len(requests) >= 4
    app = create_app(database)
    client = app.test_client()
    try:
        for method, path, body in requests:
            response = client.open(
                path, method=method, json=body, headers={"Authorization": f"Bearer {token}"}
            )
            assert response.status_code in (200, 201), (path, response.get_json())
        rows = client.get(
            "/balances?holder=504&as_of=2025-03-31", headers={"Authorization": f"Bearer {token}"}
        ).get_json()["balances"]
        assert rows[0]["disbursed_vnd"] == 4_250_000_000 + 5 * 10**9  # the sample's, the API's
    finally:
        app.extensions["budget_ledger"].close()


def test_the_readme_registers_the_merged_program_as_written(database: str) -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Programs, and the merged program of 2026-2035", 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    commands = [
        shlex.split(raw.split("  #", 1)[0])[1:]
        for raw in block.splitlines()
        if raw.startswith("budget-ledger ")
    ]
    assert [words[:2] for words in commands] == [
        ["programs", "add"],
        ["programs", "list"],
        ["adjust", "--program"],
    ]
    cli = Cli(database).init()
    cli.unit("TW", "Trung ương", "central")
    for args in commands:
        cli.run(*args)
    (row,) = cli.balance(program="MTQG2635")
    assert (row["year"], row["available_vnd"]) == (2026, 70 * 10**9)
    ntm = ["--program", "NTM", *commands[2][3:]]  # the same line, on NTM
    refused = cli.run("adjust", *ntm, expect=1)
    assert "refused (program-not-valid): program: program NTM is valid for plan years up to " in (
        refused.output
    )
    assert "for 2026 the valid programs are: MTQG2635 (Chương trình MTQG " in refused.output


def blocks() -> list[tuple[int, str, str, str]]:
    """(line number, its language, the line before it, text) of every fenced block of
    README.md, in order."""
    lines = README.read_text(encoding="utf-8").splitlines()
    found = []
    start, language = 0, None
    for number, line in enumerate(lines, start=1):
        if language is None and line.startswith("```"):
            start, language = number, line.strip()[3:]
        elif language is not None and line.strip() == "```":
            text = "\n".join(lines[start : number - 1])
            found.append((start, language, lines[start - 2].strip(), text))
            language = None
    return found


def test_every_shell_block_of_the_readme_says_whether_it_is_in_the_tour() -> None:
    shell_blocks = [block for block in blocks() if block[1] == "sh"]
    assert len(shell_blocks) > 10
    for number, _, mark, _ in shell_blocks:
        assert mark == TOUR or NOT_IN_TOUR.fullmatch(mark), (
            f"README.md line {number}: put {TOUR} or <!-- not in the tour: WHY --> on the line "
            "before this block"
        )


LEFT_OUT = "an example with a value left out (...)"


class Shell:
    """The README's shell lines run as a user's shell runs them, for what the README uses:
    comments, ``&&``, ``NAME=value``, ``export NAME=value``, ``$NAME``, ``~``.
    ``budget-ledger`` runs in this process (click's runner), ``hledger`` as the program."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.variables: dict[str, str] = {"HOME": str(home)}
        # What the commands see: a home of their own, the default demo and ledger in it.
        self.environment: dict[str, str | None] = {
            "HOME": str(home),
            "XDG_DATA_HOME": None,
            "BUDGET_LEDGER_DATABASE": None,
        }
        self.runner = CliRunner()
        self.ran: list[tuple[list[str], str]] = []
        self.skipped: list[tuple[str, str]] = []

    def words(self, raw: str) -> list[str]:
        text = re.sub(r"\$(\w+)", lambda m: self.variables.get(m.group(1), ""), raw)
        return [self.tilde(word) for word in shlex.split(text, comments=True)]

    def run_line(self, raw: str) -> None:
        words = self.words(raw)
        while words:
            command = words[: words.index("&&")] if "&&" in words else words
            words = words[len(command) + 1 :]
            self.run_command(command, raw)

    def run_command(self, words: list[str], raw: str) -> None:
        if any("..." in word for word in words):
            self.skipped.append((raw, LEFT_OUT))
            return
        if words[0] == "export" or ASSIGNMENT.match(words[0]):
            for word in words[1:] if words[0] == "export" else words:
                name, value = word.split("=", 1)
                self.variables[name] = value
                if words[0] == "export":
                    self.environment[name] = value
            return
        name = words[1] if words[0] == "budget-ledger" and len(words) > 1 else words[0]
        if name in NOT_RUN:
            self.skipped.append((raw, NOT_RUN[name]))
            return
        if words[0] == "hledger":
            if shutil.which("hledger") is None:
                self.skipped.append((raw, "hledger is not installed"))
                return
            done = subprocess.run(words, capture_output=True, text=True, check=False)
            assert done.returncode == 0, (raw, done.stdout, done.stderr)
            self.ran.append((words, done.stdout))
            return
        assert words[0] == "budget-ledger", f"the tour runs budget-ledger, not: {raw}"
        output = self.ledger(words[1:], raw)
        self.ran.append((words, output))

    def ledger(self, args: list[str], raw: str, expect: int = 0) -> str:
        result = self.runner.invoke(main, args, env=self.environment, catch_exceptions=False)
        assert result.exit_code == expect, (raw, result.output)
        return result.output

    def check_shown(self, text: str) -> None:
        """A block that shows a command refused and what it prints: run it; it is refused,
        and what it prints holds each part of what the README shows (the parts between its
        "..."), whatever the line breaks."""
        command, *shown = text.splitlines()
        raw = command.removeprefix("$ ")
        if "..." in raw:
            self.skipped.append((raw, LEFT_OUT))
            return
        words = self.words(raw)
        assert words[0] == "budget-ledger", raw
        printed = " ".join(self.ledger(words[1:], raw, expect=1).split())
        for part in " ".join(shown).split("..."):
            assert " ".join(part.split()) in printed, (raw, part, printed)
        self.ran.append((words, printed))

    def tilde(self, word: str) -> str:
        """``~`` at the start of a word or of an assignment's value is the home."""
        head, equals, tail = word.partition("=") if ASSIGNMENT.match(word) else ("", "", word)
        if tail == "~" or tail.startswith("~/"):
            tail = str(self.home) + tail[1:]
        return head + equals + tail


def test_the_readme_runs_in_order_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every tour block of README.md, top to bottom, in a directory of its own with a home of
    its own (on SQLite, the default), as a user who has just cloned the repository would type
    them: each command succeeds, and each refusal the README shows between them is refused
    as shown. Not run, with the reason: installing, the test suite, the server and what needs
    it, and examples with a value left out."""
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    (work / "samples").symlink_to(ROOT / "samples")
    monkeypatch.chdir(work)
    shell = Shell(home)
    for _, language, mark, text in blocks():
        if language == "sh" and mark == TOUR:
            for line in text.splitlines():
                shell.run_line(line)
        elif language == "text" and text.startswith("$ budget-ledger "):
            shell.check_shown(text)
    commands = [words[1:3] for words, _ in shell.ran if words[0] == "budget-ledger"]
    for wanted in (
        ["demo"],
        ["close-year", "2024"],
        ["import", "samples/treasury-confirmations.csv"],
        ["disburse", "--program"],  # the refusal shown after the short tour
    ):
        assert wanted in [c[: len(wanted)] for c in commands], wanted
    # "Trying a write first": the dry run prints its preview and records nothing.
    tried = [output for words, output in shell.ran if "--dry-run" in words]
    assert tried and all("Preview" in out for out in tried)
    assert all(out.rstrip().endswith("Dry run: nothing was recorded.") for out in tried)
    # "What did the books say at the meeting": the demo's figures, not zeros.
    asked_then = [words for words, _ in shell.ran if "--known-at" in words]
    assert len(asked_then) >= 2
    for words in asked_then:
        rows = json.loads(shell.ledger([*words[1:], "--format", "json"], " ".join(words)))
        assert sum(row["disbursed_vnd"] for row in rows) > 0, words
    assert {reason for _, reason in shell.skipped} <= {
        *NOT_RUN.values(),
        LEFT_OUT,
        "hledger is not installed",
    }
