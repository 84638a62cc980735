"""The homes carry the firm↔agency loop: an agency sees how many firms responded to each open need,
and staff see the firms an agency asked the center to reach (firms without a user account)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from service.matching.models import StaffTask
from service.registry.models import Organization
from tests.factories import create_staff, verified_agency, verified_firm
from tests.integration.home.test_home import home_of, post_need


async def test_an_agency_home_counts_the_responses_to_each_open_need(client, sessionmaker, settings) -> None:
    staff = await create_staff(client, sessionmaker, settings)
    agency = await verified_agency(client, staff, name="은평구청")
    firm = await verified_firm(client, staff)
    need = await post_need(client, agency)
    quiet = await post_need(client, agency, title="조용한 수요")
    responded = await client.post(
        f"/api/v1/needs/{need['id']}/responses", json={"message": "저희가 해 보겠습니다."}, headers=firm.headers
    )
    assert responded.status_code == 201, responded.text

    page = await home_of(client, agency)

    assert f'href="/needs/{need["id"]}#responses"' in page and "기업의 관심 표명 1건" in page
    assert f'href="/needs/{quiet["id"]}#responses"' not in page


async def test_a_staff_home_lists_the_firms_to_reach(client, sessionmaker, settings) -> None:
    staff = await create_staff(client, sessionmaker, settings)
    agency = await verified_agency(client, staff, name="중랑구청")
    firm = await verified_firm(client, staff, name="연락처없는협동조합")
    need = await post_need(client, agency)
    empty = await home_of(client, staff)
    assert "지원센터의 연락을 기다리는 요청이 없습니다." in empty
    async with sessionmaker.begin() as session:
        assert await session.scalar(select(Organization.id).where(Organization.name == "연락처없는협동조합"))
        session.add(
            StaffTask(
                kind="reach_firm",
                organization_id=uuid.UUID(firm.organization_id),
                need_id=uuid.UUID(need["id"]),
                requested_by_org=uuid.UUID(agency.organization_id),
                note="",
            )
        )

    page = await home_of(client, staff)

    section = page[page.index('id="h-tasks"') : page.index('id="h-contracts"')]
    assert f'href="/firms/{firm.organization_id}"' in section and "연락처없는협동조합" in section
    assert f'href="/needs/{need["id"]}"' in section
