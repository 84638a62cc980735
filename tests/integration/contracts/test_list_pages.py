"""The contract list: 50 a page, filtered by year, status, channel, fair, party and a party's name or business
number, the filters kept in the page links."""

from __future__ import annotations

import re
import uuid
from datetime import date

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.contracts.models import Contract, ContractChannel, ReporterSide
from service.registry.models import Organization
from tests.factories import create_staff, verified_agency, verified_firm
from tests.factories_contracts import make_fair, make_meeting
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

    async def test_narrowed_to_a_fair_a_party_or_a_name(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        jung = await verified_agency(client, staff, name="중구청")
        mapo = await verified_agency(client, staff, name="마포구청")
        firm = await verified_firm(client, staff, name="햇살협동조합")
        other_firm = await verified_firm(client, staff, name="달빛사회적기업")
        fair_id = await make_fair(sessionmaker, name="2021 상담회")
        at_fair = {
            0: await make_meeting(sessionmaker, jung, firm, fair_id=fair_id),
            3: await make_meeting(sessionmaker, mapo, other_firm, fair_id=fair_id),
        }
        async with sessionmaker.begin() as session:
            for n, (agency, seller) in enumerate([(jung, firm), (jung, other_firm), (mapo, firm), (mapo, other_firm)]):
                session.add(
                    Contract(
                        agency_id=uuid.UUID(agency.organization_id), firm_id=uuid.UUID(seller.organization_id),
                        amount_krw=1_000_000, contract_date=date(2021, 3, 1 + n), title=f"계약{n:02d}",
                        channel=ContractChannel.OTHER, reported_side=ReporterSide.STAFF,
                        fair_id=fair_id if n in at_fair else None, meeting_id=at_fair.get(n),
                    )
                )  # fmt: skip
        await sign_in(client, staff)

        def shown(html: str) -> list[str]:
            return sorted(titles(html.split('id="all-h"')[1]))

        by_fair = await client.get("/contracts", params={"fair": str(fair_id)})
        assert shown(by_fair.text) == ["계약00", "계약03"]
        assert f'<option value="{fair_id}" selected>2021 상담회</option>' in by_fair.text
        everything = (await client.get("/contracts")).text
        # a party's name narrows the list to it, keeping the other filters
        assert f'href="?agency={jung.organization_id}"' in everything
        by_agency = await client.get("/contracts", params={"agency": jung.organization_id, "fair": str(fair_id)})
        assert shown(by_agency.text) == ["계약00"]
        assert (
            "<strong>중구청</strong>" in by_agency.text and f'href="?fair={fair_id}">모든 기관 보기' in by_agency.text
        )
        by_firm = await client.get("/contracts", params={"firm": other_firm.organization_id})
        assert shown(by_firm.text) == ["계약01", "계약03"]
        by_name = await client.get("/contracts", params={"q": "햇살"})
        assert shown(by_name.text) == ["계약00", "계약02"]
        async with sessionmaker() as session:
            number = await session.scalar(
                select(Organization.business_number).where(Organization.id == uuid.UUID(mapo.organization_id))
            )
        assert number is None or shown((await client.get("/contracts", params={"q": number})).text) == []
        firm_number = await business_number_of(sessionmaker, other_firm.organization_id)
        dashed = f"{firm_number[:3]}-{firm_number[3:5]}-{firm_number[5:]}"
        assert shown((await client.get("/contracts", params={"q": dashed})).text) == ["계약01", "계약03"]
        # a bad id or wildcard is no filter and no error
        odd = await client.get("/contracts", params={"fair": "x", "agency": "' OR 1=1", "q": "%_%"})
        assert odd.status_code == 200 and shown(odd.text) == []  # no name holds "%_%" literally

        api = await client.get(
            "/api/v1/contracts",
            params={"agency_id": mapo.organization_id, "fair_id": str(fair_id)},
            headers=staff.headers,
        )
        assert [c["title"] for c in api.json()["items"]] == ["계약03"]
        bad = await client.get("/api/v1/contracts", params={"firm_id": "nope"}, headers=staff.headers)
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "firm_id"


async def business_number_of(sessionmaker: async_sessionmaker[AsyncSession], organization_id: str) -> str:
    async with sessionmaker() as session:
        number = await session.scalar(
            select(Organization.business_number).where(Organization.id == uuid.UUID(organization_id))
        )
    assert number is not None
    return number
