"""Deciding a meeting request: only a pending request is decided, once, however many answers
race; changing one's mind is a separate, explicit and audited step."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.fairs.models import MeetingRequest
from service.identity.models import AuditEvent
from tests.factories import Account, create_staff, verified_agency, verified_firm
from tests.integration.fairs.test_pages import sign_in
from tests.integration.fairs.test_requests import request_fair

Client = AsyncTestClient[Litestar]


async def pending_request(
    client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> tuple[Account, Account, Account, dict[str, Any]]:
    staff = await create_staff(client, sessionmaker, settings)
    agency = await verified_agency(client, staff)
    firm = await verified_firm(client, staff)
    fair = (await client.post("/api/v1/fairs", json=request_fair(), headers=staff.headers)).json()
    response = await client.post(
        f"/api/v1/fairs/{fair['id']}/participants",
        json={"organization_ids": [agency.organization_id, firm.organization_id]},
        headers=staff.headers,
    )
    assert response.status_code == 201, response.text
    response = await client.post(
        f"/api/v1/fairs/{fair['id']}/requests",
        json={"agency_id": agency.organization_id, "priority": 1},
        headers=firm.headers,
    )
    assert response.status_code == 201, response.text
    return staff, agency, firm, response.json()


class TestFiftyDecisionsAtOnce:
    async def test_one_decision_wins_and_the_other_forty_nine_are_409(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        _, agency, _, request = await pending_request(client, sessionmaker, settings)
        urls = [f"/api/v1/requests/{request['id']}/{word}" for word in ("accept", "decline") for _ in range(25)]
        responses = await asyncio.gather(*(client.post(url, headers=agency.headers) for url in urls))
        codes = sorted(r.status_code for r in responses)
        assert codes == [200] + [409] * 49, codes
        (won,) = [r.json() for r in responses if r.status_code == 200]
        refused = [r.json() for r in responses if r.status_code == 409]
        assert {p["rule"] for p in refused} == {"decided"}
        assert {p["status"] for p in refused} == {won["status"]}
        async with sessionmaker() as session:
            stored = await session.get(MeetingRequest, request["id"])
            assert stored is not None and stored.status.value == won["status"]


class TestChangeOfMind:
    async def test_a_decided_request_changes_only_with_change_true_and_is_audited(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        _, agency, firm, request = await pending_request(client, sessionmaker, settings)
        url = f"/api/v1/requests/{request['id']}"
        assert (await client.post(f"{url}/accept", headers=agency.headers)).status_code == 200
        again = await client.post(f"{url}/accept", headers=agency.headers)
        assert again.status_code == 409 and again.json()["rule"] == "decided"
        silent_flip = await client.post(f"{url}/decline", headers=agency.headers)
        assert silent_flip.status_code == 409 and silent_flip.json()["status"] == "accepted"
        assert (await client.post(f"{url}/decline?change=true", headers=firm.headers)).status_code == 403
        changed = await client.post(f"{url}/decline?change=true", headers=agency.headers)
        assert changed.status_code == 200 and changed.json()["status"] == "declined"
        same = await client.post(f"{url}/decline?change=true", headers=agency.headers)
        assert same.status_code == 409
        async with sessionmaker() as session:
            audits = list(
                await session.scalars(select(AuditEvent).where(AuditEvent.action == "request.decision_changed"))
            )
        assert [(str(a.target_id), a.changes) for a in audits] == [
            (request["id"], {"status": {"old": "accepted", "new": "declined"}})
        ]
        assert str(audits[0].actor_id) == agency.user_id


class TestInboxPage:
    async def test_the_inbox_offers_the_other_decision_as_an_explicit_change(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        _, agency, _, request = await pending_request(client, sessionmaker, settings)
        csrf = await sign_in(client, agency)
        inbox = f"/fairs/{request['fair_id']}/requests"
        page = (await client.get(inbox)).text
        assert f'/requests/{request["id"]}/accept"' in page  # pending: a plain decision
        response = await client.post(
            f"{inbox}/{request['id']}/accept", data={"_csrf_token": csrf}, follow_redirects=False
        )
        assert response.status_code == 303, response.text
        page = (await client.get(inbox)).text
        assert f'/requests/{request["id"]}/decline?change=true"' in page
        response = await client.post(
            f"{inbox}/{request['id']}/decline?change=true", data={"_csrf_token": csrf}, follow_redirects=False
        )
        assert response.status_code == 303, response.text
        async with sessionmaker() as session:
            stored = await session.get(MeetingRequest, request["id"])
            assert stored is not None and stored.status.value == "declined"
            assert await session.scalar(select(AuditEvent).where(AuditEvent.action == "request.decision_changed"))
