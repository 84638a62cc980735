"""Consultation mails through the outbox to a real SMTP server: the invite on confirmation (to the
requester's people and the staff member), the reminder a day before, the withdrawal on cancellation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.lib import clock
from service.notify.dispatcher import drain
from tests.factories import create_staff, verified_firm

NOW = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
START = NOW + timedelta(hours=26)  # Wednesday 11:00 in Seoul


def calendar_of(message) -> Calendar:
    part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    return Calendar.from_ical(part.get_payload(decode=True))


async def test_confirmation_invites_reminds_and_cancellation_withdraws(database_url, sessionmaker, smtp, smtp_settings):
    clock.set_now(NOW)
    app = create_app(smtp_settings, database_url)
    async with AsyncTestClient(app, base_url="http://127.0.0.1:8000") as client:
        staff = await create_staff(client, sessionmaker, smtp_settings)
        firm = await verified_firm(client, staff)
        await drain(sessionmaker, smtp_settings)
        smtp.inbox.clear()
        slot = {"start": START.isoformat(), "end": (START + timedelta(hours=1)).isoformat()}
        asked = await client.post(
            "/api/v1/consultations",
            json={"topic": "certification", "message": "인증 절차 문의", "preferred": [slot]},
            headers=firm.headers,
        )
        assert asked.status_code == 201, asked.text
        url = f"/api/v1/consultations/{asked.json()['id']}"
        confirmed = await client.patch(
            url, json={"status": "confirmed", **slot, "place": "https://meet.example.kr/c1"}, headers=staff.headers
        )
        assert confirmed.status_code == 200, confirmed.text
        await drain(sessionmaker, smtp_settings)
        messages = smtp.inbox.messages
        assert sorted(m["To"] for m in messages) == sorted([firm.email, staff.email])
        to_firm = smtp.inbox.to(firm.email)[0]
        assert "상담이 확정" in to_firm["Subject"]
        assert "2026. 12. 2.(수) 11:00" in to_firm["Subject"]
        assert "https://meet.example.kr/c1" in to_firm.get_body(("plain",)).get_content()
        calendar = calendar_of(to_firm)
        assert str(calendar["METHOD"]) == "REQUEST"
        event = next(iter(calendar.walk("VEVENT")))
        uid = str(event["UID"])
        assert {str(a).removeprefix("mailto:") for a in event["ATTENDEE"]} == {firm.email, staff.email}

        smtp.inbox.clear()
        clock.set_now(START - timedelta(hours=24) - timedelta(minutes=1))
        await drain(sessionmaker, smtp_settings)
        assert smtp.inbox.messages == []
        clock.set_now(START - timedelta(hours=24) + timedelta(minutes=1))
        await drain(sessionmaker, smtp_settings)
        reminders = smtp.inbox.messages
        assert len(reminders) == 2
        assert all("내일" in m["Subject"] for m in reminders)

        smtp.inbox.clear()
        cancelled = await client.patch(url, json={"status": "cancelled"}, headers=firm.headers)
        assert cancelled.status_code == 200, cancelled.text
        await drain(sessionmaker, smtp_settings)
        withdrawals = smtp.inbox.messages
        assert len(withdrawals) == 2
        for message in withdrawals:
            calendar = calendar_of(message)
            assert str(calendar["METHOD"]) == "CANCEL"
            assert str(next(iter(calendar.walk("VEVENT")))["UID"]) == uid


async def test_a_moved_consultation_reminds_once_at_its_new_time(database_url, sessionmaker, smtp, smtp_settings):
    clock.set_now(NOW)
    app = create_app(smtp_settings, database_url)
    async with AsyncTestClient(app, base_url="http://127.0.0.1:8000") as client:
        staff = await create_staff(client, sessionmaker, smtp_settings)
        firm = await verified_firm(client, staff)
        slot = {"start": START.isoformat(), "end": (START + timedelta(hours=1)).isoformat()}
        asked = await client.post(
            "/api/v1/consultations",
            json={"topic": "other", "message": "문의", "preferred": [slot]},
            headers=firm.headers,
        )
        url = f"/api/v1/consultations/{asked.json()['id']}"
        await client.patch(url, json={"status": "confirmed", **slot}, headers=staff.headers)
        later = START + timedelta(hours=24)
        moved = await client.patch(
            url,
            json={"status": "confirmed", "start": later.isoformat(), "end": (later + timedelta(hours=1)).isoformat()},
            headers=staff.headers,
        )
        assert moved.status_code == 200, moved.text
        await drain(sessionmaker, smtp_settings)
        smtp.inbox.clear()
        clock.set_now(START - timedelta(hours=23))  # the first time's reminder would be due
        await drain(sessionmaker, smtp_settings)
        assert smtp.inbox.messages == []
        clock.set_now(later - timedelta(hours=23))
        await drain(sessionmaker, smtp_settings)
        assert len(smtp.inbox.messages) == 2
