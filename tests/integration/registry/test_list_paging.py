"""The verification queue and the firm directory page 50 at a time, the filters kept in the page links."""

from __future__ import annotations

from sqlalchemy import update

from service.registry.models import Organization, OrganizationStatus
from tests.factories import create_staff, verified_agency
from tests.factories_notify import organization
from tests.integration.matching.test_pages import sign_in


async def test_the_queue_and_the_directory_page_fifty_at_a_time(client, sessionmaker, settings):
    staff = await create_staff(client, sessionmaker, settings)
    agency = await verified_agency(client, staff)
    async with sessionmaker.begin() as session:
        waiting = [await organization(session, "firm", f"대기기업{n:02d}", []) for n in range(55)]
        for n in range(60):
            await organization(session, "firm", f"인쇄협동조합{n:02d}", [])
        await session.execute(
            update(Organization)
            .where(Organization.id.in_([o.id for o in waiting]))
            .values(status=OrganizationStatus.PENDING)
        )

    await sign_in(client, staff.email)
    queue = (await client.get("/staff/organizations")).text
    assert queue.count('id="org-') == 50
    assert "(55)" in queue and 'href="?page=2"' in queue
    rest = (await client.get("/staff/organizations", params={"page": "2"})).text
    assert rest.count('id="org-') == 5

    await sign_in(client, agency.email)
    first = (await client.get("/firms", params={"q": "인쇄협동조합"})).text
    assert first.count('<li class="card">') == 50
    assert 'href="?q=%EC%9D%B8%EC%87%84%ED%98%91%EB%8F%99%EC%A1%B0%ED%95%A9&amp;page=2"' in first
    second = (await client.get("/firms", params={"q": "인쇄협동조합", "page": "2"})).text
    assert second.count('<li class="card">') == 10
    odd = await client.get("/firms", params={"q": "a&b=c", "page": "x"})
    assert odd.status_code == 200
