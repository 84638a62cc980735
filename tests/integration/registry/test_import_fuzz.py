"""Hostile files through the import API: each is a clear 4xx (problem+json naming `file`) or
row errors, and the organizations table is exactly as it was."""

import pytest
from sqlalchemy import func, select

from service.registry.models import Organization
from tests.factories import business_number, create_staff
from tests.factories_registry import agency_csv_bytes, agency_row, csv_bytes, firm_row, xlsx_bytes


@pytest.fixture
async def staff(client, sessionmaker, settings):
    return await create_staff(client, sessionmaker, settings)


async def organizations(sessionmaker) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Organization)) or 0)


async def send(client, staff, kind, content, filename):
    return await client.post(
        f"/api/v1/imports/{kind}",
        params={"dry_run": "false", "all_or_nothing": "false", "on_duplicate": "update"},
        files={"file": (filename, content, "application/octet-stream")},
        headers=staff.headers,
    )


GOOD = xlsx_bytes([firm_row(business_number()) for _ in range(5)])
HOSTILE = {
    "truncated xlsx": (GOOD[: len(GOOD) // 2], "f.xlsx", "xlsx"),
    "xlsx cut before the central directory": (GOOD[:-30], "f.xlsx", "xlsx"),
    "utf-16": (csv_bytes([firm_row(business_number())], "utf-16"), "f.csv", "UTF-16"),
    "latin-1": (csv_bytes([], "cp949") + "Crème brûlée,é\r\n".encode("latin-1"), "f.csv", "CP949"),
    "random bytes": (bytes(range(256)) * 40, "f.csv", ""),
    "nul bytes": (csv_bytes([firm_row(business_number())]) + b"\x00" * 10, "f.csv", ""),
    "oversized field": (csv_bytes([]) + b'"' + b"x" * 200_000 + b'"\r\n', "f.csv", "CSV"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
@pytest.mark.parametrize("kind", ["firms", "agencies"])
async def test_broken_files_are_422_and_write_nothing(client, staff, sessionmaker, case, kind):
    content, filename, words = HOSTILE[case]
    before = await organizations(sessionmaker)
    response = await send(client, staff, kind, content, filename)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["errors"][0]["field"] == "file" and words in problem["errors"][0]["message"]
    assert await organizations(sessionmaker) == before


async def test_a_body_over_the_upload_limit_is_refused(client, staff, sessionmaker):
    before = await organizations(sessionmaker)
    response = await send(client, staff, "firms", b"a" * (21 * 1024 * 1024), "big.csv")
    assert response.status_code == 413
    assert await organizations(sessionmaker) == before


async def test_too_many_rows_is_422(client, staff, sessionmaker):
    before = await organizations(sessionmaker)
    body = csv_bytes([]) + b"x,1,y\r\n" * 20_002
    response = await send(client, staff, "agencies", agency_csv_bytes([]) + body.split(b"\r\n", 1)[1], "a.csv")
    assert response.status_code == 422 and "20,000" in response.json()["errors"][0]["message"]
    assert await organizations(sessionmaker) == before


async def test_formula_rows_are_reported_and_never_written(client, staff, sessionmaker):
    before = await organizations(sessionmaker)
    firms = [
        firm_row(business_number(), name="=1+1"),
        firm_row(business_number(), name="수식기업", 소개='=HYPERLINK("http://evil.example","클릭")'),
        firm_row(business_number(), name="+cmd|' /C calc'!A0"),
        firm_row(business_number(), name="수식기업2", 키워드="@SUM(1,2)"),
    ]
    for content, filename in ((csv_bytes(firms, "cp949"), "f.csv"), (xlsx_bytes(firms), "f.xlsx")):
        body = (await send(client, staff, "firms", content, filename)).json()
        assert body["created"] == 0 and body["updated"] == 0 and body["valid"] == 0
        assert [e["row"] for e in body["errors"]] == [2, 3, 4, 5]
        assert all("formula" in e["reason"] for e in body["errors"])
    agencies = [agency_row(business_number(), 기관명="=cmd|' /C notepad'!'A1'")]
    body = (await send(client, staff, "agencies", agency_csv_bytes(agencies), "a.csv")).json()
    assert body["created"] == 0 and "formula" in body["errors"][0]["reason"]
    assert await organizations(sessionmaker) == before
