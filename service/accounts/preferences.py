"""Which optional mails a user receives: reminders, follow-up questions, the firms' weekly digest.

Mails that carry an obligation (booking confirmations, moves, cancellations, invitations, password
reset, verification) have no switch. Turning a kind off also stops the mails of that kind already
queued for the user (the `MailPreferencesChanged` subscriber in service.notify).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.events import MailPreferencesChanged
from service.accounts.models import User
from service.lib.errors import FieldErrors, NotFound
from service.lib.events import publish

# kind → the column on `users` holding it
MAIL_KINDS = {"reminders": "mail_reminders", "followups": "mail_followups", "digest": "mail_digest"}


class MailSwitches(Protocol):
    """What holds a user's switches: the user, or the cached caller's account."""

    @property
    def mail_reminders(self) -> bool: ...
    @property
    def mail_followups(self) -> bool: ...
    @property
    def mail_digest(self) -> bool: ...


@dataclass(frozen=True)
class MailPreferences:
    reminders: bool = True
    followups: bool = True
    digest: bool = True

    @classmethod
    def of(cls, user: MailSwitches) -> MailPreferences:
        return cls(reminders=user.mail_reminders, followups=user.mail_followups, digest=user.mail_digest)

    def as_dict(self) -> dict[str, bool]:
        return {"reminders": self.reminders, "followups": self.followups, "digest": self.digest}


def clean_preferences(raw: Any, errors: FieldErrors, prefix: str = "mail_preferences") -> dict[str, bool]:
    """The switches in `raw` ({kind: bool}); every unknown kind or non-boolean value is an error."""
    if not isinstance(raw, dict):
        errors.add(prefix, "must be an object of {reminders, followups, digest} booleans")
        return {}
    changes: dict[str, bool] = {}
    for key, value in raw.items():
        if key not in MAIL_KINDS:
            errors.add(
                f"{prefix}.{key}",
                "not a mail that can be turned off (only reminders, followups and digest; "
                "mails that carry obligations are always sent)",
            )
        elif not isinstance(value, bool):
            errors.add(f"{prefix}.{key}", "must be true or false")
        else:
            changes[key] = value
    return changes


class MailPreferenceService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def user(self, user_id: uuid.UUID) -> User:
        user = await self.session.get(User, user_id)
        if user is None or not user.is_active:
            raise NotFound("No such user.")
        return user

    async def apply(self, user_id: uuid.UUID, raw: Any) -> User:
        """Set the switches of a request body's `mail_preferences` (None: nothing), or refuse
        with every bad key named (422) and nothing written."""
        errors = FieldErrors()
        changes = clean_preferences(raw, errors) if raw is not None else {}
        errors.raise_if_any()
        return await self.update(user_id, changes)

    async def update(self, user_id: uuid.UUID, changes: dict[str, bool]) -> User:
        """Set the given switches (others stay); announce the kinds turned off."""
        user = await self.user(user_id)
        before = MailPreferences.of(user)
        for kind, value in changes.items():
            setattr(user, MAIL_KINDS[kind], value)
        await self.session.flush()
        turned_off = tuple(k for k, on in before.as_dict().items() if on and not getattr(user, MAIL_KINDS[k]))
        if turned_off:
            await publish(
                self.session, MailPreferencesChanged(user_id=user.id, email=user.email, turned_off=turned_off)
            )
        return user
