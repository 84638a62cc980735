"""The 2021 fair at its real size: 65 agencies, 116 firms, 435 meetings, one printable grid."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.fairs.booking import BookingService
from tests.factories import create_staff
from tests.factories_fairs import fair_days, seed_fair, seed_principals, starts


class TestSeedScaleFair:
    async def test_435_meetings_between_65_agencies_and_116_firms_print_on_one_grid(
        self, client: AsyncTestClient[Litestar], sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        agencies = await seed_principals(sessionmaker, "agency", 65)
        firms = await seed_principals(sessionmaker, "firm", 116)
        fair = await seed_fair(
            sessionmaker, participants=[*agencies, *firms], days=fair_days("10:00", "17:00", lunch=True)
        )
        slots = starts(fair)
        assert len(slots) == 12
        async with sessionmaker.begin() as session:
            service = BookingService(session)
            for k in range(435):
                agency = agencies[k % 65].organization_id
                assert agency is not None
                await service.book(firms[k % 116], fair.id, agency, slots[k // 65])
        staff = await create_staff(client, sessionmaker, settings)
        page = await client.get(f"/fairs/{fair.id}/grid", headers=staff.headers)
        assert page.status_code == 200
        assert page.text.count('class="booked') == 435
        assert page.text.count('<th scope="row">') == 65
