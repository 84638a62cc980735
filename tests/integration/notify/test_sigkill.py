"""A dispatcher process killed with SIGKILL mid-dispatch: after a restart everything arrives.

The fast version of bench/mail_faults.py's sigkill scenario: a child process (the bench's
worker, lease 3 s) dispatches to the test's SMTP server, is killed while messages are in
flight, and this process takes over once the lease has run out.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from service.lib import clock
from service.notify.dispatcher import drain
from service.notify.models import OutboxMessage, OutboxStatus
from tests.integration.notify.test_dispatcher import message_ids, queue

ROOT = Path(__file__).resolve().parents[3]
N = 100


async def test_a_killed_dispatcher_loses_nothing_and_resends_at_most_what_was_in_flight(
    database_url, sessionmaker, smtp, smtp_settings
):
    original = smtp.inbox.handle_DATA
    loop = asyncio.get_running_loop()
    quarter_in = asyncio.Event()

    async def slowish(server, session, envelope):
        await asyncio.sleep(0.02)  # so the kill lands mid-dispatch
        reply = await original(server, session, envelope)
        if len(smtp.inbox.envelopes) >= 67:  # off a batch boundary (batches of 50)
            loop.call_soon_threadsafe(quarter_in.set)  # the SMTP server runs in its own thread
        return reply

    smtp.inbox.handle_DATA = slowish  # type: ignore[method-assign]
    await queue(sessionmaker, N)
    victim = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bench" / "mail_faults.py"), "--worker", database_url, str(smtp.port), "60", cwd=ROOT
    )
    try:
        await asyncio.wait_for(quarter_in.wait(), 60)
    finally:
        os.kill(victim.pid, signal.SIGKILL)
        await victim.wait()
    arrived_at_kill = len(smtp.inbox.envelopes)
    assert 67 <= arrived_at_kill < N
    async with sessionmaker() as session:
        in_flight = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == OutboxStatus.SENDING)
        )
    assert in_flight

    smtp.inbox.handle_DATA = original  # type: ignore[method-assign]
    clock.set_now(clock.now() + timedelta(seconds=4))  # past the dead worker's 3 s lease
    await drain(sessionmaker, smtp_settings)

    seen = Counter(message_ids(smtp.inbox))
    duplicates = sum(c - 1 for c in seen.values())
    assert len(seen) == N
    assert duplicates <= in_flight
    async with sessionmaker() as session:
        statuses = set((await session.scalars(select(OutboxMessage.status))).all())
    assert statuses == {OutboxStatus.SENT}
