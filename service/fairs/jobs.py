"""Timed work of fairs: run the auto-scheduler once for each request-mode fair whose booking
window has closed. Idempotent (fairs.scheduled_at) and safe with several processes: each fair is
claimed with FOR UPDATE SKIP LOCKED inside the transaction that schedules it."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.fairs.repository import fairs_due_for_scheduling
from service.fairs.requests import RequestService
from service.lib.jobs import JobSpec

log = logging.getLogger("service.fairs")
MAX_FAIRS_PER_RUN = 20


async def schedule_closed_fairs(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """Schedule every due fair (at most MAX_FAIRS_PER_RUN per tick); returns how many were scheduled."""
    done = 0
    for _ in range(MAX_FAIRS_PER_RUN):
        async with sessionmaker.begin() as session:
            fair = await fairs_due_for_scheduling(session)
            if fair is None:
                break
            result = await RequestService(session).schedule(fair, actor=None)
            log.info(
                "fair %s scheduled: %d placed, %d unplaced (%s)",
                fair.id,
                result.scheduled,
                len(result.unscheduled),
                result.method,
            )
            done += 1
    return done


JOBS = [JobSpec("fairs.schedule_closed", schedule_closed_fairs, 60)]
