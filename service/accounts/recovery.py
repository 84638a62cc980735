"""Password reset: a one-time link valid one hour, with no way to learn which emails have accounts.

`request` answers the same way, in the same time, whether or not the email has an account: every
request writes one attempt row in its own short transaction (a known account's link and mail are
written in that same transaction), so both paths do the same kind of work and commit once, and the
answer is then held until `ANSWER_SECONDS` after the request came in. The request's own session
writes nothing, so its commit costs the same on both paths.

Limits, per hour: `LIMIT_PER_ADDRESS` requests from one client address (then 429 with Retry-After,
to that address only, known email or not), and `LIMIT_PER_EMAIL` mails to one email (further
requests are answered alike and send nothing, so nobody can flood someone's inbox, and a caller
cannot tell the limit from an unknown address).
"""

from __future__ import annotations

import time

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.events import PasswordChanged, PasswordResetRequested
from service.accounts.links import link_gone, new_link, peek_link, take_link
from service.accounts.models import LinkPurpose, PasswordResetAttempt, User
from service.accounts.passwords import hash_password
from service.accounts.sessions import end_sessions
from service.accounts.throttle import REGISTRATION_WINDOW, address_key, bounded_count, seconds_until
from service.accounts.validation import validate_new_password
from service.lib.clock import now, sleep
from service.lib.errors import FieldErrors, TooManyAttempts
from service.lib.events import publish
from service.registry.validation import EMAIL_RE

ANSWER_SECONDS = 0.5
LIMIT_PER_ADDRESS = 10
LIMIT_PER_EMAIL = 3
WINDOW = REGISTRATION_WINDOW  # one hour
# First key of pg_advisory_xact_lock(int, int) for "password resets from one address".
RESET_LOCK = 8003


def reset_email(email: str) -> str:
    """The email as asked for; 422 naming the field when it cannot be an address."""
    email = (email or "").strip()
    if not EMAIL_RE.match(email) or len(email) > 254:
        errors = FieldErrors()
        errors.add("email", "not a valid email address")
        errors.raise_if_any()
    return email


class PasswordRecovery:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def own_session(self) -> AsyncSession:
        """A session on its own connection, carrying the request's settings (for the mail)."""
        return AsyncSession(bind=self.session.bind, info=dict(self.session.info), expire_on_commit=False)

    async def request(self, email: str, ip: str) -> None:
        """Mail a reset link to `email` if it has an account; the same answer and time either way."""
        started = time.monotonic()
        try:
            await self._request(reset_email(email), address_key(ip))
        finally:
            await sleep(ANSWER_SECONDS - (time.monotonic() - started))

    async def _request(self, email: str, ip: str) -> None:
        async with self.own_session() as session, session.begin():
            await session.execute(select(func.pg_advisory_xact_lock(RESET_LOCK, func.hashtext(ip))))
            moment = now()
            recent = PasswordResetAttempt.attempted_at > moment - WINDOW
            by_address, by_email = (
                await session.execute(
                    select(
                        bounded_count((recent, PasswordResetAttempt.ip == ip)),
                        bounded_count((recent, PasswordResetAttempt.email == email)),
                    )
                )
            ).one()
            if by_address >= LIMIT_PER_ADDRESS:
                oldest = await session.scalar(
                    select(PasswordResetAttempt.attempted_at)
                    .where(recent, PasswordResetAttempt.ip == ip)
                    .order_by(PasswordResetAttempt.attempted_at.desc())
                    .offset(LIMIT_PER_ADDRESS - 1)
                    .limit(1)
                )
                raise TooManyAttempts(
                    "Too many password reset requests from this address. Try again later.",
                    headers={"Retry-After": str(seconds_until((oldest or moment) + WINDOW))},
                )
            session.add(PasswordResetAttempt(email=email, ip=ip, attempted_at=moment))
            user = await session.scalar(select(User).where(User.email == email, User.is_active.is_(True)))
            if user is not None and by_email < LIMIT_PER_EMAIL:
                link, raw = await new_link(session, user, LinkPurpose.PASSWORD_RESET, user.email)
                await publish(
                    session,
                    PasswordResetRequested(
                        user_id=user.id,
                        email=user.email,
                        name=user.name,
                        locale=user.locale,
                        link_id=link.id,
                        token=raw,
                    ),
                )

    async def check(self, token: str) -> None:
        """410 unless the reset link can still be used (the page that asks for the new password)."""
        await peek_link(self.session, token, LinkPurpose.PASSWORD_RESET)

    async def confirm(self, token: str, password: str) -> tuple[User, int]:
        """Set the new password from a reset link (once); every session of the user ends and the
        owner is told. Returns the user and how many sessions ended. 422 for a password that
        cannot be used (the link stays valid), 410 for a used or expired link."""
        errors = FieldErrors()
        validate_new_password(password, errors, "password")
        errors.raise_if_any()
        link = await take_link(self.session, token, LinkPurpose.PASSWORD_RESET)
        user = await self.session.get(User, link.user_id)
        if user is None or not user.is_active:
            raise link_gone()
        user.password_hash = hash_password(password)
        if user.email_confirmed_at is None and user.email == link.email:
            user.email_confirmed_at = now()  # the link reached that mailbox
        ended = await end_sessions(self.session, user.id)
        await publish(self.session, password_changed(user, f"reset:{link.id.hex}"))
        await self.session.flush()
        return user, ended


def password_changed(user: User, changed_id: str) -> PasswordChanged:
    return PasswordChanged(user_id=user.id, email=user.email, name=user.name, locale=user.locale, changed_id=changed_id)
