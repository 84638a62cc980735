"""Queries the contract pages need besides the service's own: organization names (pick-lists search
through service.accounts.picker)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.registry.models import Organization


class OrganizationLookup:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def names(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not ids:
            return {}
        rows = await self.session.execute(select(Organization.id, Organization.name).where(Organization.id.in_(ids)))
        return {r.id: r.name for r in rows.all()}
