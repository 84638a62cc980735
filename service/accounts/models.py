"""Users, their tokens (bearer and browser session), sign-in and registration attempts, the audit trail."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, Enum, ForeignKey, Index, LargeBinary, String, func
from sqlalchemy.dialects.postgresql import CITEXT, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db.base import Base, Timestamps, UUIDPrimaryKey
from service.registry.models import Organization, enum_values


class Role(enum.StrEnum):
    STAFF = "staff"
    AGENCY = "agency"
    FIRM = "firm"


class User(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "users"

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
    # When the user last opened their home (`/`), which marks the needs posted since as new.
    last_home_visit_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
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
