"""The rules behind the needs pages, called directly: who sees the matching on a need's page, an agency's
target progress beside its open needs, and which contracts exports a caller may start."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.contracts.models import PurchaseTarget
from service.contracts.targets import TargetService
from service.identity.principal import Principal
from service.lib.clock import today
from service.lib.errors import Forbidden
from service.matching.service import MatchingService
from service.needs.models import Need
from service.reports.export_service import ExportService
from service.reports.repository import SalesFilter
from tests.factories import Account, create_staff, verified_agency, verified_firm

NEED = {
    "title": "구청 청사 방역 소독 용역",
    "category_codes": ["CLN-DIS"],
    "budget_krw": 30_000_000,
    "needed_by": str(date.today() + timedelta(days=30)),
    "delivery_district": "eunpyeong",
}


def principal(account: Account, role: str) -> Principal:
    org = uuid.UUID(account.organization_id) if account.organization_id else None
    kind = None if role == "staff" else role
    status = None if role == "staff" else "verified"
    return Principal(uuid.UUID(account.user_id), "x@x", "x", role, org, kind, status, "x", "ko", uuid.uuid4())


@pytest.fixture
async def posted(client, sessionmaker, settings):
    staff = await create_staff(client, sessionmaker, settings)
    agency = await verified_agency(client, staff, district="eunpyeong")
    other = await verified_agency(client, staff, district="mapo")
    firm = await verified_firm(client, staff, district="eunpyeong", category_codes=["CLN-DIS"])
    created = await client.post("/api/v1/needs", json=NEED, headers=agency.headers)
    assert created.status_code == 201, created.text
    return staff, agency, other, firm, uuid.UUID(created.json()["id"])


async def test_need_page_shows_the_matching_to_its_agency_and_staff_only(
    posted, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    staff, agency, other, firm, need_id = posted
    async with sessionmaker() as session:
        need = await session.get(Need, need_id)
        assert need is not None
        matching = MatchingService(session)
        for viewer in (principal(agency, "agency"), principal(staff, "staff")):
            matches, shortlisted = await matching.for_need_page(viewer, need, "ko")
            assert [f.id for f, _ in matches] == [uuid.UUID(firm.organization_id)]
            assert shortlisted == {}
        assert await matching.for_need_page(principal(other, "agency"), need, "ko") == ([], {})
        assert await matching.for_need_page(principal(firm, "firm"), need, "ko") == ([], {})


async def test_target_progress_counts_open_needs_for_agencies_only(
    posted, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, agency, _, firm, _ = posted
    async with sessionmaker() as session:
        targets = TargetService(session)
        assert await targets.progress(principal(agency, "agency"), today().year) is None  # no target yet
        session.add(PurchaseTarget(agency_id=uuid.UUID(agency.organization_id), year=today().year, target_krw=10**8))
        await session.flush()
        progress = await targets.progress(principal(agency, "agency"), today().year)
        assert progress is not None
        assert (progress.target_krw, progress.actual_krw, progress.remaining_krw) == (10**8, 0, 10**8)
        assert progress.open_needs_krw == 30_000_000
        assert await targets.progress(principal(firm, "firm"), today().year) is None


async def test_only_staff_start_an_ocds_export_and_others_see_their_own_rows(
    posted, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    staff, agency, *_ = posted
    async with sessionmaker() as session:
        exports = ExportService(session)
        with pytest.raises(Forbidden):
            await exports.start(principal(agency, "agency"), "ocds", SalesFilter(), "ko")
        f, total, job = await exports.start(principal(agency, "agency"), "contracts_csv", SalesFilter(), "ko")
        assert (f.agency_id, total, job) == (uuid.UUID(agency.organization_id), 0, None)
        f, total, job = await exports.start(principal(staff, "staff"), "ocds", SalesFilter(year=2021), "ko")
        assert (f.agency_id, f.year, total, job) == (None, 2021, 0, None)
