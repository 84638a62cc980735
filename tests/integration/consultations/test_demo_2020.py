"""The demo's 2020: exactly 200 consultations held, logged through the service, once only."""

from __future__ import annotations

import random
import uuid
from datetime import date

from sqlalchemy import func, select

from service.consultations.demo import HELD_2020, MONTHLY_2020, demo_2020
from service.consultations.hours import HoursService
from service.consultations.models import Consultation, ConsultationStatus
from service.consultations.results import held_per_month
from service.identity.principal import Principal
from service.registry.models import Organization
from tests.factories import create_staff, verified_agency, verified_firm


def staff_principal(user_id: str) -> Principal:
    return Principal(
        user_id=uuid.UUID(user_id),
        email="staff@center.kr",
        name="직원",
        role="staff",
        organization_id=None,
        organization_kind=None,
        organization_status=None,
        organization_name=None,
        locale="ko",
        token_id=uuid.uuid4(),
    )


async def test_demo_2020_holds_exactly_200_consultations(client, sessionmaker, settings):
    staff = await create_staff(client, sessionmaker, settings)
    ids = [
        uuid.UUID((await verified_firm(client, staff)).organization_id or ""),
        uuid.UUID((await verified_agency(client, staff)).organization_id or ""),
    ]
    async with sessionmaker.begin() as session:
        organizations = list(await session.scalars(select(Organization).where(Organization.id.in_(ids))))
        assert await demo_2020(session, staff_principal(staff.user_id), organizations, random.Random(2020)) == HELD_2020
    async with sessionmaker.begin() as session:
        counts = await held_per_month(session, 2020)
        assert counts == dict(enumerate(MONTHLY_2020, start=1))
        assert sum(counts.values()) == 200
        held = await session.scalar(
            select(func.count()).select_from(Consultation).where(Consultation.status == ConsultationStatus.HELD)
        )
        assert held == 200
        # Today's requests see the demo staff member's weekly hours: mornings online, afternoons at the center.
        windows = await HoursService(session).windows([uuid.UUID(staff.user_id)], date(2026, 12, 7), 7)
        assert len(windows) == 10
        # Once only: a second run adds nothing.
        assert await demo_2020(session, staff_principal(staff.user_id), organizations, random.Random(1)) == 200
        assert sum((await held_per_month(session, 2020)).values()) == 200
