"""The firm directory: Korean trigram search, filters, who sees what."""

import pytest

from tests.factories import create_staff, firm_payload, register, verified_agency, verified_firm


@pytest.fixture
async def directory(client, sessionmaker, settings):
    staff = await create_staff(client, sessionmaker, settings)
    agency = await verified_agency(client, staff)
    firms = {
        "clean": await verified_firm(
            client,
            staff,
            name="은평클린협동조합",
            district="eunpyeong",
            category_codes=["CLN-DIS", "CLN-BLD"],
            firm_types=["social_cooperative"],
            description="공공청사 방역 소독과 건물 청소",
            phone="02-111-2222",
        ),
        "print": await verified_firm(
            client,
            staff,
            name="마포인쇄사회적기업",
            district="mapo",
            category_codes=["PRT-BOK"],
            firm_types=["social_enterprise"],
            certification_number="2019-123",
            certified_until="2030-12-31",
            description="보고서와 리플렛 인쇄, 친환경 용지",
            keywords=["제본", "리플렛"],
        ),
        "lunch": await verified_firm(
            client,
            staff,
            name="성북도시락마을기업",
            district="seongbuk",
            category_codes=["FOD-LUN"],
            firm_types=["village_enterprise"],
            description="행사 도시락과 다과",
        ),
    }
    pending = await register(client, firm_payload(name="승인안된방역기업", category_codes=["CLN-DIS"]))
    return staff, agency, firms, pending


async def names(client, account, **params):
    response = await client.get("/api/v1/firms", params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


class TestSearch:
    async def test_misspelled_korean_name_still_finds_the_firm(self, client, directory):
        _, agency, _, _ = directory
        assert "은평클린협동조합" in await names(client, agency, q="은평크린협동조합")

    async def test_partial_word(self, client, directory):
        _, agency, _, _ = directory
        assert await names(client, agency, q="도시락") == ["성북도시락마을기업"]

    async def test_keywords_are_searched(self, client, directory):
        _, agency, _, _ = directory
        assert await names(client, agency, q="제본") == ["마포인쇄사회적기업"]

    async def test_unverified_firms_never_appear(self, client, directory):
        _, agency, _, _ = directory
        assert "승인안된방역기업" not in await names(client, agency, q="방역")

    async def test_group_category_matches_its_leaves(self, client, directory):
        _, agency, _, _ = directory
        assert await names(client, agency, category="CLN") == ["은평클린협동조합"]
        assert await names(client, agency, category="CLN-BLD") == ["은평클린협동조합"]

    async def test_district_and_type_filters(self, client, directory):
        _, agency, _, _ = directory
        assert await names(client, agency, district="mapo") == ["마포인쇄사회적기업"]
        assert await names(client, agency, firm_type="village_enterprise") == ["성북도시락마을기업"]

    async def test_bad_filter_is_422_naming_it(self, client, directory):
        _, agency, _, _ = directory
        response = await client.get("/api/v1/firms", params={"category": "NOPE"}, headers=agency.headers)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "category"

    async def test_pagination_is_stable(self, client, directory):
        _, agency, _, _ = directory
        first = await client.get("/api/v1/firms", params={"page_size": 2}, headers=agency.headers)
        second = await client.get("/api/v1/firms", params={"page_size": 2, "page": 2}, headers=agency.headers)
        body = first.json()
        assert body["total"] == 3
        seen = [i["id"] for i in body["items"]] + [i["id"] for i in second.json()["items"]]
        assert len(set(seen)) == 3


class TestVisibility:
    async def test_contact_details_only_for_verified_agencies_and_staff(self, client, directory):
        staff, agency, firms, _ = directory
        clean = firms["clean"].organization_id
        by_agency = (await client.get(f"/api/v1/firms/{clean}", headers=agency.headers)).json()
        assert by_agency["phone"] == "02-111-2222"
        by_staff = (await client.get(f"/api/v1/firms/{clean}", headers=staff.headers)).json()
        assert by_staff["phone"] == "02-111-2222"
        other_firm = firms["print"]
        by_firm = (await client.get(f"/api/v1/firms/{clean}", headers=other_firm.headers)).json()
        assert "phone" not in by_firm
        listed = await client.get("/api/v1/firms", params={"q": "은평"}, headers=other_firm.headers)
        assert "phone" not in listed.json()["items"][0]

    async def test_pending_organizations_cannot_use_the_directory(self, client, directory):
        _, _, _, pending = directory
        response = await client.get("/api/v1/firms", headers=pending.headers)
        assert response.status_code == 403

    async def test_categories_are_public(self, client):
        response = await client.get("/api/v1/categories")
        assert response.status_code == 200
        rows = response.json()
        groups = [r for r in rows if r["parent_code"] is None]
        assert len(groups) >= 12 and len(rows) - len(groups) >= 60
        assert {
            "code": "CLN-DIS",
            "name_ko": "방역·소독",
            "name_en": "Disinfection and pest control",
            "parent_code": "CLN",
        } in rows

    async def test_directory_page_renders_and_filters(self, client, directory):
        _, agency, _, _ = directory
        page = await client.get("/firms", params={"q": "인쇄"}, headers=agency.headers)
        assert page.status_code == 200
        assert "마포인쇄사회적기업" in page.text and "성북도시락마을기업" not in page.text
        fragment = await client.get("/firms", params={"q": "인쇄"}, headers={**agency.headers, "HX-Request": "true"})
        assert "<html" not in fragment.text and "마포인쇄사회적기업" in fragment.text
