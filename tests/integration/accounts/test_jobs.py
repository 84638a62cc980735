"""Old sign-in and registration attempts are forgotten by a timed job; recent ones stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from service.accounts.jobs import purge_attempts
from service.accounts.models import LoginAttempt, RegistrationAttempt
from service.lib import clock
from service.scheduler import collect_jobs

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


class TestPurgeAttempts:
    def test_runs_hourly(self):
        assert ("accounts.purge_attempts", 3600) in {(job.id, job.seconds) for job in collect_jobs()}

    async def test_forgets_attempts_older_than_a_day(self, sessionmaker, settings):
        clock.set_now(NOW)
        old, recent = NOW - timedelta(days=1, seconds=1), NOW - timedelta(hours=23)
        async with sessionmaker.begin() as session:
            for moment in (old, recent):
                session.add(LoginAttempt(email="a@b.kr", ip="203.0.113.1", succeeded=False, attempted_at=moment))
                session.add(RegistrationAttempt(ip="203.0.113.1", attempted_at=moment))
        assert await purge_attempts(sessionmaker, settings) == 2
        assert await purge_attempts(sessionmaker, settings) == 0  # idempotent
        async with sessionmaker() as session:
            assert list(await session.scalars(select(LoginAttempt.attempted_at))) == [recent]
            assert list(await session.scalars(select(RegistrationAttempt.attempted_at))) == [recent]
