"""A meeting's invite is one event: the .ics downloaded from the API or the pages and the one
attached to its mails agree on everything but the time they were made (DTSTAMP)."""

from __future__ import annotations

from typing import Any

from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.notify.models import OutboxMessage
from service.notify.service import stored_attachment
from service.notify.subscribers import expand_notices
from tests.integration.fairs.test_fairs_api import SLOT0, SLOT2, Client, book, world

COMPARED = ("UID", "SEQUENCE", "SUMMARY", "DESCRIPTION", "ORGANIZER", "DTSTART", "DTEND", "LOCATION", "STATUS")


def parse(ics: bytes) -> tuple[str, Any]:
    calendar = Calendar.from_ical(ics)
    return str(calendar["METHOD"]), next(iter(calendar.walk("VEVENT")))


def properties(event: Any) -> dict[str, Any]:
    """Every property but DTSTAMP, with its parameters (the organizer's and attendees' names)."""
    found: dict[str, Any] = {}
    for name, value in event.property_items(recursive=False):
        if name in ("BEGIN", "END", "DTSTAMP"):
            continue
        found.setdefault(name, []).append((value.to_ical(), dict(getattr(value, "params", {}))))
    return found


async def mailed(sessionmaker: async_sessionmaker[AsyncSession], template: str) -> list[bytes]:
    async with sessionmaker.begin() as session:
        await expand_notices(session)  # a booking's mails are queued by the dispatcher from its notice
    async with sessionmaker() as session:
        rows = (await session.scalars(select(OutboxMessage).where(OutboxMessage.template == template))).all()
    return [stored_attachment(a).data for row in rows for a in row.attachments]


async def downloaded(client: Client, meeting_id: str, headers: dict[str, str]) -> list[bytes]:
    bodies = []
    for path in (f"/api/v1/meetings/{meeting_id}/invite.ics", f"/meetings/{meeting_id}/invite.ics"):
        response = await client.get(path, headers=headers)
        assert response.status_code == 200, response.text
        bodies.append(response.content)
    return bodies


def assert_one_invite(mails: list[bytes], downloads: list[bytes], method: str) -> None:
    assert len(mails) == 2 and len(downloads) == 2  # a mail to each side; the API and the page
    expected_method, expected = parse(mails[0])
    assert expected_method == method
    for ics in mails[1:] + downloads:
        got_method, event = parse(ics)
        assert got_method == method
        for name in COMPARED:
            assert event[name].to_ical() == expected[name].to_ical(), name
        assert event["ORGANIZER"].params == expected["ORGANIZER"].params
        assert properties(event) == properties(expected)


class TestDownloadedAndMailedInvites:
    async def test_booked_moved_and_cancelled_meetings_have_one_invite(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w = await world(client, sessionmaker, settings)
        response = await book(client, w, w.firm, SLOT0)
        assert response.status_code == 201, response.text
        meeting_id = response.json()["id"]
        booked = await downloaded(client, meeting_id, w.firm.headers)
        assert_one_invite(await mailed(sessionmaker, "meeting_booked"), booked, "REQUEST")
        _, event = parse(booked[0])
        assert str(event["ORGANIZER"]) == "mailto:noreply@procure-match.local"  # MAIL_FROM's address
        assert str(event["SUMMARY"]).startswith("공공구매 상담: ")

        response = await client.patch(f"/api/v1/meetings/{meeting_id}", json={"start": SLOT2}, headers=w.firm.headers)
        assert response.status_code == 200, response.text
        moved = await downloaded(client, meeting_id, w.agency.headers)
        assert_one_invite(await mailed(sessionmaker, "meeting_moved"), moved, "REQUEST")

        response = await client.delete(f"/api/v1/meetings/{meeting_id}", headers=w.agency.headers)
        assert response.status_code == 204, response.text
        cancelled = await downloaded(client, meeting_id, w.firm.headers)
        assert_one_invite(await mailed(sessionmaker, "meeting_cancelled"), cancelled, "CANCEL")
