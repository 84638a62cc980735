"""Bulk import by staff through the API: dry run, all-or-nothing, duplicates, authorization."""

import pytest
from sqlalchemy import func, select

from service.identity.models import AuditEvent
from service.registry.models import Organization, OrganizationKind
from tests.factories import business_number, create_staff, verified_agency, verified_firm
from tests.factories_registry import csv_bytes, firm_row, xlsx_bytes

URL = "/api/v1/imports/firms"


@pytest.fixture
async def staff(client, sessionmaker, settings):
    return await create_staff(client, sessionmaker, settings)


async def post_file(client, account, content, filename="firms.csv", **params):
    return await client.post(
        URL,
        params={k: str(v).lower() for k, v in params.items()},
        files={"file": (filename, content, "text/csv")},
        headers=account.headers,
    )


async def firm_count(sessionmaker):
    async with sessionmaker() as session:
        return await session.scalar(
            select(func.count()).select_from(Organization).where(Organization.kind == OrganizationKind.FIRM)
        )


def mixed():
    return [
        firm_row(business_number(), name="좋은방역협동조합"),
        firm_row("123-45-67890", name="잘못된번호기업"),
        firm_row(business_number(), name="성북도시락", 기업유형="마을기업"),
    ]


async def test_cp949_dry_run_reports_errors_and_writes_nothing(client, staff, sessionmaker):
    before = await firm_count(sessionmaker)
    response = await post_file(client, staff, csv_bytes(mixed(), "cp949"), dry_run=True)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["written"] is False and body["total"] == 3 and body["valid"] == 2
    assert body["errors"] == [
        {"row": 3, "column": "사업자등록번호", "value": "123-45-67890", "reason": body["errors"][0]["reason"]}
    ]
    assert await firm_count(sessionmaker) == before


async def test_all_or_nothing_writes_nothing_when_a_row_is_bad(client, staff, sessionmaker):
    before = await firm_count(sessionmaker)
    response = await post_file(client, staff, csv_bytes(mixed(), "cp949"), dry_run=False, all_or_nothing=True)
    assert response.status_code == 200
    assert response.json()["written"] is False
    assert await firm_count(sessionmaker) == before


async def test_partial_import_writes_valid_rows_pending_without_users(client, staff, sessionmaker):
    before = await firm_count(sessionmaker)
    response = await post_file(client, staff, csv_bytes(mixed(), "cp949"), dry_run=False, all_or_nothing=False)
    body = response.json()
    assert body["written"] is True and body["created"] == 2 and len(body["errors"]) == 1
    assert await firm_count(sessionmaker) == before + 2
    async with sessionmaker() as session:
        org = await session.scalar(select(Organization).where(Organization.name == "성북도시락"))
        assert org is not None and org.status == "pending" and org.firm_types == ["village_enterprise"]
        audit = await session.scalar(select(AuditEvent).where(AuditEvent.action == "organization.import"))
        assert audit is not None and audit.changes["created"] == 2


async def test_verified_import_appears_in_directory(client, staff):
    rows = [firm_row(business_number(), name="은평새싹사회적협동조합", 기업유형="사회적협동조합")]
    response = await post_file(client, staff, xlsx_bytes(rows), "firms.xlsx", dry_run=False, verify=True)
    assert response.json()["created"] == 1
    agency = await verified_agency(client, staff)
    found = await client.get("/api/v1/firms", params={"q": "은평새싹"}, headers=agency.headers)
    assert [i["name"] for i in found.json()["items"]] == ["은평새싹사회적협동조합"]


async def test_duplicates_are_reported_or_update(client, staff, sessionmaker):
    number = business_number()
    await post_file(client, staff, csv_bytes([firm_row(number, name="처음이름")]), dry_run=False)
    again = csv_bytes([firm_row(number, name="바뀐이름")])
    reported = (await post_file(client, staff, again, dry_run=False)).json()
    assert reported["written"] is False and reported["errors"][0]["reason"] == "already registered"
    updated = (await post_file(client, staff, again, dry_run=False, on_duplicate="update")).json()
    assert updated["updated"] == 1 and updated["created"] == 0
    async with sessionmaker() as session:
        names = list(await session.scalars(select(Organization.name).where(Organization.business_number == number)))
    assert names == ["바뀐이름"]


async def test_firm_and_agency_users_cannot_import(client, staff):
    firm = await verified_firm(client, staff)
    agency = await verified_agency(client, staff)
    for account in (firm, agency):
        response = await post_file(client, account, csv_bytes(mixed()), dry_run=True)
        assert response.status_code == 403
    assert (await client.get(URL + "/template", headers=firm.headers)).status_code == 403


async def test_firm_users_cannot_verify(client, staff):
    firm = await verified_firm(client, staff)
    response = await client.post(f"/api/v1/organizations/{firm.organization_id}/verify", headers=firm.headers)
    assert response.status_code == 403


async def test_template_download(client, staff):
    response = await client.get(URL + "/template", headers=staff.headers)
    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert "사업자등록번호" in response.content.decode("utf-8-sig").splitlines()[0]


async def test_missing_column_is_422(client, staff):
    response = await post_file(client, staff, "상호\n가나다\n".encode(), dry_run=True)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "file"


async def test_directory_export_is_utf8_bom_and_hides_contact_from_firms(client, staff):
    # Registration accepts such names; the export must neutralise them (CSV injection).
    await verified_firm(client, staff, name="=수식기업", phone="02-999-8888")
    agency = await verified_agency(client, staff)
    firm = await verified_firm(client, staff)
    as_agency = await client.get("/api/v1/firms/export", params={"q": "수식기업"}, headers=agency.headers)
    assert as_agency.status_code == 200
    assert as_agency.content.startswith(b"\xef\xbb\xbf")
    lines = as_agency.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("상호,사업자등록번호")
    assert lines[1].startswith("'=수식기업") and "02-999-8888" in lines[1]
    as_firm = await client.get("/api/v1/firms/export", params={"q": "수식기업"}, headers=firm.headers)
    assert "02-999-8888" not in as_firm.content.decode("utf-8-sig")


async def test_directory_export_neutralises_every_formula_prefix(client, staff):
    names = ["+수식방어기업", "-수식방어기업", "@수식방어기업"]
    for name in names:
        await verified_firm(client, staff, name=name, description='=HYPERLINK("http://evil.example","x") 방역')
    agency = await verified_agency(client, staff)
    response = await client.get("/api/v1/firms/export", params={"q": "수식방어기업"}, headers=agency.headers)
    import csv
    import io

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))[1:]
    assert sorted(r[0] for r in rows) == sorted("'" + n for n in names)
    for row in rows:
        assert all(cell[:1] not in ("=", "+", "-", "@") for cell in row), row
        assert row[5].startswith("'=HYPERLINK")


async def test_directory_export_is_audited(client, staff, sessionmaker):
    await verified_firm(client, staff, name="감사기록방역", district="mapo", phone="02-777-1234")
    agency = await verified_agency(client, staff)
    response = await client.get(
        "/api/v1/firms/export", params={"q": "감사기록", "district": "mapo", "category": ""}, headers=agency.headers
    )
    assert response.status_code == 200 and "02-777-1234" in response.content.decode("utf-8-sig")
    async with sessionmaker() as session:
        events = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "export.firms_csv"))).all()
    assert len(events) == 1
    event = events[0]
    assert str(event.actor_id) == agency.user_id and event.at is not None
    assert event.changes == {
        "filters": {"q": "감사기록", "district": "mapo"},
        "rows": 1,
        "rows_with_contacts": 1,
    }
