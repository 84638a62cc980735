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
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, literal, select
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


@dataclass(frozen=True)
class SignInFailures:
    """Recent failed sign-ins relevant to one attempt."""

    pair: int  # this account from this address
    address: int  # any account from this address
    account: int  # this account from any address


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
        since = now() - window
        recent_failures = (LoginAttempt.succeeded.is_(False), LoginAttempt.attempted_at > since)
        pair = (LoginAttempt.email == email, LoginAttempt.ip == ip)
        address = (LoginAttempt.ip == ip,)
        account = (LoginAttempt.email == email,)

        def bounded_count(*where: ColumnElement[bool]) -> Any:
            rows = select(literal(1)).where(*recent_failures, *where).limit(COUNT_CAP).subquery()
            return select(func.count()).select_from(rows).scalar_subquery()

        async def locked_until(limit: int, *where: ColumnElement[bool]) -> datetime | None:
            # Below the limit again when the limit-th newest failure leaves the window.
            oldest_counted = await session.scalar(
                select(LoginAttempt.attempted_at)
                .where(*recent_failures, *where)
                .order_by(LoginAttempt.attempted_at.desc())
                .offset(limit - 1)
                .limit(1)
            )
            return oldest_counted + window if oldest_counted is not None else None

        async with self.own_session() as session:
            counts = select(bounded_count(*pair), bounded_count(*address), bounded_count(*account))
            row = (await session.execute(counts)).one()
            failures = SignInFailures(pair=row[0], address=row[1], account=row[2])
            until: list[datetime | None] = []
            if failures.pair >= self.settings.login_max_failures:
                until.append(await locked_until(self.settings.login_max_failures, *pair))
            if failures.address >= self.settings.login_max_failures_per_address:
                until.append(await locked_until(self.settings.login_max_failures_per_address, *address))
        if until:
            moments = [moment for moment in until if moment is not None]
            raise TooManyAttempts(
                "Too many failed sign-in attempts. Try again later.",
                headers={"Retry-After": str(seconds_until(max(moments)) if moments else 1)},
            )
        return sign_in_delay(failures.account, self.settings)

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
