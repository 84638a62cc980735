"""An app instance dies (SIGKILL) in the middle of a booking burst; a second instance carries on.

Instance 1 takes the burst and runs no timed jobs; instance 2 runs the scheduler (its outbox
dispatcher every second) and sends to an SMTP server in this process. Proves: every booking
a client saw accepted (201) is in the database and complete; the only other meetings are
those of requests cut off by the kill (no answer), and they are complete too; instance 2
keeps serving bookings; and its dispatcher sends every booking's mails, each exactly once.
(A dispatcher killed while sending is bench/mail_faults.py's and notify/test_sigkill.py's case.)
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from service.db.engine import connect_raw
from tests.factories_ops import (
    ROOT,
    BookingLoad,
    audit_bookings,
    live_servers,
    seed_booking_fair,
    wait_until,
)
from tests.integration.notify.conftest import SmtpServer


async def outbox_of(database_url: str, fair_id: str) -> list[dict]:
    conn = await connect_raw(database_url)
    try:
        rows = await conn.fetch(
            """
            SELECT o.id, o.recipient, o.template, o.status FROM outbox_messages o
              JOIN meetings m ON o.dedupe_key LIKE 'meeting:' || replace(m.id::text, '-', '') || ':booked:0:%'
             WHERE m.fair_id = $1
            """,
            uuid.UUID(fair_id),
        )
        return [dict(r) for r in rows]
    finally:
        await conn.close()


def received_ids(mail_server: SmtpServer) -> Counter[str]:
    return Counter(str(m["Message-ID"]).strip("<>").split("@")[0] for m in mail_server.inbox.messages)


@pytest.mark.slow
async def test_a_killed_instance_loses_no_accepted_booking(database_url, sessionmaker, mail_server, tmp_path: Path):
    fair = await seed_booking_fair(sessionmaker, database_url, agencies=10, firms=30, slots=24)
    mail = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(mail_server.port), "SMTP_SECURITY": "none"}
    envs = [{**mail}, {**mail, "SCHEDULER_ENABLED": "1", "SCHEDULER_INTERVALS": "notify.dispatch=1"}]
    with live_servers(database_url, tmp_path, ROOT / "test-output" / "faults", envs) as (first, second):
        burst = BookingLoad(fair.fair_id, fair.plan(), [first.base_url], workers=16)
        running = asyncio.create_task(burst.run())
        try:
            await wait_until(lambda: burst.seen(201) >= 12, 60, "12 bookings on instance 1")
            first.kill()
            killed_at = time.monotonic()
            await wait_until(lambda: burst.seen(None, since=killed_at) >= 8, 30, "clients see instance 1 gone")
        finally:
            burst.stop()
            await asyncio.wait_for(running, 60)
        in_flight = [a for a in burst.attempts if a.status is None and a.sent_at < killed_at]

        # instance 2 goes on serving: 16 more attempts (the rest of the same plan), answered 201 or 409
        after = BookingLoad(fair.fair_id, itertools.islice(burst.plan, 16), [second.base_url], workers=8)
        await after.run()
        assert {a.status for a in after.attempts} <= {201, 409}, Counter(a.status for a in after.attempts)
        attempts = burst.attempts + after.attempts

        audit = await audit_bookings(database_url, fair.fair_id, attempts)
        audit.assert_sound()

        async def notices_expanded() -> bool:  # by instance 2's dispatcher, into the bookings' mails
            conn = await connect_raw(database_url)
            try:
                return await conn.fetchval("SELECT count(*) FROM mail_notices") == 0
            finally:
                await conn.close()

        await wait_until(notices_expanded, 60, "instance 2's dispatcher expands every booking notice")
        expected = await outbox_of(database_url, fair.fair_id)
        assert len(expected) == 2 * len(audit.meetings)

        async def all_sent() -> bool:
            return {r["status"] for r in await outbox_of(database_url, fair.fair_id)} == {"sent"}

        await wait_until(all_sent, 120, "instance 2's dispatcher sends every booking mail")
        mails_done = time.monotonic() - killed_at
        await wait_until(lambda: sum(received_ids(mail_server).values()) >= len(expected), 10, "all mails at SMTP")
        log_second = second.log_tail(2_000_000)

    seen = received_ids(mail_server)
    assert {r["id"].hex for r in expected} == set(seen), "each booking's mails, and no other"
    assert max(seen.values()) == 1, "a mail sent twice"
    by_recipient = Counter((r["recipient"], r["template"]) for r in expected)
    statuses = Counter(a.status for a in burst.attempts)
    print(
        f"\nburst on instance 1: {dict(statuses)} ({len(in_flight)} in flight at the kill); "
        f"instance 2 afterwards: {dict(Counter(a.status for a in after.attempts))}; "
        f"{len(audit.meetings)} meetings complete, {audit.unknown_but_complete} of them committed unanswered; "
        f"{sum(seen.values())} mails to {len(by_recipient)} recipients, each once, "
        f"all sent {mails_done:.1f} s after the kill"
    )
    assert statuses[201] >= 12
    assert set(statuses) <= {201, 409, None}
    assert after.seen(201) >= 1
    assert "unhandled error" not in log_second
