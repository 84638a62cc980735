"""Consultation fairs (상담회): the slot grid, participants, meetings and meeting requests.

The database guards the core invariant: no agency and no firm is in two live meetings whose
times overlap, whichever path created them (exclusion constraints over tstzrange, btree_gist).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, TSTZRANGE, UUID, ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, Timestamps, UUIDPrimaryKey
from service.identity.principal import Principal
from service.registry.models import enum_values

if TYPE_CHECKING:
    from service.identity.principal import Principal


class FairMode(enum.StrEnum):
    FIRST_COME = "first_come"
    REQUESTS = "requests"


class AgendaStatus(enum.StrEnum):
    """Request mode: staff publish a provisional agenda, then the final one."""

    NONE = "none"
    PROVISIONAL = "provisional"
    FINAL = "final"


class MeetingStatus(enum.StrEnum):
    BOOKED = "booked"
    HELD = "held"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


class MeetingOutcome(enum.StrEnum):
    """What one side reports after the slot (the meeting's status follows, see Meeting.status)."""

    HELD = "held"
    NO_SHOW = "no_show"


class RequestStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    SCHEDULED = "scheduled"
    UNSCHEDULED = "unscheduled"
    WITHDRAWN = "withdrawn"


class MeetingRating(enum.StrEnum):
    DID_NOT_TAKE_PLACE = "did_not_take_place"
    INSUFFICIENT_INTEREST = "insufficient_interest"
    INFORMATIVE_NO_COOPERATION = "informative_no_cooperation"
    COOPERATION_POSSIBLE = "cooperation_possible"


class Fair(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "fairs"
    __table_args__ = (
        CheckConstraint("slot_minutes BETWEEN 5 AND 240", name="slot_minutes_range"),
        CheckConstraint("booking_opens_at < booking_closes_at", name="booking_window_order"),
        CheckConstraint("max_meetings_per_firm IS NULL OR max_meetings_per_firm > 0", name="limit_positive"),
    )

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    mode: Mapped[FairMode] = mapped_column(Enum(FairMode, name="fair_mode", values_callable=enum_values))
    # [{"date": "2021-10-20", "start": "10:00", "end": "17:00", "breaks": [{"start": "12:00", "end": "13:00"}]}]
    days: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    slot_minutes: Mapped[int] = mapped_column(Integer)
    booking_opens_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    booking_closes_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    max_meetings_per_firm: Mapped[int | None] = mapped_column(Integer)
    # "{base_url}/rooms/{fair_id}/{agency_id}" style template; None → a unique room per agency table.
    room_url_template: Mapped[str | None] = mapped_column(String(500))
    agenda_status: Mapped[AgendaStatus] = mapped_column(
        Enum(AgendaStatus, name="agenda_status", values_callable=enum_values),
        default=AgendaStatus.NONE,
        server_default="none",
    )
    # Set once the auto-scheduler ran after the window closed (makes the job idempotent).
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )

    def window_open(self, moment: datetime) -> bool:
        """Whether `moment` lies in the booking window (opening included, closing excluded)."""
        return self.booking_opens_at <= moment < self.booking_closes_at


class FairParticipant(UUIDPrimaryKey, Base):
    __tablename__ = "fair_participants"
    __table_args__ = (UniqueConstraint("fair_id", "organization_id", name="uq_fair_participants_fair_org"),)

    fair_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("fairs.id", ondelete="CASCADE"))
    organization_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))  # "agency" | "firm", copied from the organization
    room_url: Mapped[str | None] = mapped_column(String(500))  # agencies: their table's online room
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    added_by_staff: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")

    def room_url_seen_by(self, viewer: Principal) -> str | None:
        """An agency table's online room link is shown to staff and to the participant itself only."""
        return self.room_url if viewer.is_staff or viewer.owns(self.organization_id) else None


