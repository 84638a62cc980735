"""Needs and matches through the API, on real PostgreSQL."""

from datetime import date, timedelta

import pytest

from tests.factories import create_staff, firm_payload, register, verified_agency, verified_firm

NEED = {
    "title": "구청 청사 방역 소독 용역",
    "description": "은평구청 본관과 별관의 정기 방역 소독",
    "category_codes": ["CLN-DIS"],
    "budget_krw": 30_000_000,
    "needed_by": str(date.today() + timedelta(days=30)),
    "delivery_district": "eunpyeong",
}


@pytest.fixture
async def market(client, sessionmaker, settings):
    staff = await create_staff(client, sessionmaker, settings)
    agency = await verified_agency(client, staff, district="eunpyeong")
    local_certified = await verified_firm(
        client,
        staff,
        name="은평방역사회적기업",
        district="eunpyeong",
        category_codes=["CLN-DIS"],
        firm_types=["social_enterprise"],
        certification_number="2020-77",
        certified_until="2030-12-31",
        description="공공청사 방역 소독 전문, 취약계층 고용",
        capacity_krw=100_000_000,
    )
    far_cleaner = await verified_firm(
        client,
        staff,
        name="송파청소협동조합",
        district="songpa",
        category_codes=["CLN-BLD"],
        firm_types=["cooperative"],
        description="건물 청소",
        capacity_krw=50_000_000,
    )
    printer = await verified_firm(
        client,
        staff,
        name="마포인쇄",
        district="mapo",
        category_codes=["PRT-BOK"],
        description="인쇄",
    )
    unverified = await register(
        client, firm_payload(name="미승인방역", district="eunpyeong", category_codes=["CLN-DIS"])
    )
    return staff, agency, local_certified, far_cleaner, printer, unverified


class TestNeeds:
    async def test_agency_posts_and_lists(self, client, market):
        _, agency, *_ = market
        created = await client.post("/api/v1/needs", json=NEED, headers=agency.headers)
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["status"] == "open" and body["direct_contract_eligible"] is True
        listed = (await client.get("/api/v1/needs", headers=agency.headers)).json()
        assert listed["total"] == 1 and listed["items"][0]["id"] == body["id"]

    async def test_bad_need_names_each_field(self, client, market):
        _, agency, *_ = market
        bad = {**NEED, "category_codes": ["CLN"], "budget_krw": -5, "needed_by": "2001-01-01"}
        response = await client.post("/api/v1/needs", json=bad, headers=agency.headers)
        assert response.status_code == 422
        assert {"category_codes", "budget_krw", "needed_by"} <= {e["field"] for e in response.json()["errors"]}

    async def test_firms_cannot_post_needs(self, client, market):
        *_, printer, _ = market[:5]
        assert (await client.post("/api/v1/needs", json=NEED, headers=printer.headers)).status_code == 403


class TestMatches:
    async def test_local_certified_disinfection_firm_first_with_reasons(self, client, market):
        _, agency, *_ = market
        need = (await client.post("/api/v1/needs", json=NEED, headers=agency.headers)).json()
        response = await client.get(f"/api/v1/needs/{need['id']}/matches", headers=agency.headers)
        assert response.status_code == 200
        matches = response.json()["matches"]
        names = [m["firm"]["name"] for m in matches]
        assert names[0] == "은평방역사회적기업"
        assert "송파청소협동조합" in names  # same field (cleaning), lower
        assert "마포인쇄" not in names and "미승인방역" not in names
        first = matches[0]
        assert first["score"] > matches[1]["score"]
        details = {r["factor"]: r["detail"] for r in first["reasons"]}
        assert details["category"] == "세부품목 일치: 방역·소독"
        assert "은평구" in details["district"]

    async def test_other_agency_cannot_see_matches(self, client, market):
        staff, agency, *_ = market
        other = await verified_agency(client, staff)
        need = (await client.post("/api/v1/needs", json=NEED, headers=agency.headers)).json()
        assert (await client.get(f"/api/v1/needs/{need['id']}/matches", headers=other.headers)).status_code == 404

    async def test_firm_sees_needs_that_fit_it_with_reasons(self, client, market):
        _, agency, local, _far, printer, _ = market
        await client.post("/api/v1/needs", json=NEED, headers=agency.headers)
        fitting = (await client.get("/api/v1/needs", headers=local.headers)).json()
        assert fitting["total"] == 1 and fitting["items"][0]["score"] > 0
        assert fitting["items"][0]["reasons"]
        assert (await client.get("/api/v1/needs", headers=printer.headers)).json()["total"] == 0

    async def test_shortlist_and_invite(self, client, market):
        _, agency, local, *_ = market
        need = (await client.post("/api/v1/needs", json=NEED, headers=agency.headers)).json()
        response = await client.post(
            f"/api/v1/needs/{need['id']}/shortlist",
            json={"firm_id": local.organization_id, "invite": "contact", "message": "연락 부탁드립니다"},
            headers=agency.headers,
        )
        assert response.status_code == 201, response.text
        invitations = (await client.get("/api/v1/me/invitations", headers=local.headers)).json()
        assert invitations[0]["need_title"] == NEED["title"]
        assert invitations[0]["message"] == "연락 부탁드립니다"

    async def test_staff_tunes_weights(self, client, market):
        staff, agency, *_ = market
        bad = await client.put("/api/v1/matching/settings", json={"weights": {"nonsense": 3}}, headers=staff.headers)
        assert bad.status_code == 422
        ok = await client.put("/api/v1/matching/settings", json={"weights": {"district": 40}}, headers=staff.headers)
        assert ok.status_code == 200 and ok.json()["weights"]["district"] == 40
        denied = await client.put("/api/v1/matching/settings", json={"weights": {}}, headers=agency.headers)
        assert denied.status_code == 403
