"""Briefing and training sessions through the API: create, register, waiting list, cancel, attendance, mails."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.lib import clock
from service.notify.models import OutboxMessage
from service.programs.models import ProgramSession
from tests.factories import Account, create_staff, login, verified_agency, verified_firm

Client = AsyncTestClient[Litestar]


def session_body(**overrides: Any) -> dict[str, Any]:
    start = clock.now() + timedelta(days=3)
    return {
        "title": "사회적경제 공공구매 설명회",
        "kind": "briefing",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "capacity": 1,
        "audience": "both",
        "place": "서울시 사회적경제지원센터 3층",
        **overrides,
    }


async def create_session(client: Client, staff: Account, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/sessions", json=session_body(**overrides), headers=staff.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def mails(sessionmaker: async_sessionmaker[AsyncSession], recipient: str) -> list[tuple[str, str, str]]:
    async with sessionmaker() as session:
        rows = await session.execute(
            select(OutboxMessage.template, OutboxMessage.context, OutboxMessage.status).where(
                OutboxMessage.recipient == recipient
            )
        )
        return sorted((t, c["values"]["kind"], str(s)) for t, c, s in rows.tuples() if t == "program_session")


async def test_bad_sessions_name_every_field(
    client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    staff = await create_staff(client, sessionmaker, settings)
    start = clock.now() + timedelta(days=1)
    body = session_body(
        capacity=0, kind="party", audience="everyone", place=None, online_url="http://x", ends_at=start.isoformat()
    )
    body["starts_at"] = (start + timedelta(hours=1)).isoformat()
    response = await client.post("/api/v1/sessions", json=body, headers=staff.headers)
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"capacity", "kind", "audience", "ends_at", "online_url"}
    firm = await verified_firm(client, staff)
    assert (await client.post("/api/v1/sessions", json=session_body(), headers=firm.headers)).status_code == 403
    async with sessionmaker() as session:
        assert not (await session.execute(select(ProgramSession.id))).all()


async def test_register_waitlist_cancel_attend(
    client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    staff = await create_staff(client, sessionmaker, settings)
    first, second = await verified_firm(client, staff), await verified_firm(client, staff)
    agency = await verified_agency(client, staff)
    only_agencies = await create_session(client, staff, audience="agencies")
    assert (await client.post(f"/api/v1/sessions/{only_agencies['id']}/registrations", json={},
                              headers=first.headers)).status_code == 404  # fmt: skip
    listed = (await client.get("/api/v1/sessions", headers=first.headers)).json()
    assert only_agencies["id"] not in {s["id"] for s in listed["items"]}

    s = await create_session(client, staff)
    url = f"/api/v1/sessions/{s['id']}/registrations"
    key = {"Idempotency-Key": "reg-1"}
    r1 = await client.post(url, json={}, headers={**first.headers, **key})
    assert r1.status_code == 201 and r1.json()["status"] == "registered"
    again = await client.post(url, json={}, headers={**first.headers, **key})
    assert again.json() == r1.json() and again.headers.get("idempotent-replayed") == "true"
    assert (await client.post(url, json={}, headers=first.headers)).status_code == 422  # already registered
    r2 = await client.post(url, json={}, headers=second.headers)
    assert r2.json()["status"] == "waitlisted"
    stranger = await client.post(url, json={"user_ids": [first.user_id]}, headers=agency.headers)
    assert stranger.status_code == 422 and stranger.json()["errors"][0]["field"] == "user_ids"
    assert await mails(sessionmaker, first.email) == [
        ("program_session", "registered", "queued"),
        ("program_session", "reminder", "queued"),
    ]
    assert await mails(sessionmaker, second.email) == [("program_session", "waitlisted", "queued")]

    # the second firm may not cancel the first's registration; the first cancels, the second moves up
    reg1 = r1.json()["registrations"][0]["id"]
    assert (await client.delete(f"{url}/{reg1}", headers=second.headers)).status_code == 404
    cancelled = await client.delete(f"{url}/{reg1}", headers=first.headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    mine = (await client.get(url, headers=second.headers)).json()
    assert [r["status"] for r in mine] == ["registered"]
    assert ("program_session", "promoted", "queued") in await mails(sessionmaker, second.email)
    assert ("program_session", "reminder", "cancelled") in await mails(sessionmaker, first.email)

    reg2 = mine[0]["id"]
    early = await client.patch(f"{url}/{reg2}", json={"attended": True}, headers=staff.headers)
    assert early.status_code == 422 and early.json()["errors"][0]["field"] == "attended"
    clock.set_now(clock.now() + timedelta(days=3, hours=1))
    for account in (staff, agency):  # tokens last 12 hours
        account.token = await login(client, account.email)
    marked = await client.patch(f"{url}/{reg2}", json={"attended": True}, headers=staff.headers)
    assert marked.status_code == 200 and marked.json()["attended"] is True
    assert (await client.patch(f"{url}/{reg1}", json={"attended": True}, headers=staff.headers)).status_code == 422
    late = await client.post(url, json={}, headers=agency.headers)
    assert late.status_code == 409  # the session has begun

    for blank in ("", "  "):  # an empty link is refused by the service (the page and the API alike)
        refused = await client.patch(
            f"/api/v1/sessions/{s['id']}", json={"materials_url": blank}, headers=staff.headers
        )
        assert refused.status_code == 422 and refused.json()["errors"] == [
            {"field": "materials_url", "message": "required"}
        ]
    shared = await client.patch(f"/api/v1/sessions/{s['id']}", json={"materials_url": "https://center.kr/a.pdf"},
                                headers=staff.headers)  # fmt: skip
    assert shared.status_code == 200 and shared.json()["materials_url"] == "https://center.kr/a.pdf"
    assert ("program_session", "materials", "queued") in await mails(sessionmaker, second.email)
    assert ("program_session", "materials", "queued") not in await mails(sessionmaker, first.email)
