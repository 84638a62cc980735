"""iCalendar invites for meetings (icalendar library).

Stable UID per meeting, SEQUENCE growing with each move, METHOD:REQUEST (CANCEL when
cancelled), an Asia/Seoul VTIMEZONE, the online room as LOCATION and URL, both parties
as attendees, the support center (MAIL_FROM) as organizer.

`meeting_invite_data` is the one description of a meeting's invite: the download renders it at once
(`meeting_ics`), the mails queue it as a recipe (`InviteData.as_json`) that the dispatcher renders
when it sends them, so a calendar that imports both keeps one event. Rendering (icalendar) is the
costly part; describing is cheap, which keeps it out of the booking transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from functools import cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vCalAddress, vText
from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from service.accounts.models import User
from service.config import Settings
from service.fairs.models import Fair, FairParticipant, Meeting, MeetingStatus
from service.lib.clock import now
from service.registry.models import Organization

SEOUL = ZoneInfo("Asia/Seoul")


@dataclass(frozen=True)
class Attendee:
    name: str
    email: str

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "email": self.email}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Attendee:
        return cls(name=str(value["name"]), email=str(value["email"]))


@dataclass(frozen=True)
class InviteData:
    meeting_id: uuid.UUID
    sequence: int
    starts_at: datetime
    ends_at: datetime
    summary: str
    description: str
    room_url: str | None
    organizer: Attendee
    attendees: tuple[Attendee, ...]
    stamp: datetime

    def as_json(self) -> dict[str, Any]:
        """JSON-safe and exact: `from_json(as_json())` renders the same bytes (datetimes keep their offset)."""
        return {
            "meeting_id": self.meeting_id.hex,
            "sequence": self.sequence,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "summary": self.summary,
            "description": self.description,
            "room_url": self.room_url,
            "organizer": self.organizer.as_json(),
            "attendees": [person.as_json() for person in self.attendees],
            "stamp": self.stamp.isoformat(),
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> InviteData:
        return cls(
            meeting_id=uuid.UUID(str(value["meeting_id"])),
            sequence=int(value["sequence"]),
            starts_at=_aware(value["starts_at"]),
            ends_at=_aware(value["ends_at"]),
            summary=str(value["summary"]),
            description=str(value["description"]),
            room_url=str(value["room_url"]) if value.get("room_url") is not None else None,
            organizer=Attendee.from_json(value["organizer"]),
            attendees=tuple(Attendee.from_json(person) for person in value["attendees"]),
            stamp=_aware(value["stamp"]),
        )


def _aware(raw: Any) -> datetime:
    moment = datetime.fromisoformat(str(raw))
    if moment.tzinfo is None:
        raise ValueError("an invite's times must carry their offset")
    return moment


@cache
def _vtimezone(tzid: str) -> bytes:
    """The VTIMEZONE block, computed once per process: icalendar derives it by walking every
    transition of the zone (about 30 ms for Asia/Seoul), which used to dominate a booking."""
    return bytes(Timezone.from_tzid(tzid).to_ical())


def meeting_uid(meeting_id: uuid.UUID, domain: str = "procure-match") -> str:
    return f"meeting-{meeting_id.hex}@{domain}"


def meeting_invite(data: InviteData, method: Literal["REQUEST", "CANCEL"] = "REQUEST") -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//procure-match//공공구매 상담·매칭//KO")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)

    event = Event()
    event.add("uid", meeting_uid(data.meeting_id))
    event.add("sequence", data.sequence)
    event.add("dtstamp", data.stamp)
    event.add("dtstart", data.starts_at.astimezone(SEOUL))
    event.add("dtend", data.ends_at.astimezone(SEOUL))
    event.add("summary", data.summary)
    event.add("description", data.description)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    if data.room_url:
        event.add("location", data.room_url)
        event.add("url", data.room_url)
    organizer = vCalAddress(f"mailto:{data.organizer.email}")
    organizer.params["cn"] = vText(data.organizer.name)
    event["organizer"] = organizer
    for person in data.attendees:
        attendee = vCalAddress(f"mailto:{person.email}")
        attendee.params["cn"] = vText(person.name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("ACCEPTED")
        event.add("attendee", attendee, encode=False)
    calendar.add_component(event)
    # The cached VTIMEZONE goes before the event, where icalendar would have put the component.
    head, sep, tail = bytes(calendar.to_ical()).partition(b"BEGIN:VEVENT\r\n")
    return head + _vtimezone("Asia/Seoul") + sep + tail


@dataclass(frozen=True)
class MeetingParties:
    """Who meets where: what a meeting's invite and its mails show."""

    fair: Fair | None
    agency: Organization
    firm: Organization
    room_url: str | None  # the meeting's own room, else the agency's room at the fair
    # (user, own organization, the other party) of every active user of both sides, agency side first
    people: tuple[tuple[User, Organization, Organization], ...]


