"""Around meetings, through the pages (issue 14 §3): after its slot a meeting is marked held or
no-show and rated on the agenda row (the rating mail links to that row, and a side that rated is
not reminded); cancel, move and decline ask for confirmation first and say what they did; a
decided request offers no accept/decline buttons; staff see every meeting of a fair on its
agenda; a firm joining a request-mode fair lands on the request form."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.fairs.models import Meeting, MeetingStatus
from service.lib import clock
from service.lib.i18n import format_slot
from service.notify.models import OutboxStatus
from service.notify.service import render_stored
from service.notify.subscribers import expand_notices
from service.registry.models import Organization
from tests.factories import verified_firm
from tests.factories_notify import outbox
from tests.integration.fairs.test_fairs_api import SLOT0, SLOT1, World, book, world
from tests.integration.fairs.test_pages import sign_in
from tests.integration.fairs.test_request_decisions import pending_request
from tests.integration.fairs.test_requests import request_fair

Client = AsyncTestClient[Litestar]


async def name_of(sessionmaker: async_sessionmaker[AsyncSession], org_id: str | None) -> str:
    async with sessionmaker() as session:
        org = await session.get(Organization, uuid.UUID(str(org_id)))
        assert org is not None
        return org.name


async def booked(client: Client, w: World, start: str = SLOT0) -> str:
    response = await book(client, w, w.firm, start)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def notice(html: str) -> str:
    match = re.search(r'<p class="notice ok" role="status">([^<]*)</p>', html)
    assert match, "no success message"
    return match.group(1)


class TestOutcomeAndRating:
    async def test_the_agency_rates_on_its_agenda_row_and_is_no_longer_reminded(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w = await world(client, sessionmaker, settings)
        meeting_id = await booked(client, w)
        async with sessionmaker.begin() as session:
            await expand_notices(session, settings)  # the dispatcher queues the booking's mails and reminders
        row = f'id="meeting-{meeting_id}"'
        form = f'action="/meetings/{meeting_id}/outcome"'
        csrf = await sign_in(client, w.agency)
        agenda = f"/fairs/{w.fair_id}/agenda"
        before = (await client.get(agenda)).text
        assert row in before and form not in before  # the slot is still to come

        clock.set_now(datetime.fromisoformat(SLOT0) + timedelta(minutes=31))  # the slot is over
        csrf = await sign_in(client, w.agency)  # (sessions expire in 12 h of the clock)
        page = (await client.get(agenda)).text
        assert form in page and "상담이 진행되었나요?" in page and "협력 가능" in page

        missing = await client.post(f"/meetings/{meeting_id}/outcome", data={"_csrf_token": csrf, "rating": ""})
        assert missing.status_code == 422 and form in missing.text and "필수 항목입니다" in missing.text

        saved = await client.post(
            f"/meetings/{meeting_id}/outcome",
            data={"_csrf_token": csrf, "outcome": "held", "rating": "cooperation_possible"},
            follow_redirects=False,
        )
        assert saved.status_code == 303, saved.text
        assert saved.headers["location"] == f"{agenda}?done=rated&meeting={meeting_id}#meeting-{meeting_id}"
        page = (await client.get(saved.headers["location"])).text
        firm_name = await name_of(sessionmaker, w.firm.organization_id)
        when = format_slot(datetime.fromisoformat(SLOT0), locale="ko")
        assert notice(page) == f"{when} {firm_name} 상담의 결과를 기록했습니다."
        assert "우리 측 기록: 진행됨 · 협력 가능" in page and "결과 수정" in page
        async with sessionmaker() as session:
            stored = await session.get(Meeting, uuid.UUID(meeting_id))
            assert stored is not None and stored.status == MeetingStatus.HELD
            assert stored.agency_rating is not None and stored.firm_rating is None

        # the reminder to rate links to the row and is no longer sent to the agency; the firm still gets it
        hex_id = uuid.UUID(meeting_id).hex
        async with sessionmaker() as session:
            left = await outbox(session, f"followup:{hex_id}:rating:", OutboxStatus.QUEUED)
            cancelled = await outbox(session, f"followup:{hex_id}:rating:", OutboxStatus.CANCELLED)
        assert [m.recipient for m in cancelled] == [w.agency.email]
        assert [m.recipient for m in left] == [w.firm.email]
        assert left[0].context is not None
        mail = render_stored(left[0].template, left[0].locale, left[0].context)
        link = f"{settings.app.base_url}/fairs/{w.fair_id}/agenda#meeting-{meeting_id}"
        assert f'<a href="{link}">내 상담 일정에서 평가하기</a>' in mail.html and link in mail.text

    async def test_a_meeting_still_to_come_refuses_an_outcome_on_the_page(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w = await world(client, sessionmaker, settings)
        meeting_id = await booked(client, w)
        csrf = await sign_in(client, w.firm)
        early = await client.post(f"/meetings/{meeting_id}/outcome", data={"_csrf_token": csrf, "outcome": "held"})
        assert early.status_code == 409
        async with sessionmaker() as session:
            stored = await session.get(Meeting, uuid.UUID(meeting_id))
            assert stored is not None and stored.firm_outcome is None


class TestConfirmations:
    async def test_cancel_asks_first_then_says_which_meeting_was_cancelled(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w = await world(client, sessionmaker, settings)
        meeting_id = await booked(client, w)
        csrf = await sign_in(client, w.firm)
        agenda = (await client.get(f"/fairs/{w.fair_id}/agenda")).text
        assert f'<form method="get" action="/meetings/{meeting_id}/cancel"' in agenda  # a step, not the act

        ask = await client.get(f"/meetings/{meeting_id}/cancel")
        assert ask.status_code == 200 and "상담을 취소할까요?" in ask.text
        assert f'<form method="post" action="/meetings/{meeting_id}/cancel"' in ask.text
        assert f'href="/fairs/{w.fair_id}/agenda#meeting-{meeting_id}"' in ask.text  # the way back
        async with sessionmaker() as session:
            stored = await session.get(Meeting, uuid.UUID(meeting_id))
            assert stored is not None and stored.status == MeetingStatus.BOOKED  # asking did nothing

        done = await client.post(f"/meetings/{meeting_id}/cancel", data={"_csrf_token": csrf}, follow_redirects=False)
        assert done.status_code == 303
        page = (await client.get(done.headers["location"])).text
        agency_name = await name_of(sessionmaker, w.agency.organization_id)
        when = format_slot(datetime.fromisoformat(SLOT0), locale="ko")
        assert notice(page) == f"{when} {agency_name} 상담을 취소했습니다."
        assert (await client.get(f"/meetings/{meeting_id}/cancel")).status_code == 409  # nothing left to cancel

    async def test_move_asks_first_then_says_where_the_meeting_went(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w = await world(client, sessionmaker, settings)
        meeting_id = await booked(client, w)
        csrf = await sign_in(client, w.agency)
        agenda = (await client.get(f"/fairs/{w.fair_id}/agenda")).text
        assert f'<form method="get" action="/meetings/{meeting_id}/move"' in agenda

        ask = await client.get(f"/meetings/{meeting_id}/move", params={"start": SLOT1})
        assert ask.status_code == 200 and "상담 시간을 옮길까요?" in ask.text
        assert 'name="start" value="2030-10-20T10:30:00+09:00"' in ask.text
        async with sessionmaker() as session:
            stored = await session.get(Meeting, uuid.UUID(meeting_id))
            assert stored is not None and stored.starts_at == datetime.fromisoformat(SLOT0)

        done = await client.post(
            f"/meetings/{meeting_id}/move", data={"_csrf_token": csrf, "start": SLOT1}, follow_redirects=False
        )
        assert done.status_code == 303
        page = (await client.get(done.headers["location"])).text
        firm_name = await name_of(sessionmaker, w.firm.organization_id)
        when = format_slot(datetime.fromisoformat(SLOT1), locale="ko")
        assert notice(page) == f"{firm_name} 상담을 {when}(으)로 옮겼습니다."

    async def test_decline_asks_first_and_a_decided_request_shows_no_accept_or_decline(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        _, agency, firm, request = await pending_request(client, sessionmaker, settings)
        csrf = await sign_in(client, agency)
        inbox = f"/fairs/{request['fair_id']}/requests"
        page = (await client.get(inbox)).text
        assert f'<form method="get" action="{inbox}/{request["id"]}/decline"' in page
        ask = await client.get(f"{inbox}/{request['id']}/decline")
        assert ask.status_code == 200 and "상담 요청을 거절할까요?" in ask.text
        assert f'<form method="post" action="{inbox}/{request["id"]}/decline"' in ask.text

        accepted = await client.post(
            f"{inbox}/{request['id']}/accept", data={"_csrf_token": csrf}, follow_redirects=False
        )
        assert accepted.status_code == 303
        page = (await client.get(accepted.headers["location"])).text
        firm_name = await name_of(sessionmaker, firm.organization_id)
        assert notice(page) == f"{firm_name}의 상담 요청을 수락했습니다."
        row = page[page.index(f'id="request-{request["id"]}"') :]
        row = row[: row.index("</tr>")]
        assert "수락하기" not in row and "거절하기" not in row
        assert f'href="{inbox}/{request["id"]}/decline?change=true"' in row
        change = await client.get(f"{inbox}/{request['id']}/decline", params={"change": "true"})
        assert f'action="{inbox}/{request["id"]}/decline?change=true"' in change.text


class TestStaffAndJoining:
    async def test_staff_see_every_meeting_of_the_fair_on_its_agenda(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w = await world(client, sessionmaker, settings)
        meeting_id = await booked(client, w)
        await sign_in(client, w.staff)
        page = (await client.get(f"/fairs/{w.fair_id}/agenda")).text
        assert "아직 상담이 없습니다" not in page and f'id="meeting-{meeting_id}"' in page
        agency_name = await name_of(sessionmaker, w.agency.organization_id)
        firm_name = await name_of(sessionmaker, w.firm.organization_id)
        assert f"{agency_name} · {firm_name}" in page
        assert "<title>전체 상담 일정" in page and "기관 · 기업" in page
        assert f'action="/meetings/{meeting_id}/outcome"' not in page  # staff settle disagreements only

    async def test_a_firm_joining_a_request_fair_lands_on_the_request_form(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        staff, _, _, _ = await pending_request(client, sessionmaker, settings)
        newcomer = await verified_firm(client, staff)
        fair = (await client.post("/api/v1/fairs", json=request_fair(name="요청형 2차"), headers=staff.headers)).json()
        csrf = await sign_in(client, newcomer)
        joined = await client.post(
            f"/fairs/{fair['id']}/participants", data={"_csrf_token": csrf}, follow_redirects=False
        )
        assert joined.status_code == 303
        assert joined.headers["location"] == f"/fairs/{fair['id']}/book?done=joined#request"
        page = (await client.get(joined.headers["location"])).text
        assert "상담회에 참가했습니다. 아래에서 상담 요청을 보내세요." in page
        assert f'action="/fairs/{fair["id"]}/requests"' in page and 'id="request"' in page
