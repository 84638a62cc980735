"""Fair pages: staff setup and grid, firm booking with htmx (and the lost-race message), agenda."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from tests.factories import PASSWORD, Account, create_staff, verified_agency, verified_firm

Client = AsyncTestClient[Litestar]


def csrf_from(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "form without a CSRF token"
    return match.group(1)


async def sign_in(client: Client, account: Account) -> str:
    client.cookies.clear()
    token = csrf_from((await client.get("/login")).text)
    response = await client.post(
        "/login", data={"email": account.email, "password": PASSWORD, "_csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303
    return csrf_from((await client.get("/fairs")).text)


class TestFairPages:
    async def test_staff_sets_up_firms_book_with_htmx_and_the_grid_shows_it(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        agency = await verified_agency(client, staff)
        firm = await verified_firm(client, staff)
        rival = await verified_firm(client, staff)

        csrf = await sign_in(client, staff)
        opens = (datetime.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
        closes = (datetime.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
        form = {
            "_csrf_token": csrf,
            "name": "2021 공공구매 1차 온라인상담회",
            "mode": "first_come",
            "dates": "2030-10-20",
            "start": "10:00",
            "end": "12:00",
            "slot_minutes": "30",
            "booking_opens_at": opens,
            "booking_closes_at": closes,
        }
        bad = await client.post("/fairs", data={**form, "end": "09:00"})
        assert bad.status_code == 422 and "has-error" in bad.text
        created = await client.post("/fairs", data=form, follow_redirects=False)
        assert created.status_code == 303, created.text
        fair_url = created.headers["location"].split("?")[0]
        setup = await client.get(fair_url)
        assert "4" in setup.text and agency.organization_id in setup.text
        added = await client.post(
            f"{fair_url}/participants",
            data={
                "_csrf_token": csrf,
                "organization_id": [agency.organization_id, firm.organization_id, rival.organization_id],
            },
            follow_redirects=False,
        )
        assert added.status_code == 303

        slot = "2030-10-20T10:30:00+09:00"
        book = {"agency_id": agency.organization_id, "start": slot}
        csrf = await sign_in(client, firm)
        page = await client.get(f"{fair_url}/book")
        assert page.status_code == 200 and 'hx-post="' in page.text
        first = await client.post(
            f"{fair_url}/book", data={**book, "_csrf_token": csrf}, headers={"hx-request": "true", "x-csrftoken": csrf}
        )
        assert first.status_code == 200
        assert "<html" not in first.text  # a fragment, swapped in place
        assert "예약되었습니다" in first.text

        csrf = await sign_in(client, rival)
        second = await client.post(
            f"{fair_url}/book", data={**book, "_csrf_token": csrf}, headers={"hx-request": "true", "x-csrftoken": csrf}
        )
        assert second.status_code == 200
        assert "방금 다른 기업이" in second.text  # someone took it a second earlier

        csrf = await sign_in(client, staff)
        grid = await client.get(f"{fair_url}/grid")
        assert grid.status_code == 200 and "테스트협동조합" in grid.text

        await sign_in(client, agency)
        agenda = await client.get(f"{fair_url}/agenda")
        assert "meet.jit.si" in agenda.text and "/invite.ics" in agenda.text
        # a meeting still to come offers no contract report yet (tests/e2e reports one from a past meeting)
        assert "/contracts/new?meeting_id=" not in agenda.text
