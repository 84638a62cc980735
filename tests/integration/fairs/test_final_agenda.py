"""A final agenda closes its fair's requests: no new request, no decision (409 agenda_final), the
requests still open are closed with a reason, and nobody is reminded to answer them."""

from __future__ import annotations

from datetime import timedelta

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.fairs.models import MeetingRequest, RequestStatus
from service.lib import clock
from service.notify.sweeps import remind_unanswered_requests
from tests.factories import create_staff, verified_agency, verified_firm
from tests.factories_notify import outbox
from tests.integration.fairs.test_requests import request_fair

Client = AsyncTestClient[Litestar]


class TestFinalAgendaClosesRequests:
    async def test_requests_and_decisions_after_the_final_agenda_are_409(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        agency = await verified_agency(client, staff)
        late_agency = await verified_agency(client, staff)
        firm = await verified_firm(client, staff)
        other_firm = await verified_firm(client, staff)
        fair = (await client.post("/api/v1/fairs", json=request_fair(), headers=staff.headers)).json()
        orgs = [agency.organization_id, late_agency.organization_id, firm.organization_id, other_firm.organization_id]
        await client.post(
            f"/api/v1/fairs/{fair['id']}/participants", json={"organization_ids": orgs}, headers=staff.headers
        )
        url = f"/api/v1/fairs/{fair['id']}/requests"
        placed = (await client.post(url, json={"agency_id": agency.organization_id}, headers=firm.headers)).json()
        await client.post(f"/api/v1/requests/{placed['id']}/accept", headers=agency.headers)
        pending = (await client.post(url, json={"agency_id": late_agency.organization_id}, headers=firm.headers)).json()
        declined = (
            await client.post(url, json={"agency_id": agency.organization_id}, headers=other_firm.headers)
        ).json()
        await client.post(f"/api/v1/requests/{declined['id']}/decline", headers=agency.headers)
        assert (await client.post(f"/api/v1/fairs/{fair['id']}/schedule", headers=staff.headers)).status_code == 200
        final = await client.post(f"/api/v1/fairs/{fair['id']}/agenda/final", headers=staff.headers)
        assert final.status_code == 200

        for request_id, who in ((pending["id"], late_agency), (declined["id"], agency), (declined["id"], staff)):
            for decision in ("accept", "decline"):
                response = await client.post(f"/api/v1/requests/{request_id}/{decision}", headers=who.headers)
                assert response.status_code == 409, response.text
                assert response.json()["rule"] == "agenda_final"
        late = await client.post(url, json={"agency_id": late_agency.organization_id}, headers=other_firm.headers)
        assert late.status_code == 409 and late.json()["rule"] == "agenda_final"

        mine = {r["id"]: r for r in (await client.get(url, headers=firm.headers)).json()}
        assert mine[pending["id"]]["status"] == "unscheduled"
        assert mine[pending["id"]]["unscheduled_reason"] == "agenda_final"
        assert mine[placed["id"]]["status"] == "scheduled"

        # a request left pending in a final fair (an older build) is not reminded either
        async with sessionmaker.begin() as session:
            await session.execute(
                update(MeetingRequest)
                .where(MeetingRequest.fair_id == fair["id"], MeetingRequest.id == pending["id"])
                .values(status=RequestStatus.PENDING)
            )
        clock.set_now(clock.now() + timedelta(days=3))
        async with sessionmaker.begin() as session:
            await remind_unanswered_requests(session, settings)
        async with sessionmaker() as session:
            assert await outbox(session, f"request:{pending['id'].replace('-', '')}:unanswered") == []

    async def test_the_agency_inbox_offers_no_decision_once_final(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        from tests.integration.fairs.test_pages import sign_in

        staff = await create_staff(client, sessionmaker, settings)
        agency = await verified_agency(client, staff)
        firm = await verified_firm(client, staff)
        fair = (await client.post("/api/v1/fairs", json=request_fair(), headers=staff.headers)).json()
        await client.post(
            f"/api/v1/fairs/{fair['id']}/participants",
            json={"organization_ids": [agency.organization_id, firm.organization_id]},
            headers=staff.headers,
        )
        request = (
            await client.post(
                f"/api/v1/fairs/{fair['id']}/requests", json={"agency_id": agency.organization_id}, headers=firm.headers
            )
        ).json()
        await client.post(f"/api/v1/requests/{request['id']}/decline", headers=agency.headers)
        await client.post(f"/api/v1/fairs/{fair['id']}/schedule", headers=staff.headers)
        await client.post(f"/api/v1/fairs/{fair['id']}/agenda/final", headers=staff.headers)
        await sign_in(client, agency)
        inbox = await client.get(f"/fairs/{fair['id']}/requests")
        assert inbox.status_code == 200
        assert "상담 요청이 마감되었습니다" in inbox.text
        assert f"/requests/{request['id']}/accept" not in inbox.text
