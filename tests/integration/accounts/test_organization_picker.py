"""The organization picker: search by name, business number or district; same names told apart; bounded."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.registry.business_number import display
from service.registry.models import Organization
from tests.factories import agency_payload, create_staff, firm_payload, register, verified_agency, verified_firm
from tests.factories_notify import organization
from tests.integration.fairs.test_pages import sign_in

Client = AsyncTestClient[Litestar]


def option_ids(html: str, field: str) -> list[str]:
    return re.findall(rf'name="{field}" value="([0-9a-f-]+)"', html)


class TestOrganizationSearch:
    async def test_same_names_are_told_apart_and_no_account_is_marked(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        mapo = await verified_firm(client, staff, name="햇살돌봄협동조합", district="mapo")
        gangnam = await verified_firm(client, staff, name="햇살돌봄협동조합", district="gangnam")
        async with sessionmaker.begin() as session:
            orphan = await organization(session, "firm", "햇살돌봄사회적협동조합", users=[])
            numbers = {
                str(o.id): display(o.business_number or "")
                for o in [
                    await session.get(Organization, mapo.organization_id),
                    await session.get(Organization, gangnam.organization_id),
                    orphan,
                ]
                if o is not None
            }
        await sign_in(client, staff)

        page = await client.get("/organizations/search", params={"q": "햇살돌봄", "kind": "firm", "field": "firm_id"})
        assert page.status_code == 200 and "<html" not in page.text
        assert set(option_ids(page.text, "firm_id")) == set(numbers)
        for number in numbers.values():
            assert number in page.text  # the business number tells the two same names apart
        assert "마포구" in page.text and "강남구" in page.text
        assert page.text.count("계정 없음") == 1  # only the organization nobody can sign in for
        assert 'type="radio"' in page.text

        by_number = await client.get(
            "/organizations/search", params={"q": numbers[gangnam.organization_id], "kind": "firm"}
        )
        assert option_ids(by_number.text, "organization_id") == [gangnam.organization_id]
        by_district = await client.get("/organizations/search", params={"q": "햇살 강남", "kind": "firm"})
        assert option_ids(by_district.text, "organization_id") == [gangnam.organization_id]
        none = await client.get("/organizations/search", params={"q": "없는이름", "kind": "firm"})
        assert option_ids(none.text, "organization_id") == [] and "없는이름" in none.text

        # a chosen one stays on top, checked, and is not repeated among the results
        kept = await client.get(
            "/organizations/search",
            params={"q": "햇살", "kind": "firm", "field": "firm_id", "firm_id": mapo.organization_id, "multi": "1"},
        )
        ids = option_ids(kept.text, "firm_id")
        assert ids[0] == mapo.organization_id and ids.count(mapo.organization_id) == 1
        assert 'type="checkbox"' in kept.text and "checked" in kept.text

    async def test_results_are_bounded_to_twenty(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        async with sessionmaker.begin() as session:
            for n in range(25):
                await organization(session, "firm", f"한빛인쇄{n:02d}", users=[])
        await sign_in(client, staff)
        page = await client.get("/organizations/search", params={"q": "한빛인쇄", "kind": "firm"})
        assert len(option_ids(page.text, "organization_id")) == 20
        assert "25" in page.text  # 20 of 25 shown: narrow the search
        agencies = await client.get("/organizations/search", params={"q": "한빛인쇄", "kind": "agency"})
        assert option_ids(agencies.text, "organization_id") == []

    async def test_only_staff_and_verified_organizations_search(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        agency = await verified_agency(client, staff)
        pending = await register(client, firm_payload())
        client.cookies.clear()
        anonymous = await client.get("/organizations/search", params={"q": "테스트"}, follow_redirects=False)
        assert anonymous.status_code in {302, 303, 401}
        await sign_in(client, pending)
        assert (await client.get("/organizations/search", params={"q": "테스트"})).status_code == 403
        await sign_in(client, agency)
        assert (await client.get("/organizations/search", params={"q": "테스트"})).status_code == 200
        # pending organizations are never offered
        found = await client.get("/organizations/search", params={"q": "테스트협동조합", "kind": "firm"})
        assert pending.organization_id not in found.text


class TestPickersOnPages:
    async def test_fair_participants_are_searched_for_without_script(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        agency = await verified_agency(client, staff, name="은평구청 테스트")
        firm = await verified_firm(client, staff, name="은평나눔협동조합", district="eunpyeong")
        other = await verified_firm(client, staff, name="마포두레협동조합")
        csrf = await sign_in(client, staff)
        created = await client.post(
            "/fairs",
            data={
                "_csrf_token": csrf, "name": "상담회", "mode": "first_come", "dates": "2030-10-20", "start": "10:00",
                "end": "12:00", "slot_minutes": "30", "booking_opens_at": "2030-10-01T09:00",
                "booking_closes_at": "2030-10-19T18:00",
            },
            follow_redirects=False,
        )  # fmt: skip
        fair_url = created.headers["location"].split("?")[0]
        await client.post(
            f"{fair_url}/participants", data={"_csrf_token": csrf, "organization_id": agency.organization_id}
        )

        page = await client.get(fair_url, params={"q": "은평"})
        assert 'role="search"' in page.text and 'hx-get="' in page.text
        ids = option_ids(page.text, "organization_id")
        assert firm.organization_id in ids and other.organization_id not in ids
        assert agency.organization_id not in ids  # already taking part
        kept = await client.get(fair_url, params={"q": "마포", "organization_id": firm.organization_id})
        assert option_ids(kept.text, "organization_id") == [firm.organization_id, other.organization_id]

    async def test_contract_party_is_searched_for(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        agency = await verified_agency(client, staff)
        firm = await verified_firm(client, staff, name="성북햇빛협동조합")
        await verified_firm(client, staff, name="노원두레협동조합")
        await sign_in(client, agency)
        page = await client.get("/contracts/new", params={"firm_q": "햇빛"})
        assert page.status_code == 200
        assert option_ids(page.text, "firm_id") == [firm.organization_id]
        assert 'name="agency_id"' not in page.text  # the agency reports for itself
        assert 'hx-get="/organizations/search?kind=firm' in page.text


class TestVerificationQueueLinks:
    async def test_each_waiting_organization_links_to_its_profile(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        firm = await register(client, firm_payload(name="대기중협동조합"))
        agency = await register(client, agency_payload(name="대기중구청"))
        await sign_in(client, staff)
        queue = (await client.get("/staff/organizations")).text
        assert f'href="/firms/{firm.organization_id}"' in queue
        assert f'href="/agencies/{agency.organization_id}"' in queue
        profile = await client.get(f"/firms/{firm.organization_id}")
        assert profile.status_code == 200 and "대기중협동조합" in profile.text


class TestPurchasesPickers:
    async def test_the_target_and_purchase_forms_search_agencies(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        wanted = await verified_agency(client, staff, name="도봉구청 구매팀")
        await verified_agency(client, staff, name="중랑구청 구매팀")
        csrf = await sign_in(client, staff)
        page = await client.get("/staff/purchases", params={"year": "2021", "target_q": "도봉"})
        assert page.status_code == 200
        target = page.text.split('id="target-agency-results"')[1].split("</div>")[0]
        assert option_ids(target, "agency_id") == [wanted.organization_id]
        assert 'id="purchase-agency-results"' in page.text  # two pickers of one field, apart
        saved = await client.post(
            "/staff/purchases/target",
            data={"_csrf_token": csrf, "year": "2021", "form": "target", "agency_id": wanted.organization_id,
                  "amount_krw": "1,000,000"},
            follow_redirects=False,
        )  # fmt: skip
        assert saved.status_code == 303, saved.text[:500]
