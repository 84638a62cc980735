"""The HTML side of the figures and contracts: dashboards with charts and tables, forms with CSRF."""

from __future__ import annotations

import re
import uuid

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.contracts.models import Contract
from service.fairs.models import Meeting
from service.reports.models import ExportJob
from tests.factories import PASSWORD, Account
from tests.integration.reports.conftest import Small

Client = AsyncTestClient[Litestar]
Maker = async_sessionmaker[AsyncSession]


def csrf_from(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "form without a CSRF token"
    return match.group(1)


async def sign_in(client: Client, account: Account) -> None:
    client.cookies.clear()
    token = csrf_from((await client.get("/login")).text)
    response = await client.post(
        "/login", data={"email": account.email, "password": PASSWORD, "_csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303


class TestDashboards:
    async def test_staff_dashboard_has_charts_and_tables(self, client: Client, small: Small) -> None:
        await sign_in(client, small.staff)
        page = await client.get("/reports?year=2021")
        assert page.status_code == 200
        html = page.text
        assert html.count("<svg") == 5
        assert "2021 1차 온라인상담회" in html
        assert "15,000천원" in html  # linked sales of the fair in 천원
        assert "style=" not in html  # the CSP forbids inline styles
        assert "/reports/export?kind=contracts_xlsx" in html

    async def test_agency_sees_its_own_dashboard_only(self, client: Client, small: Small) -> None:
        await sign_in(client, small.a1)
        assert (await client.get("/reports?year=2021")).status_code == 403
        mine = await client.get("/reports/mine?year=2021")
        assert mine.status_code == 200
        assert "10,001천원" in mine.text
        assert "5,000천원" not in mine.text  # the other agency's contract

    async def test_firm_dashboard(self, client: Client, small: Small) -> None:
        await sign_in(client, small.f2)
        mine = await client.get("/reports/mine?year=2021")
        assert mine.status_code == 200
        assert "5,001천원" in mine.text

    async def test_reports_open_on_the_latest_year_with_figures(self, client: Client, small: Small) -> None:
        selected = '<option value="2021" selected>2021</option>'
        for account, paths in ((small.staff, ("/reports", "/staff/purchases")), (small.a1, ("/reports/mine",)),
                               (small.f2, ("/reports/mine",))):  # fmt: skip
            await sign_in(client, account)
            for path in paths:
                page = await client.get(path)
                assert page.status_code == 200, path
                assert selected in page.text, path  # 2021 holds the figures, whatever year it is now
                assert '<select id="year" name="year">' in page.text
        mine = await client.get("/reports/mine")
        assert "5,001천원" in mine.text

    async def test_export_page_small_export_downloads_at_once(self, client: Client, small: Small) -> None:
        await sign_in(client, small.staff)
        response = await client.get("/reports/export?kind=contracts_csv&year=2021", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/api/v1/exports/contracts.csv?year=2021&lang=ko"

    async def test_job_progress_page_polls_until_done(self, client: Client, sessionmaker: Maker, small: Small) -> None:
        async with sessionmaker.begin() as session:
            job = ExportJob(
                requested_by=uuid.UUID(small.staff.user_id), kind="contracts_csv", params={}, total_rows=200_000,
                done_rows=50_000, status="running",
            )  # fmt: skip
            session.add(job)
            await session.flush()
            job_id = job.id
        await sign_in(client, small.staff)
        page = await client.get(f"/reports/exports/{job_id}")
        assert page.status_code == 200
        assert 'hx-trigger="every 2s"' in page.text
        assert '<progress max="1" value="0.25"' in page.text
        fragment = await client.get(f"/reports/exports/{job_id}", headers={"HX-Request": "true"})
        assert "<html" not in fragment.text
        assert "<progress" in fragment.text


class TestContractPages:
    async def test_report_from_a_meeting_and_confirm(self, client: Client, sessionmaker: Maker, small: Small) -> None:
        async with sessionmaker() as session:
            meeting = (
                await session.scalars(select(Meeting).where(Meeting.firm_id == uuid.UUID(small.f1.organization_id)))
            ).first()
            assert meeting is not None
        await sign_in(client, small.f1)
        form = await client.get(f"/contracts/new?meeting_id={meeting.id}")
        assert form.status_code == 200
        assert "은평구청" in form.text
        bad = await client.post(
            "/contracts/new",
            data={"_csrf_token": csrf_from(form.text), "meeting_id": str(meeting.id), "title": "", "amount_krw": "0",
                  "contract_date": "2021-09-01"},
        )  # fmt: skip
        assert bad.status_code == 422
        assert 'aria-invalid="true"' in bad.text
        done = await client.post(
            "/contracts/new",
            data={"_csrf_token": csrf_from(form.text), "meeting_id": str(meeting.id), "title": "방역 용역 추가",
                  "amount_krw": "3,300,000", "contract_date": "2021-09-01"},
            follow_redirects=False,
        )  # fmt: skip
        assert done.status_code == 303
        contract_id = done.headers["location"].split("/")[2].split("?")[0]
        await sign_in(client, small.a1)
        listing = await client.get("/contracts")
        assert "방역 용역 추가" in listing.text
        detail = await client.get(f"/contracts/{contract_id}")
        assert "/confirm" in detail.text
        confirmed = await client.post(
            f"/contracts/{contract_id}/confirm", data={"_csrf_token": csrf_from(detail.text)}, follow_redirects=False
        )
        assert confirmed.status_code == 303
        async with sessionmaker() as session:
            contract = await session.get(Contract, uuid.UUID(contract_id))
            assert contract is not None
            assert contract.status == "confirmed"
            assert contract.amount_krw == 3_300_000
            assert contract.fair_id is not None

    async def test_staff_import_page_checks_a_file(self, client: Client, small: Small) -> None:
        await sign_in(client, small.staff)
        page = await client.get("/staff/purchases?year=2021")
        assert page.status_code == 200
        body = "기관,연도,구분,금액\r\n은평구청,2021,목표,1000000\r\n".encode()
        response = await client.post(
            "/staff/purchases/import",
            data={"_csrf_token": csrf_from(page.text), "year": "2021"},
            files={"file": ("targets.csv", body, "text/csv")},
        )
        assert response.status_code == 200, response.text[:500]
        assert "검사 완료, 아직 반영하지 않음" in response.text  # a dry run unless "write it" is ticked
