"""PostgreSQL goes away for a few seconds while clients are booking through a live server.

Proves: every answer during the outage is a prompt 503 problem+json (never a 500, never a
hang), the server recovers by itself once the database is back, and no booking is
half-written or lost: each 201 is a meeting with its history row and its mails, and each
meeting is one the client was told about, or one whose outcome it could not know (a 503 from
a COMMIT cut short), then complete.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import pytest

from service.db.engine import sqlalchemy_url
from tests.factories_ops import ROOT, BookingLoad, PgProxy, audit_bookings, live_server, seed_booking_fair, wait_until

OUTAGE_SECONDS = 3.0
BOUND_SECONDS = 10.0  # no request may take longer, outage or not


@pytest.mark.slow
async def test_bookings_through_a_database_outage(proxy: PgProxy, database_url, sessionmaker, tmp_path: Path):
    fair = await seed_booking_fair(sessionmaker, database_url, agencies=12, firms=30, slots=24)
    database = sqlalchemy_url(database_url).database
    assert database
    with live_server(proxy.url(database), tmp_path, ROOT / "test-output" / "faults") as server:
        load = BookingLoad(fair.fair_id, fair.plan(), [server.base_url], workers=16)
        running = asyncio.create_task(load.run())
        try:
            await wait_until(lambda: load.seen(201) >= 40, 60, "40 bookings before the outage")

            proxy.cut()
            cut_at = time.monotonic()
            await wait_until(lambda: load.seen(503, since=cut_at) >= 30, 30, "503s during the outage")
            await asyncio.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - cut_at)))  # hold the outage
            restoring_at = time.monotonic()
            proxy.restore()
            restored_at = time.monotonic()
            outage = restored_at - cut_at

            def first_success_after_restore() -> bool:
                return load.seen(201, since=restored_at) >= 1

            await wait_until(first_success_after_restore, 30, "a booking succeeds again without a restart")
            recovered = min(
                a.sent_at + a.seconds for a in load.attempts if a.status == 201 and a.sent_at >= restored_at
            )
            recovery = recovered - restored_at
            await wait_until(lambda: load.seen(201, since=restored_at) >= 40, 60, "40 bookings after the outage")
        finally:
            load.stop()
            await asyncio.wait_for(running, 60)
        log = server.log_tail(2_000_000)

    attempts = load.attempts
    statuses = Counter(a.status for a in attempts)
    during = Counter(a.status for a in attempts if cut_at <= a.sent_at < restored_at)
    print(
        f"\n{len(attempts)} attempts {dict(statuses)}; during the {outage:.1f} s outage {dict(during)}; "
        f"recovered {recovery:.2f} s after the database came back; "
        f"slowest answer {max(a.seconds for a in attempts):.2f} s"
    )
    assert set(statuses) <= {201, 409, 503}, [
        (a.status, a.error, a.body) for a in attempts if a.status not in (201, 409, 503)
    ][:5]
    assert statuses[503] >= 30 and statuses[201] >= 80
    for attempt in attempts:
        if attempt.status != 201:
            assert attempt.content_type.startswith("application/problem+json"), (attempt.status, attempt.body)
            assert attempt.body["status"] == attempt.status
    assert max(a.seconds for a in attempts) < BOUND_SECONDS
    # a request made and answered while the database was away was refused, whatever it was
    outage_only = [a for a in attempts if cut_at <= a.sent_at and a.sent_at + a.seconds < restoring_at]
    assert {a.status for a in outage_only} == {503}, Counter(a.status for a in outage_only)
    assert recovery < 15
    assert "unhandled error" not in log, log[log.find("unhandled error") - 2000 :][:4000]

    audit = await audit_bookings(database_url, fair.fair_id, attempts)
    audit.assert_sound()
    print(f"{len(audit.meetings)} meetings, all complete; {audit.unknown_but_complete} committed behind a 503")
    assert len(audit.meetings) == statuses[201] + audit.unknown_but_complete
