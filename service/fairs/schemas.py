"""Request and response shapes of fairs, slots, meetings and meeting requests."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from service.fairs.models import Fair, Meeting, MeetingEvent, MeetingRequest
from service.fairs.slots import SEOUL
from service.lib.errors import ValidationFailed

# Lists in bodies are bounded, like every list of the API: 1,000 items, or fewer where more makes no sense. Beyond
# them the body is refused with a 422 naming the field, before any query is built from it.
MAX_DAYS = 100  # a fair lasts days, not seasons
MAX_BREAKS = 24
MAX_IDS = 1000
MAX_STARTS = 1000
MAX_ROOM_URL_TEMPLATE = 500  # the column's length


class BreakIn(msgspec.Struct, kw_only=True):
    start: str
    end: str


class DayIn(msgspec.Struct, kw_only=True):
    date: str
    start: str
    end: str
    breaks: Annotated[list[BreakIn], msgspec.Meta(max_length=MAX_BREAKS)] = []


class FairIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    name: str
    mode: Literal["first_come", "requests"]
    days: Annotated[list[DayIn], msgspec.Meta(max_length=MAX_DAYS)]
    slot_minutes: int
    booking_opens_at: datetime
    booking_closes_at: datetime
    description: str = ""
    max_meetings_per_firm: int | None = None
    room_url_template: Annotated[str, msgspec.Meta(max_length=MAX_ROOM_URL_TEMPLATE)] | None = None


class FairPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    name: str | None = None
    description: str | None = None
    days: Annotated[list[DayIn], msgspec.Meta(max_length=MAX_DAYS)] | None = None
    slot_minutes: int | None = None
    booking_opens_at: datetime | None = None
    booking_closes_at: datetime | None = None
    max_meetings_per_firm: int | None = None
    room_url_template: Annotated[str, msgspec.Meta(max_length=MAX_ROOM_URL_TEMPLATE)] | None = None


class FairOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    description: str
    mode: str
    days: list[dict[str, Any]]
    slot_minutes: int
    booking_opens_at: datetime
    booking_closes_at: datetime
    max_meetings_per_firm: int | None
    room_url_template: str | None
    agenda_status: str
    scheduled_at: datetime | None


def fair_out(fair: Fair) -> FairOut:
    return FairOut(
        id=fair.id,
        name=fair.name,
        description=fair.description,
        mode=str(fair.mode),
        days=fair.days,
        slot_minutes=fair.slot_minutes,
        booking_opens_at=fair.booking_opens_at.astimezone(SEOUL),
        booking_closes_at=fair.booking_closes_at.astimezone(SEOUL),
        max_meetings_per_firm=fair.max_meetings_per_firm,
        room_url_template=fair.room_url_template,
        agenda_status=str(fair.agenda_status),
        scheduled_at=fair.scheduled_at,
    )


class ParticipantIn(msgspec.Struct, kw_only=True):
    organization_id: uuid.UUID | None = None
    organization_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=MAX_IDS)] | None = None

    def ids(self) -> list[uuid.UUID]:
        """The list, then the single id; at least one is required."""
        ids = list(self.organization_ids or []) + ([self.organization_id] if self.organization_id else [])
        if not ids:
            raise ValidationFailed.single("organization_id", "is required")
        return ids


class ParticipantOut(msgspec.Struct, kw_only=True):
    organization_id: uuid.UUID
    kind: str
    name: str
    room_url: str | None = None


class UnavailableIn(msgspec.Struct, kw_only=True):
    starts: Annotated[list[datetime], msgspec.Meta(max_length=MAX_STARTS)]
    organization_id: uuid.UUID | None = None  # staff acting for a participant


class SlotOut(msgspec.Struct, kw_only=True):
    start: datetime
    end: datetime
    status: str  # free | booked | unavailable
    mine: bool = False


class BookIn(msgspec.Struct, kw_only=True):
    agency_id: uuid.UUID
    start: datetime
    firm_id: uuid.UUID | None = None  # staff booking on behalf of a firm


class MoveIn(msgspec.Struct, kw_only=True):
    start: datetime


class OutcomeIn(msgspec.Struct, kw_only=True):
    outcome: Literal["held", "no_show"]
    rating: (
        Literal["did_not_take_place", "insufficient_interest", "informative_no_cooperation", "cooperation_possible"]
        | None
    ) = None


class ObjectionIn(msgspec.Struct, kw_only=True):
    message: str


class MeetingOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    fair_id: uuid.UUID | None
    agency_id: uuid.UUID
    firm_id: uuid.UUID
    start: datetime
    end: datetime
    room_url: str | None
    status: str
    sequence: int
    provisional: bool
    by_staff: bool
    agency_rating: str | None = None
    firm_rating: str | None = None
    # Each side's own report (held | no_show); staff's settles a disagreement, which until then
    # shows as outcome_disputed (status keeps the first report).
    agency_outcome: str | None = None
    firm_outcome: str | None = None
    staff_outcome: str | None = None
    outcome_disputed: bool = False


def meeting_out(meeting: Meeting) -> MeetingOut:
    return MeetingOut(
        id=meeting.id,
        fair_id=meeting.fair_id,
        agency_id=meeting.agency_id,
        firm_id=meeting.firm_id,
        start=meeting.starts_at.astimezone(SEOUL),
        end=meeting.ends_at.astimezone(SEOUL),
        room_url=meeting.room_url,
        status=str(meeting.status),
        sequence=meeting.sequence,
        provisional=meeting.provisional,
        by_staff=meeting.by_staff,
        agency_rating=str(meeting.agency_rating) if meeting.agency_rating else None,
        firm_rating=str(meeting.firm_rating) if meeting.firm_rating else None,
        agency_outcome=str(meeting.agency_outcome) if meeting.agency_outcome else None,
        firm_outcome=str(meeting.firm_outcome) if meeting.firm_outcome else None,
        staff_outcome=str(meeting.staff_outcome) if meeting.staff_outcome else None,
        outcome_disputed=meeting.outcome_disputed,
    )


class MeetingEventOut(msgspec.Struct, kw_only=True):
    kind: str
    at: datetime
    by_staff: bool
    actor_id: uuid.UUID | None
    data: dict[str, Any]


def _seoul_times(value: Any) -> Any:
    """History data as the API shows times: ISO datetimes with an offset in +09:00 (rows store UTC)."""
    if isinstance(value, dict):
        return {key: _seoul_times(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_seoul_times(item) for item in value]
    if isinstance(value, str) and len(value) >= 20 and value[4:5] == "-" and value[10:11] == "T":
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is not None:
            return moment.astimezone(SEOUL).isoformat()
    return value


def meeting_event_out(event: MeetingEvent) -> MeetingEventOut:
    return MeetingEventOut(
        kind=event.kind,
        at=event.at.astimezone(SEOUL),
        by_staff=event.by_staff,
        actor_id=event.actor_id,
        data=_seoul_times(event.data),
    )


class RequestIn(msgspec.Struct, kw_only=True):
    agency_id: uuid.UUID
    priority: int = 2  # 1 = most wanted … 3 = least (the auto-scheduler's convention)
    message: str = ""
    firm_id: uuid.UUID | None = None  # staff on behalf of a firm


class RequestOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    fair_id: uuid.UUID
    firm_id: uuid.UUID
    agency_id: uuid.UUID
    priority: int
    message: str
    status: str
    unscheduled_reason: str | None


def request_out(request: MeetingRequest) -> RequestOut:
    return RequestOut(
        id=request.id,
        fair_id=request.fair_id,
        firm_id=request.firm_id,
        agency_id=request.agency_id,
        priority=request.priority,
        message=request.message,
        status=str(request.status),
        unscheduled_reason=request.unscheduled_reason,
    )


class ScheduleOut(msgspec.Struct, kw_only=True):
    scheduled: int
    unscheduled: list[uuid.UUID]
    optimal_bound: float
    objective: float
    optimal: bool
    method: str
