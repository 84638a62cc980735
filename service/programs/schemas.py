"""Request and response shapes of sessions, registrations, activities, targets and the program report."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

import msgspec

from service.lib.bounds import BoundedList, BoundedMap
from service.programs.models import CooperationActivity, ProgramSession, SessionRegistration

Title = Annotated[str, msgspec.Meta(max_length=200)]
Url = Annotated[str, msgspec.Meta(max_length=500)]


class SessionIn(msgspec.Struct, kw_only=True):
    title: Title
    kind: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    audience: str
    place: Annotated[str, msgspec.Meta(max_length=300)] | None = None
    online_url: Url | None = None
    description: Annotated[str, msgspec.Meta(max_length=5000)] = ""


class SessionPatch(msgspec.Struct, kw_only=True):
    """Staff: share the materials (mailed to the registered) or cancel the session."""

    materials_url: Url | msgspec.UnsetType = msgspec.UNSET
    status: str | msgspec.UnsetType = msgspec.UNSET


class SessionOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    title: str
    kind: str
    audience: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    place: str | None
    online_url: str | None
    description: str
    materials_url: str | None
    status: str
    registered: int
    waitlisted: int


def session_out(s: ProgramSession, registered: int = 0, waitlisted: int = 0) -> SessionOut:
    return SessionOut(
        id=s.id,
        title=s.title,
        kind=str(s.kind),
        audience=str(s.audience),
        starts_at=s.starts_at,
        ends_at=s.ends_at,
        capacity=s.capacity,
        place=s.place,
        online_url=s.online_url,
        description=s.description,
        materials_url=s.materials_url,
        status=str(s.status),
        registered=registered,
        waitlisted=waitlisted,
    )


class RegistrationIn(msgspec.Struct, kw_only=True):
    """Members of the caller's organization to register; none: the caller."""

    user_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=50)] | None = None


class RegistrationOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    session_id: uuid.UUID
    user_id: uuid.UUID
    organization_id: uuid.UUID
    status: str
    attended: bool | None
    created_at: datetime


def registration_out(r: SessionRegistration) -> RegistrationOut:
    return RegistrationOut(
        id=r.id,
        session_id=r.session_id,
        user_id=r.user_id,
        organization_id=r.organization_id,
        status=str(r.status),
        attended=r.attended,
        created_at=r.created_at,
    )


class RegistrationsOut(msgspec.Struct, kw_only=True):
    """`status` is the first (or only) registration's, as the API's single-person call expects."""

    status: str
    registrations: list[RegistrationOut]


class AttendanceIn(msgspec.Struct, kw_only=True):
    attended: bool


class ActivityIn(msgspec.Struct, kw_only=True):
    partner: Title
    date: date
    kind: str
    description: Annotated[str, msgspec.Meta(max_length=5000)] = ""
    links: Annotated[list[Url], msgspec.Meta(max_length=10)] = msgspec.field(default_factory=list)


class ActivityOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    partner: str
    date: date
    kind: str
    description: str
    links: list[str]
    created_at: datetime


def activity_out(a: CooperationActivity) -> ActivityOut:
    return ActivityOut(
        id=a.id,
        partner=a.partner,
        date=a.activity_date,
        kind=str(a.kind),
        description=a.description,
        links=[str(link) for link in a.links],
        created_at=a.created_at,
    )


class TargetsIn(msgspec.Struct, kw_only=True):
    targets: BoundedMap[int]


class ProgramRowOut(msgspec.Struct, kw_only=True):
    code: str
    name: str
    unit: str
    target: int | None
    actual: int
    achievement_rate: float | None
    monthly: BoundedList[int]


class ProgramReportOut(msgspec.Struct, kw_only=True):
    year: int
    rows: list[ProgramRowOut]
