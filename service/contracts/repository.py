"""Queries the contract pages need besides the service's own: organization pick-lists and names."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.registry.models import Organization, OrganizationKind, OrganizationStatus

MAX_CHOICES = 2000


class OrganizationLookup:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def choices(self, kind: OrganizationKind) -> list[tuple[uuid.UUID, str]]:
        """Verified organizations of a kind, by name, for a select box."""
        rows = await self.session.execute(
            select(Organization.id, Organization.name)
            .where(Organization.kind == kind, Organization.status == OrganizationStatus.VERIFIED)
            .order_by(Organization.name)
            .limit(MAX_CHOICES)
        )
        return [(r.id, r.name) for r in rows.all()]

    async def names(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not ids:
            return {}
        rows = await self.session.execute(select(Organization.id, Organization.name).where(Organization.id.in_(ids)))
        return {r.id: r.name for r in rows.all()}
