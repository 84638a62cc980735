"""iCalendar invites for meetings (icalendar library).

Stable UID per meeting, SEQUENCE growing with each move, METHOD:REQUEST (CANCEL when
cancelled), an Asia/Seoul VTIMEZONE, the online room as LOCATION and URL, both parties
as attendees.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vCalAddress, vText

SEOUL = ZoneInfo("Asia/Seoul")


@dataclass(frozen=True)
class Attendee:
    name: str
    email: str


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
