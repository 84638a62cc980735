"""Mails are queued with their context and rendered when they are sent."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import update

from service.notify.dispatcher import drain
from service.notify.models import OutboxMessage, OutboxStatus
from service.notify.service import Mail, enqueue_many
from tests.factories import create_staff
from tests.factories_notify import set_outbox
from tests.integration.notify.test_dispatcher import queue, rows


async def test_a_queued_row_holds_the_context_and_the_sent_row_what_was_sent(sessionmaker, smtp, smtp_settings):
    await queue(sessionmaker, 1, recipient="officer@example.kr")
    [row] = await rows(sessionmaker)
    assert row.subject is None and row.text is None and row.html is None
    assert row.context is not None and row.context["values"]["organization_name"] == "은평구청"

    result = await drain(sessionmaker, smtp_settings)
    assert result.sent == 1
    [message] = smtp.inbox.messages
    [row] = await rows(sessionmaker)
    assert row.status == OutboxStatus.SENT
    assert row.subject == message["Subject"] and "은평구청" in row.subject
    assert row.text is not None
    assert row.text.splitlines() == message.get_body(("plain",)).get_content().splitlines()


async def test_names_are_those_of_the_moment_the_mail_goes_out(sessionmaker, smtp, smtp_settings):
    """A reminder queued weeks ahead is rendered when it is due (here: a corrected name)."""
    await queue(sessionmaker, 1)
    async with sessionmaker.begin() as session:
        [row] = await rows(sessionmaker)
        context = dict(row.context or {})
        context["values"] = {**context["values"], "organization_name": "은평구청 (수정)"}
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(context=context))
    await drain(sessionmaker, smtp_settings)
    [message] = smtp.inbox.messages
    assert "은평구청 (수정)" in message["Subject"]


async def test_a_context_that_cannot_render_fails_at_once_and_others_still_go(sessionmaker, smtp, smtp_settings):
    await queue(sessionmaker, 2)
    broken, _fine = await rows(sessionmaker)
    await set_outbox(sessionmaker, broken.id, context={"values": {}, "tz": "Asia/Seoul"})
    result = await drain(sessionmaker, smtp_settings)
    assert (result.sent, result.failed, result.retried) == (1, 1, 0)
    assert len(smtp.inbox.messages) == 1
    failed = next(r for r in await rows(sessionmaker) if r.id == broken.id)
    assert failed.status == OutboxStatus.FAILED and failed.attempts == 1
    assert failed.last_error is not None and "UndefinedError" in failed.last_error


async def test_an_unknown_template_or_context_fails_in_the_queuing_transaction(sessionmaker):
    async with sessionmaker() as session:
        with pytest.raises(Exception, match="no_such_mail"):
            await enqueue_many(session, [Mail("x", "a@b.kr", "ko", "no_such_mail", {})])
        naive = {"naive": datetime(2026, 1, 1)}
        with pytest.raises(TypeError):
            await enqueue_many(session, [Mail("y", "a@b.kr", "ko", "organization_verified", naive)])


async def test_staff_read_a_queued_mail_before_it_is_sent(client, sessionmaker, settings):
    staff = await create_staff(client, sessionmaker, settings)
    await queue(sessionmaker, 1)
    [row] = await rows(sessionmaker)
    listing = await client.get("/staff/mail", headers=staff.headers)
    # no subject stored yet: listed by the subject it will be sent with, in its recipient's language
    assert f'<a href="/staff/mail/{row.id}" lang="ko">[공공구매 상담·매칭] 은평구청 승인 완료</a>' in listing.text
    shown = await client.get(f"/staff/mail/{row.id}", headers=staff.headers)
    assert shown.status_code == 200
    assert "지원센터가 은평구청을(를) 승인했습니다" in shown.text
    async with sessionmaker() as session:
        again = await session.get(OutboxMessage, row.id)
        assert again is not None and again.subject is None  # reading the page wrote nothing
