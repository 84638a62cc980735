"""precision@5 of the ranking on the labelled set (see labelled.py); the goal is at least 0.8."""

import uuid
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from service.identity.principal import Principal
from service.matching.service import MatchingService
from service.needs.models import Need
from service.registry.models import Organization, OrganizationKind, OrganizationStatus
from tests.factories import business_number
from tests.integration.matching.labelled import NEEDS, firms_for


async def test_precision_at_5(sessionmaker):
    async with sessionmaker.begin() as session:
        session: AsyncSession
        agency = Organization(
            kind=OrganizationKind.AGENCY,
            name="라벨구청",
            status=OrganizationStatus.VERIFIED,
            district="jung",
            agency_type="district_office",
        )
        session.add(agency)
        await session.flush()
        keys: dict[uuid.UUID, str] = {}
        expectations: list[tuple[Need, set[str]]] = []
        for i, (code, district, title, description, _words, _d) in enumerate(NEEDS):
            firms, expected = firms_for(i)
            for spec in firms:
                org = Organization(
                    kind=OrganizationKind.FIRM,
                    name=spec.name,
                    status=OrganizationStatus.VERIFIED,
                    district=spec.district,
                    region_name="경기" if spec.district == "other" else None,
                    business_number=business_number(),
                    firm_types=spec.firm_types,
                    category_codes=[spec.category],
                    description=spec.description,
                    capacity_krw=spec.capacity_krw,
                    certification_number="X-1" if spec.certified_until else None,
                    certified_until=date.fromisoformat(spec.certified_until) if spec.certified_until else None,
                )
                session.add(org)
                await session.flush()
                keys[org.id] = spec.key
            need = Need(
                agency_id=agency.id,
                title=title,
                description=description,
                category_codes=[code],
                budget_krw=30_000_000,
                needed_by=date.today() + timedelta(days=30),
                delivery_district=district,
            )
            session.add(need)
            await session.flush()
            expectations.append((need, set(expected)))
        viewer = Principal(
            user_id=uuid.uuid4(),
            email="s@x",
            name="s",
            role="staff",
            organization_id=None,
            organization_kind=None,
            organization_status=None,
            organization_name=None,
            locale="ko",
            token_id=uuid.uuid4(),
        )
        hits = 0
        matching = MatchingService(session)
        for need, expected in expectations:
            ranked = await matching.matches(viewer, need, 5, "ko")
            hits += len({keys[f.id] for f, _ in ranked} & expected)
        precision = hits / (5 * len(expectations))
    print(f"precision@5 = {precision:.3f} over {len(expectations)} needs and {len(keys)} firms")
    assert len(expectations) >= 30
    assert precision >= 0.8
