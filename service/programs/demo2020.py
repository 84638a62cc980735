"""The year 2020 of the support center's public-market program, as the 2021 report prints it:

| row | target | result |
| 일상상담 | 200건 | 200건 (the consultations domain's `demo_2020`) |
| 사회적경제 공공구매 교육 및 설명회 | 20회 | 32회 |
| 사회적가치 고려 매칭계약 | 100억원 | 101.5억원 |
| 사업제안 및 정보제공 활동을 통한 계약 | 20억원 | 70.6억원 |
| 공공구매 상담회 운영 | 1회 | 1회 (the May 2020 fair of `build_demo_2021`: 443 meetings, 242백만원) |
| 교육청 등 협력활동 지원 | 4회 | 4회 |

Built through the services (SessionService, ActivityService, ContractService, ProgramReportService),
deterministic (a seeded generator). Run after `build_demo_2021`, whose organizations and fair it uses.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.consultations.demo import demo_2020
from service.contracts.schemas import ContractIn
from service.contracts.service import ContractService
from service.identity.principal import Principal
from service.lib.clock import SEOUL
from service.programs.activities import ActivityService
from service.programs.report import ProgramReportService
from service.programs.schemas import ActivityIn, SessionIn
from service.programs.sessions import SessionService
from service.registry.models import Organization, OrganizationKind, OrganizationStatus

SEED = 2020
YEAR = 2020
TARGETS = {
    "daily_consultation": 200,
    "briefing": 20,
    "matching_contract": 10_000_000_000,
    "proposal_contract": 2_000_000_000,
    "fair": 1,
    "cooperation": 4,
}
SESSIONS_HELD = 32
MATCHING_2020_KRW = 10_150_000_000
PROPOSAL_2020_KRW = 7_060_000_000
SESSION_TITLES = [
    ("briefing", "agencies", "공공기관 계약담당자 사회적경제기업 제품 구매 설명회"),
    ("briefing", "firms", "사회적경제기업 공공구매 제도 설명회"),
    ("training", "firms", "공공조달 진입 교육: 나라장터와 입찰 참가"),
    ("training", "firms", "수의계약과 제한경쟁입찰 실무 교육"),
    ("briefing", "agencies", "교육청·학교 구매담당자 설명회"),
    ("training", "both", "사회적가치 고려 계약 사례 공유 교육"),
]
ACTIVITIES = [
    ("서울특별시교육청", date(2020, 3, 26), "agreement", "사회적경제기업 제품 학교 구매 활성화 업무협약"),
    ("서울특별시동부교육지원청", date(2020, 6, 17), "training_support", "행정실장 대상 공공구매 교육 지원"),
    ("서울특별시서부교육지원청", date(2020, 9, 9), "meeting", "학교 급식·방역 구매 협의 간담회"),
    ("서울특별시 사회적경제담당관", date(2020, 11, 19), "joint_event", "공공구매 우수사례 공동 발표회"),
]


def split_exactly(total: int, count: int, rng: random.Random, unit: int = 1_000_000) -> list[int]:
    """`count` amounts of whole `unit`s summing exactly to `total` (a multiple of `unit`)."""
    weights = [rng.uniform(0.5, 2.0) for _ in range(count)]
    units = total // unit
    parts = [max(1, int(units * w / sum(weights))) for w in weights]
    parts[-1] += units - sum(parts)
    assert min(parts) > 0, "a share rounded to zero"
    return [p * unit for p in parts]


async def _verified(session: AsyncSession, kind: OrganizationKind) -> list[Organization]:
    rows = await session.scalars(
        select(Organization)
        .where(Organization.kind == kind, Organization.status == OrganizationStatus.VERIFIED)
        .order_by(Organization.name)  # names are unique; ids and creation times of one transaction are not ordered
    )
    return list(rows)


def _session_days(rng: random.Random) -> list[date]:
    """32 working days from February to December, a few a month, none twice."""
    days: set[date] = set()
    while len(days) < SESSIONS_HELD:
        day = date(YEAR, rng.randint(2, 12), rng.randint(1, 28))
        if day.weekday() < 5:
            days.add(day)
    return sorted(days)


async def _sessions(session: AsyncSession, staff: Principal, rng: random.Random) -> None:
    service = SessionService(session)
    for i, day in enumerate(_session_days(rng)):
        kind, audience, title = SESSION_TITLES[i % len(SESSION_TITLES)]
        start = datetime.combine(day, time(14 if i % 2 else 10), tzinfo=SEOUL)
        online = i % 3 != 0  # 2020: mostly online
        await service.create(
            staff,
            SessionIn(
                title=title,
                kind=kind,
                audience=audience,
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                capacity=rng.choice([30, 40, 50, 80]),
                place=None if online else "서울시 사회적경제지원센터 교육장",
                online_url="https://meet.procure-match.kr/briefing-2020" if online else None,
            ),
        )


async def _contracts(session: AsyncSession, staff: Principal, rng: random.Random) -> None:
    agencies = await _verified(session, OrganizationKind.AGENCY)
    firms = await _verified(session, OrganizationKind.FIRM)
    contracts = ContractService(session)
    plan = [("matching_contract", 12, MATCHING_2020_KRW, "사회적가치 고려 용역 계약"),
            ("proposal", 15, PROPOSAL_2020_KRW, "사업제안 물품 구매 계약")]  # fmt: skip
    for channel, count, total, title in plan:
        for amount in split_exactly(total, count, rng):
            agency, firm = rng.choice(agencies), rng.choice(firms)
            await contracts.report(
                staff,
                ContractIn(
                    agency_id=agency.id, firm_id=firm.id, amount_krw=amount,
                    contract_date=date(YEAR, rng.randint(3, 12), rng.randint(1, 28)), title=title,
                    category_code=rng.choice(firm.category_codes) if firm.category_codes else None, channel=channel,
                ),
                confirm=True,
            )  # fmt: skip


async def _consultations(session: AsyncSession, staff: Principal, rng: random.Random) -> None:
    """The 200 consultations held in 2020, logged through the consultations domain."""
    organizations = await _verified(session, OrganizationKind.AGENCY) + await _verified(session, OrganizationKind.FIRM)
    await demo_2020(session, staff, organizations, rng)


async def build_demo_2020(session: AsyncSession, staff: Principal) -> None:
    """Targets and results of 2020 (flushes, never commits)."""
    rng = random.Random(SEED)
    await ProgramReportService(session).set_targets(staff, YEAR, TARGETS)
    await _sessions(session, staff, rng)
    await _contracts(session, staff, rng)
    activities = ActivityService(session)
    for partner, day, kind, description in ACTIVITIES:
        await activities.log(staff, ActivityIn(partner=partner, date=day, kind=kind, description=description))
    await _consultations(session, staff, rng)
