"""The issue's "done when": a fair's 116 firms and 65 agencies imported from two spreadsheets,
the reported rows fixed, and all of them verified from one queue — all through the API."""

from sqlalchemy import func, select

from service.registry.business_number import check_digit
from service.registry.models import Organization, OrganizationStatus
from tests.factories import create_staff, verified_agency
from tests.factories_registry import agency_row, csv_bytes, firm_row, xlsx_bytes

AGENCY_TYPES = ["서울시", "자치구", "투자출연기관", "교육청", "중앙정부", "공기업", "기타"]
DISTRICTS = ["마포구", "은평구", "성북구", "노원구", "강서구", "관악구", "종로구"]


def number(i: int) -> str:
    body = f"{610000000 + i:09d}"
    digits = body + str(check_digit(body))
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"


def fair_firms() -> tuple[list[dict[str, str]], dict[int, dict[str, str]]]:
    rows = [
        firm_row(number(i), name=f"상담회참여기업{i:03d} 협동조합", 자치구=DISTRICTS[i % 7], 품목분류="CLN-DIS")
        for i in range(116)
    ]
    # Deliberate mistakes, keyed by list index; the fix for each.
    rows[4]["사업자등록번호"] = "123-45-67890"
    rows[30]["자치구"] = "마포"
    rows[77]["기업유형"] = ""
    rows[101]["이메일"] = "no-at-sign"
    fixes = {
        4: {"사업자등록번호": number(4)},
        30: {"자치구": "마포구"},
        77: {"기업유형": "협동조합"},
        101: {"이메일": "info@firm101.kr"},
    }
    return rows, fixes


def fair_agencies() -> tuple[list[dict[str, str]], dict[int, dict[str, str]]]:
    rows = [
        agency_row(
            number(500 + i), name=f"상담회참여기관{i:02d}", 기관유형=AGENCY_TYPES[i % 7], 자치구=DISTRICTS[i % 7]
        )
        for i in range(65)
    ]
    rows[9]["기관유형"] = "시 산하"
    rows[40]["연간구매목표액"] = "10억"
    fixes = {9: {"기관유형": "투자출연기관"}, 40: {"연간구매목표액": "1000000000"}}
    return rows, fixes


async def organizations(sessionmaker) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Organization)) or 0)


async def upload(client, staff, kind, content, filename, **params):
    response = await client.post(
        f"/api/v1/imports/{kind}",
        params={k: str(v).lower() for k, v in params.items()},
        files={"file": (filename, content, "application/octet-stream")},
        headers=staff.headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


async def check_fix_import(client, staff, sessionmaker, kind, rows, fixes, encode, filename, expected):
    before = await organizations(sessionmaker)
    dry = await upload(client, staff, kind, encode(rows), filename)
    assert dry["total"] == expected and dry["valid"] == expected - len(fixes) and dry["written"] is False
    reported = {e["row"] for e in dry["errors"]}
    assert reported == {index + 2 for index in fixes}  # spreadsheet rows: header is row 1
    assert await organizations(sessionmaker) == before
    # Staff fix exactly the reported rows in the spreadsheet and check again.
    for row_number in reported:
        rows[row_number - 2].update(fixes[row_number - 2])
    again = await upload(client, staff, kind, encode(rows), filename)
    assert again["errors"] == [] and again["valid"] == expected
    done = await upload(client, staff, kind, encode(rows), filename, dry_run=False)
    assert done["written"] is True and done["created"] == expected
    assert await organizations(sessionmaker) == before + expected


async def test_staff_import_a_fair_fix_the_reported_rows_and_verify_all_from_one_queue(client, sessionmaker, settings):
    staff = await create_staff(client, sessionmaker, settings)
    firms, firm_fixes = fair_firms()
    agencies, agency_fixes = fair_agencies()
    await check_fix_import(
        client, staff, sessionmaker, "firms", firms, firm_fixes, lambda r: csv_bytes(r, "cp949"), "기업.csv", 116
    )
    await check_fix_import(
        client,
        staff,
        sessionmaker,
        "agencies",
        agencies,
        agency_fixes,
        lambda r: xlsx_bytes(r, list(r[0])),
        "기관.xlsx",
        65,
    )

    # One queue holds both kinds; staff work through it page by page.
    queue = await client.get("/api/v1/organizations/pending", params={"page_size": 100}, headers=staff.headers)
    assert queue.status_code == 200
    assert queue.json()["total"] == 181
    kinds = {"firm": 0, "agency": 0}
    while True:
        page = (
            await client.get("/api/v1/organizations/pending", params={"page_size": 100}, headers=staff.headers)
        ).json()
        if not page["items"]:
            break
        for org in page["items"]:
            kinds[org["kind"]] += 1
            verified = await client.post(f"/api/v1/organizations/{org['id']}/verify", headers=staff.headers)
            assert verified.status_code == 200, verified.text
    assert kinds == {"firm": 116, "agency": 65}
    async with sessionmaker() as session:
        pending = await session.scalar(
            select(func.count()).select_from(Organization).where(Organization.status == OrganizationStatus.PENDING)
        )
    assert pending == 0

    agency = await verified_agency(client, staff)
    found = await client.get("/api/v1/firms", params={"q": "상담회참여기업", "page_size": 1}, headers=agency.headers)
    assert found.json()["total"] == 116
