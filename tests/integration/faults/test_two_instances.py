"""Two app instances on one database, both running every timed job (each second here), both
sending mail to one SMTP server in this process.

Proves: (a) timed work happens once: a request-mode fair whose booking window closes is
scheduled by exactly one of them (one set of meetings, one "scheduled" log line, one
announcement per person), the unanswered-request reminder of the sweep is queued and sent
once, and every outbox mail (booking mails, meeting reminders) reaches the SMTP server
exactly once although both dispatchers poll the same queue; (b) bookings race safely across
the two: clients split over both instances racing for the same slots end with one meeting
per slot, every other answer a clean 409 problem+json, no firm or agency double-booked.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from service.db.engine import connect_raw
from service.fairs.models import MeetingRequest
from tests.factories_fairs import seed_fair, seed_principals
from tests.factories_ops import (
    ROOT,
    Attempt,
    audit_bookings,
    live_servers,
    post_booking,
    seed_booking_fair,
    wait_until,
)
from tests.integration.notify.conftest import SmtpServer

JOBS_EVERY_SECOND = "notify.dispatch=1,notify.sweep=1,fairs.schedule_closed=1"


def notices_expanded(database_url: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return not await fetch(database_url, "SELECT 1 FROM mail_notices LIMIT 1")

    return check


async def seed_request_fair(sessionmaker) -> tuple[str, int, int]:
    """A request-mode fair (3 agencies, 6 firms), 12 accepted requests and one pending for 3 days.
    Returns (fair id, accepted requests, people taking part)."""
    agencies = await seed_principals(sessionmaker, "agency", 3)
    firms = await seed_principals(sessionmaker, "firm", 6)
    fair = await seed_fair(sessionmaker, participants=[*agencies, *firms], mode="requests")
    long_ago = datetime.now(UTC) - timedelta(days=3)
    rows = [
        {
            "fair_id": fair.id,
            "firm_id": f.organization_id,
            "agency_id": agencies[(i + k) % 3].organization_id,
            "priority": 1 + k,
            "status": "accepted",
        }
        for i, f in enumerate(firms)
        for k in range(2)
    ]
    rows.append(
        {
            "fair_id": fair.id,
            "firm_id": firms[0].organization_id,
            "agency_id": agencies[2].organization_id,
            "priority": 3,
            "status": "pending",
            "created_at": long_ago,
        }
    )
    async with sessionmaker.begin() as session:
        await session.execute(insert(MeetingRequest), rows)
    return str(fair.id), 12, 9


async def fetch(database_url: str, query: str, *args: object) -> list[dict]:
    conn = await connect_raw(database_url)
    try:
        return [dict(r) for r in await conn.fetch(query, *args)]
    finally:
        await conn.close()


def received(mail_server: SmtpServer) -> Counter[str]:
    """Message-ID (the outbox row's hex) -> how many times the SMTP server received it."""
    return Counter(str(m["Message-ID"]).strip("<>").split("@")[0] for m in mail_server.inbox.messages)


@pytest.mark.slow
async def test_two_instances_run_timed_work_once_and_race_bookings_safely(
    database_url, sessionmaker, mail_server: SmtpServer, tmp_path: Path
):
    request_fair, accepted, people = await seed_request_fair(sessionmaker)
    fair = await seed_booking_fair(sessionmaker, database_url, agencies=2, firms=24, slots=5)
    env = {
        "SCHEDULER_ENABLED": "1",
        "SCHEDULER_INTERVALS": JOBS_EVERY_SECOND,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(mail_server.port),
        "SMTP_SECURITY": "none",
    }
    with live_servers(database_url, tmp_path, ROOT / "test-output" / "faults", [env, env]) as servers:
        bases = [server.base_url for server in servers]
        # (b) 8 firms for each of the 10 (agency, start) slots, all at once, alternating instances;
        # meanwhile (a) the request fair's booking window closes under both schedulers.
        attempts = [
            Attempt(token, firm, agency, start, base_url=bases[i % 2])
            for i, (token, firm, agency, start) in enumerate(fair.contested(per_slot=8))
        ]
        await fetch(database_url, "UPDATE fairs SET booking_closes_at = now() WHERE id = $1", uuid.UUID(request_fair))
        import httpx

        async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=len(attempts))) as http:
            await asyncio.gather(*(post_booking(http, fair.fair_id, a) for a in attempts))

        # the dispatchers have expanded every booking's notice into its mails (reminders included)
        await wait_until(notices_expanded(database_url), 60, "every booking notice expanded", step=0.25)
        # the clock reaches the meetings' 1-hour reminders (they were queued for 2030)
        await fetch(
            database_url,
            "UPDATE outbox_messages SET due_at = now() WHERE template = 'meeting_reminder_1h' AND status = 'queued'",
        )

        async def settled() -> bool:
            scheduled = await fetch(
                database_url, "SELECT scheduled_at FROM fairs WHERE id = $1", uuid.UUID(request_fair)
            )
            pending = await fetch(
                database_url, "SELECT 1 FROM outbox_messages WHERE status <> 'sent' AND due_at <= now() LIMIT 1"
            )
            swept = await fetch(
                database_url, "SELECT 1 FROM outbox_messages WHERE template = 'meeting_request_unanswered'"
            )
            return scheduled[0]["scheduled_at"] is not None and bool(swept) and not pending

        await wait_until(settled, 120, "the fair scheduled, the sweep run, every due mail sent", step=0.25)
        sent = await fetch(database_url, "SELECT id, recipient, template FROM outbox_messages WHERE status = 'sent'")
        await wait_until(lambda: sum(received(mail_server).values()) >= len(sent), 20, "the sent mails at SMTP")
        await asyncio.sleep(3)  # three more ticks of every job in both instances: nothing may follow
        logs = [s.log_tail(5_000_000) for s in servers]

    # (a) the request fair was scheduled once
    meetings = await fetch(
        database_url,
        "SELECT request_id, count(*) AS n FROM meetings WHERE fair_id = $1 GROUP BY request_id",
        uuid.UUID(request_fair),
    )
    assert sum(m["n"] for m in meetings) == accepted and {m["n"] for m in meetings} == {1}
    runs = [log.count(f"fair {request_fair} scheduled") for log in logs]
    assert sum(runs) == 1, runs

    # every mail once, and nothing that was not sent
    seen = received(mail_server)
    assert max(seen.values()) == 1, [k for k, n in seen.items() if n > 1]
    assert set(seen) == {r["id"].hex for r in sent}
    kinds = Counter(r["template"] for r in sent)
    assert kinds["fair_scheduled"] == people
    assert kinds["meeting_request_unanswered"] == 1

    # (b) the race
    statuses = Counter(a.status for a in attempts)
    assert set(statuses) <= {201, 409}, [(a.status, a.body) for a in attempts if a.status not in (201, 409)][:5]
    rules = Counter(a.body["rule"] for a in attempts if a.status == 409)
    assert all(a.content_type.startswith("application/problem+json") for a in attempts if a.status == 409)
    assert set(rules) <= {"slot_taken", "firm_overlap"}
    winners = Counter((a.agency_id, a.start) for a in attempts if a.status == 201)
    assert max(winners.values()) == 1
    by_instance = Counter(a.base_url for a in attempts if a.status == 201)
    assert Counter(a.base_url for a in attempts) == {base: len(attempts) // 2 for base in bases}
    for slot in {(a.agency_id, a.start) for a in attempts} - set(winners):
        # a slot nobody got: each of its firms was already busy elsewhere at that time
        assert all(a.body["rule"] == "firm_overlap" for a in attempts if (a.agency_id, a.start) == slot)
    audit = await audit_bookings(database_url, fair.fair_id, attempts)
    audit.assert_sound()
    assert len(audit.meetings) == statuses[201]
    doubles = await fetch(
        database_url,
        """
        SELECT who, starts_at, count(*) FROM (
            SELECT agency_id AS who, starts_at FROM meetings WHERE status <> 'cancelled'
            UNION ALL SELECT firm_id, starts_at FROM meetings WHERE status <> 'cancelled') x
         GROUP BY who, starts_at HAVING count(*) > 1
        """,
    )
    assert doubles == []
    assert kinds["meeting_booked"] == 2 * statuses[201]
    assert kinds["meeting_reminder_1h"] == 2 * statuses[201]
    print(
        f"\nrace: {len(attempts)} attempts over 2 instances -> {dict(statuses)} "
        f"(409 rules {dict(rules)}; 201 by instance {sorted(by_instance.values())}); "
        f"request fair scheduled once ({accepted} meetings, runs per instance {runs}); "
        f"{sum(seen.values())} mails, each once: {dict(kinds)}"
    )
