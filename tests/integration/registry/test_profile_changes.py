"""A verified firm's own edits of name, business number, firm types or certification wait for
staff review: the directory and matching keep the verified values until staff accept them."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from service.identity.models import AuditEvent
from tests.factories import PASSWORD, business_number, create_staff, verified_agency, verified_firm

NEED = {
    "title": "구청 청사 방역 소독 용역",
    "description": "정기 방역 소독",
    "category_codes": ["CLN-DIS"],
    "budget_krw": 30_000_000,
    "needed_by": str(date.today() + timedelta(days=30)),
    "delivery_district": "eunpyeong",
    "preferred_firm_types": ["social_enterprise"],
}


@pytest.fixture
async def world(client, sessionmaker, settings):
    staff = await create_staff(client, sessionmaker, settings)
    agency = await verified_agency(client, staff, district="eunpyeong")
    firm = await verified_firm(
        client,
        staff,
        name="은평방역협동조합",
        district="eunpyeong",
        category_codes=["CLN-DIS"],
        firm_types=["cooperative"],
    )
    return staff, agency, firm


def privileges(number: str) -> dict[str, object]:
    return {
        "business_number": number,
        "firm_types": ["social_enterprise"],
        "certification_number": "FAKE-1",
        "certified_until": "2099-12-31",
        "description": "방역 소독 전문 (수정)",
    }


async def firm_type_points(client, agency, need_id, firm_id) -> float:
    response = await client.get(f"/api/v1/needs/{need_id}/matches", headers=agency.headers)
    match = next(m for m in response.json()["matches"] if m["firm"]["id"] == firm_id)
    return {r["factor"]: r["points"] for r in match["reasons"]}["firm_type"]


async def request_change(client, firm, number):
    response = await client.patch(
        f"/api/v1/firms/{firm.organization_id}", json=privileges(number), headers=firm.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


class TestFirmEdits:
    async def test_privileged_fields_wait_for_review_and_change_nothing_meanwhile(self, client, world, sessionmaker):
        staff, agency, firm = world
        firm_id = str(firm.organization_id)
        need = (await client.post("/api/v1/needs", json=NEED, headers=agency.headers)).json()
        before = await firm_type_points(client, agency, need["id"], firm_id)
        original = (await client.get(f"/api/v1/firms/{firm_id}", headers=firm.headers)).json()

        number = business_number()
        body = await request_change(client, firm, number)
        assert body["status"] == "verified"
        assert body["firm_types"] == ["cooperative"] and body.get("certification_valid") is None
        assert body["business_number"] == original["business_number"]
        assert body["description"] == "방역 소독 전문 (수정)"  # not verification-relevant: applied
        pending = body["pending_changes"]
        assert {c["field"]: c["old"] for c in pending["changes"]}["firm_types"] == ["cooperative"]
        assert {c["field"]: c["new"] for c in pending["changes"]} == {
            "business_number": number.replace("-", ""),
            "firm_types": ["social_enterprise"],
            "certification_number": "FAKE-1",
            "certified_until": "2099-12-31",
        }

        assert await firm_type_points(client, agency, need["id"], firm_id) == before == 0
        listed = await client.get("/api/v1/firms", params={"firm_type": "social_enterprise"}, headers=agency.headers)
        assert firm_id not in {f["id"] for f in listed.json()["items"]}
        seen = (await client.get(f"/api/v1/firms/{firm_id}", headers=agency.headers)).json()
        assert seen["firm_types"] == ["cooperative"] and "pending_changes" not in seen
        export = await client.get("/api/v1/firms/export", params={"q": "은평방역"}, headers=agency.headers)
        assert "social_enterprise" not in export.content.decode("utf-8-sig")
        own = (await client.get(f"/api/v1/firms/{firm_id}", headers=firm.headers)).json()
        assert own["pending_changes"]["id"] == pending["id"]

        queue = (await client.get("/api/v1/organizations/changes", headers=staff.headers)).json()
        assert queue["total"] == 1 and queue["items"][0]["organization_name"] == "은평방역협동조합"
        async with sessionmaker() as session:
            audit = await session.scalar(select(AuditEvent).where(AuditEvent.action == "organization.change_requested"))
        assert audit is not None and audit.changes["firm_types"]["new"] == ["social_enterprise"]

    async def test_staff_accept_applies_the_change(self, client, world, sessionmaker):
        staff, agency, firm = world
        firm_id = str(firm.organization_id)
        need = (await client.post("/api/v1/needs", json=NEED, headers=agency.headers)).json()
        change = (await request_change(client, firm, business_number()))["pending_changes"]
        url = f"/api/v1/organizations/{firm_id}/changes/{change['id']}"
        assert (await client.post(url + "/accept", headers=firm.headers)).status_code == 403
        accepted = await client.post(url + "/accept", headers=staff.headers)
        assert accepted.status_code == 200, accepted.text
        body = accepted.json()
        assert body["firm_types"] == ["social_enterprise"] and body["certification_valid"] is True
        assert body["certification_number"] == "FAKE-1" and "pending_changes" not in body
        assert await firm_type_points(client, agency, need["id"], firm_id) == 10
        assert (await client.post(url + "/reject", json={}, headers=staff.headers)).status_code == 409
        queue = (await client.get("/api/v1/organizations/changes", headers=staff.headers)).json()
        assert queue["total"] == 0
        async with sessionmaker() as session:
            audit = await session.scalar(select(AuditEvent).where(AuditEvent.action == "organization.change_accepted"))
        assert audit is not None and audit.changes["certification_number"] == {"old": None, "new": "FAKE-1"}

    async def test_staff_reject_drops_the_change(self, client, world):
        staff, _, firm = world
        firm_id = str(firm.organization_id)
        original = (await client.get(f"/api/v1/firms/{firm_id}", headers=firm.headers)).json()
        change = (await request_change(client, firm, business_number()))["pending_changes"]
        rejected = await client.post(
            f"/api/v1/organizations/{firm_id}/changes/{change['id']}/reject",
            json={"reason": "인증서 사본을 확인할 수 없습니다"},
            headers=staff.headers,
        )
        assert rejected.status_code == 200, rejected.text
        own = (await client.get(f"/api/v1/firms/{firm_id}", headers=firm.headers)).json()
        assert own["business_number"] == original["business_number"] and own["firm_types"] == ["cooperative"]
        assert "pending_changes" not in own

    async def test_a_later_edit_merges_into_the_pending_change(self, client, world):
        staff, _, firm = world
        await request_change(client, firm, business_number())
        again = await client.patch(
            f"/api/v1/firms/{firm.organization_id}", json={"name": "은평방역사회적기업"}, headers=firm.headers
        )
        fields = {c["field"]: c["new"] for c in again.json()["pending_changes"]["changes"]}
        assert fields["name"] == "은평방역사회적기업" and fields["certification_number"] == "FAKE-1"
        assert again.json()["name"] == "은평방역협동조합"
        queue = (await client.get("/api/v1/organizations/changes", headers=staff.headers)).json()
        assert queue["total"] == 1

    async def test_staff_edits_apply_directly(self, client, world):
        staff, _, firm = world
        response = await client.patch(
            f"/api/v1/firms/{firm.organization_id}", json=privileges(business_number()), headers=staff.headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["firm_types"] == ["social_enterprise"] and "pending_changes" not in response.json()


async def sign_in(client, account) -> str:
    """A browser session (cookie) for `account`; returns the CSRF token of the next form."""
    client.cookies.clear()
    page = await client.get("/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token
    await client.post("/login", data={"email": account.email, "password": PASSWORD, "_csrf_token": token.group(1)})
    return token.group(1)


class TestPages:
    async def test_the_firm_sees_its_change_awaits_review_and_staff_accept_it_from_the_queue(self, client, world):
        staff, _, firm = world
        await request_change(client, firm, business_number())
        await sign_in(client, firm)
        me = await client.get("/me")
        assert "지원센터 확인을 기다리고 있습니다" in me.text
        assert "협동조합 → 사회적기업" in re.sub(r"\s+", " ", me.text)
        assert "FAKE-1" in me.text

        await sign_in(client, staff)
        queue = await client.get("/staff/organizations")
        assert "확인을 기다리는 정보 변경" in queue.text and "은평방역협동조합" in queue.text
        action = re.search(r'action="(/staff/organizations/[^"]+/changes/[^"]+/accept)"', queue.text)
        token = re.search(r'name="_csrf_token" value="([^"]+)"', queue.text)
        assert action and token
        done = await client.post(action.group(1), data={"_csrf_token": token.group(1)}, follow_redirects=False)
        assert done.status_code == 303, done.text
        client.cookies.clear()
        own = (await client.get(f"/api/v1/firms/{firm.organization_id}", headers=firm.headers)).json()
        assert own["firm_types"] == ["social_enterprise"] and "pending_changes" not in own
