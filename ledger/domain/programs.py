"""Programs (chương trình mục tiêu quốc gia): the codes a line may name, each valid for the
plan years of its decision. A code is an identity, as a holder's is: a program, once
registered, never changes, and its code is never given to another program (the merged
2026-2035 program is a new code, and lines of 2021-2025 keep theirs)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from eventsourcing.domain import Aggregate

from ledger.domain import limits
from ledger.domain.errors import InvalidInput, ProgramNotValid
from ledger.domain.values import PROGRAMS, check_program, check_text, check_year, program_id


@dataclass(frozen=True)
class ProgramInfo:
    """A program's terms, and who registered it when (None for a built-in program that a
    ledger made before the registry existed has not recorded)."""

    code: str
    name: str
    from_year: int
    to_year: int | None  # None: open-ended
    decision: str
    actor: str | None = None
    registered_at: datetime | None = None

    @classmethod
    def parse(
        cls,
        code: str,
        name: str,
        from_year: int | str,
        to_year: int | str | None,
        decision: str,
    ) -> ProgramInfo:
        """A program's terms as given, each checked (InvalidInput naming the field)."""
        name_text = check_text(name, field="name", length_max=limits.NAME_LENGTH_MAX, required=True)
        decision_text = check_text(
            decision, field="decision", length_max=limits.REFERENCE_LENGTH_MAX, required=True
        )
        assert name_text is not None and decision_text is not None
        first = check_year(from_year, field="from_year")
        last = None if to_year is None or to_year == "" else check_year(to_year, field="to_year")
        if last is not None and last < first:
            raise InvalidInput(
                f"{last} is before from_year {first}; a program's last plan year comes after "
                "its first",
                field="to_year",
            )
        return cls(check_program(code, field="code"), name_text, first, last, decision_text)

    @property
    def terms(self) -> tuple[str, str, int, int | None, str]:
        """What a registration says; who recorded it and when are not its terms."""
        return (self.code, self.name, self.from_year, self.to_year, self.decision)

    def valid_for(self, year: int) -> bool:
        return self.from_year <= year and (self.to_year is None or year <= self.to_year)

    @property
    def years(self) -> str:
        """Its plan years as people say them: 'up to 2025', '2026 to 2035', 'from 2026 on'."""
        if self.to_year is None:
            return f"from {self.from_year} on"
        if self.from_year == limits.YEAR_MIN:
            return f"up to {self.to_year}"
        if self.from_year == self.to_year:
            return f"{self.from_year} only"
        return f"{self.from_year} to {self.to_year}"

    def check_same(self, asked: ProgramInfo) -> None:
        """Registering a program again: the same terms change nothing; others are refused."""
        if asked.terms != self.terms:
            raise InvalidInput(
                f"program {self.code} is already registered as {self.name!r} (plan years "
                f"{self.years}, {self.decision}); a code is never reused: register other "
                "terms under a new code",
                field="code",
            )


# The built-in programs, which every ledger holds: the three national target programs of
# 2021-2025 (values.PROGRAMS names them), valid for plan years up to 2025; from 2026 they are
# one program, registered under its own code. Valid from YEAR_MIN, not 2021: before the
# registry the ledger took these codes for any plan year, and the same programs ran before
# 2021 under the same names (new rural areas from 2010, poverty reduction before it), so a
# line it took then is not refused when opened again (a file imported again, say). Their
# decisions are the National Assembly's resolutions approving each program's 2021-2025
# investment policy, as NQ 257/2025/QH15 approves the merged one.
BUILT_IN_TO_YEAR = 2025
BUILT_IN_DECISIONS = {
    "NTM": "NQ 24/2021/QH15",
    "GNBV": "NQ 25/2021/QH15",
    "DTTS": "NQ 120/2020/QH14",
}
BUILT_IN = {
    code: ProgramInfo(code, name, limits.YEAR_MIN, BUILT_IN_TO_YEAR, BUILT_IN_DECISIONS[code])
    for code, name in PROGRAMS.items()
}
# Who records them in a new ledger: the ledger itself, not a person.
BUILT_IN_ACTOR = "budget-ledger init"
# The highest counterpart ratio a program may ask: ten times its central funds.
RATIO_BP_MAX = 100_000


def parse_ratio(text: str | int | float, *, field: str = "ratio") -> int:
    """A counterpart ratio as people write it, a percentage with up to two decimals ("10",
    "10,5", "10.25"), in hundredths of a percent (1050 for 10,5%)."""
    match = re.fullmatch(r"\s*(\d{1,4})(?:[.,](\d{1,2}))?\s*%?\s*", str(text))
    if match is None:
        raise InvalidInput(
            f"{text!r} is not a percentage: write it as 10 or 10,5 (NSĐP per 100 of NSTW)",
            field=field,
        )
    whole, fraction = match.group(1), (match.group(2) or "").ljust(2, "0")
    ratio_bp = int(whole) * 100 + int(fraction)
    if ratio_bp > RATIO_BP_MAX:
        raise InvalidInput(
            f"{text!r} is above 1000%: a program asks at most ten times its central funds",
            field=field,
        )
    return ratio_bp


