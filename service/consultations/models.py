"""Everyday consultations (일상상담): staff's consultation hours and the consultations themselves.

The database guards the core invariant: no staff member is in two live (confirmed or held)
consultations whose times overlap, whichever path confirmed them (an exclusion constraint over
tstzrange, btree_gist), just as the fairs' meetings are guarded.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Time,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSTZRANGE, UUID, ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, Timestamps, UUIDPrimaryKey
from service.registry.models import enum_values

MAX_MESSAGE = 2000
MAX_NOTES = 4000
MAX_PREFERRED = 5


class ConsultationTopic(enum.StrEnum):
    PROCEDURE = "procedure"  # 공공구매 절차
    CERTIFICATION = "certification"  # 인증·자격
    BIDDING = "bidding"  # 입찰·수의계약
    PRODUCT_PRICE = "product_price"  # 제품·가격
    OTHER = "other"  # 기타


class ConsultationMode(enum.StrEnum):
    ONLINE = "online"
    IN_PERSON = "in_person"


class ConsultationStatus(enum.StrEnum):
    REQUESTED = "requested"  # waiting for staff
    PROPOSED = "proposed"  # staff proposed other times; waiting for the requester
    CONFIRMED = "confirmed"
    HELD = "held"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


OPEN_STATUSES = (ConsultationStatus.REQUESTED, ConsultationStatus.PROPOSED)
# still to happen: may be confirmed (or moved) and cancelled
CHANGEABLE = (ConsultationStatus.REQUESTED, ConsultationStatus.PROPOSED, ConsultationStatus.CONFIRMED)
# staff record it held or not shown, and keep notes
RECORDABLE = (ConsultationStatus.CONFIRMED, ConsultationStatus.HELD, ConsultationStatus.NO_SHOW)
LIVE = "status IN ('confirmed', 'held')"


class ConsultationHours(UUIDPrimaryKey, Timestamps, Base):
    """One weekly block of a staff member's consultation hours (weekday 0 = Monday, Seoul wall-clock)."""

    __tablename__ = "consultation_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("start_time < end_time", name="time_order"),
        Index("ix_consultation_hours_staff", "staff_id", "weekday"),
    )

    staff_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(SmallInteger)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    mode: Mapped[ConsultationMode] = mapped_column(
        Enum(ConsultationMode, name="consultation_mode", values_callable=enum_values)
    )
    place: Mapped[str] = mapped_column(String(300), default="", server_default="")  # room link or address


class ConsultationException(UUIDPrimaryKey, Timestamps, Base):
    """A day that differs from the weekly pattern: closed (no times) or extra hours."""

    __tablename__ = "consultation_exceptions"
    __table_args__ = (
        CheckConstraint("(start_time IS NULL AND end_time IS NULL) OR (start_time < end_time)", name="time_order"),
        Index("ix_consultation_exceptions_staff_day", "staff_id", "day"),
    )

    staff_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time | None] = mapped_column(Time)  # None: closed all day
    end_time: Mapped[time | None] = mapped_column(Time)
    mode: Mapped[ConsultationMode | None] = mapped_column(
        Enum(ConsultationMode, name="consultation_mode", values_callable=enum_values, create_type=False)
    )
    place: Mapped[str] = mapped_column(String(300), default="", server_default="")
    note: Mapped[str] = mapped_column(String(200), default="", server_default="")

    @property
    def closed(self) -> bool:
        return self.start_time is None


class Consultation(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "consultations"
    __table_args__ = (
        CheckConstraint("starts_at IS NULL OR starts_at < ends_at", name="time_order"),
        CheckConstraint(f"char_length(message) <= {MAX_MESSAGE}", name="message_length"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
        CheckConstraint(
            "status NOT IN ('confirmed', 'held', 'no_show') OR (staff_id IS NOT NULL AND starts_at IS NOT NULL)",
            name="confirmed_has_time",
        ),
        ExcludeConstraint(
            ("staff_id", "="), ("during", "&&"), where=LIVE, using="gist", name="ex_consultations_staff_overlap"
        ),
        Index("ix_consultations_status_created", "status", "created_at"),
        Index("ix_consultations_organization", "organization_id", "created_at"),
        Index("ix_consultations_starts_at", "starts_at"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id", ondelete="CASCADE")
    )
    requested_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    topic: Mapped[ConsultationTopic] = mapped_column(
        Enum(ConsultationTopic, name="consultation_topic", values_callable=enum_values)
    )
    message: Mapped[str] = mapped_column(Text)
    # [{"start": iso, "end": iso}] as the requester asked; the staff's proposals in `proposed`.
    preferred: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, server_default=text("'[]'"))
    proposed: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, server_default=text("'[]'"))
    status: Mapped[ConsultationStatus] = mapped_column(
        Enum(ConsultationStatus, name="consultation_status", values_callable=enum_values),
        default=ConsultationStatus.REQUESTED,
        server_default="requested",
    )
    staff_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL"))
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    during: Mapped[Any] = mapped_column(
        TSTZRANGE, Computed("tstzrange(starts_at, ends_at, '[)')", persisted=True), nullable=True
    )
    mode: Mapped[ConsultationMode | None] = mapped_column(
        Enum(ConsultationMode, name="consultation_mode", values_callable=enum_values, create_type=False)
    )
    place: Mapped[str] = mapped_column(String(300), default="", server_default="")
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # iCalendar SEQUENCE
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # held, no-show or cancelled
    # Staff only: never shown to the requester.
    notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    outcome: Mapped[str] = mapped_column(Text, default="", server_default="")
    follow_up_on: Mapped[date | None] = mapped_column(Date)
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    rating_comment: Mapped[str] = mapped_column(String(500), default="", server_default="")

    # What may be done with it now: asked by the service's rules and by its page alike.
    @property
    def is_changeable(self) -> bool:
        return self.status in CHANGEABLE

    @property
    def is_recordable(self) -> bool:
        return self.status in RECORDABLE

    @property
    def awaits_rating(self) -> bool:
        return self.status == ConsultationStatus.HELD and self.rating is None
