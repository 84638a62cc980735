"""Fairs over the JSON API: setup, participants, slots, first-come booking rules, moves,
cancels, invites, authorization."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.fairs.models import Meeting, MeetingEvent
from service.identity.models import AuditEvent
from service.lib import clock
from tests.factories import Account, create_staff, verified_agency, verified_firm

Client = AsyncTestClient[Litestar]


def fair_payload(**over: Any) -> dict[str, Any]:
    real_now = datetime.now(UTC)
    body: dict[str, Any] = {
        "name": "2021 공공구매 2차 온라인상담회",
        "mode": "first_come",
        "days": [
            {"date": "2030-10-20", "start": "10:00", "end": "14:00", "breaks": [{"start": "12:00", "end": "13:00"}]}
        ],
        "slot_minutes": 30,
        "booking_opens_at": (real_now - timedelta(hours=1)).isoformat(),
        "booking_closes_at": (real_now + timedelta(days=3)).isoformat(),
    }
    body.update(over)
    return body


SLOT0 = "2030-10-20T10:00:00+09:00"
SLOT1 = "2030-10-20T10:30:00+09:00"
SLOT2 = "2030-10-20T11:00:00+09:00"


class World:
    def __init__(self, staff: Account, agency: Account, firm: Account, other_firm: Account, fair: dict[str, Any]):
        self.staff, self.agency, self.firm, self.other_firm, self.fair = staff, agency, firm, other_firm, fair

    @property
    def fair_id(self) -> str:
        return str(self.fair["id"])


async def world(
    client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, **fair: Any
) -> World:
    staff = await create_staff(client, sessionmaker, settings)
    agency = await verified_agency(client, staff)
    firm = await verified_firm(client, staff)
    other = await verified_firm(client, staff)
    response = await client.post("/api/v1/fairs", json=fair_payload(**fair), headers=staff.headers)
    assert response.status_code == 201, response.text
    body = response.json()
    response = await client.post(
        f"/api/v1/fairs/{body['id']}/participants",
        json={"organization_ids": [agency.organization_id, firm.organization_id]},
        headers=staff.headers,
    )
    assert response.status_code == 201, response.text
    # the other firm joins by itself
    response = await client.post(
        f"/api/v1/fairs/{body['id']}/participants",
        json={"organization_id": other.organization_id},
        headers=other.headers,
    )
    assert response.status_code == 201, response.text
    return World(staff, agency, firm, other, body)


async def book(client: Client, w: World, who: Account, start: str) -> Any:
    return await client.post(
        f"/api/v1/fairs/{w.fair_id}/meetings",
        json={"agency_id": w.agency.organization_id, "start": start},
        headers=who.headers,
    )


class TestFairSetup:
    async def test_grid_and_slots_view(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w = await world(client, sessionmaker, settings)
        response = await client.get(
            f"/api/v1/fairs/{w.fair_id}/slots", params={"agency_id": w.agency.organization_id}, headers=w.firm.headers
        )
        assert response.status_code == 200
        slots = response.json()
        assert [s["start"] for s in slots][:1] == [SLOT0]
        assert len(slots) == 6  # 10:00-12:00 and 13:00-14:00
        assert {s["status"] for s in slots} == {"free"}

    async def test_invalid_days_are_422_naming_the_field(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        bad = fair_payload(days=[{"date": "2030-10-20", "start": "14:00", "end": "10:00"}])
        response = await client.post("/api/v1/fairs", json=bad, headers=staff.headers)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "days[0].end"

    async def test_only_staff_create_fairs(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w = await world(client, sessionmaker, settings)
        response = await client.post("/api/v1/fairs", json=fair_payload(), headers=w.agency.headers)
        assert response.status_code == 403

    async def test_editing_hours_that_would_orphan_a_meeting_is_409_listing_it(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w = await world(client, sessionmaker, settings)
        meeting = (await book(client, w, w.firm, SLOT0)).json()
        response = await client.patch(
            f"/api/v1/fairs/{w.fair_id}",
            json={"days": [{"date": "2030-10-20", "start": "10:30", "end": "14:00"}]},
            headers=w.staff.headers,
        )
        assert response.status_code == 409
        assert [m["id"] for m in response.json()["meetings"]] == [meeting["id"]]
        # a change that keeps every meeting on the grid passes
        response = await client.patch(
            f"/api/v1/fairs/{w.fair_id}",
            json={"days": [{"date": "2030-10-20", "start": "10:00", "end": "16:00"}], "name": "새 이름"},
            headers=w.staff.headers,
        )
        assert response.status_code == 200, response.text
        async with sessionmaker() as session:
            audit = await session.scalar(select(AuditEvent).where(AuditEvent.action == "fair.update"))
            assert audit is not None and "days" in audit.changes


class TestBookingRules:
    async def test_book_cancel_frees_the_slot(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w = await world(client, sessionmaker, settings)
        response = await book(client, w, w.firm, SLOT0)
        assert response.status_code == 201, response.text
        meeting = response.json()
        assert meeting["status"] == "booked" and meeting["room_url"].startswith("https://")
        taken = await book(client, w, w.other_firm, SLOT0)
        assert taken.status_code == 409
        assert taken.json()["type"] == "/problems/slot-taken"
        assert (await client.delete(f"/api/v1/meetings/{meeting['id']}", headers=w.agency.headers)).status_code == 204
        assert (await book(client, w, w.other_firm, SLOT0)).status_code == 201

    async def test_outside_the_window_is_409_window(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        real_now = datetime.now(UTC)
        w = await world(client, sessionmaker, settings, booking_closes_at=(real_now + timedelta(hours=1)).isoformat())
        clock.set_now(real_now + timedelta(hours=2))
        response = await book(client, w, w.firm, SLOT0)
        assert response.status_code == 409
        assert response.json()["rule"] == "window"

    async def test_unavailable_slot_is_409_unavailable(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w = await world(client, sessionmaker, settings)
        response = await client.put(
            f"/api/v1/fairs/{w.fair_id}/unavailable", json={"starts": [SLOT1]}, headers=w.agency.headers
        )
        assert response.status_code == 200, response.text
        slots = (
            await client.get(
                f"/api/v1/fairs/{w.fair_id}/slots",
                params={"agency_id": w.agency.organization_id},
                headers=w.firm.headers,
            )
        ).json()
        assert slots[1]["status"] == "unavailable"
        response = await book(client, w, w.firm, SLOT1)
        assert response.status_code == 409
        assert response.json()["rule"] == "unavailable"

    async def test_not_a_slot_start_is_422(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w = await world(client, sessionmaker, settings)
        response = await book(client, w, w.firm, "2030-10-20T10:10:00+09:00")
        assert response.status_code == 422

    async def test_limit_is_409_limit(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w = await world(client, sessionmaker, settings, max_meetings_per_firm=1)
        second = await verified_agency(client, w.staff)
        await client.post(
            f"/api/v1/fairs/{w.fair_id}/participants",
            json={"organization_id": second.organization_id},
            headers=w.staff.headers,
        )
        assert (await book(client, w, w.firm, SLOT0)).status_code == 201
        response = await client.post(
            f"/api/v1/fairs/{w.fair_id}/meetings",
            json={"agency_id": second.organization_id, "start": SLOT1},
            headers=w.firm.headers,
        )
        assert response.status_code == 409
        assert response.json()["rule"] == "limit"

    async def test_agencies_do_not_book(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w = await world(client, sessionmaker, settings)
        assert (await book(client, w, w.agency, SLOT0)).status_code == 403


class TestMoveAndHistory:
    async def test_move_grows_sequence_and_keeps_history(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w = await world(client, sessionmaker, settings)
        meeting = (await book(client, w, w.firm, SLOT0)).json()
        response = await client.patch(
            f"/api/v1/meetings/{meeting['id']}", json={"start": SLOT2}, headers=w.firm.headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["start"] == SLOT2 and response.json()["sequence"] == 1
        # the old slot is free again, the new one is taken
        assert (await book(client, w, w.other_firm, SLOT0)).status_code == 201
        response = await client.patch(
            f"/api/v1/meetings/{meeting['id']}", json={"start": SLOT0}, headers=w.firm.headers
        )
        assert response.status_code == 409
        history = (await client.get(f"/api/v1/meetings/{meeting['id']}/history", headers=w.agency.headers)).json()
        assert [e["kind"] for e in history] == ["booked", "moved"]
        ics = await client.get(f"/api/v1/meetings/{meeting['id']}/invite.ics", headers=w.firm.headers)
        assert ics.status_code == 200
        assert ics.headers["content-type"].startswith("text/calendar")
        text = ics.text
        assert "SEQUENCE:1" in text and "METHOD:REQUEST" in text and "TZID=Asia/Seoul:20301020T110000" in text
        assert meeting["room_url"] in text.replace("\r\n ", "")

    async def test_staff_on_behalf_is_audited_and_marked(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w = await world(client, sessionmaker, settings)
        response = await client.post(
            f"/api/v1/fairs/{w.fair_id}/meetings",
            json={"agency_id": w.agency.organization_id, "start": SLOT1, "firm_id": w.firm.organization_id},
            headers=w.staff.headers,
        )
        assert response.status_code == 201, response.text
        meeting = response.json()
        assert meeting["by_staff"] is True and meeting["firm_id"] == w.firm.organization_id
        assert (await client.delete(f"/api/v1/meetings/{meeting['id']}", headers=w.staff.headers)).status_code == 204
        async with sessionmaker() as session:
            actions = set(await session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == meeting["id"])))
            assert actions == {"meeting.book_on_behalf", "meeting.cancel_on_behalf"}
            kinds = list(
                await session.scalars(select(MeetingEvent.by_staff).where(MeetingEvent.meeting_id == meeting["id"]))
            )
            assert kinds == [True, True]
        ics = await client.get(f"/api/v1/meetings/{meeting['id']}/invite.ics", headers=w.firm.headers)
        assert "METHOD:CANCEL" in ics.text

    async def test_outcome_only_after_the_slot(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w = await world(client, sessionmaker, settings)
        meeting = (await book(client, w, w.firm, SLOT0)).json()
        url = f"/api/v1/meetings/{meeting['id']}/outcome"
        body = {"outcome": "held", "rating": "cooperation_possible"}
        early = await client.post(url, json=body, headers=w.agency.headers)
        assert early.status_code == 409 and early.json()["rule"] == "not_over"
        async with sessionmaker.begin() as session:  # the slot is over
            await session.execute(
                update(Meeting)
                .where(Meeting.id == meeting["id"])
                .values(starts_at=func.now() - timedelta(hours=1), ends_at=func.now() - timedelta(minutes=30))
            )
        response = await client.post(url, json=body, headers=w.agency.headers)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "held" and response.json()["agency_rating"] == "cooperation_possible"


class TestAuthorization:
    async def test_other_firms_meeting_is_404(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w = await world(client, sessionmaker, settings)
        meeting = (await book(client, w, w.firm, SLOT0)).json()
        for method, path in [
            ("GET", f"/api/v1/meetings/{meeting['id']}"),
            ("DELETE", f"/api/v1/meetings/{meeting['id']}"),
            ("GET", f"/api/v1/meetings/{meeting['id']}/invite.ics"),
        ]:
            response = await client.request(method, path, headers=w.other_firm.headers)
            assert response.status_code == 404, (method, path)
        response = await client.patch(
            f"/api/v1/meetings/{meeting['id']}", json={"start": SLOT2}, headers=w.other_firm.headers
        )
        assert response.status_code == 404

    async def test_agenda_lists_own_meetings_only(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w = await world(client, sessionmaker, settings)
        await book(client, w, w.firm, SLOT0)
        await book(client, w, w.other_firm, SLOT1)
        mine = (await client.get("/api/v1/me/meetings", params={"fair_id": w.fair_id}, headers=w.firm.headers)).json()
        assert [m["start"] for m in mine] == [SLOT0]
        agency = (await client.get("/api/v1/me/meetings", headers=w.agency.headers)).json()
        assert len(agency) == 2

    async def test_non_participant_cannot_see_slots(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w = await world(client, sessionmaker, settings)
        outsider = await verified_firm(client, w.staff)
        response = await client.get(
            f"/api/v1/fairs/{w.fair_id}/slots", params={"agency_id": w.agency.organization_id}, headers=outsider.headers
        )
        assert response.status_code == 404
        response = await book(client, w, outsider, SLOT0)
        assert response.status_code == 409 and response.json()["rule"] == "not_participant"


class TestOpenAPI:
    async def test_fair_endpoints_are_documented(self, client: Client) -> None:
        response = await client.get("/schema/openapi.json")
        assert response.status_code == 200
        paths = response.json()["paths"]
        for path in (
            "/api/v1/fairs",
            "/api/v1/fairs/{fair_id}/meetings",
            "/api/v1/fairs/{fair_id}/slots",
            "/api/v1/meetings/{meeting_id}/invite.ics",
            "/api/v1/fairs/{fair_id}/schedule",
            "/api/v1/me/meetings",
        ):
            assert path in paths, path
