"""An expired social-enterprise certification earns no preferred-type points and does not list
the firm as a social enterprise in the directory."""

from datetime import date, timedelta

import pytest
from sqlalchemy import update

from service.registry.models import Organization
from tests.factories import create_staff, verified_agency, verified_firm

NEED = {
    "title": "구청 청사 방역 소독 용역",
    "description": "은평구청 본관 정기 방역 소독",
    "category_codes": ["CLN-DIS"],
    "budget_krw": 30_000_000,
    "needed_by": str(date.today() + timedelta(days=30)),
    "delivery_district": "eunpyeong",
    "preferred_firm_types": ["social_enterprise"],
}


@pytest.fixture
async def firms(client, sessionmaker, settings):
    staff = await create_staff(client, sessionmaker, settings)
    agency = await verified_agency(client, staff, district="eunpyeong")
    common = {
        "district": "eunpyeong",
        "category_codes": ["CLN-DIS"],
        "firm_types": ["social_enterprise"],
        "certification_number": "2020-77",
        "certified_until": str(date.today() + timedelta(days=365)),
        "description": "공공청사 방역 소독",
    }
    valid = await verified_firm(client, staff, name="유효인증방역", **common)
    expired = await verified_firm(client, staff, name="만료인증방역", **common)
    async with sessionmaker.begin() as session:
        await session.execute(
            update(Organization)
            .where(Organization.id == expired.organization_id)
            .values(certified_until=date.today() - timedelta(days=1))
        )
    return agency, valid, expired


async def test_expired_certification_earns_no_preferred_type_points(client, firms):
    agency, valid, expired = firms
    need = (await client.post("/api/v1/needs", json=NEED, headers=agency.headers)).json()
    response = await client.get(f"/api/v1/needs/{need['id']}/matches", headers=agency.headers)
    assert response.status_code == 200, response.text
    points = {m["firm"]["id"]: {r["factor"]: r["points"] for r in m["reasons"]} for m in response.json()["matches"]}
    assert points[str(valid.organization_id)]["firm_type"] == 10
    assert points[str(expired.organization_id)]["firm_type"] == 0
    assert points[str(expired.organization_id)]["certification"] == 0


async def test_directory_lists_only_validly_certified_firms_as_social_enterprises(client, firms):
    agency, valid, expired = firms
    response = await client.get("/api/v1/firms", params={"firm_type": "social_enterprise"}, headers=agency.headers)
    assert [f["id"] for f in response.json()["items"]] == [str(valid.organization_id)]
    everyone = await client.get("/api/v1/firms", headers=agency.headers)
    assert str(expired.organization_id) in {f["id"] for f in everyone.json()["items"]}


async def test_export_lists_an_expired_social_enterprise_without_the_type(client, firms):
    agency, _, _ = firms
    response = await client.get("/api/v1/firms/export", params={"q": "인증방역"}, headers=agency.headers)
    rows = {line.split(",")[0]: line for line in response.content.decode("utf-8-sig").splitlines()[1:]}
    assert "social_enterprise" in rows["유효인증방역"]
    assert "social_enterprise" not in rows["만료인증방역"]


async def test_sales_by_firm_type_count_a_certification_only_while_in_force(client, sessionmaker, settings):
    from tests.factories_contracts import confirmed_contract

    staff = await create_staff(client, sessionmaker, settings)
    agency = await verified_agency(client, staff, district="eunpyeong")
    firm = await verified_firm(
        client,
        staff,
        name="상반기인증기업",
        firm_types=["social_enterprise"],
        certification_number="2019-1",
        certified_until="2021-06-30",
        category_codes=["CLN-DIS"],
    )
    await confirmed_contract(client, agency, firm, amount_krw=1_000_000, contract_date="2021-03-02")
    await confirmed_contract(client, agency, firm, amount_krw=2_000_000, contract_date="2021-09-01")
    report = await client.get(
        "/api/v1/reports/sales", params={"year": 2021, "group_by": "firm_type"}, headers=staff.headers
    )
    assert report.status_code == 200, report.text
    rows = {r["key"]: (r["contracts"], r["amount_krw"]) for r in report.json()["rows"]}
    assert rows["social_enterprise"] == (1, 1_000_000)  # signed while certified
    assert rows[None] == (1, 2_000_000)  # signed after the certification ended: no type counts
