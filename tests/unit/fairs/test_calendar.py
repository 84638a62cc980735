"""The one invite builder: what a meeting's .ics says, downloaded or mailed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from icalendar import Calendar

from service.accounts.models import User
from service.config import load_settings
from service.fairs.calendar import MeetingParties, invite_method, meeting_ics
from service.fairs.models import Fair, Meeting, MeetingStatus
from service.registry.models import Organization

START = datetime(2030, 10, 20, 1, 0, tzinfo=UTC)


def meeting(status: MeetingStatus = MeetingStatus.BOOKED) -> Meeting:
    return Meeting(
        id=uuid.UUID(int=7),
        sequence=2,
        status=status,
        starts_at=START,
        ends_at=START + timedelta(minutes=30),
        agency_id=uuid.uuid4(),
        firm_id=uuid.uuid4(),
    )


def parties(room_url: str | None = "https://meet.example.kr/room-1") -> MeetingParties:
    agency = Organization(id=uuid.uuid4(), name="은평구청")
    firm = Organization(id=uuid.uuid4(), name="마포방역협동조합")
    buyer = User(name="김구매", email="buyer@eunpyeong.go.kr")
    ceo = User(name="이대표", email="ceo@mapo.coop")
    return MeetingParties(
        fair=Fair(name="2030 공공구매 상담회"),
        agency=agency,
        firm=firm,
        room_url=room_url,
        people=((buyer, agency, firm), (ceo, firm, agency)),
    )


def event_of(ics: bytes):
    calendar = Calendar.from_ical(ics)
    return calendar, next(iter(calendar.walk("VEVENT")))


class TestMeetingIcs:
    def test_the_support_center_invites_both_sides(self, tmp_path: Path):
        settings = load_settings({"DATA_DIR": str(tmp_path), "MAIL_FROM": "상담센터 <center@example.kr>"})
        calendar, event = event_of(meeting_ics(meeting(), parties(), settings))
        assert str(calendar["METHOD"]) == "REQUEST"
        assert str(event["UID"]) == f"meeting-{uuid.UUID(int=7).hex}@procure-match"
        assert int(event["SEQUENCE"]) == 2
        assert str(event["SUMMARY"]) == "공공구매 상담: 은평구청 · 마포방역협동조합"
        assert str(event["DESCRIPTION"]) == "2030 공공구매 상담회\nhttps://meet.example.kr/room-1"
        assert str(event["ORGANIZER"]) == "mailto:center@example.kr"
        assert str(event["ORGANIZER"].params["CN"]) == "상담센터"
        assert [str(a) for a in event["ATTENDEE"]] == ["mailto:buyer@eunpyeong.go.kr", "mailto:ceo@mapo.coop"]
        assert str(event["ATTENDEE"][0].params["CN"]) == "김구매 (은평구청)"
        assert event.decoded("DTSTART") == START and event.decoded("DTEND") == START + timedelta(minutes=30)
        assert str(event["LOCATION"]) == "https://meet.example.kr/room-1"

    def test_a_cancelled_meeting_is_a_cancel(self, tmp_path: Path):
        settings = load_settings({"DATA_DIR": str(tmp_path)})
        cancelled = meeting(MeetingStatus.CANCELLED)
        calendar, event = event_of(meeting_ics(cancelled, parties(room_url=None), settings))
        assert str(calendar["METHOD"]) == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
        assert "LOCATION" not in event
        assert str(event["ORGANIZER"].params["CN"]) == "procure-match"  # MAIL_FROM's default name


class TestInviteMethod:
    def test_only_a_cancelled_meeting_cancels(self):
        assert {status: invite_method(meeting(status)) for status in MeetingStatus} == {
            MeetingStatus.BOOKED: "REQUEST",
            MeetingStatus.HELD: "REQUEST",
            MeetingStatus.NO_SHOW: "REQUEST",
            MeetingStatus.CANCELLED: "CANCEL",
        }
