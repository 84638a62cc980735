"""Yearly purchase targets against what agencies bought: confirmed contracts and recorded purchases.

Staff see every agency; an agency sees its own row; firms have no targets. The figures (reports) and the
needs page of an agency (its progress beside its open needs) both read them from here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from service.identity.principal import Principal
from service.lib.amounts import achievement_rate
from service.lib.clock import today
from service.lib.errors import Forbidden, ValidationFailed
from service.needs.service import NeedService


@dataclass(frozen=True)
class TargetRow:
    agency_id: str
    name: str
    target_krw: int
    contracts_krw: int
    purchases_krw: int

    @property
    def actual_krw(self) -> int:
        return self.contracts_krw + self.purchases_krw

    @property
    def achievement_rate(self) -> float | None:
        return achievement_rate(self.actual_krw, self.target_krw)


@dataclass(frozen=True)
class TargetReport:
    year: int
    rows: list[TargetRow]
    total: TargetRow


@dataclass(frozen=True)
class TargetProgress:
    year: int
    target_krw: int
    actual_krw: int
    remaining_krw: int
    achievement_rate: float | None
    open_needs_krw: int


def target_totals(rows: Iterable[TargetRow]) -> TargetRow:
    """The all-agencies row of a targets report."""
    target = contracts = purchases = 0
    for row in rows:
        target += row.target_krw
        contracts += row.contracts_krw
        purchases += row.purchases_krw
    return TargetRow(agency_id="", name="", target_krw=target, contracts_krw=contracts, purchases_krw=purchases)


def check_year(year: int | None) -> int | None:
    if year is not None and not 2000 <= year <= 2100:
        raise ValidationFailed.single("year", "must be between 2000 and 2100")
    return year


async def target_rows(
    session: AsyncSession, year: int, current_year: int, agency_id: uuid.UUID | None
) -> list[Row[Any]]:
    """Per agency with a target or any purchase in the year: target, confirmed contracts, recorded purchases.

    The target is the year's `purchase_targets` row; for the current year an agency's
    profile field `annual_target_krw` stands in when no row was entered.
    """
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    scope = "AND o.id = :agency_id" if agency_id is not None else ""
    sql = f"""
        WITH c AS (
          SELECT agency_id, sum(amount_krw) AS amount FROM contracts
          WHERE status = 'confirmed' AND contract_date >= :start AND contract_date < :end GROUP BY agency_id
        ), p AS (
          SELECT agency_id, sum(amount_krw) AS amount FROM purchase_records WHERE year = :year GROUP BY agency_id
        ), t AS (
          SELECT agency_id, target_krw FROM purchase_targets WHERE year = :year
        )
        SELECT o.id, o.name, o.agency_type::text AS agency_type,
          coalesce(t.target_krw, CASE WHEN :year = :current_year THEN o.annual_target_krw END, 0) AS target,
          coalesce(c.amount, 0) AS contracts, coalesce(p.amount, 0) AS purchases
        FROM organizations o
          LEFT JOIN c ON c.agency_id = o.id LEFT JOIN p ON p.agency_id = o.id LEFT JOIN t ON t.agency_id = o.id
        WHERE o.kind = 'agency' {scope}
          AND (t.agency_id IS NOT NULL OR c.agency_id IS NOT NULL OR p.agency_id IS NOT NULL
               OR (:year = :current_year AND o.annual_target_krw IS NOT NULL))
        ORDER BY o.name, o.id"""
    params: dict[str, Any] = {"start": start, "end": end, "year": year, "current_year": current_year}
    if agency_id is not None:
        params["agency_id"] = agency_id
    return list((await session.execute(text(sql), params)).all())


def report_year(year: int | None, years: list[int]) -> tuple[int, list[int]]:
    """The year a report shows (the one asked for, else the latest with figures, else this year) and
    the years its selector offers (those with figures, this year and the one shown), newest first."""
    chosen = year if year is not None else (years[0] if years else today().year)
    check_year(chosen)
    return chosen, sorted({*years, today().year, chosen}, reverse=True)


class TargetService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def targets(self, viewer: Principal, year: int) -> TargetReport:
        """Staff: every agency; an agency: its own row. Firms have no targets."""
        viewer.require_verified()
        check_year(year)
        if viewer.is_firm:
            raise Forbidden("Purchase targets are for agencies and staff.")
        scope = None if viewer.is_staff else viewer.organization_id
        raw = await target_rows(self.session, year, today().year, scope)
        rows = [
            TargetRow(
                agency_id=str(r.id),
                name=r.name,
                target_krw=int(r.target),
                contracts_krw=int(r.contracts),
                purchases_krw=int(r.purchases),
            )
            for r in raw
        ]
        return TargetReport(year=year, rows=rows, total=target_totals(rows))

    async def data_years(self, viewer: Principal) -> list[int]:
        """The years the viewer has figures for (its confirmed contracts, and for agencies and staff
        targets and recorded purchases), newest first; the reports open on the first."""
        own = None if viewer.is_staff else viewer.organization_id
        side = "firm_id" if viewer.is_firm else "agency_id"
        scope = "" if own is None else f" AND {side} = :own"
        sql = f"SELECT EXTRACT(YEAR FROM contract_date)::int AS year FROM contracts WHERE status = 'confirmed'{scope}"
        if not viewer.is_firm:
            where = "" if own is None else " WHERE agency_id = :own"
            sql += f" UNION SELECT year FROM purchase_targets{where} UNION SELECT year FROM purchase_records{where}"
        rows = await self.session.execute(text(f"SELECT year FROM ({sql}) y ORDER BY year DESC"), {"own": own})
        return [int(r.year) for r in rows]

    async def progress(self, actor: Principal, year: int) -> TargetProgress | None:
        """The agency's yearly priority-purchase target beside its needs: bought so far, still open.

        Bought = confirmed contracts + recorded purchases of the year (the figures' own rule);
        the target is the year's staff-entered row, else the profile's `annual_target_krw`.
        """
        if not actor.is_agency or actor.organization_id is None:
            return None
        report = await self.targets(actor, year)
        if not report.rows:
            return None
        row = report.rows[0]
        open_budget = await NeedService(self.session).open_budget_krw(actor.organization_id)
        return TargetProgress(
            year=year,
            target_krw=row.target_krw,
            actual_krw=row.actual_krw,
            remaining_krw=max(0, row.target_krw - row.actual_krw),
            achievement_rate=row.achievement_rate,
            open_needs_krw=open_budget,
        )
