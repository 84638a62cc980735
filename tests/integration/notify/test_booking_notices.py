"""A booking's transaction writes one notice and no mail; the dispatcher expands it into the mails a
booking has always queued, from the meeting as it is then (issue 17), once, however many dispatchers run."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

from icalendar import Calendar
from litestar.testing import AsyncTestClient
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.app import create_app
from service.fairs.events import MeetingCancelled, MeetingMoved
from service.fairs.models import Meeting, MeetingStatus
from service.lib import clock
from service.lib.events import publish
from service.notify.dispatcher import DispatchPolicy, dispatch_due, drain
from service.notify.models import MailNotice, OutboxMessage, OutboxStatus
from service.notify.notices import BOOKED, record_notice, take_notices
from service.notify.subscribers import expand_notices
from tests.factories_notify import meeting, outbox
from tests.integration.fairs.test_fairs_api import SLOT1, book, world

FOLLOW_UPS = (
    ("rating:1d", "meeting_followup_rating", timedelta(days=1)),
    ("contract:1m", "meeting_followup_contract", timedelta(days=30)),
    ("contract:3m", "meeting_followup_contract", timedelta(days=91)),
    ("contract:6m", "meeting_followup_contract", timedelta(days=182)),
)


async def booked_meeting(sessionmaker: async_sessionmaker[AsyncSession], **people: Any) -> Meeting:
    """A meeting booked (its notice recorded, as `book_meeting` does) and committed: its notice pending."""
    async with sessionmaker.begin() as session:
        m = await meeting(session, **people)
        await record_notice(session, m.id, BOOKED, m.sequence, None)
    return m


async def notices(sessionmaker: async_sessionmaker[AsyncSession]) -> list[MailNotice]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(MailNotice))).all())


async def mails_of(sessionmaker: async_sessionmaker[AsyncSession], meeting_id: uuid.UUID) -> list[OutboxMessage]:
    """Every outbox row of the meeting: its booked/moved/cancelled mails, reminders and follow-ups."""
    async with sessionmaker() as session:
        rows: list[OutboxMessage] = []
        for family in ("meeting", "reminder", "followup"):
            rows += await outbox(session, f"{family}:{meeting_id.hex}:")
        return rows


def invite_of(message: Any) -> Any:
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    return next(iter(Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")))


async def test_the_booking_transaction_writes_one_notice_and_no_mail(database_url, sessionmaker, smtp_settings):
    app = create_app(smtp_settings, database_url)
    async with AsyncTestClient(app, base_url="http://127.0.0.1:8000") as client:
        w = await world(client, sessionmaker, smtp_settings)
        response = await book(client, w, w.firm, SLOT1)
        assert response.status_code == 201, response.text

    meeting_id = uuid.UUID(response.json()["id"])
    [notice] = await notices(sessionmaker)
    assert (notice.meeting_id, notice.kind, notice.sequence) == (meeting_id, BOOKED, 0)
    assert notice.actor_id == uuid.UUID(w.firm.user_id)
    assert await mails_of(sessionmaker, meeting_id) == []


async def test_one_dispatcher_pass_queues_and_sends_the_mails_a_booking_always_queued(
    sessionmaker, smtp, smtp_settings
):
    moment = datetime.fromisoformat("2030-10-01T09:00:00+09:00")
    clock.set_now(moment)
    m = await booked_meeting(
        sessionmaker,
        agency_users=[("a1@eunpyeong.go.kr", "ko"), ("a2@eunpyeong.go.kr", "en")],
        firm_users=[("f1@mapo.coop", "ko"), ("f2@mapo.coop", "ko")],
    )
    assert await mails_of(sessionmaker, m.id) == []

    result = await dispatch_due(sessionmaker, smtp_settings)
    assert (result.expanded, result.sent) == (1, 4)  # the four booked mails go out in the same pass
    assert await notices(sessionmaker) == []

    async with sessionmaker() as session:
        query = text("SELECT email, id FROM users WHERE organization_id IN (:agency, :firm)")
        users = dict((await session.execute(query, {"agency": m.agency_id, "firm": m.firm_id})).tuples().all())
    stamp = str(int(m.starts_at.timestamp()))
    expected = set()
    for email, user_id in users.items():
        expected.add(("meeting_booked", email, f"meeting:{m.id.hex}:booked:0:{user_id.hex}", moment))
        for label, before in (("24h", timedelta(hours=24)), ("1h", timedelta(hours=1))):
            key = f"reminder:{m.id.hex}:{label}:{stamp}:{user_id.hex}"
            expected.add((f"meeting_reminder_{label}", email, key, m.starts_at - before))
        for label, template, after in FOLLOW_UPS:
            key = f"followup:{m.id.hex}:{label}:{stamp}:{user_id.hex}"
            expected.add((template, email, key, m.ends_at + after))
    rows = await mails_of(sessionmaker, m.id)
    assert {(r.template, r.recipient, r.dedupe_key, r.due_at) for r in rows} == expected
    assert len(rows) == 4 * 7
    booked = [r for r in rows if r.template == "meeting_booked"]
    assert {r.status for r in booked} == {OutboxStatus.SENT}
    assert {r.status for r in rows if r not in booked} == {OutboxStatus.QUEUED}
    a2 = next(r for r in booked if r.recipient == "a2@eunpyeong.go.kr")
    assert a2.locale == "en" and a2.context is not None
    assert a2.context["values"]["other_name"] == "마포방역협동조합"
    assert a2.context["values"]["item_url"] == f"http://127.0.0.1:8000/fairs/{m.fair_id}/agenda"
    assert [a["invite"]["sequence"] for a in a2.attachments] == [0]

    messages = smtp.inbox.messages
    assert sorted(msg["To"] for msg in messages) == sorted(users)
    for message in messages:
        invite = invite_of(message)
        assert int(invite["SEQUENCE"]) == 0 and invite.decoded("DTSTART") == m.starts_at
        assert len(invite["ATTENDEE"]) == 4


async def test_a_meeting_cancelled_before_expansion_queues_nothing(sessionmaker, smtp, smtp_settings):
    m = await booked_meeting(sessionmaker)
    async with sessionmaker.begin() as session:
        m = await session.merge(m)
        m.status, m.sequence = MeetingStatus.CANCELLED, m.sequence + 1
        await session.flush()
        await publish(session, MeetingCancelled(m, None))  # finds the notice pending: drops it, mails nobody
    assert await notices(sessionmaker) == []

    result = await drain(sessionmaker, smtp_settings)
    assert (result.expanded, result.claimed) == (0, 0)
    assert await mails_of(sessionmaker, m.id) == []
    assert smtp.inbox.messages == []


async def test_a_meeting_moved_before_expansion_is_announced_at_its_new_time(sessionmaker, smtp, smtp_settings):
    m = await booked_meeting(sessionmaker)
    previous = m.starts_at
    new_start = previous + timedelta(days=1, hours=2)
    async with sessionmaker.begin() as session:
        m = await session.merge(m)
        m.starts_at, m.ends_at, m.sequence = new_start, new_start + timedelta(minutes=30), 1
        await session.flush()
        await publish(session, MeetingMoved(m, None, previous))

    await drain(sessionmaker, smtp_settings)
    rows = await mails_of(sessionmaker, m.id)
    booked = [r for r in rows if r.template == "meeting_booked"]
    assert len(booked) == 2 and all(":booked:1:" in r.dedupe_key for r in booked)
    assert len([r for r in rows if r.template == "meeting_moved"]) == 2
    reminders = [r for r in rows if r.dedupe_key.startswith("reminder:")]
    assert sorted(r.due_at for r in reminders) == sorted(
        [new_start - timedelta(hours=24)] * 2 + [new_start - timedelta(hours=1)] * 2
    )  # each once (the move's and the notice's share their keys), none at the old time
    assert {r.status for r in reminders} == {OutboxStatus.QUEUED}
    messages = smtp.inbox.messages
    assert len(messages) == 4
    for message in messages:
        invite = invite_of(message)
        assert int(invite["SEQUENCE"]) == 1 and invite.decoded("DTSTART") == new_start


async def test_two_dispatchers_at_once_expand_each_notice_once(sessionmaker, smtp, smtp_settings):
    meetings = [await booked_meeting(sessionmaker) for _ in range(6)]
    policy = DispatchPolicy(notice_batch_size=1)  # one notice per transaction: the two interleave
    results = await asyncio.gather(*(dispatch_due(sessionmaker, smtp_settings, policy) for _ in range(2)))
    assert sum(r.expanded for r in results) == 6, [r.expanded for r in results]
    assert await notices(sessionmaker) == []
    await drain(sessionmaker, smtp_settings)
    for m in meetings:
        assert len(await mails_of(sessionmaker, m.id)) == 2 * 7
    ids = [str(msg["Message-ID"]) for msg in smtp.inbox.messages]
    assert len(ids) == 12 and len(set(ids)) == 12  # each booked mail once


async def test_a_notice_another_dispatcher_holds_is_skipped_not_waited_for(sessionmaker, smtp, smtp_settings):
    first, second = await booked_meeting(sessionmaker), await booked_meeting(sessionmaker)
    async with sessionmaker() as other:
        [held] = await take_notices(other, BOOKED, 1)
        result = await asyncio.wait_for(dispatch_due(sessionmaker, smtp_settings), 10)
        assert result.expanded == 1
        await other.rollback()  # the other dispatcher died before it expanded its notice
    [free] = {first.id, second.id} - {held}
    assert len(await mails_of(sessionmaker, free)) == 14 and await mails_of(sessionmaker, held) == []
    result = await dispatch_due(sessionmaker, smtp_settings)
    assert result.expanded == 1 and len(await mails_of(sessionmaker, held)) == 14
    assert len(smtp.inbox.messages) == 4


async def cancel(sessionmaker: async_sessionmaker[AsyncSession], meeting_id: uuid.UUID, locked: asyncio.Event) -> None:
    """What BookingService.cancel does: lock the meeting, cancel it, publish."""
    async with sessionmaker.begin() as session:
        query = select(Meeting).where(Meeting.id == meeting_id).with_for_update()
        m = (await session.scalars(query.execution_options(populate_existing=True))).one()
        locked.set()
        m.status, m.sequence = MeetingStatus.CANCELLED, m.sequence + 1
        await session.flush()
        await publish(session, MeetingCancelled(m, None))


async def test_a_cancel_in_progress_is_not_raced_by_the_expansion(sessionmaker, smtp, smtp_settings):
    """The dispatcher skips a notice whose meeting a cancel holds; the cancel then drops it."""
    m = await booked_meeting(sessionmaker)
    async with sessionmaker.begin() as session:
        await session.execute(select(Meeting.id).where(Meeting.id == m.id).with_for_update())  # the cancel's lock
        result = await asyncio.wait_for(dispatch_due(sessionmaker, smtp_settings), 10)
        assert result.expanded == 0
        m = await session.merge(m)
        m.status, m.sequence = MeetingStatus.CANCELLED, 1
        await session.flush()
        await publish(session, MeetingCancelled(m, None))
    assert await notices(sessionmaker) == []
    assert (await drain(sessionmaker, smtp_settings)).claimed == 0
    assert await mails_of(sessionmaker, m.id) == [] and smtp.inbox.messages == []


async def test_a_cancel_during_the_expansion_waits_for_it_and_mails_the_cancellation(sessionmaker, smtp, smtp_settings):
    m = await booked_meeting(sessionmaker)
    locked = asyncio.Event()
    async with sessionmaker.begin() as session:
        assert await expand_notices(session, smtp_settings) == 1
        cancelling = asyncio.create_task(cancel(sessionmaker, m.id, locked))
        await asyncio.sleep(0.5)
        assert not locked.is_set()  # the expansion holds the meeting: the cancel waits for it
    await asyncio.wait_for(cancelling, 10)
    await drain(sessionmaker, smtp_settings)
    rows = await mails_of(sessionmaker, m.id)
    assert (
        sorted(r.template for r in rows if r.status == OutboxStatus.SENT)
        == ["meeting_booked"] * 2 + ["meeting_cancelled"] * 2
    )
    assert {r.status for r in rows if r.template.startswith(("meeting_reminder", "meeting_followup"))} == {
        OutboxStatus.CANCELLED
    }
    subjects = [str(msg["Subject"]) for msg in smtp.inbox.messages]
    assert len(subjects) == 4
