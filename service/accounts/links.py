"""One-time links mailed to a user (password reset, email change, email confirmation).

The secret is 32 random bytes (URL-safe); only its SHA-256 is stored. Taking a link is one UPDATE
that sets `used_at` only where it is still unused and unexpired, so of two requests presenting the
same link at once exactly one gets it; the other, like any used, expired or unknown link, is a 410.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.models import AccountLink, LinkPurpose, User
from service.lib.clock import now
from service.lib.errors import DomainError, FieldError

VALIDITY = {
    LinkPurpose.PASSWORD_RESET: timedelta(hours=1),
    LinkPurpose.EMAIL_CHANGE: timedelta(hours=24),
    LinkPurpose.EMAIL_CONFIRM: timedelta(days=7),
}
MAX_TOKEN_LENGTH = 200


def hash_token(raw: str) -> bytes:
    """SHA-256 of the secret, as stored (the same hash as the sign-in tokens')."""
    return hashlib.sha256(raw.encode()).digest()


class LinkGone(DomainError):
    status = 410
    code = "link-gone"
    title = "Link no longer valid"


def link_gone() -> LinkGone:
    return LinkGone(
        "This link has been used or has expired. Ask for a new one.",
        errors=[FieldError("token", "used, expired or unknown")],
    )


async def new_link(session: AsyncSession, user: User, purpose: LinkPurpose, email: str) -> tuple[AccountLink, str]:
    """A new link for `user`, mailed to `email`; earlier unused links of the same purpose stop working."""
    moment = now()
    await session.execute(
        update(AccountLink)
        .where(AccountLink.user_id == user.id, AccountLink.purpose == purpose.value, AccountLink.used_at.is_(None))
        .values(expires_at=moment)
    )
    raw = secrets.token_urlsafe(32)
    link = AccountLink(
        user_id=user.id,
        purpose=purpose.value,
        token_hash=hash_token(raw),
        email=email,
        created_at=moment,
        expires_at=moment + VALIDITY[purpose],
    )
    session.add(link)
    await session.flush()
    return link, raw


async def peek_link(session: AsyncSession, raw: str, purpose: LinkPurpose) -> AccountLink:
    """The link if it can still be used (the page that shows its form); 410 otherwise."""
    if not raw or len(raw) > MAX_TOKEN_LENGTH:
        raise link_gone()
    link = await session.scalar(
        select(AccountLink).where(
            AccountLink.token_hash == hash_token(raw),
            AccountLink.purpose == purpose.value,
            AccountLink.used_at.is_(None),
            AccountLink.expires_at > now(),
        )
    )
    if link is None:
        raise link_gone()
    return link


async def take_link(session: AsyncSession, raw: str, purpose: LinkPurpose) -> AccountLink:
    """Use the link up (at most once, also under concurrency); 410 when used, expired or unknown."""
    if not raw or len(raw) > MAX_TOKEN_LENGTH:
        raise link_gone()
    link = await session.scalar(
        update(AccountLink)
        .where(
            AccountLink.token_hash == hash_token(raw),
            AccountLink.purpose == purpose.value,
            AccountLink.used_at.is_(None),
            AccountLink.expires_at > now(),
        )
        .values(used_at=now())
        .returning(AccountLink)
    )
    if link is None:
        raise link_gone()
    return link