class Program(Aggregate):
    TOPIC = "budget_ledger:Program"

    class Registered(Aggregate.Created):
        TOPIC = "budget_ledger:Program.Registered"
        code: str
        name: str
        from_year: int
        to_year: int | None
        decision: str
        actor: str

    class Created(Aggregate.Created):
        """The library's default creation event; never used here, but every event class
        of an aggregate with an explicit topic must have one."""

        TOPIC = "budget_ledger:Program.Created"

    class RatioSet(Aggregate.Event):
        """From plan year ``year`` the program asks local counterpart funds (NSĐP) of at
        least ``ratio_bp`` hundredths of a percent of its central funds (NSTW), by
        ``decision``. A later one for the same year replaces it."""

        TOPIC = "budget_ledger:Program.RatioSet"
        year: int
        ratio_bp: int
        decision: str
        actor: str

        def apply(self, program: Program) -> None:
            program.ratios = {**getattr(program, "ratios", {}), self.year: self.ratio_bp}

    def __init__(
        self, code: str, name: str, from_year: int, to_year: int | None, decision: str, actor: str
    ) -> None:
        self.code = code
        self.name = name
        self.from_year = from_year
        self.to_year = to_year
        self.decision = decision
        self.actor = actor
        self.ratios: dict[int, int] = {}

    @classmethod
    def register(cls, terms: ProgramInfo, *, actor: str, recorded_at: datetime) -> Program:
        assert terms.to_year is None or terms.from_year <= terms.to_year, terms
        return cls._create(
            cls.Registered,
            id=program_id(terms.code),
            code=terms.code,
            name=terms.name,
            from_year=terms.from_year,
            to_year=terms.to_year,
            decision=terms.decision,
            actor=actor,
            timestamp=recorded_at,
        )

    def set_ratio(
        self, year: int, ratio_bp: int, *, decision: str, actor: str, at: datetime
    ) -> bool:
        """Record the counterpart ratio of plan year ``year``; False (nothing recorded) when
        the same ratio is already in force for that year."""
        if not self.valid_for(year):
            raise InvalidInput(
                f"program {self.code} is valid for plan years {self.info.years}, not {year}",
                field="year",
            )
        assert 0 <= ratio_bp <= RATIO_BP_MAX, ratio_bp
        if self.ratios.get(year) == ratio_bp:
            return False
        self.trigger_event(
            self.RatioSet,
            year=year,
            ratio_bp=ratio_bp,
            decision=decision,
            actor=actor,
            timestamp=at,
        )
        return True

    def valid_for(self, year: int) -> bool:
        return self.from_year <= year and (self.to_year is None or year <= self.to_year)

    @property
    def info(self) -> ProgramInfo:
        return ProgramInfo(
            self.code,
            self.name,
            self.from_year,
            self.to_year,
            self.decision,
            actor=self.actor,
            registered_at=self.created_on,
        )


def display_name(program: ProgramInfo, lang: str) -> str:
    """A program's name in a report of one language: a built-in program's name is
    bilingual ("giảm nghèo bền vững (sustainable poverty reduction)"), and a Vietnamese
    report shows its Vietnamese part, an English one its English part; a registered
    program's name is shown as registered."""
    built_in = BUILT_IN.get(program.code)
    if built_in is None or program.name != built_in.name:
        return program.name
    vietnamese, _, english = program.name.partition(" (")
    return english.removesuffix(")") if lang == "en" and english else vietnamese


def registry(recorded: Iterable[ProgramInfo]) -> list[ProgramInfo]:
    """Every program of a ledger, by code: those it recorded, and the built-in ones it has
    not (a ledger made before the registry existed recorded none)."""
    programs = dict(BUILT_IN)
    programs.update((program.code, program) for program in recorded)
    return sorted(programs.values(), key=lambda program: program.code)


def not_valid(
    code: str, year: int, program: ProgramInfo | None, programs: Iterable[ProgramInfo]
) -> ProgramNotValid:
    """The refusal of a line of ``code`` for plan year ``year`` (``program``: the one with
    that code, if any), naming the programs valid for that year."""
    if program is None:
        said = f"no program has code {code}"
    else:
        said = f"program {code} is valid for plan years {program.years}"
    valid = [p for p in programs if p.valid_for(year)]
    if valid:
        listed = ", ".join(f"{p.code} ({p.name})" for p in valid)
        told = f"for {year} the valid programs are: {listed}"
    else:
        told = f"no program is registered for {year}"
    return ProgramNotValid(f"{said}; {told}", field="program", code=code, year=year)
