"""Request mode: firms request, agencies decide, the scheduler places accepted requests once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.fairs.jobs import schedule_closed_fairs
from service.fairs.models import Fair, Meeting, MeetingRequest
from tests.factories import create_staff, verified_agency, verified_firm
from tests.factories_fairs import seed_fair, seed_principals

Client = AsyncTestClient[Litestar]


def request_fair(**over: object) -> dict[str, object]:
    real_now = datetime.now(UTC)
    body: dict[str, object] = {
        "name": "요청형 상담회",
        "mode": "requests",
        "days": [{"date": "2030-11-03", "start": "10:00", "end": "11:00"}],
        "slot_minutes": 20,
        "booking_opens_at": (real_now - timedelta(hours=1)).isoformat(),
        "booking_closes_at": (real_now + timedelta(days=1)).isoformat(),
    }
    body.update(over)
    return body


class TestRequestFlow:
    async def test_request_accept_schedule_and_finalize(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        agency = await verified_agency(client, staff)
        other_agency = await verified_agency(client, staff)
        firm = await verified_firm(client, staff)
        fair = (await client.post("/api/v1/fairs", json=request_fair(), headers=staff.headers)).json()
        orgs = [agency.organization_id, other_agency.organization_id, firm.organization_id]
        await client.post(
            f"/api/v1/fairs/{fair['id']}/participants", json={"organization_ids": orgs}, headers=staff.headers
        )
        url = f"/api/v1/fairs/{fair['id']}/requests"
        first = await client.post(
            url, json={"agency_id": agency.organization_id, "priority": 3, "message": "방역 상담"}, headers=firm.headers
        )
        assert first.status_code == 201, first.text
        assert first.json()["status"] == "pending"
        dup = await client.post(url, json={"agency_id": agency.organization_id, "priority": 1}, headers=firm.headers)
        assert dup.status_code == 409
        second = await client.post(
            url, json={"agency_id": other_agency.organization_id, "priority": 1}, headers=firm.headers
        )
        # booking directly is refused in request mode
        direct = await client.post(
            f"/api/v1/fairs/{fair['id']}/meetings",
            json={"agency_id": agency.organization_id, "start": "2030-11-03T10:00:00+09:00"},
            headers=firm.headers,
        )
        assert direct.status_code == 409 and direct.json()["rule"] == "mode"
        # only the agency decides
        assert (
            await client.post(f"/api/v1/requests/{first.json()['id']}/accept", headers=firm.headers)
        ).status_code == 403
        inbox = (await client.get(url, headers=agency.headers)).json()
        assert [r["id"] for r in inbox] == [first.json()["id"]]
        accepted = await client.post(f"/api/v1/requests/{first.json()['id']}/accept", headers=agency.headers)
        assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
        assert (
            await client.post(f"/api/v1/requests/{second.json()['id']}/accept", headers=other_agency.headers)
        ).status_code == 200

        result = await client.post(f"/api/v1/fairs/{fair['id']}/schedule", headers=staff.headers)
        assert result.status_code == 200, result.text
        assert result.json()["scheduled"] == 2 and result.json()["unscheduled"] == []
        agenda = (await client.get("/api/v1/me/meetings", headers=firm.headers)).json()
        assert len(agenda) == 2 and all(m["provisional"] for m in agenda)
        assert agenda[0]["start"] != agenda[1]["start"]  # the firm is never in two places
        objection = await client.post(
            f"/api/v1/meetings/{agenda[0]['id']}/objection",
            json={"message": "그 시간은 어렵습니다"},
            headers=firm.headers,
        )
        assert objection.status_code == 200
        # running again places nothing twice
        again = await client.post(f"/api/v1/fairs/{fair['id']}/schedule", headers=staff.headers)
        assert again.json()["scheduled"] == 0
        final = await client.post(f"/api/v1/fairs/{fair['id']}/agenda/final", headers=staff.headers)
        assert final.json() == {"finalized": 2}
        agenda = (await client.get("/api/v1/me/meetings", headers=firm.headers)).json()
        assert not any(m["provisional"] for m in agenda)


class TestSchedulingJob:
    async def test_job_schedules_a_closed_fair_once_even_with_several_runners(
        self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        agencies = await seed_principals(sessionmaker, "agency", 3)
        firms = await seed_principals(sessionmaker, "firm", 4)
        real_now = datetime.now(UTC)
        fair = await seed_fair(
            sessionmaker,
            participants=[*agencies, *firms],
            mode="requests",
            opens=real_now - timedelta(days=2),
            closes=real_now - timedelta(minutes=1),
        )
        async with sessionmaker.begin() as session:
            for firm in firms:
                for agency in agencies:
                    session.add(
                        MeetingRequest(
                            fair_id=fair.id,
                            firm_id=firm.organization_id,
                            agency_id=agency.organization_id,
                            priority=2,
                            status="accepted",
                        )
                    )
        runs = await asyncio.gather(*(schedule_closed_fairs(sessionmaker, settings) for _ in range(4)))
        assert sum(runs) == 1
        assert await schedule_closed_fairs(sessionmaker, settings) == 0
        async with sessionmaker() as session:
            meetings = await session.scalar(select(func.count()).select_from(Meeting).where(Meeting.fair_id == fair.id))
            assert meetings == 12  # 10 slots, 3 tables, 4 firms: everything fits
            scheduled = await session.get(Fair, fair.id)
            assert scheduled is not None and scheduled.scheduled_at is not None
            assert str(scheduled.agenda_status) == "provisional"
