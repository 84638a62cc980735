"""What a signed-in user changes on their own account: name, phone, language, password, email,
and the confirmation of their email address."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.events import EmailChangeRequested
from service.accounts.links import link_gone, new_link, take_link
from service.accounts.models import LinkPurpose, User
from service.accounts.passwords import hash_password, verify_password
from service.accounts.recovery import password_changed
from service.accounts.service import send_confirmation
from service.accounts.sessions import SessionInfo, end_session, end_sessions, list_sessions
from service.accounts.validation import clean_email, clean_locale, clean_name, clean_phone, validate_new_password
from service.lib.clock import now
from service.lib.errors import Conflict, FieldError, FieldErrors, Unauthorized
from service.lib.events import publish

UNCHANGED = object()


@dataclass(frozen=True)
class ProfileChange:
    """Fields to change; `UNCHANGED` leaves one as it is (a PATCH that does not name it)."""

    name: object = UNCHANGED
    phone: object = UNCHANGED
    locale: object = UNCHANGED


def email_taken() -> Conflict:
    return Conflict(
        "This email address cannot be used for this account.",
        errors=[FieldError("email", "cannot be used")],
    )


class MyAccount:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def user(self, user_id: uuid.UUID) -> User:
        user = await self.session.get(User, user_id)
        if user is None or not user.is_active:
            raise Unauthorized("Sign in first.")
        return user

    async def update_profile(self, user_id: uuid.UUID, change: ProfileChange) -> User:
        """Set the named fields (422 naming every bad one, nothing written)."""
        user = await self.user(user_id)
        errors = FieldErrors()
        values: dict[str, object] = {}
        if change.name is not UNCHANGED:
            values["name"] = clean_name(str(change.name or ""), errors)
        if change.phone is not UNCHANGED:
            values["phone"] = clean_phone(None if change.phone is None else str(change.phone), errors)
        if change.locale is not UNCHANGED:
            values["locale"] = clean_locale(str(change.locale or ""), errors)
        errors.raise_if_any()
        for key, value in values.items():
            setattr(user, key, value)
        await self.session.flush()
        return user

    async def change_password(self, user_id: uuid.UUID, current: str, new: str, keep: uuid.UUID) -> int:
        """Set a new password given the current one; the user's other sessions end (the one in
        use, `keep`, stays) and the owner is told. Returns how many sessions ended."""
        user = await self.user(user_id)
        errors = FieldErrors()
        if not verify_password(user.password_hash, current):
            errors.add("current_password", "is not your current password")
        validate_new_password(new, errors, "new_password")
        errors.raise_if_any()
        user.password_hash = hash_password(new)
        ended = await end_sessions(self.session, user.id, keep=keep)
        await publish(self.session, password_changed(user, f"settings:{uuid.uuid4().hex}"))
        await self.session.flush()
        return ended

    async def request_email_change(self, user_id: uuid.UUID, new_email: str, password: str) -> str:
        """Mail a confirmation link to `new_email` (valid 24 h) and tell the current address.
        The address changes only when the link is opened. Returns the cleaned new address."""
        user = await self.user(user_id)
        errors = FieldErrors()
        email = clean_email(new_email, errors)
        if not verify_password(user.password_hash, password):
            errors.add("password", "is not your current password")
        if not errors and email.lower() == user.email.lower():
            errors.add("email", "is already your address")
        errors.raise_if_any()
        if await self.session.scalar(select(User.id).where(User.email == email)) is not None:
            raise email_taken()
        link, raw = await new_link(self.session, user, LinkPurpose.EMAIL_CHANGE, email)
        await publish(
            self.session,
            EmailChangeRequested(
                user_id=user.id, email=user.email, name=user.name, locale=user.locale,
                link_id=link.id, token=raw, new_email=email,
            ),
        )  # fmt: skip
        return email

    async def confirm_email_change(self, token: str) -> User:
        """Switch to the new address from its link (once): 410 when used or expired, 409 when the
        address was taken meanwhile."""
        link = await take_link(self.session, token, LinkPurpose.EMAIL_CHANGE)
        user = await self.session.get(User, link.user_id)
        if user is None or not user.is_active:
            raise link_gone()
        user.email = link.email
        user.email_confirmed_at = now()
        try:
            async with self.session.begin_nested():
                await self.session.flush()
        except IntegrityError as exc:
            if "uq_users_email" in str(exc.orig):
                raise email_taken() from None
            raise
        return user

    async def send_confirmation(self, user: User) -> None:
        """Mail a new link confirming the user's address (earlier ones stop working)."""
        await send_confirmation(self.session, user)

    async def confirm_email(self, token: str) -> User:
        """Mark the address confirmed from its link (once; 410 when used or expired, or when the
        account's address changed since the link was sent)."""
        link = await take_link(self.session, token, LinkPurpose.EMAIL_CONFIRM)
        user = await self.session.get(User, link.user_id)
        if user is None or user.email.lower() != link.email.lower():
            raise link_gone()
        user.email_confirmed_at = user.email_confirmed_at or now()
        await self.session.flush()
        return user

    # -- sessions ----------------------------------------------------------------------
    async def sessions(self, user_id: uuid.UUID, current: uuid.UUID | None) -> list[SessionInfo]:
        return await list_sessions(self.session, user_id, current)

    async def end_session(self, user_id: uuid.UUID, token_id: uuid.UUID) -> None:
        await end_session(self.session, user_id, token_id)

    async def end_other_sessions(self, user_id: uuid.UUID, keep: uuid.UUID) -> int:
        """ "Sign out everywhere else": every live session of the user but `keep` ends."""
        return await end_sessions(self.session, user_id, keep=keep)
