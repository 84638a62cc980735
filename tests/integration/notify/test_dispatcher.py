"""The dispatcher: leases, retries with backoff, outages, concurrent dispatchers, the local mailbox."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from email import message_from_bytes, policy

from sqlalchemy import select

from service.db.engine import make_engine, make_sessionmaker
from service.lib import clock
from service.notify.dispatcher import DispatchPolicy, backoff, claim, dispatch_due, drain, mailbox_path
from service.notify.models import OutboxMessage, OutboxStatus
from service.notify.service import Mail, enqueue_many

CONTEXT = {"user_name": "담당자", "organization_name": "은평구청", "reason": "", "base_url": "http://127.0.0.1:8000"}


async def queue(sessionmaker, n: int, prefix: str = "test", recipient: str | None = None) -> None:
    async with sessionmaker.begin() as session:
        mails = [
            Mail(f"{prefix}:{i}", recipient or f"user{i}@example.kr", "ko", "organization_verified", CONTEXT)
            for i in range(n)
        ]
        assert await enqueue_many(session, mails) == n


async def rows(sessionmaker) -> list[OutboxMessage]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.dedupe_key))).all())


def message_ids(inbox) -> list[str]:
    return [m["Message-ID"] for m in inbox.messages]


class TestOutage:
    async def test_messages_wait_while_the_server_is_down_and_arrive_once_when_it_is_back(
        self, sessionmaker, smtp, smtp_settings
    ):
        await queue(sessionmaker, 20)
        smtp.stop()
        start = clock.now()
        clock.set_now(start)
        result = await drain(sessionmaker, smtp_settings)
        assert result.retried == 20 and result.sent == 0
        for row in await rows(sessionmaker):
            assert row.status == OutboxStatus.QUEUED
            assert row.attempts == 1
            assert row.last_error
            assert start + timedelta(seconds=15) <= row.due_at <= start + timedelta(seconds=30)  # 30 s step, jittered
        assert (await dispatch_due(sessionmaker, smtp_settings)).claimed == 0  # not before the backoff

        smtp.start()
        clock.set_now(start + timedelta(seconds=31))
        result = await drain(sessionmaker, smtp_settings)
        assert result.sent == 20
        ids = message_ids(smtp.inbox)
        assert len(ids) == 20 == len(set(ids))
        assert {r.status for r in await rows(sessionmaker)} == {OutboxStatus.SENT}

    async def test_a_message_is_marked_failed_after_the_last_attempt(self, sessionmaker, smtp, smtp_settings):
        await queue(sessionmaker, 1)
        smtp.stop()
        rules = DispatchPolicy(max_attempts=8)
        clock.set_now(clock.now())
        for attempt in range(1, 9):
            result = await dispatch_due(sessionmaker, smtp_settings, rules)
            assert result.claimed == 1, attempt
            clock.advance(timedelta(hours=3))
        [row] = await rows(sessionmaker)
        assert row.status == OutboxStatus.FAILED
        assert row.attempts == 8
        assert "SMTP" in (row.last_error or "") or "onnect" in (row.last_error or "")
        assert (await dispatch_due(sessionmaker, smtp_settings, rules)).claimed == 0

    async def test_one_slow_message_does_not_hold_back_the_others(self, sessionmaker, smtp, smtp_settings):
        original = smtp.inbox.handle_DATA

        async def slow_for_one(server, session, envelope):
            if envelope.rcpt_tos == ["slow@example.kr"]:
                await asyncio.sleep(3)
            return await original(server, session, envelope)

        smtp.inbox.handle_DATA = slow_for_one  # type: ignore[method-assign]
        await queue(sessionmaker, 1, prefix="slow", recipient="slow@example.kr")
        await queue(sessionmaker, 5, prefix="fast")
        result = await dispatch_due(sessionmaker, smtp_settings, DispatchPolicy(send_timeout=1.0))
        assert result.sent == 5 and result.retried == 1
        slow = next(r for r in await rows(sessionmaker) if r.recipient == "slow@example.kr")
        assert slow.status == OutboxStatus.QUEUED and "Timeout" in (slow.last_error or "")
        assert len([m for m in smtp.inbox.messages if m["To"] != "slow@example.kr"]) == 5


class TestLeases:
    async def test_rows_claimed_by_a_dead_dispatcher_return_after_the_lease(self, sessionmaker, smtp, smtp_settings):
        await queue(sessionmaker, 3)
        rules = DispatchPolicy()
        start = clock.now()
        clock.set_now(start)
        claimed = await claim(sessionmaker, rules, start)  # …and the process dies before sending
        assert len(claimed) == 3
        assert {r.status for r in await rows(sessionmaker)} == {OutboxStatus.SENDING}
        assert (await dispatch_due(sessionmaker, smtp_settings, rules)).claimed == 0  # lease still held

        clock.set_now(start + rules.lease + timedelta(seconds=1))
        result = await dispatch_due(sessionmaker, smtp_settings, rules)
        assert result.sent == 3
        assert {(r.status, r.attempts) for r in await rows(sessionmaker)} == {(OutboxStatus.SENT, 2)}
        assert len(set(message_ids(smtp.inbox))) == len(smtp.inbox.raw) == 3

    async def test_an_outcome_is_not_recorded_over_a_lease_someone_else_took(self, sessionmaker, smtp, smtp_settings):
        await queue(sessionmaker, 1)
        rules = DispatchPolicy()
        start = clock.now()
        [stale] = await claim(sessionmaker, rules, start)
        [fresh] = await claim(sessionmaker, rules, start + rules.lease + timedelta(seconds=1))
        assert stale.id == fresh.id and fresh.lease_until > stale.lease_until
        from service.notify.dispatcher import MARK_SENT

        async with sessionmaker.begin() as session:
            outcome = {"id": stale.id, "lease_until": stale.lease_until, "at": start}
            done = await session.execute(MARK_SENT, {**outcome, "subject": "s", "text": "t", "html": "h"})
            assert done.rowcount == 0  # type: ignore[attr-defined]
        [row] = await rows(sessionmaker)
        assert row.status == OutboxStatus.SENDING and row.lease_until == fresh.lease_until


class TestConcurrentDispatchers:
    async def test_two_dispatchers_on_one_database_send_each_message_once(
        self, database_url, sessionmaker, smtp, smtp_settings
    ):
        await queue(sessionmaker, 60)
        other_engine = make_engine(database_url, pool_size=3)
        try:
            other = make_sessionmaker(other_engine)
            rules = DispatchPolicy(batch_size=7)
            first, second = await asyncio.gather(
                drain(sessionmaker, smtp_settings, rules), drain(other, smtp_settings, rules)
            )
        finally:
            await other_engine.dispose()
        assert first.sent + second.sent == 60
        assert first.claimed > 0 and second.claimed > 0
        ids = message_ids(smtp.inbox)
        assert len(ids) == 60 == len(set(ids))
        assert {(r.status, r.attempts) for r in await rows(sessionmaker)} == {(OutboxStatus.SENT, 1)}


class TestLocalMailbox:
    async def test_without_smtp_messages_are_written_as_eml_files(self, sessionmaker, settings):
        assert not settings.smtp.configured
        await queue(sessionmaker, 2)
        result = await drain(sessionmaker, settings)
        assert result.sent == 2
        for row in await rows(sessionmaker):
            assert row.status == OutboxStatus.SENT
            path = mailbox_path(settings, row.id)
            assert path.parent == settings.app.data_dir / "mail"
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            assert message["Message-ID"] == f"<{row.id.hex}@procure-match>"
            assert message["Subject"] == "[공공구매 상담·매칭] 은평구청 승인 완료"
            assert message["To"] == row.recipient


class TestBackoff:
    def test_backoff_doubles_with_jitter_and_stops_at_the_cap(self):
        import random

        rules = DispatchPolicy()
        rng = random.Random(7)
        for attempts in range(1, 15):
            step = min(rules.backoff_base * 2 ** (attempts - 1), rules.backoff_cap)
            delay = backoff(attempts, rules, rng)
            assert step / 2 <= delay <= step
