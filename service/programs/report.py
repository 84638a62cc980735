"""The program table of the yearly report (사업명 · 세부내용 · 목표 · 실적 · 달성률): targets staff set,
results read from the data.

- daily_consultation: consultations held (service.consultations.results.held_per_month);
- briefing: sessions held (not cancelled, over), with their attendees in the detail;
- matching_contract, proposal_contract: confirmed contract amounts of those channels (contract date);
- fair: fairs held (first day in the year, last day come);
- cooperation: cooperation activities logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.consultations.results import held_per_month
from service.contracts.models import ContractChannel
from service.contracts.targets import check_year
from service.identity.principal import Principal
from service.lib.amounts import EOK, achievement_rate
from service.lib.clock import now, today
from service.lib.errors import FieldErrors
from service.lib.i18n import current_locale, format_number
from service.programs import repository as repo
from service.programs.labels import PROGRAM_ROWS, label
from service.programs.models import ProgramCode, ProgramTarget

AMOUNT_ROWS = {ProgramCode.MATCHING_CONTRACT, ProgramCode.PROPOSAL_CONTRACT}
MAX_TARGET = 10**13
# The report's own units: 건 for consultations, 회 for sessions, fairs and activities, 억원 for amounts.
UNITS = {
    "daily_consultation": ("건", " cases"),
    "briefing": ("회", " times"),
    "fair": ("회", " times"),
    "cooperation": ("회", " times"),
}


@dataclass(frozen=True)
class ProgramRow:
    code: str
    name: str
    unit: str  # "count" or "krw"
    target: int | None
    actual: int
    monthly: list[int] = field(default_factory=list)  # month 1..12
    detail: str = ""

    @property
    def achievement_rate(self) -> float | None:
        return None if self.target is None else achievement_rate(self.actual, self.target)


@dataclass(frozen=True)
class ProgramReport:
    year: int
    rows: list[ProgramRow]


def figure(code: str, value: int | None, locale: str) -> str:
    """200 → '200건', 10,150,000,000 → '101.5억원' (the report's way); None → '–'."""
    if value is None:
        return "–"
    if code in AMOUNT_ROWS:
        eok = (Decimal(value) / EOK).quantize(Decimal("0.1"))
        shown = f"{eok:,}".removesuffix(".0")
        if locale == "ko":
            return f"{shown}억원"
        billions = (Decimal(value) / 10**9).quantize(Decimal("0.01"))
        return f"KRW {billions:,} bn"
    ko, en = UNITS[code]
    return f"{format_number(value, locale)}{ko if locale == 'ko' else en}"


class ProgramReportService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def set_targets(self, staff: Principal, year: int, targets: dict[str, int]) -> dict[str, int]:
        """Set (or replace) the year's targets of the rows given; other rows keep theirs."""
        errors = FieldErrors()
        if not 2000 <= year <= 2100:
            errors.add("year", "must be between 2000 and 2100")
        codes = {c.value for c in ProgramCode}
        for code, value in targets.items():
            if code not in codes:
                errors.add(f"targets.{code}", "unknown program row; one of " + ", ".join(codes))
            elif isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TARGET:
                errors.add(f"targets.{code}", "must be a whole number from 0 (amounts in won)")
        if not targets:
            errors.add("targets", "give at least one row's target")
        errors.raise_if_any()
        for code, value in targets.items():
            statement = insert(ProgramTarget).values(year=year, code=code, target=value, updated_by=staff.user_id)
            await self.session.execute(
                statement.on_conflict_do_update(
                    index_elements=["year", "code"],
                    set_={"target": value, "updated_by": staff.user_id, "updated_at": now()},
                )
            )
        return await self.targets(year)

    async def targets(self, year: int) -> dict[str, int]:
        rows = await self.session.execute(
            select(ProgramTarget.code, ProgramTarget.target).where(ProgramTarget.year == year)
        )
        return {str(code): int(target) for code, target in rows.tuples()}

    async def report(self, year: int) -> ProgramReport:
        check_year(year)
        locale = current_locale()
        targets = await self.targets(year)
        sessions, attendees = await repo.sessions_held(self.session, year, now())
        monthly = {
            "daily_consultation": await held_per_month(self.session, year),
            "briefing": sessions,
            "matching_contract": await repo.contracts_by_month(self.session, year, ContractChannel.MATCHING_CONTRACT),
            "proposal_contract": await repo.contracts_by_month(self.session, year, ContractChannel.PROPOSAL),
            "fair": await repo.fairs_held(self.session, year, today()),
            "cooperation": await repo.activities_by_month(self.session, year),
        }
        rows = []
        for code in ProgramCode:
            months = [int(monthly[code.value].get(m, 0)) for m in range(1, 13)]
            detail = ""
            if code == ProgramCode.BRIEFING and attendees:
                detail = f"{format_number(attendees, locale)}명 참석" if locale == "ko" else f"{attendees} attended"
            rows.append(
                ProgramRow(
                    code=code.value,
                    name=label(PROGRAM_ROWS, code.value, locale),
                    unit="krw" if code in AMOUNT_ROWS else "count",
                    target=targets.get(code.value),
                    actual=sum(months),
                    monthly=months,
                    detail=detail,
                )
            )
        return ProgramReport(year=year, rows=rows)
