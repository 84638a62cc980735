"""Timed jobs of accounts: forget sign-in, registration and password reset attempts once no limit reads
them, and one-time links a day after they expired."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.accounts.models import AccountLink, LoginAttempt, PasswordResetAttempt, RegistrationAttempt
from service.config import Settings
from service.lib.clock import now
from service.lib.jobs import JobSpec

# The limits look back 10 minutes (sign-in) and an hour (registration); a day is kept for
# whoever investigates an attack. Without this, a flood of failures grows the tables forever.
KEEP_ATTEMPTS = timedelta(days=1)


async def purge_attempts(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """Delete attempts older than KEEP_ATTEMPTS; idempotent, so every instance may run it."""
    cutoff = now() - KEEP_ATTEMPTS
    async with sessionmaker.begin() as session:
        logins = await session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < cutoff))
        registrations = await session.execute(
            delete(RegistrationAttempt).where(RegistrationAttempt.attempted_at < cutoff)
        )
        resets = await session.execute(delete(PasswordResetAttempt).where(PasswordResetAttempt.attempted_at < cutoff))
        # One-time links past their expiry by a day (used or not) open nothing any more.
        links = await session.execute(delete(AccountLink).where(AccountLink.expires_at < cutoff))
    return sum(int(getattr(result, "rowcount", 0) or 0) for result in (logins, registrations, resets, links))


JOBS = [JobSpec("accounts.purge_attempts", purge_attempts, 3600)]
