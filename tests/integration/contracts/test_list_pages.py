"""The contract list: 50 a page, filtered by year, status and channel, the filters kept in the page links."""

from __future__ import annotations

import re
import uuid
from datetime import date

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.contracts.models import Contract, ContractChannel, ReporterSide
from tests.factories import create_staff, verified_agency, verified_firm
from tests.integration.fairs.test_pages import sign_in

Client = AsyncTestClient[Litestar]


def titles(html: str) -> list[str]:
    return re.findall(r'<a href="/contracts/[0-9a-f-]+">([^<]+)</a>', html)


class TestContractList:
    async def test_pages_of_fifty_with_filters_in_the_links(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        agency = await verified_agency(client, staff)
        firm = await verified_firm(client, staff)
        async with sessionmaker.begin() as session:
            for n in range(60):
                session.add(
                    Contract(
                        agency_id=uuid.UUID(agency.organization_id), firm_id=uuid.UUID(firm.organization_id),
                        amount_krw=1_000_000 + n, contract_date=date(2021 if n < 55 else 2022, 1 + n % 12, 1),
                        title=f"계약{n:02d}", channel=ContractChannel.PROPOSAL if n % 2 else ContractChannel.OTHER,
                        reported_side=ReporterSide.STAFF,
                    )
                )  # fmt: skip
        await sign_in(client, staff)

        first = await client.get("/contracts")
        assert len(titles(first.text.split('id="all-h"')[1])) == 50
        # awaiting confirmation: the first ten, and a link to all of them
        assert len(titles(first.text.split('id="await-h"')[1].split('id="all-h"')[0])) == 10
        assert 'href="?status=reported">확인을 기다리는 60건 모두 보기' in first.text
        assert 'href="?page=2"' in first.text and "전체 60건 중 1–50" in first.text
        second = await client.get("/contracts", params={"page": "2"})
        assert len(titles(second.text.split('id="all-h"')[1])) == 10
        assert 'aria-current="page">2<' in second.text

        filtered = await client.get("/contracts", params={"year": "2021", "channel": "proposal"})
        shown = titles(filtered.text.split('id="all-h"')[1])
        assert len(shown) == 27 and all(int(t[2:]) % 2 == 1 and int(t[2:]) < 55 for t in shown)
        assert '<option value="2021" selected>' in filtered.text

        two_pages = await client.get("/contracts", params={"year": "2021"})
        assert 'href="?year=2021&amp;page=2"' in two_pages.text  # the filter stays in the page link
        page_two = await client.get("/contracts", params={"year": "2021", "page": "2"})
        assert len(titles(page_two.text.split('id="all-h"')[1])) == 5

        # nonsense filters and pages are ignored, not errors
        odd = await client.get("/contracts", params={"year": "abc", "status": "x", "page": "-3"})
        assert odd.status_code == 200 and len(titles(odd.text.split('id="all-h"')[1])) == 50

    async def test_an_organization_pages_only_its_own(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        agency = await verified_agency(client, staff)
        other = await verified_agency(client, staff)
        firm = await verified_firm(client, staff)
        async with sessionmaker.begin() as session:
            for n, who in enumerate([agency, other, other]):
                session.add(
                    Contract(
                        agency_id=uuid.UUID(who.organization_id), firm_id=uuid.UUID(firm.organization_id),
                        amount_krw=1_000_000, contract_date=date(2021, 3, 1), title=f"계약{n:02d}",
                        channel=ContractChannel.OTHER, reported_side=ReporterSide.STAFF,
                    )
                )  # fmt: skip
        await sign_in(client, agency)
        page = await client.get("/contracts", params={"year": "2021"})
        assert titles(page.text.split('id="all-h"')[1]) == ["계약00"]
