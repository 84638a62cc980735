"""Request and response shapes of everyday consultations."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Annotated

import msgspec

from service.consultations.models import MAX_PREFERRED, Consultation

TimeList = Annotated[list["TimeRange"], msgspec.Meta(max_length=MAX_PREFERRED)]


class TimeRange(msgspec.Struct, kw_only=True):
    start: datetime
    end: datetime


class ConsultationIn(msgspec.Struct, kw_only=True):
    """A firm's or agency's request (topic, message, preferred); staff instead log one already held
    (by phone or at the desk) for an organization: organization_id, topic, message, start, end."""

    topic: str | None = None
    message: str | None = None
    preferred: TimeList | None = None
    organization_id: uuid.UUID | None = None
    start: datetime | None = None
    end: datetime | None = None
    mode: str | None = None
    place: str | None = None
    notes: str | None = None
    outcome: str | None = None
    follow_up_on: date | None = None


class ConsultationPatch(msgspec.Struct, kw_only=True):
    """What a PATCH may change; which of it a caller may send depends on the caller and the status."""

    status: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    staff_id: uuid.UUID | None = None
    mode: str | None = None
    place: str | None = None
    proposed: TimeList | None = None
    notes: str | None = None
    outcome: str | None = None
    follow_up_on: date | None = None
    rating: int | None = None
    rating_comment: str | None = None


class HoursBlock(msgspec.Struct, kw_only=True):
    weekday: int
    start: time
    end: time
    mode: str
    place: str = ""


class HoursIn(msgspec.Struct, kw_only=True):
    blocks: Annotated[list[HoursBlock], msgspec.Meta(max_length=50)]


class ExceptionIn(msgspec.Struct, kw_only=True):
    day: date
    start: time | None = None
    end: time | None = None
    mode: str | None = None
    place: str = ""
    note: str = ""


class ConsultationOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: uuid.UUID
    organization_id: uuid.UUID
    topic: str
    message: str
    preferred: list[TimeRange]
    proposed: list[TimeRange]
    status: str
    staff_id: uuid.UUID | None
    start: datetime | None
    end: datetime | None
    mode: str | None
    place: str
    created_at: datetime
    follow_up_on: date | None
    rating: int | None
    rating_comment: str
    notes: str | None = None  # staff only
    outcome: str | None = None  # staff only
    organization_name: str | None = None  # in lists
    waiting_minutes: int | None = None  # in lists: an open request's time since it was asked


def ranges(items: list[dict[str, str]]) -> list[TimeRange]:
    return [TimeRange(start=datetime.fromisoformat(i["start"]), end=datetime.fromisoformat(i["end"])) for i in items]


def consultation_out(c: Consultation, *, staff: bool) -> ConsultationOut:
    return ConsultationOut(
        id=c.id,
        organization_id=c.organization_id,
        topic=c.topic.value,
        message=c.message,
        preferred=ranges(c.preferred),
        proposed=ranges(c.proposed),
        status=c.status.value,
        staff_id=c.staff_id,
        start=c.starts_at,
        end=c.ends_at,
        mode=c.mode.value if c.mode else None,
        place=c.place,
        created_at=c.created_at,
        follow_up_on=c.follow_up_on,
        rating=c.rating,
        rating_comment=c.rating_comment,
        notes=c.notes if staff else None,
        outcome=c.outcome if staff else None,
    )


class WindowOut(msgspec.Struct, kw_only=True):
    staff_id: uuid.UUID
    start: datetime
    end: datetime
    mode: str
    place: str


class HoursBlockOut(msgspec.Struct, kw_only=True):
    weekday: int
    start: time
    end: time
    mode: str
    place: str


class ExceptionOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    day: date
    start: time | None
    end: time | None
    mode: str | None
    place: str
    note: str
