"""A small 2021 world for the report API tests: one fair, two agencies, two firms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.fairs.models import MeetingStatus
from tests.factories import Account, create_staff, verified_agency, verified_firm
from tests.factories_contracts import confirmed_contract, join, make_fair, make_meeting, report_contract


@dataclass
class Small:
    staff: Account
    a1: Account
    a2: Account
    f1: Account
    f2: Account
    fair_id: str


@pytest.fixture
async def small(
    client: AsyncTestClient[Litestar], sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> Small:
    staff = await create_staff(client, sessionmaker, settings)
    a1 = await verified_agency(client, staff, name="은평구청", agency_type="district_office")
    a2 = await verified_agency(client, staff, name="서울시설공단", agency_type="city_affiliate")
    f1 = await verified_firm(client, staff, name="=cmd|' /C calc'!A0", firm_types=["social_enterprise"],
                             certification_number="2021-1", certified_until="2030-01-01")  # fmt: skip
    f2 = await verified_firm(client, staff, name="마포협동조합", firm_types=["cooperative"])
    fair = await make_fair(sessionmaker, "2021 1차 온라인상담회", date(2021, 6, 10))
    await join(sessionmaker, fair, a1, a2, f1, f2)
    m1 = await make_meeting(sessionmaker, a1, f1, fair_id=fair, starts_at=datetime(2021, 6, 10, 1, tzinfo=UTC))
    m2 = await make_meeting(sessionmaker, a2, f2, fair_id=fair, starts_at=datetime(2021, 6, 10, 1, tzinfo=UTC))
    await make_meeting(
        sessionmaker, a1, f2, fair_id=fair, starts_at=datetime(2021, 6, 10, 2, tzinfo=UTC),
        status=MeetingStatus.CANCELLED,
    )  # fmt: skip
    await confirmed_contract(client, a1, f1, amount_krw=10_000_000, meeting_id=str(m1), contract_date="2021-07-01")
    await confirmed_contract(client, a2, f2, amount_krw=5_000_000, meeting_id=str(m2), contract_date="2021-08-15")
    await confirmed_contract(client, a1, f2, amount_krw=1_000, contract_date="2021-08-20", category_code="PRT-BOK")
    await report_contract(client, f1, a1, f1, amount_krw=999, contract_date="2021-09-01")
    return Small(staff, a1, a2, f1, f2, str(fair))
