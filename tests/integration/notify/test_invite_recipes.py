"""A booking queues its invite as a recipe (no icalendar in the booking transaction); the dispatcher
renders it once per batch for every mail that carries it; rows queued with bytes still go out."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

import service.notify.service as notify_service
from service.fairs.calendar import InviteData, meeting_invite
from service.notify.dispatcher import drain
from service.notify.models import OutboxMessage, OutboxStatus
from service.notify.notices import BOOKED, record_notice
from service.notify.service import Attachment, Mail, enqueue_many, stored_attachment
from service.notify.subscribers import expand_notices
from tests.factories import create_staff
from tests.factories_notify import meeting, outbox
from tests.integration.notify.test_dispatcher import CONTEXT, rows


def ics_parts(message: Any) -> list[bytes]:
    return [p.get_payload(decode=True) for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[InviteData]:
    """Every invite the outbox side renders (icalendar), counted."""
    seen: list[InviteData] = []

    def counted(data: InviteData, method: Any = "REQUEST") -> bytes:
        seen.append(data)
        return meeting_invite(data, method)

    monkeypatch.setattr(notify_service, "meeting_invite", counted)
    return seen


async def test_a_booking_queues_one_recipe_that_a_batch_renders_once(sessionmaker, smtp, smtp_settings, renders):
    agency_users = [(f"buyer{i}@eunpyeong.go.kr", "ko") for i in range(3)]
    firm_users = [("ceo@mapo.coop", "ko"), ("staff@mapo.coop", "en")]
    async with sessionmaker.begin() as session:
        m = await meeting(session, agency_users=agency_users, firm_users=firm_users)
        await record_notice(session, m.id, BOOKED, m.sequence, None)
        await expand_notices(session)  # the booking's notice → its mails
        meeting_id = m.id
    assert renders == []  # the booking's transaction described the invite, it rendered nothing

    async with sessionmaker() as session:
        queued = await outbox(session, f"meeting:{meeting_id.hex}:booked:")
    assert len(queued) == 5
    recipes = [a["invite"] for row in queued for a in row.attachments]
    assert len(recipes) == 5 and all(r == recipes[0] for r in recipes)
    assert not any("base64" in a for row in queued for a in row.attachments)
    assert recipes[0]["method"] == "REQUEST" and recipes[0]["meeting_id"] == meeting_id.hex

    result = await drain(sessionmaker, smtp_settings)
    assert result.sent == 5
    assert len(renders) == 1  # one booking, five mails, one .ics
    fields = {k: v for k, v in recipes[0].items() if k != "method"}
    expected = meeting_invite(InviteData.from_json(fields), "REQUEST")
    received = [part for message in smtp.inbox.messages for part in ics_parts(message)]
    assert received == [expected] * 5  # byte for byte what the direct call gives


async def test_a_row_queued_with_bytes_still_goes_out_with_them(sessionmaker, smtp, smtp_settings, renders):
    legacy = Attachment("invite.ics", "text/calendar; method=REQUEST", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    async with sessionmaker.begin() as session:
        mail = Mail("legacy:1", "officer@example.kr", "ko", "organization_verified", CONTEXT, attachments=[legacy])
        assert await enqueue_many(session, [mail]) == 1
    [row] = await rows(sessionmaker)
    assert "base64" in row.attachments[0]
    assert (await drain(sessionmaker, smtp_settings)).sent == 1
    [message] = smtp.inbox.messages
    assert ics_parts(message) == [legacy.data]
    assert renders == []


async def test_the_staff_page_lists_both_forms_with_their_size(client, sessionmaker, settings):
    staff = await create_staff(client, sessionmaker, settings)
    async with sessionmaker.begin() as session:
        m = await meeting(session)
        await record_notice(session, m.id, BOOKED, m.sequence, None)
        await expand_notices(session)  # the booking's notice → its mails
        [first, _] = await outbox(session, f"meeting:{m.id.hex}:booked:")
        legacy = Attachment("old.ics", "text/calendar; method=REQUEST", b"12345")
        mail = Mail("legacy:2", "a@example.kr", "ko", "organization_verified", CONTEXT, attachments=[legacy])
        await enqueue_many(session, [mail])
        [old] = await outbox(session, "legacy:2")
        size = len(stored_attachment(first.attachments[0]).data)
    assert size > 1000  # a whole VCALENDAR with its VTIMEZONE
    shown = await client.get(f"/staff/mail/{first.id}", headers=staff.headers)
    assert shown.status_code == 200 and f"invite.ics (text/calendar; method=REQUEST, {size} B)" in shown.text
    shown = await client.get(f"/staff/mail/{old.id}", headers=staff.headers)
    assert shown.status_code == 200 and "old.ics (text/calendar; method=REQUEST, 5 B)" in shown.text


async def test_a_recipe_that_cannot_render_fails_its_row_at_once_and_the_page_still_shows_it(
    client, sessionmaker, settings, smtp, smtp_settings
):
    staff = await create_staff(client, sessionmaker, settings)
    async with sessionmaker.begin() as session:
        m = await meeting(session)
        await record_notice(session, m.id, BOOKED, m.sequence, None)
        await expand_notices(session)  # the booking's notice → its mails
        broken, intact = await outbox(session, f"meeting:{m.id.hex}:booked:")
        recipe = {**broken.attachments[0]["invite"], "starts_at": "not a time"}
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == broken.id)
            .values(attachments=[{**broken.attachments[0], "invite": recipe}])
        )
    await drain(sessionmaker, smtp_settings)
    [sent] = smtp.inbox.messages
    assert sent["To"] == intact.recipient and len(ics_parts(sent)) == 1
    async with sessionmaker() as session:
        failed = await session.get(OutboxMessage, broken.id)
    assert failed is not None and failed.status == OutboxStatus.FAILED and failed.attempts == 1  # no retries
    assert "ValueError" in (failed.last_error or "")
    shown = await client.get(f"/staff/mail/{broken.id}", headers=staff.headers)
    assert shown.status_code == 200 and "invite.ics (text/calendar; method=REQUEST, ? B)" in shown.text
