"""Request and response shapes of accounts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

import msgspec

from service.accounts.preferences import MailPreferences, MailSwitches
from service.registry.schemas import OrganizationIn, OrganizationOut


class LoginIn(msgspec.Struct, kw_only=True):
    email: str
    password: str


class UserIn(msgspec.Struct, kw_only=True):
    email: str
    password: str
    name: str
    phone: str | None = None
    locale: str | None = None


class RegisterIn(msgspec.Struct, kw_only=True):
    kind: Literal["agency", "firm"]
    user: UserIn
    organization: OrganizationIn


class MailPreferencesOut(msgspec.Struct, kw_only=True):
    """The optional mails a user receives (mails that carry obligations have no switch)."""

    reminders: bool
    followups: bool
    digest: bool


class UserOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    email: str
    name: str
    role: str
    organization_id: uuid.UUID | None
    phone: str | None = None
    locale: str = "ko"
    mail_preferences: MailPreferencesOut | None = None


class LoginOut(msgspec.Struct, kw_only=True):
    token: str
    expires_at: str
    user: UserOut


class RegisterOut(msgspec.Struct, kw_only=True):
    user: UserOut
    organization: OrganizationOut


class MeOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    email: str
    name: str
    role: str
    organization_id: uuid.UUID | None
    locale: str
    organization: OrganizationOut | None
    mail_preferences: MailPreferencesOut | None = None


class PasswordResetIn(msgspec.Struct, kw_only=True):
    email: str


class PasswordResetAccepted(msgspec.Struct, kw_only=True):
    detail: str


class PasswordResetConfirmIn(msgspec.Struct, kw_only=True):
    token: str
    password: str


class PasswordResetDone(msgspec.Struct, kw_only=True):
    sessions_ended: int


class MePatchIn(msgspec.Struct, kw_only=True):
    """PATCH /me: fields left out stay as they are; `phone: null` clears the phone."""

    name: str | msgspec.UnsetType = msgspec.UNSET
    phone: str | msgspec.UnsetType | None = msgspec.UNSET
    locale: str | msgspec.UnsetType = msgspec.UNSET
    # `{reminders?, followups?, digest?}` booleans (service.accounts.preferences.clean_preferences
    # names every bad key)
    mail_preferences: dict[str, Any] | None = None


class SessionOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    device: str
    user_agent: str | None
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    current: bool


def preferences_out(user: MailSwitches) -> MailPreferencesOut:
    return MailPreferencesOut(**MailPreferences.of(user).as_dict())


def user_out(user: Any) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role.value,
        organization_id=user.organization_id,
        phone=user.phone,
        locale=user.locale,
        mail_preferences=preferences_out(user),
    )
