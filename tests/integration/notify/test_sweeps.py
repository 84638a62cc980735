"""Time-driven mails: a request left unanswered for two days, a certification about to expire."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from service.fairs.models import MeetingRating, MeetingRequest, RequestStatus
from service.lib import clock
from service.notify.dispatcher import drain
from service.notify.models import OutboxStatus
from service.notify.notices import BOOKED, record_notice
from service.notify.subscribers import expand_notices
from service.notify.sweeps import sweep
from service.registry.models import Organization
from tests.factories_notify import meeting, organization, outbox


class TestUnansweredRequests:
    async def test_the_agency_is_reminded_once_after_two_days(self, sessionmaker, smtp, smtp_settings):
        async with sessionmaker.begin() as session:
            m = await meeting(session, agency_users=[("buyer-wait@eunpyeong.go.kr", "ko")])
            waiting = MeetingRequest(fair_id=m.fair_id, firm_id=m.firm_id, agency_id=m.agency_id, priority=1)
            session.add(waiting)
        await sweep(sessionmaker, smtp_settings)
        async with sessionmaker() as session:
            assert await outbox(session, "request:") == []  # not two days yet

        clock.set_now(clock.now() + timedelta(days=2, minutes=1))
        await sweep(sessionmaker, smtp_settings)
        await sweep(sessionmaker, smtp_settings)  # a second tick, or a second instance: still one mail
        async with sessionmaker() as session:
            [row] = await outbox(session, f"request:{waiting.id.hex}:unanswered:")
        assert row.recipient == "buyer-wait@eunpyeong.go.kr"
        await drain(sessionmaker, smtp_settings)
        [message] = smtp.inbox.messages
        assert message["Subject"] == "[공공구매 상담·매칭] 마포방역협동조합의 상담 신청이 답변을 기다립니다"

    async def test_an_answered_request_is_left_alone(self, sessionmaker, smtp_settings):
        async with sessionmaker.begin() as session:
            m = await meeting(session)
            answered = MeetingRequest(
                fair_id=m.fair_id, firm_id=m.firm_id, agency_id=m.agency_id, priority=1, status=RequestStatus.ACCEPTED
            )
            session.add(answered)
        clock.set_now(clock.now() + timedelta(days=3))
        await sweep(sessionmaker, smtp_settings)
        async with sessionmaker() as session:
            assert await outbox(session, "request:") == []


class TestExpiringCertifications:
    async def test_a_firm_is_warned_once_within_30_days_of_expiry(self, sessionmaker, smtp, smtp_settings):
        async with sessionmaker.begin() as session:
            soon = await organization(session, "firm", "곧만료사회적기업", [("soon@se.kr", "ko")])
            later = await organization(session, "firm", "나중만료사회적기업", [("later@se.kr", "ko")])
            expires = clock.today() + timedelta(days=20)
            await session.execute(
                update(Organization).where(Organization.id == soon.id).values(certified_until=expires)
            )
            await session.execute(
                update(Organization)
                .where(Organization.id == later.id)
                .values(certified_until=clock.today() + timedelta(days=40))
            )
        await sweep(sessionmaker, smtp_settings)
        await sweep(sessionmaker, smtp_settings)
        async with sessionmaker() as session:
            rows = await outbox(session, "certification:")
        assert [r.recipient for r in rows] == ["soon@se.kr"]
        await drain(sessionmaker, smtp_settings)
        [message] = smtp.inbox.messages
        assert message["Subject"].startswith("[공공구매 상담·매칭] 곧만료사회적기업의 인증이 ")
        assert f"{expires.year}. {expires.month}. {expires.day}." in message["Subject"]


class TestNoDealSafetyNet:
    async def test_a_no_deal_rating_recorded_without_the_event_stops_the_contract_questions(
        self, sessionmaker, smtp_settings
    ):
        async with sessionmaker.begin() as session:
            settled = await meeting(session)
            await record_notice(session, settled.id, BOOKED, settled.sequence, None)
            await expand_notices(session)  # the booking's notice → its mails
            open_ = await meeting(session)
            await record_notice(session, open_.id, BOOKED, open_.sequence, None)
            await expand_notices(session)  # the booking's notice → its mails
            settled.firm_rating = MeetingRating.DID_NOT_TAKE_PLACE  # no MeetingRated published
            open_.firm_rating = MeetingRating.COOPERATION_POSSIBLE
        await sweep(sessionmaker, smtp_settings)
        async with sessionmaker() as session:
            assert len(await outbox(session, f"followup:{settled.id.hex}:contract:", OutboxStatus.CANCELLED)) == 6
            assert await outbox(session, f"followup:{settled.id.hex}:contract:", OutboxStatus.QUEUED) == []
            # The firm rated, so only the agency is still asked to rate.
            assert len(await outbox(session, f"followup:{settled.id.hex}:rating:", OutboxStatus.QUEUED)) == 1
            assert len(await outbox(session, f"followup:{open_.id.hex}:contract:", OutboxStatus.QUEUED)) == 6
