"""The firms' weekly digest (issue 15 item 8): new open needs that fit, best first with the reason,
one mail per member per week (also when two instances run the job at once), never empty, opt-out."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from service.accounts.models import User
from service.lib import clock
from service.needs.models import Need, NeedStatus
from service.notify.digest import digest_firm, due_members, send_digests
from service.notify.dispatcher import drain
from service.notify.models import FirmDigest
from service.registry.models import Organization
from tests.factories_notify import organization, outbox

SEOUL = ZoneInfo("Asia/Seoul")
MONDAY = datetime(2026, 12, 7, 10, 0, tzinfo=SEOUL)  # a Monday, after 09:00
MEMBERS = [("d1@mapo.coop", "ko"), ("d2@mapo.coop", "en"), ("d3@mapo.coop", "ko")]


async def _world(sessionmaker) -> tuple:
    async with sessionmaker.begin() as session:
        firm = await organization(session, "firm", "마포방역협동조합", MEMBERS)
        firm.category_codes = ["CLN-DIS"]
        firm.description = "청사 방역 소독 전문 협동조합"
        agency = await organization(session, "agency", "은평구청", [("buyer@eunpyeong.go.kr", "ko")])
        await session.execute(update(User).where(User.email == "d3@mapo.coop").values(mail_digest=False))
        return firm.id, agency.id


async def _need(sessionmaker, agency_id, title, codes, created_at, status=NeedStatus.OPEN, district=None):
    async with sessionmaker.begin() as session:
        need = Need(
            agency_id=agency_id,
            title=title,
            description=title,
            category_codes=codes,
            budget_krw=12_000_000,
            needed_by=date(2027, 1, 29),
            delivery_district=district,
            status=status,
            created_at=created_at,
        )
        session.add(need)
        await session.flush()
        return need.id


async def _rows(sessionmaker, week: date) -> list[FirmDigest]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(FirmDigest).where(FirmDigest.week_start == week))).all())


async def test_a_member_gets_the_new_fitting_needs_best_first_once_a_week(sessionmaker, smtp, smtp_settings):
    _, agency_id = await _world(sessionmaker)
    moment = MONDAY.astimezone(ZoneInfo("UTC"))
    weaker = await _need(sessionmaker, agency_id, "청사 청소 용역", ["CLN-BLD"], moment - timedelta(days=2))
    best = await _need(
        sessionmaker, agency_id, "청사 방역 소독", ["CLN-DIS"], moment - timedelta(days=3), district="mapo"
    )
    await _need(sessionmaker, agency_id, "오래된 방역", ["CLN-DIS"], moment - timedelta(days=9))  # before the week
    await _need(sessionmaker, agency_id, "복사용지", ["OFF-PAP"], moment - timedelta(days=1))  # does not fit
    await _need(sessionmaker, agency_id, "마감된 방역", ["CLN-DIS"], moment - timedelta(days=1), NeedStatus.CLOSED)

    clock.set_now(MONDAY.replace(hour=8))  # before Monday 09:00: not yet
    assert await send_digests(sessionmaker, smtp_settings) == 0
    clock.set_now(MONDAY)
    assert await send_digests(sessionmaker, smtp_settings) == 2  # d3 turned the digest off
    assert await send_digests(sessionmaker, smtp_settings) == 0  # once a week
    clock.set_now(MONDAY + timedelta(days=2))
    assert await send_digests(sessionmaker, smtp_settings) == 0

    await drain(sessionmaker, smtp_settings)
    [korean] = smtp.inbox.to("d1@mapo.coop")
    [english] = smtp.inbox.to("d2@mapo.coop")
    assert smtp.inbox.to("d3@mapo.coop") == []
    assert korean["Subject"] == "[공공구매 상담·매칭] 이번 주 마포방역협동조합에 맞는 새 구매 수요 2건"
    assert english["Subject"] == "[procure-match] New purchase needs for 마포방역협동조합 this week: 2"
    text = korean.get_body(("plain",)).get_content()
    assert text.index("청사 방역 소독") < text.index("청사 청소 용역")  # best first
    assert f"/needs/{best}" in text and f"/needs/{weaker}" in text
    assert "오래된 방역" not in text and "복사용지" not in text and "마감된 방역" not in text
    assert "적합도" in text and "분야" in text  # the score with its reason (category match)
    assert "12,000,000원" in text and "/me/notifications" in text
    html = korean.get_body(("html",)).get_content()
    assert html.index("청사 방역 소독") < html.index("청사 청소 용역") and "/me/notifications" in html

    # The next week: only what was posted since, and nobody with nothing new gets a mail.
    next_monday = MONDAY + timedelta(days=7)
    clock.set_now(next_monday)
    assert await send_digests(sessionmaker, smtp_settings) == 0
    rows = await _rows(sessionmaker, next_monday.date())
    assert sorted(r.need_count for r in rows) == [0, 0]  # looked at, nothing new: no mail (never empty)
    await drain(sessionmaker, smtp_settings)
    assert smtp.inbox.messages[2:] == []


async def test_two_instances_running_the_job_at_once_send_each_member_one_digest(sessionmaker, smtp, smtp_settings):
    _, agency_id = await _world(sessionmaker)
    clock.set_now(MONDAY)
    await _need(sessionmaker, agency_id, "방역 소독 용역", ["CLN-DIS"], MONDAY - timedelta(days=1))
    results = await asyncio.gather(*(send_digests(sessionmaker, smtp_settings) for _ in range(3)))
    assert sum(results) == 2
    rows = await _rows(sessionmaker, MONDAY.date())
    assert sorted(r.need_count for r in rows) == [1, 1]
    async with sessionmaker() as session:
        queued = await outbox(session, "digest:")
        assert sorted(m.recipient for m in queued) == ["d1@mapo.coop", "d2@mapo.coop"]
        assert await session.scalar(select(func.count()).select_from(FirmDigest)) == 2
    await drain(sessionmaker, smtp_settings)
    assert sorted(m["To"] for m in smtp.inbox.messages) == ["d1@mapo.coop", "d2@mapo.coop"]


async def test_a_digest_covers_what_came_since_the_members_last_one(sessionmaker, smtp, smtp_settings):
    _, agency_id = await _world(sessionmaker)
    clock.set_now(MONDAY)
    await _need(sessionmaker, agency_id, "첫 주 방역", ["CLN-DIS"], MONDAY - timedelta(days=1))
    assert await send_digests(sessionmaker, smtp_settings) == 2
    await _need(sessionmaker, agency_id, "둘째 주 방역", ["CLN-DIS"], MONDAY + timedelta(days=3))
    clock.set_now(MONDAY + timedelta(days=7))
    assert await send_digests(sessionmaker, smtp_settings) == 2
    await drain(sessionmaker, smtp_settings)
    bodies = [m.get_body(("plain",)).get_content() for m in smtp.inbox.to("d1@mapo.coop")]
    assert len(bodies) == 2  # the dispatcher sends concurrently: arrival order is not the queue's
    [latest] = [body for body in bodies if "둘째 주 방역" in body]
    assert "첫 주 방역" not in latest


async def test_the_unique_row_alone_stops_a_second_mail_when_two_transactions_race(sessionmaker, smtp_settings):
    """Below the advisory lock: two transactions digesting the same members at once (each on its own
    connection) queue each member's digest once; the loser's INSERT waits for the winner, then skips."""
    firm_id, agency_id = await _world(sessionmaker)
    clock.set_now(MONDAY)
    await _need(sessionmaker, agency_id, "방역 소독 용역", ["CLN-DIS"], MONDAY - timedelta(days=1))
    week = MONDAY.date()
    async with sessionmaker() as session:
        members = await due_members(session, week)
    assert [m.email for m in members] == ["d1@mapo.coop", "d2@mapo.coop"]

    async def one_run() -> int:
        async with sessionmaker.begin() as session:
            firm = await session.get(Organization, firm_id)
            return await digest_firm(session, smtp_settings, firm, members, week)

    assert sorted(await asyncio.gather(one_run(), one_run())) == [0, 2]
    async with sessionmaker() as session:
        assert len(await outbox(session, "digest:")) == 2
