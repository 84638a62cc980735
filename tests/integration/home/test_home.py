"""Each role's home at `/`: what waits for an agency, a firm and staff, each item linking to its page."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.accounts.models import User
from service.config import Settings
from service.contracts.models import Contract
from service.fairs.models import Meeting, MeetingRating, MeetingRequest, MeetingStatus, RequestStatus
from service.lib.clock import today as seoul_today
from service.needs.models import Need
from service.notify.models import OutboxMessage, OutboxStatus
from tests.factories import PASSWORD, Account, agency_payload, create_staff, register, verified_agency, verified_firm
from tests.factories_contracts import confirmed_contract, join, make_fair, make_meeting, report_contract

Client = AsyncTestClient[Litestar]
Maker = async_sessionmaker[AsyncSession]

NEED = {
    "title": "구청 청사 방역 소독 용역",
    "description": "본관 정기 방역 소독",
    "category_codes": ["CLN-DIS"],
    "budget_krw": 30_000_000,
    "needed_by": str(date.today() + timedelta(days=30)),
    "delivery_district": "mapo",
}


def csrf_from(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "form without a CSRF token"
    return match.group(1)


async def sign_in(client: Client, account: Account) -> None:
    client.cookies.clear()
    token = csrf_from((await client.get("/login")).text)
    response = await client.post(
        "/login", data={"email": account.email, "password": PASSWORD, "_csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"  # sign-in lands on the home, for every role


async def home_of(client: Client, account: Account) -> str:
    await sign_in(client, account)
    page = await client.get("/")
    assert page.status_code == 200
    return page.text


async def post_need(client: Client, agency: Account, **fields: object) -> dict[str, str]:
    response = await client.post("/api/v1/needs", json={**NEED, **fields}, headers=agency.headers)
    assert response.status_code == 201, response.text
    body: dict[str, str] = response.json()
    return body


async def soon_meeting(sessionmaker: Maker, agency: Account, firm: Account, fair_id: uuid.UUID) -> uuid.UUID:
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=1)
    meeting_id = await make_meeting(
        sessionmaker, agency, firm, fair_id=fair_id, starts_at=start, status=MeetingStatus.BOOKED
    )
    async with sessionmaker.begin() as session:
        await session.execute(
            update(Meeting).where(Meeting.id == meeting_id).values(room_url="https://meet.jit.si/procure-match-room1")
        )
    return meeting_id


async def add_request(
    sessionmaker: Maker, fair_id: uuid.UUID, agency: Account, firm: Account, status: RequestStatus, age: timedelta
) -> uuid.UUID:
    async with sessionmaker.begin() as session:
        request = MeetingRequest(
            fair_id=fair_id,
            firm_id=uuid.UUID(firm.organization_id),
            agency_id=uuid.UUID(agency.organization_id),
            priority=1,
            message="",
            status=status,
        )
        session.add(request)
        await session.flush()
        request.created_at = datetime.now(UTC) - age
        return request.id


async def leave_home_for(sessionmaker: Maker, account: Account, minutes: int) -> None:
    """As if the account's last home view were `minutes` ago."""
    async with sessionmaker.begin() as session:
        await session.execute(
            update(User)
            .where(User.id == uuid.UUID(account.user_id))
            .values(last_home_visit_at=User.last_home_visit_at - timedelta(minutes=minutes))
        )


class TestSignIn:
    async def test_an_organization_awaiting_verification_sees_the_welcome_page(self, client: Client) -> None:
        account = await register(client, agency_payload())
        page = await home_of(client, account)
        assert 'href="/me"' in page
        assert "오늘 처리할 일입니다." not in page

    async def test_visitors_see_the_welcome_page(self, client: Client) -> None:
        page = await client.get("/")
        assert 'href="/login"' in page.text and "오늘 처리할 일입니다." not in page.text


