"""The staff import page: upload, dry-run error table, firms cannot open it."""

import re

from tests.factories import business_number, create_staff, verified_firm
from tests.factories_registry import csv_bytes, firm_row


def csrf_from(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


async def test_dry_run_shows_the_error_table(client, sessionmaker, settings):
    staff = await create_staff(client, sessionmaker, settings)
    page = await client.get("/staff/imports", headers=staff.headers)
    assert page.status_code == 200
    assert "사업자등록번호" in page.text
    rows = [firm_row(business_number()), firm_row("123-45-67890", name="틀린번호")]
    response = await client.post(
        "/staff/imports",
        data={"_csrf_token": csrf_from(page.text), "mode": "check", "all_or_nothing": "on"},
        files={"file": ("firms.csv", csv_bytes(rows, "cp949"), "text/csv")},
        headers=staff.headers,
    )
    assert response.status_code == 200, response.text
    assert "123-45-67890" in response.text
    assert re.search(r"<td[^>]*>3</td><td[^>]*>사업자등록번호</td>", response.text)


async def test_firm_users_cannot_open_the_import_page(client, sessionmaker, settings):
    staff = await create_staff(client, sessionmaker, settings)
    firm = await verified_firm(client, staff)
    assert (await client.get("/staff/imports", headers=firm.headers)).status_code == 403


async def test_staff_choose_agencies_and_see_their_error_table(client, sessionmaker, settings):
    from tests.factories_registry import agency_csv_bytes, agency_row

    staff = await create_staff(client, sessionmaker, settings)
    page = await client.get("/staff/imports", params={"kind": "agency"}, headers=staff.headers)
    assert page.status_code == 200
    assert "기관유형" in page.text and "/api/v1/imports/agencies/template" in page.text
    rows = [agency_row(business_number()), agency_row(business_number(), 기관유형="모르는유형")]
    response = await client.post(
        "/staff/imports",
        data={"_csrf_token": csrf_from(page.text), "mode": "check", "kind": "agency", "all_or_nothing": "on"},
        files={"file": ("agencies.csv", agency_csv_bytes(rows, "cp949"), "text/csv")},
        headers=staff.headers,
    )
    assert response.status_code == 200, response.text
    assert re.search(r"<td[^>]*>3</td><td[^>]*>기관유형</td><td[^>]*>모르는유형</td>", response.text)
    assert 'value="agency" checked' in response.text
