"""Abuse limits of sign-in and registration, kept in PostgreSQL so that every instance shares them.

Sign-in: failed attempts are counted per (account, client address) and per client address; either
count at its limit answers 429 to that address only. A count per account alone would let anyone
lock any account out by failing on purpose from anywhere. Failures on one account from all
addresses together (distributed guessing) only slow that account's sign-ins down, by a delay that
grows with them and stays under a couple of seconds, whatever the password: a delay on failures
only would tell a guesser that did not wait that it had failed.

Registration: at most `registration_limit_per_hour` from one client address in any hour. The rows
of one address are counted under a transaction-level advisory lock on that address, so concurrent
registrations cannot overshoot the limit.

A "client address" is the IPv4 address, or the /64 network of an IPv6 address: one subscriber
usually holds a whole /64, so counting single IPv6 addresses would cost an abuser nothing.

Every query here runs in its own short transaction (its own pooled connection), never in the
request's: a failure must stay recorded when the request rolls back, and the request holds no
connection while it waits out the delay.
"""

from __future__ import annotations

import ipaddress
import math
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, ScalarSelect, delete, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.models import LoginAttempt, RegistrationAttempt
from service.config import AuthSettings
from service.lib.clock import now
from service.lib.errors import TooManyAttempts

# First key of pg_advisory_xact_lock(int, int) for "registrations of one address" (the second is
# a hash of the address); other advisory locks of the service use the one-key form.
REGISTRATION_LOCK = 8002
# No decision needs a larger count; bounding it bounds the work an attacker's rows can cause.
COUNT_CAP = 1000
REGISTRATION_WINDOW = timedelta(hours=1)


def sign_in_delay(account_failures: int, settings: AuthSettings) -> float:
    """Seconds to hold every sign-in to an account that many failures targeted recently.

    The first `login_max_failures` (a user's own typos) cost nothing; each further one adds a
    step, up to `login_max_delay_seconds`. A slowdown, never a lockout: the owner still signs in.
    """
    beyond = account_failures - settings.login_max_failures
    if beyond <= 0:
        return 0.0
    return min(settings.login_max_delay_seconds, beyond * settings.login_delay_step_seconds)


def address_key(host: str) -> str:
    """What the limits count as one client address: an IPv4 address (also when IPv4-mapped),
    the /64 network of an IPv6 address, anything else (a test client's name) as it is."""
    try:
        address = ipaddress.ip_address(host)
        if isinstance(address, ipaddress.IPv6Address):
            if address.ipv4_mapped is not None:
                return str(address.ipv4_mapped)
            return str(ipaddress.IPv6Network((int(address), 64), strict=False))
        return str(address)
    except ValueError:
        return host[:64]


def bounded_count(where: tuple[ColumnElement[bool], ...]) -> ScalarSelect[int]:
    """count(*) of the attempts matching `where`, stopping at COUNT_CAP."""
    rows = select(literal(1)).where(*where).limit(COUNT_CAP).subquery()
    return select(func.count()).select_from(rows).scalar_subquery()


def seconds_until(moment: datetime) -> int:
    """Whole seconds from now until `moment`, at least 1 (a Retry-After value)."""
    return max(1, math.ceil((moment - now()).total_seconds()))


class Throttle:
    def __init__(self, own_session: Callable[[], AsyncSession], settings: AuthSettings) -> None:
        """`own_session` opens a session on its own connection (not the request's)."""
        self.own_session = own_session
        self.settings = settings

    # -- sign-in ----------------------------------------------------------------------
    async def check_sign_in(self, email: str, ip: str) -> float:
        """Refuse (429 with Retry-After) an address at its failure limit; else return the delay
        to apply before checking the password."""
        ip = address_key(ip)
        window = timedelta(minutes=self.settings.login_window_minutes)
        recent = (LoginAttempt.succeeded.is_(False), LoginAttempt.attempted_at > now() - window)
        pair = (*recent, LoginAttempt.email == email, LoginAttempt.ip == ip)
        address = (*recent, LoginAttempt.ip == ip)
        account = (*recent, LoginAttempt.email == email)
        limits = ((pair, self.settings.login_max_failures), (address, self.settings.login_max_failures_per_address))
        async with self.own_session() as session:
            counts = (await session.execute(select(*(bounded_count(w) for w in (pair, address, account))))).one()
            locked_until = [
                await self._lifted_at(session, where, limit, window)
                for (where, limit), failures in zip(limits, counts[:2], strict=True)
                if failures >= limit
            ]
        if locked_until:
            raise TooManyAttempts(
                "Too many failed sign-in attempts. Try again later.",
                headers={"Retry-After": str(seconds_until(max(locked_until)))},
            )
        return sign_in_delay(counts[2], self.settings)

    @staticmethod
    async def _lifted_at(
        session: AsyncSession, where: tuple[ColumnElement[bool], ...], limit: int, window: timedelta
    ) -> datetime:
        """When fewer than `limit` failures match again: the limit-th newest leaves the window."""
        limit_th_newest = await session.scalar(
            select(LoginAttempt.attempted_at)
            .where(*where)
            .order_by(LoginAttempt.attempted_at.desc())
            .offset(limit - 1)
            .limit(1)
        )
        return (limit_th_newest or now()) + window

    async def record_sign_in(self, email: str, ip: str, *, succeeded: bool) -> None:
        async with self.own_session() as session, session.begin():
            session.add(LoginAttempt(email=email, ip=address_key(ip), succeeded=succeeded, attempted_at=now()))

    # -- registration -----------------------------------------------------------------
    async def reserve_registration(self, ip: str) -> uuid.UUID:
        """Count a registration from `ip` against its hourly limit (429 with Retry-After when
        reached); return the row to `release_registration` if the registration is refused."""
        ip = address_key(ip)
        limit = self.settings.registration_limit_per_hour
        async with self.own_session() as session, session.begin():
            await session.execute(select(func.pg_advisory_xact_lock(REGISTRATION_LOCK, func.hashtext(ip))))
            moment = now()
            since = moment - REGISTRATION_WINDOW
            recent = (
                await session.scalars(
                    select(RegistrationAttempt.attempted_at)
                    .where(RegistrationAttempt.ip == ip, RegistrationAttempt.attempted_at > since)
                    .order_by(RegistrationAttempt.attempted_at.desc())
                    .limit(limit)
                )
            ).all()
            if len(recent) >= limit:
                raise TooManyAttempts(
                    "Too many registrations from this address. Try again later.",
                    headers={"Retry-After": str(seconds_until(recent[-1] + REGISTRATION_WINDOW))},
                )
            attempt = RegistrationAttempt(ip=ip, attempted_at=moment)
            session.add(attempt)
            await session.flush()
            return attempt.id

    async def release_registration(self, attempt_id: uuid.UUID) -> None:
        """A refused registration does not count against the address."""
        async with self.own_session() as session, session.begin():
            await session.execute(delete(RegistrationAttempt).where(RegistrationAttempt.id == attempt_id))
