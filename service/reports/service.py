"""Figures: linked sales by any grouping, fair summaries, year-on-year, targets.

Staff see everything; an agency or a firm sees only rows of its own contracts (and its
own meetings in the totals); unverified organizations see nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from service.contracts.targets import TargetReport, TargetService, check_year
from service.identity.principal import Principal
from service.lib.errors import Forbidden, ValidationFailed
from service.lib.i18n import current_locale
from service.reports import repository as repo
from service.reports.arithmetic import GroupRow, YearOverYearRow, year_over_year
from service.reports.labels import group_label
from service.reports.repository import GROUP_BYS, SalesFilter


@dataclass(frozen=True)
class SalesTotal:
    contracts: int
    amount_krw: int
    meetings: int
    agencies: int
    firms: int


@dataclass(frozen=True)
class SalesReport:
    group_by: str
    filter: SalesFilter
    rows: list[GroupRow]
    total: SalesTotal


@dataclass(frozen=True)
class FairSummary:
    fair_id: uuid.UUID
    name: str
    first_day: str
    agencies: int
    firms: int
    meetings: int
    linked_contracts: int
    linked_sales_krw: int


@dataclass(frozen=True)
class FairSummaryReport:
    fairs: list[FairSummary]
    total: FairSummary  # distinct agencies and firms across the fairs, sums of the rest


def scoped(viewer: Principal, f: SalesFilter) -> SalesFilter:
    """Restrict an agency or firm to its own rows; staff keep the filter as asked."""
    viewer.require_verified()
    if viewer.is_staff:
        return f
    if viewer.organization_id is None:
        raise Forbidden("No organization.")
    if viewer.is_agency:
        return SalesFilter(f.year, f.fair_ids, f.linked_only, viewer.organization_id, None, f.channels)
    return SalesFilter(f.year, f.fair_ids, f.linked_only, None, viewer.organization_id, f.channels)


def check_group_by(group_by: str) -> str:
    if group_by not in GROUP_BYS:
        raise ValidationFailed.single("group_by", "must be one of " + ", ".join(GROUP_BYS))
    return group_by


def sort_rows(group_by: str, rows: list[GroupRow]) -> list[GroupRow]:
    """Months in calendar order; every other grouping largest amount first (ties by label)."""
    if group_by == "month":
        return sorted(rows, key=lambda r: r.key or "")
    return sorted(rows, key=lambda r: (-r.amount_krw, r.label, r.key or ""))


class ReportService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def sales(self, viewer: Principal, f: SalesFilter, group_by: str) -> SalesReport:
        f = scoped(viewer, f)
        check_group_by(group_by)
        check_year(f.year)
        locale = current_locale()
        raw = await repo.grouped(self.session, f, group_by)
        rows = [
            GroupRow(
                key=r.key,
                label=group_label(group_by, r.key, r.name, locale),
                contracts=int(r.n),
                amount_krw=int(r.amount),
            )
            for r in raw
        ]
        contracts, amount = await repo.contract_totals(self.session, f)
        meetings, agencies, firms = await repo.participation(self.session, f)
        return SalesReport(
            group_by=group_by,
            filter=f,
            rows=sort_rows(group_by, rows),
            total=SalesTotal(contracts, amount, meetings, agencies, firms),
        )

    async def year_over_year(
        self, viewer: Principal, f: SalesFilter, group_by: str
    ) -> tuple[list[YearOverYearRow], SalesTotal, SalesTotal]:
        if f.year is None:
            raise ValidationFailed.single("year", "required for a year-on-year comparison")
        current = await self.sales(viewer, f, group_by)
        previous = await self.sales(viewer, f.with_year(f.year - 1), group_by)
        return year_over_year(current.rows, previous.rows), current.total, previous.total

    async def fair_summary(
        self, viewer: Principal, year: int | None, fair_ids: tuple[uuid.UUID, ...] = ()
    ) -> FairSummaryReport:
        viewer.require_verified()
        if not viewer.is_staff:
            raise Forbidden("Fair summaries are for support-center staff.")
        check_year(year)
        fairs = [
            FairSummary(
                fair_id=r.id,
                name=r.name,
                first_day=r.first_day.isoformat() if r.first_day else "",
                agencies=int(r.agencies),
                firms=int(r.firms),
                meetings=int(r.meetings),
                linked_contracts=int(r.contracts),
                linked_sales_krw=int(r.amount),
            )
            for r in await repo.fair_summaries(self.session, year, fair_ids)
        ]
        agencies, firms = await repo.distinct_participants(self.session, [f.fair_id for f in fairs])
        total = FairSummary(
            fair_id=uuid.UUID(int=0),
            name="",
            first_day="",
            agencies=agencies,
            firms=firms,
            meetings=sum(f.meetings for f in fairs),
            linked_contracts=sum(f.linked_contracts for f in fairs),
            linked_sales_krw=sum(f.linked_sales_krw for f in fairs),
        )
        return FairSummaryReport(fairs=fairs, total=total)

    async def targets(self, viewer: Principal, year: int) -> TargetReport:
        """Staff: every agency; an agency: its own row. Firms have no targets."""
        return await TargetService(self.session).targets(viewer, year)

    async def data_years(self, viewer: Principal) -> list[int]:
        """Years with figures for the viewer, newest first."""
        viewer.require_verified()
        return await TargetService(self.session).data_years(viewer)
