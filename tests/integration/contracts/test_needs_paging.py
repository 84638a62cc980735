"""The needs list of an agency (and of staff): 50 a page, by status, the status kept in the page links."""

from __future__ import annotations

import re
import uuid
from datetime import date

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.needs.models import Need, NeedStatus
from tests.factories import create_staff, verified_agency
from tests.integration.fairs.test_pages import sign_in

Client = AsyncTestClient[Litestar]


def need_rows(html: str) -> int:
    return len(re.findall(r'<a href="/needs/[0-9a-f-]{36}">', html))


class TestNeedsPaging:
    async def test_fifty_a_page_filtered_by_status(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        agency = await verified_agency(client, staff)
        other = await verified_agency(client, staff)
        async with sessionmaker.begin() as session:
            for n, who in enumerate([agency] * 56 + [other] * 3):
                session.add(
                    Need(
                        agency_id=uuid.UUID(who.organization_id), title=f"수요{n:02d}", budget_krw=5_000_000,
                        needed_by=date(2030, 1, 1), status=NeedStatus.CLOSED if n < 52 else NeedStatus.OPEN,
                    )
                )  # fmt: skip
        await sign_in(client, agency)
        first = await client.get("/needs")
        assert need_rows(first.text) == 50 and 'href="?page=2"' in first.text
        assert need_rows((await client.get("/needs?page=2")).text) == 6  # only its own
        closed = await client.get("/needs?status=closed")
        assert need_rows(closed.text) == 50 and 'href="?status=closed&amp;page=2"' in closed.text
        assert need_rows((await client.get("/needs?status=open")).text) == 4
        await sign_in(client, staff)
        assert need_rows((await client.get("/needs?status=open")).text) == 7
