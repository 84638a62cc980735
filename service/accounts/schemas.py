"""Request and response shapes of accounts."""

from __future__ import annotations

import uuid
from typing import Any, Literal

import msgspec

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


class MePatchIn(msgspec.Struct, kw_only=True):
    """PATCH /me: `mail_preferences` is `{reminders?, followups?, digest?}` booleans (checked by
    service.accounts.preferences.clean_preferences, which names every bad key)."""

    mail_preferences: dict[str, Any] | None = None


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
