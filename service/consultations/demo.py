"""The year 2020 of everyday consultations (일상상담), built through the service for the demo.

The 2021 report's program table counts 200 consultations held in 2020 (target 200). Most were by
phone or at the desk, so staff log them as held (`ConsultationService.log`); `demo_2020` spreads
exactly 200 over the year's working days, 10:00–17:00 Seoul time, never two at once for one staff
member (the exclusion constraint would refuse it).
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.consultations.models import Consultation, ConsultationTopic
from service.consultations.schemas import ConsultationIn, HoursBlock
from service.consultations.service import ConsultationService
from service.identity.principal import Principal
from service.lib.clock import SEOUL
from service.registry.models import Organization

HELD_2020 = 200
# Consultations held per month in 2020 (the first wave of COVID-19 slowed the spring).
MONTHLY_2020 = (12, 14, 16, 18, 20, 18, 16, 14, 18, 20, 18, 16)
HOURS = (10, 11, 14, 15, 16)
# The staff member's weekly consultation hours (today's requests see them): mornings online, afternoons at the center.
WEEKLY_HOURS = [
    block
    for weekday in range(5)
    for block in (
        HoursBlock(weekday=weekday, start=time(10), end=time(12), mode="online"),
        HoursBlock(weekday=weekday, start=time(14), end=time(17), mode="in_person", place="지원센터 상담실"),
    )
]
QUESTIONS: dict[ConsultationTopic, tuple[tuple[str, str], ...]] = {
    ConsultationTopic.PROCEDURE: (
        ("공공기관 우선구매 절차와 필요한 서류를 알고 싶습니다.", "우선구매 절차와 구비서류 안내"),
        ("나라장터 업체 등록 방법을 문의합니다.", "조달청 경쟁입찰참가자격 등록 안내"),
    ),
    ConsultationTopic.CERTIFICATION: (
        ("사회적기업 인증 후 공공구매 혜택이 궁금합니다.", "인증 기업 우선구매 대상 안내"),
        ("직접생산확인 증명 절차를 문의합니다.", "직접생산확인 신청 절차 안내"),
    ),
    ConsultationTopic.BIDDING: (
        ("수의계약 한도와 조건을 알고 싶습니다.", "사회적경제기업 수의계약 한도 안내"),
        ("입찰 공고 보는 방법과 적격심사 기준을 문의합니다.", "적격심사 기준과 가점 안내"),
    ),
    ConsultationTopic.PRODUCT_PRICE: (
        ("공공기관 납품 단가를 어떻게 정하면 좋을까요?", "원가 산정과 견적서 작성 안내"),
        ("우리 제품이 어느 기관에 맞을지 상담받고 싶습니다.", "수요 기관 목록과 상담회 참가 안내"),
    ),
    ConsultationTopic.OTHER: (("판로 지원 사업 전반을 문의합니다.", "지원센터 판로지원 사업 안내"),),
}


def _working_days(month: int) -> list[date]:
    day = date(2020, month, 1)
    days = []
    while day.month == month:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def _slots(rng: random.Random, month: int, count: int) -> list[datetime]:
    """`count` distinct one-hour slots on the month's working days, in time order."""
    every = [datetime.combine(d, time(h), tzinfo=SEOUL) for d in _working_days(month) for h in HOURS]
    return sorted(rng.sample(every, count))


async def demo_2020(
    session: AsyncSession, staff: Principal, organizations: list[Organization], rng: random.Random
) -> int:
    """Log 2020's consultations (exactly 200 held) for `organizations`, held by `staff`; once only:
    a database that already has 2020 consultations is left alone. Returns how many are held in 2020."""
    service = ConsultationService(session)
    first, last = datetime(2020, 1, 1, tzinfo=SEOUL), datetime(2021, 1, 1, tzinfo=SEOUL)
    existing = await session.scalar(
        select(func.count())
        .select_from(Consultation)
        .where(Consultation.starts_at >= first, Consultation.starts_at < last)
    )
    if not await service.hours.has_hours(staff.user_id):
        await service.hours.set_weekly(staff.user_id, WEEKLY_HOURS)
    if not existing:
        for month, count in enumerate(MONTHLY_2020, start=1):
            for start in _slots(rng, month, count):
                await service.log(staff, _logged(rng, organizations, start))
    return HELD_2020 if not existing else int(existing)


def _logged(rng: random.Random, organizations: list[Organization], start: datetime) -> ConsultationIn:
    topic = rng.choice(list(QUESTIONS))
    question, answer = rng.choice(QUESTIONS[topic])
    mode = rng.choice(("online", "in_person"))
    follow_up = start.date() + timedelta(days=14) if rng.random() < 0.3 else None
    return ConsultationIn(
        organization_id=rng.choice(organizations).id,
        topic=topic.value,
        message=question,
        start=start,
        end=start + timedelta(minutes=rng.choice((30, 40, 60))),
        mode=mode,
        place="지원센터 상담실" if mode == "in_person" else "",
        notes="전화 상담 후 방문",
        outcome=answer,
        follow_up_on=follow_up,
    )
