"""Needs pages: post with errors next to fields, matches with reasons, shortlist, firm's view."""

import re
from datetime import date, timedelta

from service.lib.clock import today
from tests.factories import PASSWORD, create_staff, verified_agency, verified_firm
from tests.factories_contracts import confirmed_contract, report_contract


def csrf(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


async def sign_in(client, email):
    client.cookies.clear()
    token = csrf((await client.get("/login")).text)
    response = await client.post("/login", data={"email": email, "password": PASSWORD, "_csrf_token": token})
    assert response.status_code in (200, 303)


async def test_agency_posts_a_need_and_shortlists_from_matches(client, sessionmaker, settings):
    staff = await create_staff(client, sessionmaker, settings)
    agency = await verified_agency(client, staff, district="eunpyeong")
    firm = await verified_firm(
        client,
        staff,
        name="은평방역협동조합",
        district="eunpyeong",
        category_codes=["CLN-DIS"],
        description="방역 소독",
    )
    await sign_in(client, agency.email)
    form = await client.get("/needs/new")
    bad = await client.post(
        "/needs/new", data={"_csrf_token": csrf(form.text), "title": "방역", "budget_krw": "삼천만"}
    )
    assert bad.status_code == 422
    assert 'id="e-budget_krw"' in bad.text and 'id="e-needed_by"' in bad.text
    created = await client.post(
        "/needs/new",
        data={
            "_csrf_token": csrf(form.text),
            "title": "구청 청사 방역 소독 용역",
            "category_codes": "CLN-DIS",
            "budget_krw": "30,000,000",
            "needed_by": str(date.today() + timedelta(days=20)),
            "delivery_district": "eunpyeong",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    detail = await client.get(created.headers["location"])
    assert "30,000,000원" in detail.text
    assert "은평방역협동조합" in detail.text and "세부품목 일치: 방역·소독" in detail.text
    assert "수의계약" in detail.text
    # the order is explained in one line above the list
    assert detail.text.index('id="match-order"') < detail.text.index('id="firm-')
    assert "2점보다 더 높은 기업보다 앞서지는 않습니다" in detail.text
    shortlist = await client.post(
        created.headers["location"] + "/shortlist",
        data={"_csrf_token": csrf(detail.text), "firm_id": firm.organization_id, "invite": "contact"},
        follow_redirects=False,
    )
    assert shortlist.status_code == 303
    await sign_in(client, firm.email)
    page = await client.get("/needs")
    assert "구청 청사 방역 소독 용역" in page.text and "연락 요청" in page.text


async def test_staff_weights_page(client, sessionmaker, settings):
    staff = await create_staff(client, sessionmaker, settings)
    await sign_in(client, staff.email)
    page = await client.get("/staff/matching")
    assert page.status_code == 200 and "품목 적합도" in page.text
    saved = await client.post(
        "/staff/matching", data={"_csrf_token": csrf(page.text), "district": "25"}, follow_redirects=False
    )
    assert saved.status_code == 303
    assert (await client.get("/api/v1/matching/settings", headers=staff.headers)).json()["weights"]["district"] == 25


async def test_agency_sees_its_target_bought_and_still_open_beside_its_needs(client, sessionmaker, settings):
    staff = await create_staff(client, sessionmaker, settings)
    agency = await verified_agency(client, staff, district="eunpyeong")
    firm = await verified_firm(client, staff, category_codes=["CLN-DIS"])
    year = today().year
    target = await client.put(
        f"/api/v1/targets/{agency.organization_id}/{year}", json={"target_krw": 500_000_000}, headers=staff.headers
    )
    assert target.status_code == 200, target.text
    purchase = await client.post(
        "/api/v1/purchases",
        json={"agency_id": agency.organization_id, "year": year, "amount_krw": 100_000_000},
        headers=staff.headers,
    )
    assert purchase.status_code == 201, purchase.text
    await confirmed_contract(client, agency, firm, amount_krw=25_000_000, contract_date=str(today()))
    await report_contract(client, firm, agency, firm, amount_krw=999_000_000, contract_date=str(today()))
    need = await client.post(
        "/api/v1/needs",
        json={
            "title": "청사 방역 소독",
            "category_codes": ["CLN-DIS"],
            "budget_krw": 30_000_000,
            "needed_by": str(today() + timedelta(days=30)),
        },
        headers=agency.headers,
    )
    assert need.status_code == 201, need.text
    await sign_in(client, agency.email)
    page = (await client.get("/needs")).text
    assert "연간 우선구매 목표" in page
    assert "500,000,000원" in page  # target
    assert "125,000,000원" in page and "25%" in page  # confirmed contract + recorded purchase; unconfirmed ignored
    assert "375,000,000원" in page  # still open
    assert "30,000,000원" in page  # budget of open needs
