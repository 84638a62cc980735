"""APScheduler wiring only. Each job calls a domain service; the work is idempotent and
coordinated through PostgreSQL (SKIP LOCKED, advisory locks, sent_at flags), so every app
instance may run the scheduler (APScheduler started in every worker runs every job there)."""

from __future__ import annotations

import importlib
import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings, SettingsError
from service.domains import domain_modules
from service.lib.jobs import JobSpec

log = logging.getLogger("service.scheduler")


# Jobs of the shared kernel (service/lib), beside each domain's `jobs.py`.
KERNEL_JOB_MODULES = ("service.lib.idempotency",)


def collect_jobs() -> list[JobSpec]:
    jobs: list[JobSpec] = []
    for module in domain_modules("jobs"):
        jobs.extend(getattr(module, "JOBS", []))
    for name in KERNEL_JOB_MODULES:
        jobs.extend(importlib.import_module(name).JOBS)
    return jobs


def start_scheduler(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=settings.app.timezone)
    jobs = collect_jobs()
    unknown = {name for name, _ in settings.scheduler.intervals} - {job.id for job in jobs}
    if unknown:
        raise SettingsError(f"SCHEDULER_INTERVALS names unknown job(s): {', '.join(sorted(unknown))}")
    for job in jobs:
        seconds = settings.scheduler.seconds(job.id, job.seconds)
        scheduler.add_job(
            _run,
            "interval",
            seconds=seconds,
            args=[job, sessionmaker, settings],
            id=job.id,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=seconds,
        )
    scheduler.start()
    log.info("scheduler started with %d job(s)", len(scheduler.get_jobs()))
    return scheduler


async def _run(job: JobSpec, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    try:
        await job.func(sessionmaker, settings)
    except Exception:  # a failing job must not stop the scheduler; it runs again next tick
        log.exception("job %s failed", job.id)
