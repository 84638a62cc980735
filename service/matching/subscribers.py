"""Keep each firm's track record (confirmed contracts and sales) current for matching."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from service.config import Settings
from service.contracts.events import ContractChanged, ContractConfirmed, ContractEvent
from service.contracts.service import ContractService
from service.lib.events import subscribe
from service.registry.models import Organization


@subscribe(ContractConfirmed, ContractChanged)
async def refresh_track_record(session: AsyncSession, event: ContractEvent, settings: Settings) -> None:
    firm_id = event.contract.firm_id
    totals = await ContractService(session).firm_confirmed_totals(firm_id)
    await session.execute(
        update(Organization)
        .where(Organization.id == firm_id)
        .values(confirmed_contracts=totals.contracts, confirmed_sales_krw=totals.amount_krw)
    )
