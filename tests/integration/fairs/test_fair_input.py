"""Bad input to fairs is a 4xx naming the field, never a 500: malformed ids in page forms, fair
dates out of range, unbounded lists, and the room link template (literal placeholders, https only).
Meeting history shows its times in +09:00 like the rest of the API."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.fairs.models import FairParticipant
from service.fairs.service import expand_room_template, room_template_problem
from tests.factories import create_staff, verified_agency, verified_firm
from tests.integration.fairs.test_fairs_api import SLOT0, SLOT2, book, fair_payload, world
from tests.integration.fairs.test_pages import sign_in

Client = AsyncTestClient[Litestar]


def fields_of(response: Any) -> list[str]:
    return [e["field"] for e in response.json().get("errors", [])]


class TestFairDates:
    async def test_days_outside_2000_to_2100_are_422_naming_the_day(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        for date in ("0001-01-01", "9999-12-31", "1999-12-31", "2101-01-01"):
            days = [
                {"date": "2030-10-20", "start": "10:00", "end": "12:00"},
                {"date": date, "start": "10:00", "end": "12:00"},
            ]
            response = await client.post("/api/v1/fairs", json=fair_payload(days=days), headers=staff.headers)
            assert response.status_code == 422, (date, response.text)
            assert fields_of(response) == ["days[1].date"], date
        ok = fair_payload(days=[{"date": "2100-12-31", "start": "10:00", "end": "12:00"}])
        assert (await client.post("/api/v1/fairs", json=ok, headers=staff.headers)).status_code == 201

    async def test_booking_window_outside_the_years_is_422_naming_it(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        body = fair_payload(booking_opens_at="0001-01-01T00:00:00+09:00", booking_closes_at="9999-12-31T23:59:00+09:00")
        response = await client.post("/api/v1/fairs", json=body, headers=staff.headers)
        assert response.status_code == 422, response.text
        assert fields_of(response) == ["booking_opens_at", "booking_closes_at"]
        created = (await client.post("/api/v1/fairs", json=fair_payload(), headers=staff.headers)).json()
        patched = await client.patch(
            f"/api/v1/fairs/{created['id']}",
            json={"days": [{"date": "9999-12-31", "start": "10:00", "end": "12:00"}]},
            headers=staff.headers,
        )
        assert patched.status_code == 422 and fields_of(patched) == ["days[0].date"]

    async def test_the_staff_form_shows_the_korean_error(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        csrf = await sign_in(client, staff)
        form = {
            "_csrf_token": csrf,
            "name": "범위 밖 상담회",
            "mode": "first_come",
            "dates": "0001-01-01",
            "start": "10:00",
            "end": "12:00",
            "slot_minutes": "30",
            "booking_opens_at": "0001-01-01T09:00",
            "booking_closes_at": "2030-01-01T09:00",
        }
        response = await client.post("/fairs", data=form)
        assert response.status_code == 422
        assert "2000년부터 2100년 사이의 날짜로 입력해 주세요" in response.text
        assert "2000년부터 2100년 사이의 일시로 입력해 주세요" in response.text


class TestListBounds:
    async def test_50000_participant_ids_are_422_naming_the_field(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        fair = (await client.post("/api/v1/fairs", json=fair_payload(), headers=staff.headers)).json()
        ids = [str(uuid.uuid4()) for _ in range(50_000)]
        response = await client.post(
            f"/api/v1/fairs/{fair['id']}/participants", json={"organization_ids": ids}, headers=staff.headers
        )
        assert response.status_code == 422, response.text[:300]
        assert any("organization_ids" in f for f in fields_of(response)), response.text[:300]

    async def test_days_breaks_and_starts_are_bounded(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        start = datetime(2030, 1, 1)
        days = [
            {"date": (start + timedelta(days=i)).date().isoformat(), "start": "10:00", "end": "11:00"}
            for i in range(101)
        ]
        response = await client.post("/api/v1/fairs", json=fair_payload(days=days), headers=staff.headers)
        assert response.status_code == 422 and any("days" in f for f in fields_of(response)), response.text[:300]
        breaks = [{"start": "10:00", "end": "10:01"}] * 25
        day = {"date": "2030-10-20", "start": "09:00", "end": "18:00", "breaks": breaks}
        response = await client.post("/api/v1/fairs", json=fair_payload(days=[day]), headers=staff.headers)
        assert response.status_code == 422 and any("breaks" in f for f in fields_of(response)), response.text[:300]
        fair = (await client.post("/api/v1/fairs", json=fair_payload(), headers=staff.headers)).json()
        starts = [SLOT0] * 1001
        response = await client.put(
            f"/api/v1/fairs/{fair['id']}/unavailable", json={"starts": starts}, headers=staff.headers
        )
        assert response.status_code == 422 and any("starts" in f for f in fields_of(response)), response.text[:300]

    async def test_the_staff_form_bounds_its_dates(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        csrf = await sign_in(client, staff)
        dates = ", ".join((datetime(2030, 1, 1) + timedelta(days=i)).date().isoformat() for i in range(101))
        form = {
            "_csrf_token": csrf,
            "name": "긴 상담회",
            "mode": "first_come",
            "dates": dates,
            "start": "10:00",
            "end": "12:00",
            "slot_minutes": "30",
            "booking_opens_at": "2029-01-01T09:00",
            "booking_closes_at": "2029-12-01T09:00",
        }
        response = await client.post("/fairs", data=form)
        assert response.status_code == 422 and "최대 100일까지 정할 수 있습니다" in response.text


class TestRoomLinkTemplate:
    def test_placeholders_are_substituted_literally(self) -> None:
        values = {"fair_id": "F", "agency_id": "A", "token": "T"}
        assert expand_room_template("https://x.kr/{fair_id}/{agency_id}/{token}", **values) == "https://x.kr/F/A/T"
        # format specs and attribute access are not placeholders: nothing is evaluated or padded
        assert expand_room_template("https://x.kr/{token:>100000000}", **values) == "https://x.kr/{token:>100000000}"
        for bad in (
            "https://x.kr/{agency_id.hex}",
            "https://x.kr/{fair_id:x>5}",
            "https://x.kr/{token:>100000000}",
            "https://x.kr/{fair_id.__init__.__globals__}",
            "https://x.kr/{0}",
            "javascript:alert(1)//{token}",
            "http://x.kr/{token}",
            "https:///{token}",
            "https://x.kr/a b",
            "ftp://x.kr/",
            "https://x.kr/" + "{fair_id}" * 20,
        ):
            assert room_template_problem(bad) is not None, bad
        assert room_template_problem("https://meet.example.kr/pm-{fair_id}-{agency_id}?t={token}") is None

    async def test_api_refuses_bad_templates_and_fills_good_ones(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        agency = await verified_agency(client, staff)
        for template in (
            "https://x.kr/{agency_id.hex}",
            "https://x.kr/{fair_id:x>5}",
            "javascript:alert(1)",
            "http://x.kr",
        ):
            response = await client.post(
                "/api/v1/fairs", json=fair_payload(room_url_template=template), headers=staff.headers
            )
            assert response.status_code == 422 and fields_of(response) == ["room_url_template"], template
        fair = (await client.post("/api/v1/fairs", json=fair_payload(), headers=staff.headers)).json()
        patched = await client.patch(
            f"/api/v1/fairs/{fair['id']}",
            json={"room_url_template": "https://x.kr/{token:>100000000}"},
            headers=staff.headers,
        )
        assert patched.status_code == 422 and fields_of(patched) == ["room_url_template"]
        template = "https://rooms.example.kr/{fair_id}/{agency_id}?k={token}"
        patched = await client.patch(
            f"/api/v1/fairs/{fair['id']}", json={"room_url_template": template}, headers=staff.headers
        )
        assert patched.status_code == 200, patched.text
        added = await client.post(
            f"/api/v1/fairs/{fair['id']}/participants",
            json={"organization_id": agency.organization_id},
            headers=staff.headers,
        )
        assert added.status_code == 201, added.text
        async with sessionmaker() as session:
            room = await session.scalar(
                select(FairParticipant.room_url).where(
                    FairParticipant.organization_id == uuid.UUID(agency.organization_id)
                )
            )
        prefix = f"https://rooms.example.kr/{fair['id']}/{agency.organization_id}?k="
        assert room is not None and room.startswith(prefix) and len(room) == len(prefix) + 12

    async def test_the_staff_form_refuses_a_non_https_link(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        fair = (await client.post("/api/v1/fairs", json=fair_payload(), headers=staff.headers)).json()
        csrf = await sign_in(client, staff)
        form = {
            "_csrf_token": csrf,
            "name": fair["name"],
            "dates": "2030-10-20",
            "start": "10:00",
            "end": "14:00",
            "slot_minutes": "30",
            "booking_opens_at": "2029-01-01T09:00",
            "booking_closes_at": "2029-12-01T09:00",
            "room_url_template": "javascript:alert(document.cookie)",
        }
        response = await client.post(f"/fairs/{fair['id']}", data=form)
        assert response.status_code == 422
        assert "https://로 시작하는 링크를 입력해 주세요" in response.text


class TestMalformedIdsInForms:
    async def test_booking_and_request_forms_answer_422_with_the_korean_error(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w = await world(client, sessionmaker, settings)
        requests_fair = (
            await client.post("/api/v1/fairs", json=fair_payload(mode="requests"), headers=w.staff.headers)
        ).json()
        await client.post(
            f"/api/v1/fairs/{requests_fair['id']}/participants",
            json={"organization_ids": [w.agency.organization_id, w.firm.organization_id]},
            headers=w.staff.headers,
        )
        csrf = await sign_in(client, w.firm)
        for headers in ({}, {"hx-request": "true", "x-csrftoken": csrf}):
            response = await client.post(
                f"/fairs/{w.fair_id}/book",
                data={"_csrf_token": csrf, "agency_id": "not-a-uuid", "start": SLOT0},
                headers=headers,
            )
            assert response.status_code == 422, response.text[:500]
            assert "올바른 ID가 아닙니다" in response.text
        response = await client.post(
            f"/fairs/{requests_fair['id']}/requests",
            data={"_csrf_token": csrf, "agency_id": "not-a-uuid", "priority": "1", "message": "상담 희망"},
        )
        assert response.status_code == 422, response.text[:500]
        assert "올바른 ID가 아닙니다" in response.text and 'aria-invalid="true"' in response.text
        assert "상담 희망" in response.text  # what was typed is kept
        sent = await client.post(
            f"/fairs/{requests_fair['id']}/requests",
            data={"_csrf_token": csrf, "agency_id": w.agency.organization_id, "priority": "1"},
            follow_redirects=False,
        )
        assert sent.status_code == 303

    async def test_staff_participant_and_unavailable_forms_answer_422(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w = await world(client, sessionmaker, settings)
        extra = await verified_firm(client, w.staff)
        csrf = await sign_in(client, w.staff)
        response = await client.post(
            f"/fairs/{w.fair_id}/participants",
            data={"_csrf_token": csrf, "organization_id": [extra.organization_id, "not-a-uuid"]},
        )
        assert response.status_code == 422, response.text[:500]
        assert "올바른 ID가 아닙니다" in response.text
        async with sessionmaker() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(FairParticipant)
                .where(FairParticipant.organization_id == uuid.UUID(extra.organization_id))
            )
        assert count == 0  # nothing half-added
        response = await client.post(
            f"/fairs/{w.fair_id}/unavailable",
            data={"_csrf_token": csrf, "organization_id": "not-a-uuid", "start": SLOT0},
        )
        assert response.status_code == 422, response.text[:500]
        assert "보낸 ID가 올바르지 않습니다" in response.text


class TestHistoryTimes:
    async def test_history_data_times_are_in_seoul_offset(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w = await world(client, sessionmaker, settings)
        meeting = (await book(client, w, w.firm, SLOT0)).json()
        moved = await client.patch(f"/api/v1/meetings/{meeting['id']}", json={"start": SLOT2}, headers=w.firm.headers)
        assert moved.status_code == 200
        history = (await client.get(f"/api/v1/meetings/{meeting['id']}/history", headers=w.firm.headers)).json()
        assert history[0]["data"] == {"start": SLOT0}
        assert history[1]["data"] == {"from": SLOT0, "to": SLOT2}
        assert all(e["at"].endswith("+09:00") for e in history)
        assert datetime.fromisoformat(history[1]["data"]["to"]) == datetime(2030, 10, 20, 2, 0, tzinfo=UTC)
