"""Briefing and training sessions with their registrations, cooperation activities, program targets.

A session's registrations are `registered` up to its capacity, then `waitlisted` in the order they
came; the session's row lock serializes registering and cancelling, so the waiting list moves up
exactly once per freed seat. One live registration per person and session (a partial unique index).
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, Timestamps, UUIDPrimaryKey
from service.registry.models import enum_values

MAX_CAPACITY = 2000
MAX_LINKS = 10


class SessionKind(enum.StrEnum):
    BRIEFING = "briefing"
    TRAINING = "training"


class SessionAudience(enum.StrEnum):
    AGENCIES = "agencies"
    FIRMS = "firms"
    BOTH = "both"


class SessionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class RegistrationStatus(enum.StrEnum):
    REGISTERED = "registered"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class ActivityKind(enum.StrEnum):
    MEETING = "meeting"  # 간담회·협의
    JOINT_EVENT = "joint_event"  # 공동 행사
    TRAINING_SUPPORT = "training_support"  # 교육 지원
    AGREEMENT = "agreement"  # 업무협약
    OTHER = "other"


class ProgramCode(enum.StrEnum):
    """The rows of the report's 공공시장 확대지원 table, in its order."""

    DAILY_CONSULTATION = "daily_consultation"
    BRIEFING = "briefing"
    MATCHING_CONTRACT = "matching_contract"
    PROPOSAL_CONTRACT = "proposal_contract"
    FAIR = "fair"
    COOPERATION = "cooperation"


class ProgramSession(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "program_sessions"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint(f"capacity > 0 AND capacity <= {MAX_CAPACITY}", name="capacity_range"),
        CheckConstraint("place IS NOT NULL OR online_url IS NOT NULL", name="somewhere"),
        Index("ix_program_sessions_starts_at", "starts_at"),
    )

    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[SessionKind] = mapped_column(Enum(SessionKind, name="session_kind", values_callable=enum_values))
    audience: Mapped[SessionAudience] = mapped_column(
        Enum(SessionAudience, name="session_audience", values_callable=enum_values)
    )
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    capacity: Mapped[int] = mapped_column(Integer)
    place: Mapped[str | None] = mapped_column(String(300))
    online_url: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    materials_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[SessionStatus] = mapped_column(
        Enum(SessionStatus, name="session_status", values_callable=enum_values),
        default=SessionStatus.SCHEDULED,
        server_default="scheduled",
    )
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )

    def open_to(self, organization_kind: str | None) -> bool:
        """Whether members of an organization of this kind (agency, firm) may register."""
        wanted = {"agencies": "agency", "firms": "firm"}.get(str(self.audience))
        return wanted is None or wanted == organization_kind


class SessionRegistration(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "session_registrations"
    __table_args__ = (
        Index(
            "uq_session_registrations_live",
            "session_id",
            "user_id",
            unique=True,
            postgresql_where=text("status <> 'cancelled'"),
        ),
        Index("ix_session_registrations_queue", "session_id", "status", "created_at"),
        Index("ix_session_registrations_user", "user_id"),
        CheckConstraint("attended IS NULL OR status = 'registered'", name="attended_if_registered"),
    )

    session_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("program_sessions.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"))
    organization_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("organizations.id"))
    status: Mapped[RegistrationStatus] = mapped_column(
        Enum(RegistrationStatus, name="registration_status", values_callable=enum_values)
    )
    registered_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    promoted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attended: Mapped[bool | None] = mapped_column(Boolean)


class CooperationActivity(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "cooperation_activities"
    __table_args__ = (
        CheckConstraint(f"jsonb_array_length(links) <= {MAX_LINKS}", name="links_bounded"),
        Index("ix_cooperation_activities_date", "activity_date"),
    )

    partner: Mapped[str] = mapped_column(String(200))
    activity_date: Mapped[date] = mapped_column(Date)
    kind: Mapped[ActivityKind] = mapped_column(Enum(ActivityKind, name="activity_kind", values_callable=enum_values))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    links: Mapped[list[Any]] = mapped_column(JSONB, default=list, server_default=text("'[]'::jsonb"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )


class ProgramTarget(Base):
    """A year's target for one program row: a count (건, 회) or an amount in won."""

    __tablename__ = "program_targets"
    __table_args__ = (
        PrimaryKeyConstraint("year", "code", name="pk_program_targets"),
        CheckConstraint("target >= 0 AND target <= 10000000000000", name="target_range"),
    )

    year: Mapped[int] = mapped_column(SmallInteger)
    code: Mapped[ProgramCode] = mapped_column(Enum(ProgramCode, name="program_code", values_callable=enum_values))
    target: Mapped[int] = mapped_column(BigInteger)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
