"""Keep each firm's track record (confirmed contracts and sales) current for matching."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from service.contracts.service import ContractService
from service.lib.events import subscribe
from service.registry.models import Organization


@subscribe("contract.confirmed")
@subscribe("contract.changed")
async def refresh_track_record(session: AsyncSession, contract: Any, **_: Any) -> None:
    totals = await ContractService(session).firm_confirmed_totals(contract.firm_id)
    await session.execute(
        update(Organization)
        .where(Organization.id == contract.firm_id)
        .values(confirmed_contracts=totals.contracts, confirmed_sales_krw=totals.amount_krw)
    )
