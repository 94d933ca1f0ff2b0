"""The ``budget-ledger`` command line as a test's story tells it.

``tests/story.py`` drives the ledger in memory; this drives the command a finance officer
types, on a real database, so that an end-to-end test reads as what happens rather than as
argument lists::

    cli = Cli(database).init()
    quang_nam(cli)
    cli.adjust("TW", 500 * TY, decision="QĐ 1603/QĐ-TTg", date="2024-01-02", id="w1")
    cli.disburse("505", 60 * TY, voucher="KB 1", date="2024-03-01")
    assert cli.balances()["505"]["available_vnd"] == ...

Each method builds exactly the command line a user would type (``--database`` last) and
runs it with click's ``CliRunner`` in this process. Keyword options become ``--options``:
``as_of="2024-09-17"`` is ``--as-of 2024-09-17``, ``from_="2024-01-01"`` is ``--from ...``,
``subtree=True`` is ``--subtree``, ``None`` and ``False`` are left out. Every call expects
exit code 0 unless given ``expect=``: an exit code (1 refused, 2 malformed, ...), or
``FAILS`` for any code but 0.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from click.testing import CliRunner, Result

from cli import main

TY = 10**9  # a tỷ đồng
# The worked example's line (docs/worked-example.md): GNBV / DTPT / NSTW / 2024.
LINE = ("--program", "GNBV", "--kind", "DTPT", "--source", "NSTW", "--year", "2024")
FAILS = -1  # expect= any exit code but 0

Option = str | int | bool | None


def options(**given: Option) -> list[str]:
    """``--name value`` for each option given (``True``: the flag alone; ``None``, ``False``:
    left out); ``as_of`` is spelled ``--as-of`` and ``from_`` ``--from``."""
    words: list[str] = []
    for name, value in given.items():
        if value is None or value is False:
            continue
        option = "--" + name.rstrip("_").replace("_", "-")
        words += [option] if value is True else [option, str(value)]
    return words


class Cli:
    """``budget-ledger`` bound to one database."""

    def __init__(self, database: str, runner: CliRunner | None = None) -> None:
        self.database = database
        self.runner = runner if runner is not None else CliRunner()

    # The generic call: everything else goes through it.

    def run(self, *args: str, expect: int | None = 0) -> Result:
        """Run ``budget-ledger ARGS --database DATABASE``; assert its exit code is ``expect``
        (``FAILS``: anything but 0; ``None``: anything)."""
        result = self.runner.invoke(
            main, [*args, "--database", self.database], catch_exceptions=False
        )
        if expect == FAILS:
            assert result.exit_code != 0, result.output
        elif expect is not None:
            assert result.exit_code == expect, (args, result.exit_code, result.output)
        return result

    def out(self, *args: str, expect: int | None = 0) -> str:
        """What the command printed."""
        return self.run(*args, expect=expect).output

    def json(self, *args: str) -> Any:
        """The command's answer with ``--format json``, read."""
        return json.loads(self.out(*args, "--format", "json"))

    # Administration.

    def init(self) -> Cli:
        self.run("init")
        return self

    def unit(
        self,
        code: str,
        name: str,
        level: str,
        parent: str | None = None,
        *,
        expect: int | None = 0,
        **more: Option,
    ) -> Result:
        """``units add CODE NAME --level LEVEL [--parent PARENT]``."""
        given = options(level=level, parent=parent, **more)
        return self.run("units", "add", code, name, *given, expect=expect)

    def token(self, name: str, role: str, *, expect: int | None = 0, **more: Option) -> Result:
        """``tokens create --name NAME --role ROLE`` (scope=, expires=): the secret is the last
        line of its output."""
        given = options(name=name, role=role, **more)
        return self.run("tokens", "create", *given, expect=expect)

    # The movements. ``line`` replaces the worked example's line; ``**more`` carries --date,
    # --id, --actor, --note, --format, --project.

    def adjust(
        self,
        holder: str,
        amount: int | str,
        *,
        decision: str,
        line: Sequence[str] = LINE,
        expect: int | None = 0,
        **more: Option,
    ) -> Result:
        return self.move(
            "adjust", line, expect, holder=holder, amount=amount, decision=decision, **more
        )

    def allocate(
        self,
        giver: str,
        receiver: str,
        amount: int | str,
        *,
        decision: str,
        line: Sequence[str] = LINE,
        expect: int | None = 0,
        **more: Option,
    ) -> Result:
        sides = {"from": giver, "to": receiver}
        return self.move(
            "allocate", line, expect, **sides, amount=amount, decision=decision, **more
        )

    def reallocate(
        self,
        giver: str,
        receiver: str,
        amount: int | str,
        *,
        decision: str,
        line: Sequence[str] = LINE,
        expect: int | None = 0,
        **more: Option,
    ) -> Result:
        sides = {"from": giver, "to": receiver}
        return self.move(
            "reallocate", line, expect, **sides, amount=amount, decision=decision, **more
        )

    def disburse(
        self,
        holder: str,
        amount: int | str,
        *,
        voucher: str,
        line: Sequence[str] = LINE,
        expect: int | None = 0,
        **more: Option,
    ) -> Result:
        return self.move(
            "disburse", line, expect, holder=holder, amount=amount, voucher=voucher, **more
        )

    def reverse(
        self,
        of: str,
        amount: int | str | None = None,
        *,
        reason: str,
        expect: int | None = 0,
        **more: Option,
    ) -> Result:
        return self.move("reverse", (), expect, of=of, amount=amount, reason=reason, **more)

    def extend(
        self,
        holder: str,
        until: str,
        amount: int | str | None = None,
        *,
        basis: str,
        line: Sequence[str] = LINE,
        expect: int | None = 0,
        **more: Option,
    ) -> Result:
        return self.move(
            "extend", line, expect, holder=holder, until=until, amount=amount, basis=basis, **more
        )

    def lapse(
        self, holder: str, *, line: Sequence[str] = LINE, expect: int | None = 0, **more: Option
    ) -> Result:
        return self.move("lapse", line, expect, holder=holder, **more)

    def close_year(self, year: int, *, date: str, expect: int | None = 0) -> Result:
        return self.run("close-year", str(year), "--date", date, expect=expect)

    def move(
        self,
        command: str,
        line: Sequence[str],
        expect: int | None,
        **given: Option,
    ) -> Result:
        return self.run(command, *line, *options(**given), expect=expect)

    # The reads, as scripts read them (JSON).

    def balance(self, **filters: Option) -> list[dict[str, Any]]:
        """``balance --format json`` with the filters given (holder=, as_of=, subtree=, ...)."""
        rows: list[dict[str, Any]] = self.json("balance", *options(**filters))
        return rows

    def balances(self, **filters: Option) -> dict[str, dict[str, Any]]:
        """The balance rows by holder (one line per holder in these stories)."""
        return {row["holder"]: row for row in self.balance(**filters)}

    def history(self, **filters: Option) -> list[dict[str, Any]]:
        """``history --format json`` with the filters given (holder=, decision=, actor=, ...)."""
        entries: list[dict[str, Any]] = self.json("history", *options(**filters))
        return entries

    def progress(self, **options_: Option) -> list[dict[str, Any]]:
        """``report progress --format json`` (holder=, as_of=, by=, period=, ...)."""
        rows: list[dict[str, Any]] = self.json("report", "progress", *options(**options_))
        return rows

    def export(self, **options_: Option) -> str:
        """``export`` (format=, what=, output=, as_of=, filters): what it printed."""
        return self.out("export", *options(**options_))

    def check(self) -> str:
        return self.out("check")


def quang_nam(cli: Cli, actor: str | None = None) -> Cli:
    """The worked example's holders: the centre (registered by ``actor``), Quảng Nam (49) and
    two of its districts, Đông Giang (505) and Tây Giang (504)."""
    cli.unit("TW", "Trung ương", "central", actor=actor)
    cli.unit("49", "Tỉnh Quảng Nam", "province", parent="TW")
    cli.unit("505", "Huyện Đông Giang", "district", parent="49")
    cli.unit("504", "Huyện Tây Giang", "district", parent="49")
    return cli


def funded(cli: Cli) -> Cli:
    """Quảng Nam's districts funded as in the worked example's first days: TW 500 tỷ, 400 to
    49, 150 to 505 and 100 to 504."""
    cli.adjust("TW", 500 * TY, decision="QĐ 1", date="2024-01-02")
    cli.allocate("TW", "49", 400 * TY, decision="QĐ 1", date="2024-01-05")
    cli.allocate("49", "505", 150 * TY, decision="QĐ 2", date="2024-01-10")
    cli.allocate("49", "504", 100 * TY, decision="QĐ 2", date="2024-01-10")
    return cli
