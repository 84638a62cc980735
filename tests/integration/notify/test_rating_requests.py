"""The rating request a day after a meeting goes only to a side that has not rated it yet."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from service.accounts.models import User
from service.fairs.booking import BookingService
from service.fairs.models import MeetingRating
from service.lib import clock
from service.notify.dispatcher import drain
from service.notify.models import OutboxStatus
from service.notify.notices import BOOKED, record_notice
from service.notify.subscribers import expand_notices
from service.notify.sweeps import sweep
from tests.factories_fairs import principal_for
from tests.factories_notify import meeting, outbox


class TestOnlyTheSideThatHasNotRated:
    async def test_the_firm_rated_so_only_the_agency_is_asked(self, sessionmaker, smtp, smtp_settings):
        async with sessionmaker.begin() as session:
            m = await meeting(session)
            await record_notice(session, m.id, BOOKED, m.sequence, None)
            await expand_notices(session)  # the booking's notice → its mails
            firm_user = await session.scalar(select(User).where(User.organization_id == m.firm_id))
        assert firm_user is not None
        clock.set_now(m.ends_at + timedelta(hours=2))
        await drain(sessionmaker, smtp_settings)  # confirmations and both reminders
        smtp.inbox.clear()

        firm = principal_for(firm_user.id, "firm", m.firm_id)
        async with sessionmaker.begin() as session:
            await BookingService(session).record_outcome(firm, m.id, "held", "cooperation_possible")

        clock.set_now(m.ends_at + timedelta(days=1))
        await drain(sessionmaker, smtp_settings)
        [message] = smtp.inbox.messages
        assert message["To"].startswith("buyer-")  # the agency's user
        assert message["Subject"] == "[공공구매 상담·매칭] 마포방역협동조합과(와)의 상담은 어떠셨나요?"
        async with sessionmaker() as session:
            [cancelled] = await outbox(session, f"followup:{m.id.hex}:rating:", OutboxStatus.CANCELLED)
        assert cancelled.recipient == firm_user.email
        # The contract questions still go to both sides (the firm sees cooperation possible).
        async with sessionmaker() as session:
            assert len(await outbox(session, f"followup:{m.id.hex}:contract:", OutboxStatus.QUEUED)) == 6

    async def test_a_rating_recorded_without_the_event_is_caught_by_the_sweep(self, sessionmaker, smtp_settings):
        async with sessionmaker.begin() as session:
            m = await meeting(session)
            await record_notice(session, m.id, BOOKED, m.sequence, None)
            await expand_notices(session)  # the booking's notice → its mails
            m.agency_rating = MeetingRating.INFORMATIVE_NO_COOPERATION  # no MeetingRated published
        await sweep(sessionmaker, smtp_settings)
        async with sessionmaker() as session:
            [left] = await outbox(session, f"followup:{m.id.hex}:rating:", OutboxStatus.QUEUED)
            [cancelled] = await outbox(session, f"followup:{m.id.hex}:rating:", OutboxStatus.CANCELLED)
        assert left.recipient.startswith("ceo-") and cancelled.recipient.startswith("buyer-")
