"""The session pages: staff create a session, a firm registers from the page, staff record attendance;
a bad form shows every field's error and writes nothing; the activities page logs one."""

from __future__ import annotations

from datetime import timedelta

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.lib import clock
from service.programs.models import CooperationActivity, ProgramSession, SessionRegistration
from tests.factories import Account, create_staff, login, verified_firm
from tests.factories_ops import csrf_pair

Client = AsyncTestClient[Litestar]


async def post_form(client: Client, account: Account, path: str, data: dict[str, str]) -> object:
    pair = await csrf_pair(client, session=account.token)
    response = await client.post(path, data={**data, "_csrf_token": pair.token}, headers=pair.headers(account.token),
                                 follow_redirects=False)  # fmt: skip
    client.cookies.clear()
    return response


async def get_page(client: Client, account: Account, path: str) -> str:
    response = await client.get(path, headers={"cookie": f"pm_session={account.token}"})
    client.cookies.clear()
    assert response.status_code == 200, response.text[:300]
    return response.text


async def count(sessionmaker: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_briefing_from_creation_to_attendance(
    client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    staff = await create_staff(client, sessionmaker, settings)
    firm = await verified_firm(client, staff)
    bad = await post_form(client, staff, "/programs/sessions/new", {"title": "", "capacity": "0", "day": "2026-13-01"})
    assert bad.status_code == 422  # type: ignore[attr-defined]
    for field in ("title", "start", "end", "day"):
        assert f'id="e-{field}"' in bad.text, field  # type: ignore[attr-defined]
    assert await count(sessionmaker, ProgramSession) == 0

    day = (clock.now() + timedelta(days=2)).astimezone(clock.SEOUL).date().isoformat()
    created = await post_form(client, staff, "/programs/sessions/new", {
        "title": "공공구매 제도 설명회", "kind": "briefing", "audience": "firms", "day": day, "start": "10:00",
        "end": "12:00", "capacity": "20", "place": "센터 교육장",
    })  # fmt: skip
    assert created.status_code == 303  # type: ignore[attr-defined]
    location = created.headers["location"].split("?")[0]  # type: ignore[attr-defined]
    assert "공공구매 제도 설명회" in await get_page(client, firm, "/programs/sessions")

    registered = await post_form(client, firm, f"{location}/register", {"user_ids": firm.user_id})
    assert registered.headers["location"].endswith("done=registered")  # type: ignore[attr-defined]
    page = await get_page(client, staff, location)
    assert "1 / 20" in await get_page(client, staff, "/programs/sessions") and "신청 완료" in page

    clock.set_now(clock.now() + timedelta(days=2, hours=12))
    staff.token = await login(client, staff.email)
    async with sessionmaker() as session:
        registration_id = str(await session.scalar(select(SessionRegistration.id)))
    saved = await post_form(client, staff, f"{location}/attendance", {"attended": registration_id})
    assert saved.headers["location"].endswith("done=attendance")  # type: ignore[attr-defined]
    async with sessionmaker() as session:
        assert await session.scalar(select(SessionRegistration.attended)) is True


async def test_logging_an_activity(
    client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    staff = await create_staff(client, sessionmaker, settings)
    bad = await post_form(client, staff, "/programs/activities", {"partner": "교육청", "links": "ftp://x"})
    assert bad.status_code == 422  # type: ignore[attr-defined]
    assert 'id="e-date"' in bad.text and 'id="e-kind"' in bad.text  # type: ignore[attr-defined]
    ok = await post_form(client, staff, "/programs/activities", {
        "partner": "서울특별시교육청", "date": "2020-03-26", "kind": "agreement", "description": "업무협약",
        "links": "https://center.kr/agreement.pdf",
    })  # fmt: skip
    assert ok.status_code == 303  # type: ignore[attr-defined]
    assert await count(sessionmaker, CooperationActivity) == 1
    assert "서울특별시교육청" in await get_page(client, staff, "/programs/activities")