# Made once: a new alias per call is a new statement for SQLAlchemy's compiled cache, and building
# its columns cost more than the rest of a booking.
AGENCY_ROW, FIRM_ROW = aliased(Organization, name="agency"), aliased(Organization, name="firm")


async def meeting_parties(session: AsyncSession, meeting: Meeting) -> MeetingParties:
    """Both organizations, the fair, the agency's room at the fair and the active users of both sides,
    in one statement (one row per user; one row of NULL users when neither side has any)."""
    agency_row, firm_row = AGENCY_ROW, FIRM_ROW
    pair = (meeting.agency_id, meeting.firm_id)
    query = (
        select(agency_row, firm_row, Fair, FairParticipant.room_url, User)
        .select_from(agency_row)
        .join(firm_row, firm_row.id == meeting.firm_id)
        .outerjoin(Fair, Fair.id == meeting.fair_id)  # no fair: `IS NULL`, never true of a key
        .outerjoin(
            FairParticipant,
            and_(FairParticipant.fair_id == Fair.id, FairParticipant.organization_id == agency_row.id),
        )
        .outerjoin(User, and_(User.organization_id.in_(pair), User.is_active.is_(True)))
        .where(agency_row.id == meeting.agency_id)
        .order_by(User.email)
    )
    rows = (await session.execute(query)).tuples().all()
    if not rows:
        raise LookupError(f"meeting {meeting.id} refers to a missing organization")
    return _parties(meeting, rows)


def _parties(meeting: Meeting, rows: Sequence[tuple[Any, ...]]) -> MeetingParties:
    """The parties from the rows (agency, firm, fair, the agency's room at the fair, user) of one meeting."""
    agency, firm, fair, fair_room, _ = rows[0]
    users = [user for *_, user in rows if user is not None]
    people = [(u, agency, firm) if u.organization_id == agency.id else (u, firm, agency) for u in users]
    people.sort(key=lambda person: person[1].id != agency.id)  # stable: by email within each side
    room_url = meeting.room_url if meeting.room_url is not None else fair_room
    return MeetingParties(fair, agency, firm, room_url, tuple(people))


async def parties_of_meetings(session: AsyncSession, meetings: Sequence[Meeting]) -> dict[uuid.UUID, MeetingParties]:
    """`meeting_parties` of several meetings in one statement (the dispatcher expanding a batch of
    bookings), by meeting id; a meeting whose organizations are missing is left out."""
    if not meetings:
        return {}
    agency_row, firm_row = AGENCY_ROW, FIRM_ROW
    query = (
        select(Meeting.id, agency_row, firm_row, Fair, FairParticipant.room_url, User)
        .select_from(Meeting)
        .join(agency_row, agency_row.id == Meeting.agency_id)
        .join(firm_row, firm_row.id == Meeting.firm_id)
        .outerjoin(Fair, Fair.id == Meeting.fair_id)
        .outerjoin(
            FairParticipant,
            and_(FairParticipant.fair_id == Fair.id, FairParticipant.organization_id == agency_row.id),
        )
        .outerjoin(
            User,
            and_(User.organization_id.in_([Meeting.agency_id, Meeting.firm_id]), User.is_active.is_(True)),
        )
        .where(Meeting.id.in_([m.id for m in meetings]))
        .order_by(Meeting.id, User.email)
    )
    grouped: dict[uuid.UUID, list[tuple[Any, ...]]] = {}
    for meeting_id, *row in (await session.execute(query)).tuples().all():
        grouped.setdefault(meeting_id, []).append(tuple(row))
    return {m.id: _parties(m, grouped[m.id]) for m in meetings if m.id in grouped}


def invite_method(meeting: Meeting) -> Literal["REQUEST", "CANCEL"]:
    return "CANCEL" if meeting.status == MeetingStatus.CANCELLED else "REQUEST"


def meeting_invite_data(meeting: Meeting, parties: MeetingParties, settings: Settings) -> InviteData:
    """What the meeting's invite says, stamped now: cheap (no icalendar), so mails can queue it."""
    center_name, center_email = parseaddr(settings.smtp.mail_from)
    description_lines = [parties.fair.name if parties.fair else "", parties.room_url or ""]
    return InviteData(
        meeting_id=meeting.id,
        sequence=meeting.sequence,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        summary=f"공공구매 상담: {parties.agency.name} · {parties.firm.name}",
        description="\n".join(line for line in description_lines if line),
        room_url=parties.room_url,
        organizer=Attendee(center_name or "procure-match", center_email),
        attendees=tuple(Attendee(f"{u.name} ({org.name})", u.email) for u, org, _ in parties.people),
        stamp=now(),
    )


def meeting_ics(meeting: Meeting, parties: MeetingParties, settings: Settings) -> bytes:
    """The meeting's invite (METHOD:CANCEL once it is cancelled), sent by the support center."""
    return meeting_invite(meeting_invite_data(meeting, parties, settings), invite_method(meeting))
