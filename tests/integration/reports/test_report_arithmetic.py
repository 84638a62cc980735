"""Report figures against sums computed independently, over hypothesis-generated contracts.

The database, its organizations, fairs and meetings are built once per test; each example
inserts its contracts in a transaction, asks the report service, and rolls back.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.contracts.models import Contract
from service.db.engine import make_engine, make_sessionmaker
from service.fairs.models import Fair, FairMode, FairParticipant, Meeting
from service.identity.principal import Principal
from service.registry.models import Organization
from service.reports.repository import GROUP_BYS, SalesFilter
from service.reports.service import ReportService

AGENCIES = [("district_office", "eunpyeong"), ("city_affiliate", "jung"), ("district_office", "mapo")]
FIRMS = [
    (["social_enterprise", "cooperative"], "mapo"),
    (["cooperative"], "mapo"),
    ([], "other"),
    (["village_enterprise"], "seongbuk"),
]
FAIR_DAYS = [date(2021, 5, 20), date(2020, 5, 14)]
CATEGORIES = [None, "CLN-DIS", "PRT-BOK", "FOD-LUN"]


@dataclass
class World:
    agencies: list[uuid.UUID]
    firms: list[uuid.UUID]
    fairs: list[uuid.UUID]
    meetings: dict[tuple[int, int, int], uuid.UUID]  # (agency, firm, fair) → meeting


def staff() -> Principal:
    return Principal(uuid.uuid4(), "s@x", "s", "staff", None, None, None, None, "ko", uuid.uuid4())


def agency_principal(org: uuid.UUID) -> Principal:
    return Principal(uuid.uuid4(), "a@x", "a", "agency", org, "agency", "verified", "a", "ko", uuid.uuid4())


async def build_world(session: AsyncSession) -> World:
    agencies = []
    for i, (kind, district) in enumerate(AGENCIES):
        org = Organization(kind="agency", name=f"기관{i}", agency_type=kind, district=district, status="verified")
        session.add(org)
        agencies.append(org)
    firms = []
    for i, (types, district) in enumerate(FIRMS):
        org = Organization(
            kind="firm",
            name=f"기업{i}",
            business_number=f"{1000000000 + i}",
            firm_types=types,
            certified_until=date(2030, 12, 31) if "social_enterprise" in types else None,
            district=district,
            status="verified",
        )
        session.add(org)
        firms.append(org)
    fairs = []
    for day in FAIR_DAYS:
        fair = Fair(
            name=f"상담회 {day}", mode=FairMode.FIRST_COME, days=[{"date": day.isoformat(), "start": "10:00",
            "end": "17:00"}], slot_minutes=30, booking_opens_at=datetime(2019, 1, 1, tzinfo=UTC),
            booking_closes_at=datetime(2019, 2, 1, tzinfo=UTC),
        )  # fmt: skip
        session.add(fair)
        fairs.append(fair)
    await session.flush()
    meetings = {}
    for k, fair in enumerate(fairs):
        start = datetime.combine(FAIR_DAYS[k], datetime.min.time(), tzinfo=UTC)
        slot = 0
        for a, agency in enumerate(agencies):
            session.add(FairParticipant(fair_id=fair.id, organization_id=agency.id, kind="agency"))
            for f, firm in enumerate(firms):
                begins = start + timedelta(minutes=30 * slot)
                slot += 1
                meeting = Meeting(
                    fair_id=fair.id, agency_id=agency.id, firm_id=firm.id, starts_at=begins,
                    ends_at=begins + timedelta(minutes=30), status="held",
                )  # fmt: skip
                session.add(meeting)
                await session.flush()
                meetings[(a, f, k)] = meeting.id
        for firm in firms:
            session.add(FairParticipant(fair_id=fair.id, organization_id=firm.id, kind="firm"))
    await session.flush()
    return World([a.id for a in agencies], [f.id for f in firms], [f.id for f in fairs], meetings)


contract_strategy = st.fixed_dictionaries(
    {
        "agency": st.integers(0, len(AGENCIES) - 1),
        "firm": st.integers(0, len(FIRMS) - 1),
        "amount": st.one_of(st.integers(1, 5_000_000_000), st.integers(10**12, 10**13)),
        "day": st.dates(date(2020, 1, 1), date(2022, 12, 31)),
        "confirmed": st.booleans(),
        "fair": st.sampled_from([None, 0, 1]),
        "category": st.sampled_from(CATEGORIES),
    }
)


def expected_groups(world: World, contracts: list[dict[str, Any]], group_by: str) -> dict[str | None, tuple[int, int]]:
    sums: dict[str | None, list[int]] = defaultdict(lambda: [0, 0])
    for c in contracts:
        if group_by == "fair":
            keys: list[str | None] = [str(world.fairs[c["fair"]]) if c["fair"] is not None else None]
        elif group_by == "agency":
            keys = [str(world.agencies[c["agency"]])]
        elif group_by == "agency_type":
            keys = [AGENCIES[c["agency"]][0]]
        elif group_by == "firm":
            keys = [str(world.firms[c["firm"]])]
        elif group_by == "firm_type":
            types = FIRMS[c["firm"]][0]
            keys = list(types) if types else [None]
        elif group_by == "district":
            keys = [FIRMS[c["firm"]][1]]
        elif group_by == "category":
            keys = [c["category"]]
        else:
            keys = [c["day"].strftime("%Y-%m")]
        for key in keys:
            sums[key][0] += 1
            sums[key][1] += c["amount"]
    return {k: (v[0], v[1]) for k, v in sums.items()}


def selected(contracts: list[dict[str, Any]], f: SalesFilter, world: World) -> list[dict[str, Any]]:
    out = []
    for c in contracts:
        if not c["confirmed"]:
            continue
        if f.year is not None and c["day"].year != f.year:
            continue
        if f.linked_only and c["fair"] is None:
            continue
        if f.fair_ids and (c["fair"] is None or world.fairs[c["fair"]] not in f.fair_ids):
            continue
        if f.agency_id is not None and world.agencies[c["agency"]] != f.agency_id:
            continue
        out.append(c)
    return out


async def check_example(url: str, cache: dict[str, World], contracts: list[dict[str, Any]]) -> None:
    engine = make_engine(url, pool_size=1)
    try:
        maker = make_sessionmaker(engine)
        if url not in cache:
            async with maker.begin() as session:
                cache[url] = await build_world(session)
        world = cache[url]
        async with maker() as session:
            rows = []
            for c in contracts:
                meeting = world.meetings[(c["agency"], c["firm"], c["fair"])] if c["fair"] is not None else None
                day = max(c["day"], FAIR_DAYS[c["fair"]]) if c["fair"] is not None else c["day"]
                c["day"] = day
                rows.append(
                    {
                        "id": uuid.uuid4(), "agency_id": world.agencies[c["agency"]], "firm_id": world.firms[c["firm"]],
                        "amount_krw": c["amount"], "contract_date": day, "title": "t", "category_code": c["category"],
                        "meeting_id": meeting, "fair_id": world.fairs[c["fair"]] if c["fair"] is not None else None,
                        "channel": "fair" if meeting else "other",
                        "status": "confirmed" if c["confirmed"] else "reported",
                        "reported_side": "firm", "confirmed_at": datetime.now(UTC) if c["confirmed"] else None,
                    }
                )  # fmt: skip
            if rows:
                await session.execute(insert(Contract), rows)
            service = ReportService(session)
            filters = [
                SalesFilter(year=2021),
                SalesFilter(year=None),
                SalesFilter(year=2021, linked_only=True),
                SalesFilter(year=2020, fair_ids=(world.fairs[1],)),
            ]
            for f in filters:
                chosen = selected(contracts, f, world)
                for group_by in GROUP_BYS:
                    report = await service.sales(staff(), f, group_by)
                    got = {r.key: (r.contracts, r.amount_krw) for r in report.rows}
                    assert got == expected_groups(world, chosen, group_by), (f, group_by)
                    assert report.total.contracts == len(chosen)
                    assert report.total.amount_krw == sum(c["amount"] for c in chosen)
            # an agency sees only its own contracts
            own = agency_principal(world.agencies[0])
            mine = await service.sales(own, SalesFilter(year=2021), "month")
            chosen = selected(contracts, SalesFilter(year=2021, agency_id=world.agencies[0]), world)
            assert {r.key: (r.contracts, r.amount_krw) for r in mine.rows} == expected_groups(world, chosen, "month")
            await session.rollback()
    finally:
        await engine.dispose()


class TestSalesArithmetic:
    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(contracts=st.lists(contract_strategy, max_size=25))
    def test_every_grouping_matches_independent_sums(self, database_url: str, contracts: list[dict[str, Any]]) -> None:
        asyncio.run(check_example(database_url, _WORLDS, contracts))


_WORLDS: dict[str, World] = {}
