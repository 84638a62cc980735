"""Builders for contracts and reports tests: fairs, participants and meetings via the ORM
(until the fairs booking service lands), contracts through the API."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.fairs.models import Fair, FairMode, FairParticipant, Meeting, MeetingStatus
from tests.factories import Account


async def make_fair(
    sessionmaker: async_sessionmaker[AsyncSession],
    name: str = "2021 공공구매 온라인상담회",
    day: date = date(2021, 6, 10),
) -> uuid.UUID:
    async with sessionmaker.begin() as session:
        fair = Fair(
            name=name,
            mode=FairMode.FIRST_COME,
            days=[{"date": day.isoformat(), "start": "10:00", "end": "17:00"}],
            slot_minutes=30,
            booking_opens_at=datetime(day.year, day.month, 1, tzinfo=UTC) - timedelta(days=30),
            booking_closes_at=datetime(day.year, day.month, 1, tzinfo=UTC),
        )
        session.add(fair)
        await session.flush()
        return fair.id


async def join(sessionmaker: async_sessionmaker[AsyncSession], fair_id: uuid.UUID, *accounts: Account) -> None:
    async with sessionmaker.begin() as session:
        for account in accounts:
            kind = "agency" if "agency" in account.email else "firm"
            session.add(FairParticipant(fair_id=fair_id, organization_id=uuid.UUID(account.organization_id), kind=kind))


async def make_meeting(
    sessionmaker: async_sessionmaker[AsyncSession],
    agency: Account,
    firm: Account,
    *,
    fair_id: uuid.UUID | None = None,
    starts_at: datetime = datetime(2021, 6, 10, 1, 0, tzinfo=UTC),
    status: MeetingStatus = MeetingStatus.HELD,
) -> uuid.UUID:
    async with sessionmaker.begin() as session:
        meeting = Meeting(
            fair_id=fair_id,
            agency_id=uuid.UUID(agency.organization_id),
            firm_id=uuid.UUID(firm.organization_id),
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=30),
            status=status,
        )
        session.add(meeting)
        await session.flush()
        return meeting.id


def contract_payload(agency: Account, firm: Account, **fields: Any) -> dict[str, Any]:
    return {
        "agency_id": agency.organization_id,
        "firm_id": firm.organization_id,
        "amount_krw": 12_000_000,
        "contract_date": "2021-07-01",
        "title": "청사 방역 소독 용역",
        "category_code": "CLN-DIS",
        **fields,
    }


async def report_contract(
    client: AsyncTestClient[Litestar], by: Account, agency: Account, firm: Account, **fields: Any
) -> dict[str, Any]:
    response = await client.post("/api/v1/contracts", json=contract_payload(agency, firm, **fields), headers=by.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def confirmed_contract(
    client: AsyncTestClient[Litestar], agency: Account, firm: Account, **fields: Any
) -> dict[str, Any]:
    body = await report_contract(client, firm, agency, firm, **fields)
    response = await client.post(f"/api/v1/contracts/{body['id']}/confirm", headers=agency.headers)
    assert response.status_code == 200, response.text
    confirmed: dict[str, Any] = response.json()
    return confirmed
