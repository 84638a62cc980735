"""Users, their tokens (bearer and browser session), sign-in and registration attempts, the audit trail."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, DateTime, Enum, ForeignKey, Index, LargeBinary, String, func
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import CITEXT, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db.base import Base, Timestamps, UUIDPrimaryKey
from service.registry.models import Organization, enum_values


class Role(enum.StrEnum):
    STAFF = "staff"
    AGENCY = "agency"
    FIRM = "firm"


class MemberRole(enum.StrEnum):
    """A user's role in their organization: admins manage its members and its profile."""

    ADMIN = "admin"
    MEMBER = "member"


def _default_member_role(context: Any) -> str | None:
    return "admin" if context.get_current_parameters().get("organization_id") is not None else None


class User(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("member_role IS NULL OR member_role IN ('admin', 'member')", name="member_role_known"),
        # A user with an organization has a role in it; one without (staff, a removed member) has none.
        CheckConstraint("(organization_id IS NULL) = (member_role IS NULL)", name="member_role_with_organization"),
    )

    email: Mapped[str] = mapped_column(CITEXT, unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(40))
    role: Mapped[Role] = mapped_column(Enum(Role, name="user_role", values_callable=enum_values))
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    locale: Mapped[str] = mapped_column(String(5), default="ko", server_default="ko")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    # admin | member of `organization` (MemberRole); NULL without an organization. A user inserted with an
    # organization and no role (the demo, fixtures) is its admin, as the registering user is.
    member_role: Mapped[str | None] = mapped_column(String(10), default=_default_member_role)
    # When the user joined their organization (registered it or accepted an invitation).
    joined_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the user last opened their home (`/`), and the moment the current visit marks needs against
    # (the visit before it): a refresh within a visit keeps the marks (accounts.service.record_home_visit).
    last_home_visit_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    home_new_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Optional mails the user may turn off (service.notify.preferences); mails that carry an
    # obligation (bookings, cancellations, invitations, password reset) have no switch.
    mail_reminders: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    mail_followups: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    mail_digest: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    # When the user opened the confirmation link mailed to this address (None: not yet). It only
    # informs the support center's review; it blocks nothing.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    organization: Mapped[Organization | None] = relationship(lazy="joined")


class AuthToken(UUIDPrimaryKey, Base):
    """A bearer token or browser session. Only the SHA-256 of the secret is stored."""

    __tablename__ = "auth_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    # Last request made with it, written at most every few minutes (accounts/sessions.py).
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginAttempt(UUIDPrimaryKey, Base):
    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "attempted_at"),
        Index("ix_login_attempts_ip_at", "ip", "attempted_at"),
    )

    email: Mapped[str] = mapped_column(CITEXT)
    ip: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RegistrationAttempt(UUIDPrimaryKey, Base):
    """A registration from one client address: taken before the registration runs, deleted again
    when it is refused, so the rows of the last hour are what that address registered."""

    __tablename__ = "registration_attempts"
    __table_args__ = (Index("ix_registration_attempts_ip_at", "ip", "attempted_at"),)

    ip: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Invitation(UUIDPrimaryKey, Base):
    """An invitation to join an organization, mailed as a one-time link; only the token's SHA-256 is stored.

    Open while none of accepted_at / revoked_at is set and before expires_at; at most one open
    invitation per organization and email (a resend replaces the token of the same row).
    """

    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'member')", name="role_known"),
        Index(
            "uq_invitations_open",
            "organization_id",
            "email",
            unique=True,
            postgresql_where=sql_text("accepted_at IS NULL AND revoked_at IS NULL"),
        ),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(CITEXT)
    role: Mapped[str] = mapped_column(String(10))
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    invited_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sends: Mapped[int] = mapped_column(default=1, server_default="1")
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    organization: Mapped[Organization] = relationship(lazy="joined", innerjoin=True)


class LinkPurpose(enum.StrEnum):
    PASSWORD_RESET = "password_reset"  # noqa: S105 (a purpose, not a password)
    EMAIL_CHANGE = "email_change"
    EMAIL_CONFIRM = "email_confirm"


class AccountLink(UUIDPrimaryKey, Base):
    """A one-time link mailed to a user: password reset, a new address to confirm, the registration's
    address to confirm. Only the SHA-256 of the secret is stored; `used_at` makes it one-time."""

    __tablename__ = "account_links"
    __table_args__ = (
        CheckConstraint("purpose IN ('password_reset', 'email_change', 'email_confirm')", name="purpose_known"),
        Index("ix_account_links_user_purpose", "user_id", "purpose"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    # The address the link was mailed to: for an email change, the new address it confirms.
    email: Mapped[str] = mapped_column(CITEXT)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PasswordResetAttempt(UUIDPrimaryKey, Base):
    """A password reset asked for `email` from a client address, known account or not (the limits
    count both alike, so they tell nothing about which addresses have accounts)."""

    __tablename__ = "password_reset_attempts"
    __table_args__ = (
        Index("ix_password_reset_attempts_email_at", "email", "attempted_at"),
        Index("ix_password_reset_attempts_ip_at", "ip", "attempted_at"),
    )

    email: Mapped[str] = mapped_column(CITEXT)
    ip: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
