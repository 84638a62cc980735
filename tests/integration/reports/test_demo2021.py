"""The 2021 demo scenario reproduces the report's figures, through the reports API and the files."""

from __future__ import annotations

import csv
import io
import uuid

from litestar import Litestar
from litestar.testing import AsyncTestClient
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.accounts.service import AccountService, principal_of
from service.config import Settings
from service.reports.demo2021 import build_demo_2021
from tests.factories import PASSWORD, Account, create_staff, login, verified_agency, verified_firm

Client = AsyncTestClient[Litestar]


async def test_the_2021_figures(
    client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    early = await create_staff(client, sessionmaker, settings)
    own_agency = await verified_agency(client, early, name="서울특별시 은평구청")  # like `procmatch demo`'s accounts
    own_firm = await verified_firm(client, early, name="은평클린사회적협동조합", district="eunpyeong")
    async with sessionmaker.begin() as session:
        accounts = AccountService(session, settings.auth)
        user = await accounts.create_staff("center@demo.kr", PASSWORD, "센터")
        _, token = await accounts.issue_token(user, "demo")
        demo = await build_demo_2021(session, principal_of(user, token.id))
    staff = Account(str(user.id), None, "center@demo.kr", await login(client, "center@demo.kr"))
    first_two = {"fair_id": [str(f) for f in demo.fairs_2021[:2]], "linked_only": "true", "group_by": "fair"}

    body = (await client.get("/api/v1/reports/sales", params={**first_two, "year": 2021}, headers=staff.headers)).json()
    assert body["total"] == {"contracts": 72, "amount_krw": 787_076_000, "meetings": 435, "agencies": 65, "firms": 116}

    year = (await client.get("/api/v1/reports/sales", params={"year": 2021, "group_by": "fair", "linked_only": "true"},
                             headers=staff.headers)).json()  # fmt: skip
    assert (year["total"]["meetings"], year["total"]["agencies"], year["total"]["firms"]) == (576, 85, 171)

    y2020 = (await client.get("/api/v1/reports/sales", params={"year": 2020, "group_by": "fair"},
                              headers=staff.headers)).json()  # fmt: skip
    assert (y2020["total"]["meetings"], y2020["total"]["amount_krw"]) == (443, 242_000_000)

    channels = (await client.get("/api/v1/reports/sales", params={"year": 2021, "group_by": "month",
                                 "channel": "matching_contract"}, headers=staff.headers)).json()  # fmt: skip
    assert channels["total"]["amount_krw"] == 10_150_000_000

    targets = (await client.get("/api/v1/reports/targets/total", params={"year": 2021}, headers=staff.headers)).json()
    assert (targets["agencies"], targets["target_krw"], targets["actual_krw"]) == (85, 170_000_000_000, 184_700_000_000)
    assert round(targets["achievement_rate"] * 100) == 109

    csv_response = await client.get(
        "/api/v1/reports/sales.csv", params={**first_two, "year": 2021}, headers=staff.headers
    )
    rows = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
    assert rows[-1][1:] == ["합계", "72", "787076000", "435", "65", "116"]

    fairs_csv = await client.get("/api/v1/reports/fairs.csv", params={"fair_id": first_two["fair_id"]},
                                 headers=staff.headers)  # fmt: skip
    total_row = list(csv.reader(io.StringIO(fairs_csv.content.decode("utf-8-sig"))))[-1]
    assert total_row[3:] == ["65", "116", "435", "72", "787076000"]

    xlsx = await client.get("/api/v1/reports/sales.xlsx", params={**first_two, "year": 2021}, headers=staff.headers)
    book = load_workbook(io.BytesIO(xlsx.content), data_only=True)
    sheet = book["연계매출"]
    last = list(sheet.iter_rows(values_only=True))[-1]
    assert (last[1], last[3], last[4]) == ("합계", 787_076_000, 787_076_000)
    assert sheet.cell(sheet.max_row, 5).number_format == '#,##0,"천원"'  # shown as 787,076천원
    summary = {r[0]: r[1] for r in book["요약"].iter_rows(values_only=True)}
    assert (summary["상담건수"], summary["참여기관"], summary["참여기업"]) == (435, 65, 116)

    # the organizations that existed before take part, so their users see figures of their own
    assert str(uuid.UUID(own_agency.organization_id)) in {str(a) for a in demo.agencies}
    assert str(uuid.UUID(own_firm.organization_id)) in {str(f) for f in demo.firms}
    mine = (await client.get("/api/v1/reports/sales", params={"year": 2021, "group_by": "month"},
                             headers=own_agency.headers)).json()  # fmt: skip
    assert mine["total"]["meetings"] > 0