class TestAgencyHome:
    async def test_shows_needs_requests_meetings_contracts_and_target(
        self, client: Client, sessionmaker: Maker, settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        agency = await verified_agency(client, staff, name="마포구청")
        firm = await verified_firm(client, staff, name="마포방역협동조합")
        need = await post_need(client, agency)
        fair_id = await make_fair(sessionmaker, name="가을 상담회", day=date.today() + timedelta(days=1))
        await join(sessionmaker, fair_id, agency, firm)
        await add_request(sessionmaker, fair_id, agency, firm, RequestStatus.PENDING, timedelta(days=2, hours=1))
        meeting_id = await soon_meeting(sessionmaker, agency, firm, fair_id)
        awaiting = await report_contract(client, firm, agency, firm, contract_date=str(date.today()))
        await confirmed_contract(client, agency, firm, amount_krw=50_000_000, contract_date=str(date.today()))
        target = await client.put(
            f"/api/v1/targets/{agency.organization_id}/{date.today().year}",
            json={"target_krw": 100_000_000},
            headers=staff.headers,
        )
        assert target.status_code == 200, target.text

        page = await home_of(client, agency)

        assert f'href="/needs/{need["id"]}"' in page and "맞는 기업 1곳" in page
        assert f'href="/fairs/{fair_id}/requests"' in page and "2일째 대기" in page
        assert f'href="/fairs/{fair_id}/agenda#meeting-{meeting_id}"' in page
        assert 'href="https://meet.jit.si/procure-match-room1"' in page
        assert f'href="/meetings/{meeting_id}/invite.ics"' in page
        assert f'href="/contracts/{awaiting["id"]}"' in page
        target_section = page[page.index('id="h-target"') :]
        assert "100,000,000원" in target_section and "50,000,000원" in target_section and "50%" in target_section

    async def test_empty_sections_say_so_with_the_next_step(
        self, client: Client, sessionmaker: Maker, settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        agency = await verified_agency(client, staff)
        page = await home_of(client, agency)
        assert "진행 중인 구매 수요가 없습니다." in page and 'href="/needs/new"' in page
        assert "답변을 기다리는 상담 요청이 없습니다." in page
        assert "아직 예약한 상담이 없습니다." in page
        assert "확인을 기다리는 계약이 없습니다." in page


class TestFirmHome:
    async def test_needs_new_since_the_last_visit_are_marked(
        self, client: Client, sessionmaker: Maker, settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        agency = await verified_agency(client, staff)
        firm = await verified_firm(client, staff)
        posted = await post_need(client, agency, title="첫 번째 방역 수요")
        async with sessionmaker.begin() as session:  # posted before the visits below
            await session.execute(
                update(Need)
                .where(Need.id == uuid.UUID(posted["id"]))
                .values(created_at=Need.created_at - timedelta(hours=2))
            )
        first = await home_of(client, firm)
        assert "첫 번째 방역 수요" in first and first.count('class="tag"') == 1
        again = (await client.get("/")).text  # a refresh within the visit keeps the marks
        assert again.count('class="tag"') == 1
        await leave_home_for(sessionmaker, firm, minutes=31)  # the next visit marks against this one
        quiet = (await client.get("/")).text
        assert "첫 번째 방역 수요" in quiet and 'class="tag"' not in quiet
        second = await post_need(client, agency, title="두 번째 방역 수요")
        latest = (await client.get("/")).text
        assert latest.index("두 번째 방역 수요") < latest.index("첫 번째 방역 수요")  # newest first
        assert latest.count('class="tag"') == 1
        assert f'<span class="tag">새 수요</span> <a href="/needs/{second["id"]}">' in latest
        assert (await client.get("/")).text.count('class="tag"') == 1

    async def test_shows_requests_meetings_ratings_contracts_and_certification(
        self, client: Client, sessionmaker: Maker, settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        agency = await verified_agency(client, staff, name="은평구청")
        expires = date.today() + timedelta(days=30)
        firm = await verified_firm(
            client,
            staff,
            firm_types=["social_enterprise"],
            certification_number="2020-77",
            certified_until=str(expires),
        )
        fair_id = await make_fair(sessionmaker, name="겨울 상담회", day=date.today() + timedelta(days=1))
        await join(sessionmaker, fair_id, agency, firm)
        await add_request(sessionmaker, fair_id, agency, firm, RequestStatus.ACCEPTED, timedelta(hours=3))
        meeting_id = await soon_meeting(sessionmaker, agency, firm, fair_id)
        past = datetime.now(UTC) - timedelta(days=2)
        to_rate = await make_meeting(sessionmaker, agency, firm, fair_id=fair_id, starts_at=past)
        rated = await make_meeting(sessionmaker, agency, firm, fair_id=fair_id, starts_at=past - timedelta(hours=1))
        async with sessionmaker.begin() as session:
            await session.execute(
                update(Meeting).where(Meeting.id == rated).values(firm_rating=MeetingRating.COOPERATION_POSSIBLE)
            )
        awaiting = await report_contract(client, agency, agency, firm, contract_date=str(date.today()))

        page = await home_of(client, firm)

        assert "수락" in page and f'href="/fairs/{fair_id}/requests"' in page
        assert f'href="/meetings/{meeting_id}/invite.ics"' in page
        assert 'href="https://meet.jit.si/procure-match-room1"' in page
        rate_section = page[page.index('id="h-rate"') : page.index('id="h-contracts"')]
        assert rate_section.count('class="card"') == 1
        assert f'href="/fairs/{fair_id}/agenda#meeting-{to_rate}"' in rate_section  # its row on the agenda
        assert (
            f"/meetings/{to_rate}/outcome" not in page
        )  # the rating happens on the agenda, where the meeting is listed
        assert f'href="/contracts/{awaiting["id"]}"' in page
        assert "인증이" in page and f"{expires.year}. {expires.month}. {expires.day}." in page

    async def test_a_certification_far_from_expiry_is_not_mentioned(
        self, client: Client, sessionmaker: Maker, settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        firm = await verified_firm(
            client,
            staff,
            firm_types=["social_enterprise"],
            certification_number="2020-78",
            certified_until=str(seoul_today() + timedelta(days=61)),  # the service counts days in Seoul
        )
        page = await home_of(client, firm)
        assert "인증이" not in page
        assert "아직 예약한 상담이 없습니다." in page and "평가를 기다리는 상담이 없습니다." in page


class TestStaffHome:
    async def test_an_empty_review_queue_says_so_without_links_to_nothing(
        self, client: Client, sessionmaker: Maker, settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        page = await home_of(client, staff)
        assert "검토를 기다리는 기관과 정보 변경이 없습니다." in page
        assert 'href="/staff/organizations#changes"' not in page and "0곳" not in page
        await register(client, agency_payload(name="대기중구청"))
        page = await home_of(client, staff)
        assert "인증을 기다리는 기관·기업 1곳" in page
        assert 'href="/staff/organizations#changes"' not in page  # no change waits: no link to an empty list

    async def test_shows_queues_fairs_mails_stale_contracts_and_totals(
        self, client: Client, sessionmaker: Maker, settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        agency = await verified_agency(client, staff, name="중구청")
        firm = await verified_firm(client, staff)
        await register(client, agency_payload(name="대기중구청"))
        fair_id = await make_fair(sessionmaker, name="진행 중 상담회", day=date.today() + timedelta(days=1))
        finished = await make_fair(sessionmaker, name="지난 상담회", day=date.today() - timedelta(days=3))
        await soon_meeting(sessionmaker, agency, firm, fair_id)
        stale = await report_contract(client, firm, agency, firm, contract_date=str(date.today()))
        fresh = await report_contract(client, firm, agency, firm, contract_date=str(date.today()), title="새 계약")
        async with sessionmaker.begin() as session:
            await session.execute(
                update(Contract)
                .where(Contract.id == uuid.UUID(stale["id"]))
                .values(created_at=datetime.now(UTC) - timedelta(days=15))
            )
            failed = OutboxMessage(
                dedupe_key=f"test:{uuid.uuid4().hex}",
                recipient="broken@example.kr",
                locale="ko",
                template="organization_verified",
                due_at=datetime.now(UTC),
                status=OutboxStatus.FAILED,
                attempts=8,
                context={},
            )
            session.add(failed)
            await session.flush()
            failed_id = failed.id
        await client.put(
            f"/api/v1/targets/{agency.organization_id}/{date.today().year}",
            json={"target_krw": 200_000_000},
            headers=staff.headers,
        )

        page = await home_of(client, staff)

        assert "인증을 기다리는 기관·기업 1곳" in page and 'href="/staff/organizations"' in page
        assert f'href="/fairs/{fair_id}/grid"' in page and "상담 1건 예약" in page
        assert str(finished) not in page
        assert f'href="/staff/mail/{failed_id}"' in page and "broken@example.kr" in page
        assert f'href="/contracts/{stale["id"]}"' in page and fresh["id"] not in page
        assert "200,000,000원" in page


class TestEnglish:
    async def test_the_homes_read_in_english_with_the_english_switch(
        self, client: Client, sessionmaker: Maker, settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        agency = await verified_agency(client, staff, name="Mapo Office")
        firm = await verified_firm(client, staff, name="Mapo Cleaning Coop")
        for account, heading in (
            (agency, "Open purchase needs"),
            (firm, "Meetings to rate"),
            (staff, "Fairs in progress"),
        ):
            await sign_in(client, account)
            await client.get("/lang/en?next=/")
            page = (await client.get("/")).text
            assert heading in page and "What waits for you today." in page
            body = page[page.index("<main") : page.index("</main>")]
            assert not re.search(r"[가-힣]", body), re.findall(r"[가-힣]+", body)
