"""Users, their tokens (bearer and browser session), sign-in and registration attempts, the audit trail."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Boolean, DateTime, Enum, ForeignKey, Index, LargeBinary, String, func
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
    # When the user last opened their home (`/`), and the moment the current visit marks needs against
    # (the visit before it): a refresh within a visit keeps the marks (accounts.service.record_home_visit).
    last_home_visit_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    home_new_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Optional mails the user may turn off (service.notify.preferences); mails that carry an
    # obligation (bookings, cancellations, invitations, password reset) have no switch.
    mail_reminders: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    mail_followups: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    mail_digest: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")

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
