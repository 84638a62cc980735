"""Timed jobs of the reports domain: large exports in the background."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.lib.jobs import JobSpec
from service.reports.export_service import purge_old_files, run_export_jobs


async def export_tick(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    await run_export_jobs(sessionmaker, settings)


async def purge_tick(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    await purge_old_files(settings, sessionmaker)


JOBS = [JobSpec("reports.exports", export_tick, 5), JobSpec("reports.purge_exports", purge_tick, 3600)]
