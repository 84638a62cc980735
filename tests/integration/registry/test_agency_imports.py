"""Bulk import of agencies (공공기관) by staff: the firm machinery with the agency column spec."""

import pytest
from sqlalchemy import func, select

from service.identity.models import AuditEvent
from service.registry.models import Organization, OrganizationKind, OrganizationStatus
from tests.factories import business_number, create_staff, verified_agency, verified_firm
from tests.factories_registry import AGENCY_HEADERS, agency_csv_bytes, agency_row, csv_bytes, firm_row, xlsx_bytes

URL = "/api/v1/imports/agencies"


@pytest.fixture
async def staff(client, sessionmaker, settings):
    return await create_staff(client, sessionmaker, settings)


async def post_file(client, account, content, filename="agencies.csv", **params):
    return await client.post(
        URL,
        params={k: str(v).lower() for k, v in params.items()},
        files={"file": (filename, content, "text/csv")},
        headers=account.headers,
    )


async def agency_count(sessionmaker):
    async with sessionmaker() as session:
        return await session.scalar(
            select(func.count()).select_from(Organization).where(Organization.kind == OrganizationKind.AGENCY)
        )


def mixed():
    return [
        agency_row(business_number(), name="서울특별시 은평구청"),
        agency_row("123-45-67890", name="잘못된번호기관"),  # bad check digit
        agency_row(business_number(), name="서울교통공사", 기관유형="공사·공단", 자치구="성동구"),
        agency_row(business_number(), name="어딘가청", 기관유형="시청 산하"),  # unknown type
        agency_row(business_number(), name="서울시교육청", 기관유형="교육청", 연간구매목표액="많음"),
        agency_row(business_number(), name='=HYPERLINK("http://evil")'),
    ]


async def test_cp949_dry_run_reports_each_bad_row_and_writes_nothing(client, staff, sessionmaker):
    before = await agency_count(sessionmaker)
    response = await post_file(client, staff, agency_csv_bytes(mixed(), "cp949"), dry_run=True)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["written"] is False and body["dry_run"] is True
    assert body["total"] == 6 and body["valid"] == 2
    assert [(e["row"], e["column"], e["value"]) for e in body["errors"]] == [
        (3, "사업자등록번호", "123-45-67890"),
        (5, "기관유형", "시청 산하"),
        (6, "연간구매목표액", "많음"),
        (7, "기관명", '=HYPERLINK("http://evil")'),
    ]
    assert "checksum" in body["errors"][0]["reason"]
    assert "formula" in body["errors"][3]["reason"]
    assert await agency_count(sessionmaker) == before


async def test_all_or_nothing_writes_nothing_then_partial_writes_the_good_rows(client, staff, sessionmaker):
    before = await agency_count(sessionmaker)
    content = agency_csv_bytes(mixed(), "cp949")
    nothing = (await post_file(client, staff, content, dry_run=False, all_or_nothing=True)).json()
    assert nothing["written"] is False and nothing["created"] == 0
    assert await agency_count(sessionmaker) == before
    partial = (await post_file(client, staff, content, dry_run=False, all_or_nothing=False)).json()
    assert partial["written"] is True and partial["created"] == 2 and len(partial["errors"]) == 4
    assert await agency_count(sessionmaker) == before + 2
    async with sessionmaker() as session:
        org = await session.scalar(select(Organization).where(Organization.name == "서울교통공사"))
        assert org is not None and org.kind == "agency" and org.status == "pending"
        assert org.agency_type == "public_corporation" and org.district == "seongdong"
        assert org.annual_target_krw == 1_500_000_000 and org.business_number is not None
        audit = await session.scalar(select(AuditEvent).where(AuditEvent.action == "organization.import"))
        assert audit is not None and audit.changes["kind"] == "agency" and audit.changes["created"] == 2


