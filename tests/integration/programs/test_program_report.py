"""The program table: targets staff set, results from the data (only confirmed contracts, only held
sessions), the API, CSV and XLSX."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

from litestar import Litestar
from litestar.testing import AsyncTestClient
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.contracts.schemas import ContractIn
from service.contracts.service import ContractService
from service.lib import clock
from service.programs.activities import ActivityService
from service.programs.schemas import ActivityIn, SessionIn, SessionPatch
from service.programs.sessions import SessionService
from tests.factories import create_staff, verified_firm
from tests.factories_fairs import seed_principals

Client = AsyncTestClient[Litestar]


async def seed_2020(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    (staff,) = await seed_principals(sessionmaker, "staff", 1)
    (agency,) = await seed_principals(sessionmaker, "agency", 1)
    (firm,) = await seed_principals(sessionmaker, "firm", 1)
    assert agency.organization_id and firm.organization_id
    async with sessionmaker.begin() as session:
        contracts = ContractService(session)
        for channel, amount, confirm, day in (
            ("matching_contract", 300_000_000, True, date(2020, 3, 2)),
            ("matching_contract", 50_000_000, True, date(2020, 11, 30)),
            ("matching_contract", 900_000_000, False, date(2020, 4, 1)),  # reported, never confirmed
            ("matching_contract", 700_000_000, True, date(2021, 1, 4)),  # another year
            ("proposal", 120_000_000, True, date(2020, 6, 15)),
            ("daily_consultation", 80_000_000, True, date(2020, 6, 15)),  # another channel
        ):
            await contracts.report(
                staff,
                ContractIn(agency_id=agency.organization_id, firm_id=firm.organization_id, amount_krw=amount,
                           contract_date=day, title="용역", channel=channel),
                confirm=confirm,
            )  # fmt: skip
        sessions = SessionService(session)
        for month, cancel in ((3, False), (3, False), (9, False), (10, True)):
            start = datetime(2020, month, 10, 1, tzinfo=UTC)
            created = await sessions.create(
                staff,
                SessionIn(title="설명회", kind="briefing", starts_at=start, ends_at=start + timedelta(hours=2),
                          capacity=30, audience="both", place="센터"),
            )  # fmt: skip
            if cancel:
                await sessions.update(staff, created.id, SessionPatch(status="cancelled"))
        upcoming = clock.now() + timedelta(days=5)  # not held yet: counts in no year until it is over
        await sessions.create(
            staff,
            SessionIn(title="교육", kind="training", starts_at=upcoming, ends_at=upcoming + timedelta(hours=1),
                      capacity=30, audience="both", place="센터"),
        )  # fmt: skip
        activities = ActivityService(session)
        for day in (date(2020, 5, 1), date(2020, 12, 3), date(2019, 12, 31)):
            await activities.log(staff, ActivityIn(partner="서울특별시교육청", date=day, kind="meeting"))


async def test_targets_and_results(
    client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    staff = await create_staff(client, sessionmaker, settings)
    await seed_2020(sessionmaker)
    bad = await client.put("/api/v1/programs/targets/2020", json={"targets": {"lunch": 3, "briefing": -1}},
                           headers=staff.headers)  # fmt: skip
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"targets.lunch", "targets.briefing"}
    targets = {"daily_consultation": 200, "briefing": 2, "matching_contract": 500_000_000, "fair": 1}
    saved = await client.put("/api/v1/programs/targets/2020", json={"targets": targets}, headers=staff.headers)
    assert saved.status_code == 200 and saved.json() == targets
    again = await client.put("/api/v1/programs/targets/2020", json={"targets": {"briefing": 4}}, headers=staff.headers)
    assert again.json() == {**targets, "briefing": 4}

    body = (await client.get("/api/v1/reports/programs", params={"year": 2020}, headers=staff.headers)).json()
    rows = {r["code"]: r for r in body["rows"]}
    assert [r["code"] for r in body["rows"]] == [
        "daily_consultation", "briefing", "matching_contract", "proposal_contract", "fair", "cooperation",
    ]  # fmt: skip
    briefing = rows["briefing"]
    assert (briefing["target"], briefing["actual"], briefing["achievement_rate"]) == (4, 3, 0.75)
    assert rows["briefing"]["monthly"][2] == 2 and rows["briefing"]["monthly"][9] == 0
    assert (rows["matching_contract"]["actual"], rows["matching_contract"]["achievement_rate"]) == (350_000_000, 0.7)
    assert rows["matching_contract"]["unit"] == "krw" and rows["briefing"]["unit"] == "count"
    assert (rows["proposal_contract"]["target"], rows["proposal_contract"]["actual"]) == (None, 120_000_000)
    assert rows["proposal_contract"]["achievement_rate"] is None
    assert rows["cooperation"]["actual"] == 2 and rows["fair"]["actual"] == 0
    assert rows["matching_contract"]["name"] == "사회적가치 고려 매칭계약"

    csv_body = await client.get("/api/v1/reports/programs.csv", params={"year": 2020}, headers=staff.headers)
    table = list(csv.reader(io.StringIO(csv_body.content.decode("utf-8-sig"))))
    assert table[0][:7] == ["사업명", "세부내용", "코드", "단위", "목표", "실적", "달성률(%)"]
    assert table[3][:7] == ["공공시장 확대지원", "사회적가치 고려 매칭계약", "matching_contract", "원", "500000000",
                            "350000000", "70.0"]  # fmt: skip
    xlsx = await client.get("/api/v1/reports/programs.xlsx", params={"year": 2020, "lang": "en"}, headers=staff.headers)
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[2][2:7] == ("briefing", "count", 4, 3, 75.0)

    firm = await verified_firm(client, staff)
    assert (await client.get("/api/v1/reports/programs", params={"year": 2020},
                             headers=firm.headers)).status_code == 403  # fmt: skip
    assert (await client.get("/api/v1/reports/programs", params={"year": 1999},
                             headers=staff.headers)).status_code == 422  # fmt: skip
