"""The 2020 demo year: the program table prints the report's figures, beside the May 2020 fair,
and the 2021 figures stay as they were."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.accounts.service import AccountService, principal_of
from service.config import Settings
from service.programs.demo2020 import build_demo_2020
from service.reports.demo2021 import build_demo_2021
from tests.factories import PASSWORD, login

Client = AsyncTestClient[Litestar]


async def test_the_2020_program_table(
    client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    async with sessionmaker.begin() as session:
        accounts = AccountService(session, settings.auth)
        user = await accounts.create_staff("center@demo.kr", PASSWORD, "센터")
        _, token = await accounts.issue_token(user, "demo")
        staff = principal_of(user, token.id)
        await build_demo_2021(session, staff)
        await build_demo_2020(session, staff)
    headers = {"Authorization": f"Bearer {await login(client, 'center@demo.kr')}"}

    body = (await client.get("/api/v1/reports/programs", params={"year": 2020}, headers=headers)).json()
    table = {r["code"]: (r["target"], r["actual"]) for r in body["rows"]}
    assert table == {
        "daily_consultation": (200, 200),  # logged through the consultations domain
        "briefing": (20, 32),
        "matching_contract": (10_000_000_000, 10_150_000_000),
        "proposal_contract": (2_000_000_000, 7_060_000_000),
        "fair": (1, 1),
        "cooperation": (4, 4),
    }
    page = await client.get("/reports/programs", params={"year": 2020}, headers=headers)
    assert page.status_code == 200
    for shown in ("200건", "20회", "32회", "100억원", "101.5억원", "20억원", "70.6억원", "1회", "4회", "160%", "353%"):
        assert shown in page.text, shown

    # beside it, the May 2020 fair and the 2021 figures are what they were
    fair = (await client.get("/api/v1/reports/sales", params={"year": 2020, "group_by": "fair", "linked_only": "true"},
                             headers=headers)).json()  # fmt: skip
    assert (fair["total"]["meetings"], fair["total"]["amount_krw"]) == (443, 242_000_000)
    y2021 = (await client.get("/api/v1/reports/sales", params={"year": 2021, "group_by": "month",
                              "channel": "matching_contract"}, headers=headers)).json()  # fmt: skip
    assert y2021["total"]["amount_krw"] == 10_150_000_000
    rows_2021 = (await client.get("/api/v1/reports/programs", params={"year": 2021}, headers=headers)).json()["rows"]
    assert {r["code"]: r["actual"] for r in rows_2021}["proposal_contract"] == 7_060_000_000
