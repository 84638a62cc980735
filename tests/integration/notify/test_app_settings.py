"""Mails follow the settings the app was created with, not a fresh read of the environment."""

from __future__ import annotations

from dataclasses import replace

import pytest
from icalendar import Calendar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from service.app import create_app
from service.config import get_settings
from service.notify.dispatcher import drain
from service.notify.models import OutboxMessage
from service.notify.subscribers import expand_notices
from tests.integration.fairs.test_fairs_api import SLOT1, book, world

BASE_URL = "http://mails.example.kr"
TIMEZONE = "Asia/Tokyo"


async def test_mails_carry_the_base_url_time_zone_and_sender_of_the_app_settings(
    database_url, sessionmaker, smtp, smtp_settings, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("BASE_URL", "http://environment.example.kr")
    monkeypatch.setenv("TIMEZONE", "Asia/Seoul")
    monkeypatch.setenv("MAIL_FROM", "Environment <env@environment.example.kr>")
    get_settings.cache_clear()
    passed = replace(smtp_settings, app=replace(smtp_settings.app, base_url=BASE_URL, timezone=TIMEZONE))
    try:
        app = create_app(passed, database_url)
        async with AsyncTestClient(app, base_url="http://127.0.0.1:8000") as client:
            w = await world(client, sessionmaker, passed)
            response = await book(client, w, w.firm, SLOT1)
            assert response.status_code == 201, response.text
    finally:
        get_settings.cache_clear()

    async with sessionmaker.begin() as session:
        await expand_notices(session, passed)  # what the app's dispatcher does with the booking's notice
    async with sessionmaker() as session:
        rows = (await session.scalars(select(OutboxMessage).where(OutboxMessage.template == "meeting_booked"))).all()
    assert len(rows) == 2
    for row in rows:
        assert row.context is not None
        assert row.context["tz"] == TIMEZONE
        assert row.context["values"]["base_url"] == BASE_URL

    await drain(sessionmaker, passed)
    invites = [m for m in smtp.inbox.messages if m["Subject"].startswith("[공공구매 상담·매칭] 상담 예약 확정")]
    assert len(invites) == 2
    for message in invites:
        assert BASE_URL in message.get_body(("html",)).get_content()
        part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
        event = next(iter(Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")))
        assert str(event["ORGANIZER"]) == "mailto:noreply@procure-match.local"  # MAIL_FROM of smtp_settings
