"""Builders for fair tests: organizations and users inserted directly (fast, for races of
hundreds), principals for calling the services, and fairs with an open booking window."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.accounts.models import User
from service.fairs.models import Fair, FairMode, FairParticipant
from service.fairs.slots import build_grid
from service.identity.principal import Principal
from service.registry.models import Organization
from tests.factories import business_number

FAIR_DAY = "2030-10-20"


def principal_for(user_id: uuid.UUID, role: str, org_id: uuid.UUID | None, name: str = "x") -> Principal:
    return Principal(
        user_id=user_id,
        email=f"{user_id.hex[:8]}@example.kr",
        name=name,
        role=role,
        organization_id=org_id,
        organization_kind=None if role == "staff" else role,
        organization_status=None if role == "staff" else "verified",
        organization_name=name,
        locale="ko",
        token_id=uuid.uuid4(),
    )


async def seed_principals(sessionmaker: async_sessionmaker[AsyncSession], role: str, count: int) -> list[Principal]:
    """`count` verified organizations of `role` (agency/firm) with one user each; staff: users only."""
    orgs: list[dict[str, Any]] = []
    users: list[dict[str, Any]] = []
    out: list[Principal] = []
    for i in range(count):
        org_id = None if role == "staff" else uuid.uuid4()
        user_id = uuid.uuid4()
        if org_id is not None:
            org: dict[str, Any] = {
                "id": org_id,
                "kind": role,
                "name": f"{'기관' if role == 'agency' else '기업'}{i:03d}",
                "status": "verified",
                "district": "mapo",
            }
            if role == "agency":
                org["agency_type"] = "district_office"
            else:
                org["business_number"] = business_number()
            orgs.append(org)
        users.append(
            {
                "id": user_id,
                "email": f"{role}-{user_id.hex[:10]}@example.kr",
                "password_hash": "x",
                "name": f"담당{i}",
                "role": role,
                "organization_id": org_id,
            }
        )
        out.append(principal_for(user_id, role, org_id, f"{role}{i}"))
    async with sessionmaker.begin() as session:
        if orgs:
            await session.execute(insert(Organization), orgs)
        await session.execute(insert(User), users)
    return out


def fair_days(start: str = "10:00", end: str = "15:00", lunch: bool = False) -> list[dict[str, Any]]:
    day: dict[str, Any] = {"date": FAIR_DAY, "start": start, "end": end, "breaks": []}
    if lunch:
        day["breaks"] = [{"start": "12:00", "end": "13:00"}]
    return [day]


async def seed_fair(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    participants: list[Principal] = (),  # type: ignore[assignment]
    mode: str = "first_come",
    days: list[dict[str, Any]] | None = None,
    slot_minutes: int = 30,
    limit: int | None = None,
    opens: datetime | None = None,
    closes: datetime | None = None,
) -> Fair:
    """A fair whose booking window is open now (real time), with the given participants."""
    real_now = datetime.now(UTC)
    async with sessionmaker.begin() as session:
        fair = Fair(
            name="2030 공공구매 온라인상담회",
            mode=FairMode(mode),
            days=days or fair_days(),
            slot_minutes=slot_minutes,
            booking_opens_at=opens or real_now - timedelta(days=1),
            booking_closes_at=closes or real_now + timedelta(days=1),
            max_meetings_per_firm=limit,
        )
        session.add(fair)
        await session.flush()
        for p in participants:
            assert p.organization_id is not None
            session.add(
                FairParticipant(
                    fair_id=fair.id,
                    organization_id=p.organization_id,
                    kind=p.role,
                    room_url=f"https://meet.example/{p.organization_id.hex[:8]}" if p.role == "agency" else None,
                )
            )
    return fair


def starts(fair: Fair) -> list[datetime]:
    return [s.starts_at for s in build_grid(fair.days, fair.slot_minutes)]
