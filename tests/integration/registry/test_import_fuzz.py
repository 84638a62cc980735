"""Hostile files through the import API: each is a clear 4xx (problem+json naming `file`) or
row errors, and the organizations table is exactly as it was."""

import asyncio
import time

import httpx
import pytest
from sqlalchemy import func, select

from service.registry.models import Organization
from tests.factories import business_number, create_staff
from tests.factories_registry import (
    agency_csv_bytes,
    agency_row,
    csv_bytes,
    firm_row,
    shared_strings,
    xlsx_bytes,
    xlsx_with_part,
)


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


BOMBS = {
    # 10 M entries, ~170 MB once unzipped: refused by the sizes the zip declares.
    "10 M shared strings": lambda: xlsx_with_part("xl/sharedStrings.xml", shared_strings(10_000_000)),
    # 2 M entries in 34 MB (under the size limit): refused by counting them. Before the limits,
    # openpyxl spent ~10 s on it on the event loop.
    "2 M shared strings": lambda: xlsx_with_part("xl/sharedStrings.xml", shared_strings(2_000_000)),
}


async def upload_while_probing(app, client, staff, content: bytes, filename: str):
    """In the app's own event loop (the test client would run each request to completion, one at
    a time): a dry-run firm import of `content`, and meanwhile a 20 ms ticker and /health, asked
    over and over.
    Returns the import's response, its duration and how late each probe woke up.

    The lag is measured from when a tick is due to when the loop ran it: a parse on the event
    loop delays every wake-up behind it. /health's own round trip is not part of the figure: it
    waits on PostgreSQL, which the other test worker keeps busy (a 770 ms `SELECT` under load
    once failed this test while the loop itself was free)."""

    async def scenario() -> tuple[httpx.Response, float, list[float]]:
        lags: list[float] = []
        done = asyncio.Event()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000") as c:

            async def tick() -> None:
                while not done.is_set():
                    due = time.perf_counter() + 0.02
                    await asyncio.sleep(0.02)
                    lags.append(time.perf_counter() - due)

            async def health() -> None:
                while not done.is_set():
                    assert (await c.get("/health")).status_code == 200
                    await asyncio.sleep(0.02)

            prober = asyncio.gather(tick(), health())
            await asyncio.sleep(0.05)
            start = time.perf_counter()
            response = await c.post(
                "/api/v1/imports/firms",
                params={"dry_run": "true"},
                files={"file": (filename, content, "application/octet-stream")},
                headers=staff.headers,
            )
            elapsed = time.perf_counter() - start
            done.set()
            await prober
        return response, elapsed, lags

    return client.blocking_portal.call(scenario)


@pytest.mark.parametrize("bomb", list(BOMBS))
async def test_an_xlsx_bomb_is_refused_fast_while_health_keeps_answering(app, client, staff, sessionmaker, bomb):
    content = BOMBS[bomb]()
    assert len(content) < 500_000
    before = await organizations(sessionmaker)
    response, elapsed, lags = await upload_while_probing(app, client, staff, content, "bomb.xlsx")
    print(f"{bomb}: {len(content):,} bytes refused in {elapsed:.2f} s; loop lag max {max(lags) * 1000:.0f} ms")
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "file"
    assert elapsed < 5
    assert lags and max(lags) < 0.5
    assert await organizations(sessionmaker) == before
