"""End to end: a firm books through the fairs API; both parties get a confirmation mail with the
invite at the in-process SMTP server; reminders fire at the right time on a controlled clock."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from service.app import create_app
from service.fairs.models import Meeting
from service.lib import clock
from service.notify.dispatcher import drain
from tests.integration.fairs.test_fairs_api import SLOT1, book, world


async def test_booking_sends_both_parties_an_invite_and_reminders(database_url, sessionmaker, smtp, smtp_settings):
    app = create_app(smtp_settings, database_url)
    async with AsyncTestClient(app, base_url="http://127.0.0.1:8000") as client:
        w = await world(client, sessionmaker, smtp_settings)
        smtp.inbox.clear()
        await drain(sessionmaker, smtp_settings)  # verification mails of the set-up
        smtp.inbox.clear()
        response = await book(client, w, w.firm, SLOT1)
        assert response.status_code == 201, response.text
        await drain(sessionmaker, smtp_settings)
        invites = [m for m in smtp.inbox.messages if any(p.get_content_type() == "text/calendar" for p in m.walk())]
        recipients = {m["To"] for m in invites}
        assert len(invites) == 2, [m["Subject"] for m in smtp.inbox.messages]
        assert len(recipients) == 2
        for message in invites:
            part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
            calendar = Calendar.from_ical(part.get_payload(decode=True))
            assert str(calendar["METHOD"]) == "REQUEST"
            event = next(iter(calendar.walk("VEVENT")))
            assert str(event["UID"]).startswith("meeting-")

        # Reminders: nothing more now; at T-24h one per party arrives.
        smtp.inbox.clear()
        await drain(sessionmaker, smtp_settings)
        assert smtp.inbox.messages == []
        async with sessionmaker() as session:
            meeting = await session.scalar(select(Meeting))
            assert meeting is not None
        clock.set_now(meeting.starts_at - timedelta(hours=24) + timedelta(minutes=1))
        await drain(sessionmaker, smtp_settings)
        assert len(smtp.inbox.messages) == 2
        assert all(
            meeting.room_url and meeting.room_url in m.get_body(("plain",)).get_content() for m in smtp.inbox.messages
        )
