"""Builders for the notify tests: organizations, users, a fair and a meeting, straight through the ORM."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.accounts.models import Role, User
from service.fairs.models import Fair, FairMode, FairParticipant, Meeting
from service.lib.clock import now
from service.notify.models import OutboxMessage, OutboxStatus
from service.registry.models import AgencyType, Organization, OrganizationKind, OrganizationStatus
from tests.factories import business_number

ROOM = "https://meet.example.kr/room-7"


async def organization(session: AsyncSession, kind: str, name: str, users: list[tuple[str, str]]) -> Organization:
    """An organization with users given as (email, locale)."""
    org = Organization(
        kind=OrganizationKind(kind),
        name=name,
        status=OrganizationStatus.VERIFIED,
        district="mapo",
        agency_type=AgencyType.DISTRICT_OFFICE if kind == "agency" else None,
        business_number=business_number() if kind == "firm" else None,
        firm_types=["cooperative"] if kind == "firm" else [],
    )
    session.add(org)
    await session.flush()
    for email, locale in users:
        session.add(
            User(
                email=email,
                password_hash="x",
                name=f"{name} 담당",
                role=Role(kind),
                organization_id=org.id,
                member_role="admin",
                locale=locale,
            )
        )
    await session.flush()
    return org


async def meeting(
    session: AsyncSession,
    starts_at: datetime | None = None,
    agency_users: list[tuple[str, str]] | None = None,
    firm_users: list[tuple[str, str]] | None = None,
) -> Meeting:
    tag = uuid.uuid4().hex[:6]
    agency = await organization(session, "agency", "은평구청", agency_users or [(f"buyer-{tag}@eunpyeong.go.kr", "ko")])
    firm = await organization(session, "firm", "마포방역협동조합", firm_users or [(f"ceo-{tag}@mapo.coop", "ko")])
    start = starts_at or (now() + timedelta(days=3)).replace(microsecond=0)
    fair = Fair(
        name="2026 공공구매 온라인상담회",
        mode=FairMode.FIRST_COME,
        days=[{"date": start.date().isoformat(), "start": "10:00", "end": "17:00", "breaks": []}],
        slot_minutes=30,
        booking_opens_at=start - timedelta(days=10),
        booking_closes_at=start - timedelta(hours=1),
    )
    session.add(fair)
    await session.flush()
    session.add(FairParticipant(fair_id=fair.id, organization_id=agency.id, kind="agency", room_url=ROOM))
    session.add(FairParticipant(fair_id=fair.id, organization_id=firm.id, kind="firm"))
    end = start + timedelta(minutes=30)
    m = Meeting(fair_id=fair.id, agency_id=agency.id, firm_id=firm.id, starts_at=start, ends_at=end)
    session.add(m)
    await session.flush()
    return m


async def outbox(session: AsyncSession, prefix: str = "", status: OutboxStatus | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith(prefix)).order_by(OutboxMessage.dedupe_key)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    return list((await session.scalars(query)).all())


async def count_outbox(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


async def set_outbox(sessionmaker: async_sessionmaker[AsyncSession], message_id: uuid.UUID, **values: Any) -> None:
    """Change one outbox row in place (a failure, a broken context), committed."""
    async with sessionmaker.begin() as session:
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values))