class Unavailability(Base):
    """A slot (by its start) that a participant cannot attend."""

    __tablename__ = "fair_unavailability"

    fair_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("fairs.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)


LIVE = "status <> 'cancelled'"


class Meeting(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "meetings"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="time_order"),
        CheckConstraint("agency_id <> firm_id", name="two_parties"),
        ExcludeConstraint(
            ("agency_id", "="), ("during", "&&"), where=LIVE, using="gist", name="ex_meetings_agency_overlap"
        ),
        ExcludeConstraint(
            ("firm_id", "="), ("during", "&&"), where=LIVE, using="gist", name="ex_meetings_firm_overlap"
        ),
        Index("ix_meetings_fair_status", "fair_id", "status"),
        Index("ix_meetings_firm", "firm_id", "starts_at"),
        Index("ix_meetings_agency", "agency_id", "starts_at"),
        # The target of contracts' composite foreign key (meeting_id, agency_id, firm_id): a contract
        # reported from a meeting names that meeting's own two parties.
        UniqueConstraint("id", "agency_id", "firm_id", name="uq_meetings_id_parties"),
    )

    fair_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("fairs.id", ondelete="CASCADE"))
    agency_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("organizations.id", ondelete="CASCADE"))
    firm_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("organizations.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    during: Mapped[Any] = mapped_column(TSTZRANGE, Computed("tstzrange(starts_at, ends_at, '[)')", persisted=True))
    status: Mapped[MeetingStatus] = mapped_column(
        Enum(MeetingStatus, name="meeting_status", values_callable=enum_values),
        default=MeetingStatus.BOOKED,
        server_default="booked",
    )
    room_url: Mapped[str | None] = mapped_column(String(500))
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # iCalendar SEQUENCE
    provisional: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    request_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("meeting_requests.id", ondelete="SET NULL")
    )
    booked_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL"))
    by_staff: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    agency_rating: Mapped[MeetingRating | None] = mapped_column(
        Enum(MeetingRating, name="meeting_rating", values_callable=enum_values)
    )
    firm_rating: Mapped[MeetingRating | None] = mapped_column(
        Enum(MeetingRating, name="meeting_rating", values_callable=enum_values, create_type=False)
    )
    # Each side's own report of the outcome, kept apart so a later report never overwrites the
    # other's; staff settle a disagreement with theirs (migration 8003).
    agency_outcome: Mapped[MeetingOutcome | None] = mapped_column(
        Enum(MeetingOutcome, name="meeting_outcome", values_callable=enum_values)
    )
    firm_outcome: Mapped[MeetingOutcome | None] = mapped_column(
        Enum(MeetingOutcome, name="meeting_outcome", values_callable=enum_values, create_type=False)
    )
    staff_outcome: Mapped[MeetingOutcome | None] = mapped_column(
        Enum(MeetingOutcome, name="meeting_outcome", values_callable=enum_values, create_type=False)
    )

    # What a viewer may do with the meeting at a moment. The services refuse with the rule the
    # `why_not_*` methods name; the pages offer only the actions the `can_*` methods allow.
    # Rules: "not_party" (the viewer is neither staff nor one of the two parties), "status",
    # "started", "no_fair", "window", "not_over".

    def is_visible_to(self, viewer: Principal) -> bool:
        """Staff and the two parties see the meeting; to anyone else it does not exist."""
        return viewer.is_staff or viewer.owns(self.agency_id) or viewer.owns(self.firm_id)

    def why_not_cancel(self, viewer: Principal, now: datetime) -> str | None:
        """A booked meeting; a party cancels before its start, staff at any time."""
        if not self.is_visible_to(viewer):
            return "not_party"
        if self.status != MeetingStatus.BOOKED:
            return "status"
        if not viewer.is_staff and self.starts_at <= now:
            return "started"
        return None

    def can_cancel(self, viewer: Principal, now: datetime) -> bool:
        return self.why_not_cancel(viewer, now) is None

    def movable_within(self, fair: Fair | None) -> bool:
        """A booked meeting of this fair (whoever asks, whenever)."""
        return self.status == MeetingStatus.BOOKED and fair is not None and self.fair_id == fair.id

    def why_not_move(self, viewer: Principal, now: datetime, fair: Fair | None) -> str | None:
        """A booked meeting moves within its `fair`: a party moves it before its start and, in a
        first-come fair, while the booking window is open; staff at any time."""
        if not self.is_visible_to(viewer):
            return "not_party"
        if self.status != MeetingStatus.BOOKED:
            return "status"
        if not self.movable_within(fair):
            return "no_fair"
        assert fair is not None
        if not viewer.is_staff:
            if fair.mode == FairMode.FIRST_COME and not fair.window_open(now):
                return "window"
            if self.starts_at <= now:
                return "started"
        return None

    def can_move(self, viewer: Principal, now: datetime, fair: Fair | None) -> bool:
        return self.why_not_move(viewer, now, fair) is None

    def why_not_rate(self, viewer: Principal, now: datetime) -> str | None:
        """Outcome and rating come once the slot is over, for a meeting that was not cancelled."""
        if not self.is_visible_to(viewer):
            return "not_party"
        if self.status == MeetingStatus.CANCELLED:
            return "status"
        if now < self.ends_at:
            return "not_over"
        return None

    def can_rate(self, viewer: Principal, now: datetime) -> bool:
        return self.why_not_rate(viewer, now) is None

    @property
    def outcome_disputed(self) -> bool:
        """Agency and firm report different outcomes and staff have not settled it."""
        return (
            self.staff_outcome is None
            and self.agency_outcome is not None
            and self.firm_outcome is not None
            and self.agency_outcome != self.firm_outcome
        )


class MeetingEvent(UUIDPrimaryKey, Base):
    """History of a meeting: booked, moved, cancelled, held, no_show, rated."""

    __tablename__ = "meeting_events"

    meeting_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL"))
    by_staff: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class MeetingRequest(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "meeting_requests"
    __table_args__ = (
        CheckConstraint("priority BETWEEN 1 AND 3", name="priority_range"),
        Index(
            "uq_meeting_requests_open_pair",
            "fair_id",
            "firm_id",
            "agency_id",
            unique=True,
            postgresql_where="status <> 'withdrawn' AND status <> 'declined'",
        ),
        Index("ix_meeting_requests_agency_status", "agency_id", "status"),
    )

    fair_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("fairs.id", ondelete="CASCADE"))
    firm_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("organizations.id", ondelete="CASCADE"))
    agency_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("organizations.id", ondelete="CASCADE"))
    priority: Mapped[int] = mapped_column(SmallInteger)
    message: Mapped[str] = mapped_column(Text, default="", server_default="")
    status: Mapped[RequestStatus] = mapped_column(
        Enum(RequestStatus, name="request_status", values_callable=enum_values),
        default=RequestStatus.PENDING,
        server_default="pending",
    )
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unscheduled_reason: Mapped[str | None] = mapped_column(String(200))
