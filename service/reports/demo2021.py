"""The year 2021 of the Seoul Social Economy Support Center's report, rebuilt from records.

Deterministic (a seeded generator), built through the product's services: organizations via
OrganizationService (created, then verified by staff), contracts via ContractService (reported
and confirmed by staff), targets and purchases via PurchaseService. Fairs, participants and
meetings are written with the ORM: these meetings were held in 2020 and 2021, and the booking
service only books while a fair's booking window is open (the rule, not the data, it checks).

The figures it must reproduce (and the tests check through the reports API and the files):
- 1st and 2nd online fairs 2021: 65 agencies, 116 firms, 435 meetings held, confirmed linked
  contracts 787,076천원;
- with the 3rd fair (October 2021): 85 agencies, 171 firms, 576 meetings;
- the May 2020 fair: 443 meetings, linked purchases 242백만원;
- agency targets 2021: 1,700억원, recorded purchases 1,847억원 (109%);
- contracts by channel 2021: social-value matching contracts 101.5억원, proposals 70.6억원.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.contracts.purchases import PurchaseService
from service.contracts.schemas import ContractIn, PurchaseIn
from service.contracts.service import ContractService
from service.fairs.models import Fair, FairMode, FairParticipant, Meeting, MeetingStatus
from service.identity.principal import Principal
from service.lib.clock import SEOUL
from service.lib.errors import FieldErrors
from service.registry.business_number import check_digit
from service.registry.districts import SEOUL_DISTRICTS
from service.registry.models import Organization, OrganizationKind, OrganizationStatus
from service.registry.schemas import OrganizationIn
from service.registry.service import OrganizationService
from service.registry.taxonomy import LEAVES

SEED = 2021
LINKED_1_2_KRW = 787_076_000
LINKED_3_KRW = 312_480_000
LINKED_2020_KRW = 242_000_000
MATCHING_KRW = 10_150_000_000
PROPOSAL_KRW = 7_060_000_000
DAILY_KRW = 1_930_400_000
TARGETS_KRW = 170_000_000_000
ACTUAL_KRW = 184_700_000_000

CITY_DEPARTMENTS = [
    "경제정책실", "복지정책실", "시민건강국", "도시교통실", "기후환경본부", "문화본부", "행정국", "평생교육국",
    "여성가족정책실",
]  # fmt: skip
CITY_AFFILIATES = [
    "서울시설공단", "서울교통공사", "서울주택도시공사", "서울의료원", "서울신용보증재단", "서울산업진흥원",
    "서울문화재단", "세종문화회관", "서울에너지공사", "서울농수산식품공사", "서울시여성가족재단", "서울시복지재단",
    "서울디자인재단", "서울관광재단", "서울시50플러스재단",
]  # fmt: skip
EDUCATION_OFFICES = [
    "동부",
    "서부",
    "남부",
    "북부",
    "중부",
    "강동송파",
    "강서양천",
    "강남서초",
    "동작관악",
    "성동광진",
    "성북강북",
]
FIRM_TRADES = [
    ("클린", ["CLN-DIS", "CLN-BLD"]), ("방역", ["CLN-DIS"]), ("인쇄", ["PRT-BOK"]), ("도시락", ["FOD-LUN"]),
    ("디자인", ["PRT-BOK"]), ("케어", ["CLN-SAN"]), ("에코", ["CLN-WST"]), ("푸드", ["FOD-LUN"]),
]  # fmt: skip
FIRM_FORMS = [
    (["social_enterprise"], "(주){name}"), (["cooperative"], "{name}협동조합"),
    (["social_cooperative"], "{name}사회적협동조합"), (["village_enterprise"], "{name}마을기업"),
    (["self_sufficiency"], "{name}자활센터"), (["pre_social_enterprise"], "{name}"),
    (["social_venture"], "{name}랩"), (["social_enterprise", "cooperative"], "{name}협동조합"),
]  # fmt: skip
# What each trade does and what each firm type is called, for a firm's description in plain Korean.
TRADE_WORK = {
    "클린": "공공건물 청소와 시설 관리를 합니다", "방역": "청사와 공공시설의 방역 소독을 합니다",
    "인쇄": "홍보물과 보고서를 인쇄하고 제본합니다", "도시락": "행사 도시락과 단체 급식을 준비합니다",
    "디자인": "홍보물을 디자인하고 인쇄합니다", "케어": "공공시설의 위생 관리와 소독을 합니다",
    "에코": "폐기물을 수거하고 재활용합니다", "푸드": "행사 음식과 다과를 준비합니다",
}  # fmt: skip
FIRM_KIND = {
    "social_enterprise": "사회적기업", "cooperative": "협동조합", "social_cooperative": "사회적협동조합",
    "village_enterprise": "마을기업", "self_sufficiency": "자활기업", "pre_social_enterprise": "예비사회적기업",
    "social_venture": "소셜벤처",
}  # fmt: skip


def firm_description(district_ko: str, types: list[str], trade: str) -> str:
    """예: "강동구의 사회적협동조합입니다. 공공건물 청소와 시설 관리를 합니다. 공공기관 납품 실적이 있습니다." """
    kind = FIRM_KIND[types[-1]] if len(types) == 1 else f"{FIRM_KIND[types[0]]} 인증을 받은 {FIRM_KIND[types[1]]}"
    return f"{district_ko}의 {kind}입니다. {TRADE_WORK[trade]}. 공공기관 납품 실적이 있습니다."


@dataclass
class Demo2021:
    """What was built, for printing and for tests."""

    fair_2020: uuid.UUID
    fairs_2021: list[uuid.UUID]
    agencies: list[uuid.UUID] = field(default_factory=list)
    firms: list[uuid.UUID] = field(default_factory=list)


def split_exactly(total: int, weights: list[float], unit: int = 1000) -> list[int]:
    """Split `total` (a multiple of `unit`) in proportion to weights, in whole units, summing exactly."""
    assert total % unit == 0
    units = total // unit
    raw = [units * w / sum(weights) for w in weights]
    parts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in order[: units - sum(parts)]:
        parts[i] += 1
    assert min(parts) > 0, "a share rounded to zero"
    return [p * unit for p in parts]


def _business_number(n: int, taken: set[str]) -> str:
    body = 300_000_000 + n * 7_919
    while True:
        digits = f"{body:09d}"
        number = digits + str(check_digit(digits))
        if number not in taken:
            taken.add(number)
            return number
        body += 1


def _agencies() -> list[tuple[str, str, str]]:
    """(name, agency_type, district): 85, then spares."""
    out = [(f"서울특별시 {d.name_ko}청", "district_office", d.code) for d in SEOUL_DISTRICTS]
    out += [(f"서울특별시 {name}", "seoul_city", "jung") for name in CITY_DEPARTMENTS]
    affiliate_districts = ["seongdong", "seongdong", "gangnam", "jungnang", "jung", "mapo", "dongdaemun", "jongno"]
    out += [(name, "city_affiliate", affiliate_districts[i % 8]) for i, name in enumerate(CITY_AFFILIATES)]
    out += [(f"서울특별시{name}교육지원청", "education", SEOUL_DISTRICTS[i * 2].code) for i, name in
            enumerate(EDUCATION_OFFICES)]  # fmt: skip
    out += [(f"{d.name_ko}시설관리공단", "public_corporation", d.code) for d in SEOUL_DISTRICTS]
    # spares, reached only when a name above is already on record (a pending demo account's)
    out += [(name, "city_affiliate", "jung") for name in ("서울시립대학교", "서울연구원", "서울시청소년수련관")]
    return out


def _firms(rng: random.Random) -> list[tuple[str, list[str], str, list[str], str]]:
    """(name, firm_types, district, category_codes, description) × 171, names unique."""
    out: list[tuple[str, list[str], str, list[str], str]] = []
    seen: set[str] = set()
    i = 0
    while len(out) < 171 + MAX_EXISTING:
        district = SEOUL_DISTRICTS[i % 25]
        trade, categories = FIRM_TRADES[(i // 25 + i) % len(FIRM_TRADES)]
        types, form = FIRM_FORMS[(i * 3 + i // 25) % len(FIRM_FORMS)]
        stem = district.name_ko.removesuffix("구") + trade
        name = form.format(name=stem)
        if name in seen:
            name = form.format(name=stem + ("나눔", "함께", "희망", "온", "두레")[i % 5])
        if name not in seen:
            seen.add(name)
            extra = rng.sample([c.code for c in LEAVES], 1)
            description = firm_description(district.name_ko, types, trade)
            out.append((name, types, district.code, sorted(set(categories + extra)), description))
        i += 1
    return out


AGENCY_COUNT, FIRM_COUNT = 85, 171
MAX_EXISTING = 5


async def _existing(session: AsyncSession, kind: OrganizationKind) -> list[Organization]:
    rows = await session.scalars(
        select(Organization)
        .where(Organization.kind == kind, Organization.status == OrganizationStatus.VERIFIED)
        .order_by(Organization.created_at, Organization.id)
        .limit(MAX_EXISTING)
    )
    return list(rows)


async def _organizations(
    session: AsyncSession, staff: Principal, rng: random.Random
) -> tuple[list[Organization], list[Organization]]:
    service = OrganizationService(session)
    # Organizations already verified (the demo accounts of `procmatch demo`) take part first, so
    # that their users see figures of their own; generated ones fill up to 85 agencies and 171 firms.
    agencies = await _existing(session, OrganizationKind.AGENCY)
    firms = await _existing(session, OrganizationKind.FIRM)
    # every name on record, pending organizations' too: no two organizations share a name
    used = set(await session.scalars(select(Organization.name)))
    for name, agency_type, district in _agencies():
        if len(agencies) == AGENCY_COUNT:
            break
        if name in used:
            continue
        org = await service.create(
            OrganizationKind.AGENCY,
            OrganizationIn(name=name, agency_type=agency_type, district=district),
            FieldErrors(),
        )
        agencies.append(await service.change_status(staff, org, "verify"))
    existing = await session.scalars(
        select(Organization.business_number).where(Organization.business_number.is_not(None))
    )
    taken = {number for number in existing if number}
    for n, (name, types, district, categories, description) in enumerate(_firms(rng)):
        if len(firms) == FIRM_COUNT:
            break
        if name in used:
            continue
        certified = "social_enterprise" in types
        data = OrganizationIn(
            name=name,
            business_number=_business_number(n, taken),
            firm_types=types,
            district=district,
            category_codes=categories,
            description=description,
            certification_number=f"2019-{n + 1:03d}" if certified else None,
            certified_until=date(2027, 12, 31) if certified else None,
            employees=rng.randint(5, 80),
        )
        org = await service.create(OrganizationKind.FIRM, data, FieldErrors())
        firms.append(await service.change_status(staff, org, "verify"))
    if len(agencies) != AGENCY_COUNT or len(firms) != FIRM_COUNT:
        raise RuntimeError("demo: not enough organization names")
    return agencies, firms


async def _fair(
    session: AsyncSession,
    name: str,
    first_day: date,
    agencies: list[Organization],
    firms: list[Organization],
    meetings: int,
    staff: Principal,
) -> tuple[uuid.UUID, list[Meeting]]:
    """A fair with its participants and `meetings` held meetings, nobody double-booked."""
    a_count, f_count = len(agencies), len(firms)
    assert a_count <= f_count
    fair = _fair_row(name, first_day, (meetings // a_count) // 12 + 1, staff)
    session.add(fair)
    await session.flush()
    for org in agencies:
        session.add(FairParticipant(fair_id=fair.id, organization_id=org.id, kind="agency", added_by_staff=True))
    for org in firms:
        session.add(FairParticipant(fair_id=fair.id, organization_id=org.id, kind="firm", added_by_staff=True))
    held = _held_meetings(fair.id, first_day, agencies, firms, meetings, staff)
    # A few cancelled bookings, which count nowhere.
    cancelled = [
        _meeting(fair.id, agencies[k], firms[-1 - k], _slot_start(first_day, 0), MeetingStatus.CANCELLED)
        for k in range(3)
    ]
    session.add_all([*held, *cancelled])
    await session.flush()
    return fair.id, held


def _fair_row(name: str, first_day: date, days: int, staff: Principal) -> Fair:
    """A first-come fair of `days` days from 10:00 to 16:00 in half-hour slots; booking was open from
    30 to 3 days before it."""
    return Fair(
        name=name,
        description="공공기관과 사회적경제기업의 1:1 온라인 구매상담",
        mode=FairMode.FIRST_COME,
        days=[
            {"date": (first_day + timedelta(days=d)).isoformat(), "start": "10:00", "end": "16:00"} for d in range(days)
        ],
        slot_minutes=30,
        booking_opens_at=datetime.combine(first_day - timedelta(days=30), datetime.min.time(), tzinfo=SEOUL),
        booking_closes_at=datetime.combine(first_day - timedelta(days=3), datetime.min.time(), tzinfo=SEOUL),
        created_by=staff.user_id,
    )


def _held_meetings(
    fair_id: uuid.UUID,
    first_day: date,
    agencies: list[Organization],
    firms: list[Organization],
    meetings: int,
    staff: Principal,
) -> list[Meeting]:
    """In slot t agency j meets firm (t·A + j) mod F: within a slot the firms differ (A ≤ F), and
    every firm is met in turn. 12 half-hour slots a day from 10:00."""
    rows = []
    for m in range(meetings):
        slot, j = divmod(m, len(agencies))
        firm = firms[m % len(firms)]
        meeting = _meeting(fair_id, agencies[j], firm, _slot_start(first_day, slot), MeetingStatus.HELD)
        meeting.booked_by = staff.user_id
        meeting.by_staff = True
        rows.append(meeting)
    return rows


def _slot_start(first_day: date, slot: int) -> datetime:
    day, index = divmod(slot, 12)
    midnight = datetime.combine(first_day + timedelta(days=day), datetime.min.time(), tzinfo=SEOUL)
    return midnight + timedelta(hours=10, minutes=30 * index)


def _meeting(
    fair_id: uuid.UUID, agency: Organization, firm: Organization, starts: datetime, status: MeetingStatus
) -> Meeting:
    return Meeting(
        fair_id=fair_id,
        agency_id=agency.id,
        firm_id=firm.id,
        starts_at=starts.astimezone(UTC),
        ends_at=(starts + timedelta(minutes=30)).astimezone(UTC),
        status=status,
    )


TITLES = {
    "CLN": ["청사 방역 소독 용역", "공공시설 정기 청소 용역", "저수조 청소 용역"],
    "PRT": ["홍보물 인쇄", "연간 보고서 제작", "행사 리플렛 인쇄"],
    "FOD": ["행사 도시락 납품", "직원 교육 다과 납품", "경로당 반찬 지원 사업"],
}


def _title(rng: random.Random, category: str) -> str:
    options = TITLES.get(category.split("-", 1)[0], ["물품 구매", "용역 계약"])
    return rng.choice(options)


async def _linked_contracts(
    contracts: ContractService,
    staff: Principal,
    rng: random.Random,
    meetings: list[Meeting],
    firms_by_id: dict[uuid.UUID, Organization],
    count: int,
    total: int,
    last_day: date,
) -> None:
    chosen = rng.sample(meetings, count)
    amounts = split_exactly(total, [rng.uniform(0.3, 3.0) for _ in chosen])
    for meeting, amount in zip(chosen, amounts, strict=True):
        held = meeting.starts_at.astimezone(SEOUL).date()
        day = min(held + timedelta(days=rng.randint(7, 90)), last_day)
        firm = firms_by_id[meeting.firm_id]
        category = rng.choice(firm.category_codes)
        await contracts.report(
            staff,
            ContractIn(
                agency_id=meeting.agency_id, firm_id=meeting.firm_id, amount_krw=amount, contract_date=day,
                title=_title(rng, category), category_code=category, meeting_id=meeting.id,
            ),
            confirm=True,
        )  # fmt: skip


async def _channel_contracts(
    contracts: ContractService,
    staff: Principal,
    rng: random.Random,
    agencies: list[Organization],
    firms: list[Organization],
    channel: str,
    count: int,
    total: int,
) -> None:
    amounts = split_exactly(total, [rng.uniform(0.5, 2.0) for _ in range(count)])
    for amount in amounts:
        agency, firm = rng.choice(agencies), rng.choice(firms)
        category = rng.choice(firm.category_codes)
        await contracts.report(
            staff,
            ContractIn(
                agency_id=agency.id, firm_id=firm.id, amount_krw=amount,
                contract_date=date(2021, rng.randint(2, 12), rng.randint(1, 28)), title=_title(rng, category),
                category_code=category, channel=channel,
            ),
            confirm=True,
        )  # fmt: skip


async def build_demo_2021(session: AsyncSession, staff_principal: Principal) -> Demo2021:
    """Build the 2021 scenario (and the May 2020 fair) in `session`; flushes, never commits."""
    rng = random.Random(SEED)
    staff = staff_principal
    agencies, firms = await _organizations(session, staff, rng)
    firms_by_id = {f.id: f for f in firms}

    fair_2020, meetings_2020 = await _fair(
        session, "2020 공공구매 온라인상담회", date(2020, 5, 14), agencies[:40], firms[:89], 443, staff
    )
    fair1, meetings1 = await _fair(
        session, "2021 제1차 공공구매 온라인상담회", date(2021, 5, 25), agencies[:50], firms[:80], 220, staff
    )
    fair2, meetings2 = await _fair(
        session, "2021 제2차 공공구매 온라인상담회", date(2021, 7, 13), agencies[15:65], firms[40:116], 215, staff
    )
    fair3, meetings3 = await _fair(
        session, "2021 제3차 공공구매 온라인상담회", date(2021, 10, 20), agencies[40:85], firms[100:171], 141, staff
    )

    contracts = ContractService(session)
    await _linked_contracts(contracts, staff, rng, meetings_2020, firms_by_id, 24, LINKED_2020_KRW, date(2020, 12, 31))
    linked_1, linked_2 = split_exactly(LINKED_1_2_KRW, [0.53, 0.47])
    await _linked_contracts(contracts, staff, rng, meetings1, firms_by_id, 38, linked_1, date(2021, 12, 31))
    await _linked_contracts(contracts, staff, rng, meetings2, firms_by_id, 34, linked_2, date(2021, 12, 31))
    await _linked_contracts(contracts, staff, rng, meetings3, firms_by_id, 21, LINKED_3_KRW, date(2021, 12, 31))
    await _channel_contracts(contracts, staff, rng, agencies, firms, "matching_contract", 14, MATCHING_KRW)
    await _channel_contracts(contracts, staff, rng, agencies, firms, "proposal", 18, PROPOSAL_KRW)
    await _channel_contracts(contracts, staff, rng, agencies, firms, "daily_consultation", 40, DAILY_KRW)
    # Reported but never confirmed: they count nowhere until someone confirms them.
    for meeting in rng.sample(meetings1, 4):
        await contracts.report(
            staff,
            ContractIn(
                agency_id=meeting.agency_id, firm_id=meeting.firm_id, amount_krw=rng.randint(1, 50) * 100_000,
                contract_date=date(2021, 11, 30), title="확인 대기 중인 계약", meeting_id=meeting.id,
            ),
        )  # fmt: skip

    await _targets_and_purchases(session, staff, rng, agencies)
    return Demo2021(
        fair_2020=fair_2020,
        fairs_2021=[fair1, fair2, fair3],
        agencies=[a.id for a in agencies],
        firms=[f.id for f in firms],
    )


async def _targets_and_purchases(
    session: AsyncSession, staff: Principal, rng: random.Random, agencies: list[Organization]
) -> None:
    """Targets summing to 1,700억원; purchases outside the product so that actuals sum to 1,847억원."""
    from sqlalchemy import func

    from service.contracts.models import Contract, ContractStatus

    weight_by_type = {"district_office": 3.0, "seoul_city": 2.0, "city_affiliate": 2.5, "education": 1.2,
                      "public_corporation": 0.6}  # fmt: skip
    weights = [weight_by_type[str(a.agency_type)] * rng.uniform(0.7, 1.3) for a in agencies]
    targets = split_exactly(TARGETS_KRW, weights, unit=100_000_000)  # whole 억원
    rows = await session.execute(
        select(Contract.agency_id, func.sum(Contract.amount_krw))
        .where(
            Contract.status == ContractStatus.CONFIRMED,
            Contract.contract_date >= date(2021, 1, 1),
            Contract.contract_date < date(2022, 1, 1),
        )
        .group_by(Contract.agency_id)
    )
    contracted = {agency_id: int(amount) for agency_id, amount in rows.all()}
    # What the agencies bought outside the product fills the gap to 1,847억원, spread by size and zeal.
    outside_all = split_exactly(
        ACTUAL_KRW - sum(contracted.values()), [w * rng.uniform(0.85, 1.35) for w in weights], unit=1000
    )
    purchases = PurchaseService(session)
    for agency, target, outside in zip(agencies, targets, outside_all, strict=True):
        await purchases.set_target(staff, agency.id, 2021, target)
        first = outside // 3 // 1000 * 1000
        for amount, note in ((first, "조달청 나라장터 구매"), (outside - first, "자체 계약 구매")):
            if amount > 0:
                await purchases.record_purchase(
                    staff, PurchaseIn(agency_id=agency.id, year=2021, amount_krw=amount, note=note)
                )