async def test_duplicates_are_reported_or_update(client, staff, sessionmaker):
    number = business_number()
    first = await post_file(client, staff, agency_csv_bytes([agency_row(number, name="처음구청")]), dry_run=False)
    assert first.json()["created"] == 1
    again = agency_csv_bytes([agency_row(number, name="바뀐구청", 연간구매목표액="2000000000")], "cp949")
    reported = (await post_file(client, staff, again, dry_run=False)).json()
    assert reported["written"] is False and reported["errors"][0]["reason"] == "already registered"
    assert reported["errors"][0]["column"] == "사업자등록번호"
    updated = (await post_file(client, staff, again, dry_run=False, on_duplicate="update")).json()
    assert updated["written"] is True and updated["updated"] == 1 and updated["created"] == 0
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                select(Organization.name, Organization.annual_target_krw).where(Organization.business_number == number)
            )
        ).all()
    assert rows == [("바뀐구청", 2_000_000_000)]


async def test_a_firms_number_is_never_updated_by_an_agency_import(client, staff, sessionmaker):
    number = business_number()
    await client.post(
        "/api/v1/imports/firms",
        params={"dry_run": "false"},
        files={"file": ("f.csv", csv_bytes([firm_row(number, name="기업입니다")]), "text/csv")},
        headers=staff.headers,
    )
    body = (
        await post_file(client, staff, agency_csv_bytes([agency_row(number)]), dry_run=False, on_duplicate="update")
    ).json()
    assert body["written"] is False and body["errors"][0]["reason"] == "already registered as a firm"
    async with sessionmaker() as session:
        kind = await session.scalar(select(Organization.kind).where(Organization.business_number == number))
    assert kind == "firm"


async def test_xlsx_with_header_aliases_and_verified(client, staff, sessionmaker):
    rows = [{"기관": "서울시 마포구청", "고유번호": business_number(), "기관구분": "자치구", "자치구": "마포구"}]
    headers = ["기관", "고유번호", "기관구분", "자치구"]
    body = (await post_file(client, staff, xlsx_bytes(rows, headers), "a.xlsx", dry_run=False, verify=True)).json()
    assert body["created"] == 1, body
    pending = (await client.get("/api/v1/organizations/pending", headers=staff.headers)).json()
    assert "서울시 마포구청" not in [o["name"] for o in pending["items"]]
    async with sessionmaker() as session:
        status = await session.scalar(select(Organization.status).where(Organization.name == "서울시 마포구청"))
    assert status == OrganizationStatus.VERIFIED


async def test_missing_agency_column_is_422_naming_it(client, staff):
    content = "기관명,자치구\n마포구청,마포구\n".encode("cp949")
    response = await post_file(client, staff, content, dry_run=True)
    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"][0]["field"] == "file" and "기관유형" in problem["errors"][0]["message"]


async def test_template_download_parses_as_one_valid_row(client, staff):
    template = await client.get(URL + "/template", headers=staff.headers)
    assert template.status_code == 200 and template.content.startswith(b"\xef\xbb\xbf")
    assert template.content.decode("utf-8-sig").splitlines()[0] == ",".join(AGENCY_HEADERS)
    body = (await post_file(client, staff, template.content, dry_run=True)).json()
    assert body["errors"] == [] and body["valid"] == 1


async def test_firm_and_agency_users_cannot_import_agencies(client, staff, sessionmaker):
    before = await agency_count(sessionmaker)
    firm = await verified_firm(client, staff)
    agency = await verified_agency(client, staff)
    for account in (firm, agency):
        response = await post_file(client, account, agency_csv_bytes(mixed()), dry_run=False, all_or_nothing=False)
        assert response.status_code == 403
        assert (await client.get(URL + "/template", headers=account.headers)).status_code == 403
        assert (await client.get("/api/v1/organizations/pending", headers=account.headers)).status_code == 403
    anonymous = await client.post(URL, files={"file": ("a.csv", agency_csv_bytes(mixed()), "text/csv")})
    assert anonymous.status_code == 401
    assert await agency_count(sessionmaker) == before + 1  # only the verified agency registered above
