"""An invite queued as a recipe renders, when sent, the very bytes `meeting_invite` gives for it at once;
rows queued before recipes (bytes, base64) still read the same way."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.config import load_settings
from service.fairs.calendar import Attendee, InviteData, meeting_ics, meeting_invite, meeting_invite_data
from service.fairs.models import MeetingStatus
from service.notify.service import Attachment, InviteAttachment, stored_attachment
from tests.unit.fairs.test_calendar import meeting, parties

KST = timezone(timedelta(hours=9))


def invite(**changes: Any) -> InviteData:
    start = datetime(2030, 10, 20, 1, 0, tzinfo=UTC)
    values: dict[str, Any] = {
        "meeting_id": uuid.UUID(int=7),
        "sequence": 3,
        "starts_at": start,
        "ends_at": start + timedelta(minutes=30),
        "summary": "공공구매 상담: 은평구청 · 마포방역협동조합",
        "description": "2030 공공구매 상담회\nhttps://meet.example.kr/room-1",
        "room_url": "https://meet.example.kr/room-1",
        "organizer": Attendee("상담센터", "center@example.kr"),
        "attendees": (Attendee("김구매 (은평구청)", "buyer@eunpyeong.go.kr"), Attendee("이대표", "ceo@mapo.coop")),
        "stamp": datetime(2030, 10, 1, 3, 4, 5, 678901, tzinfo=UTC),
    }
    return InviteData(**{**values, **changes})


def stored(attachment: InviteAttachment | Attachment) -> dict[str, Any]:
    """As the outbox row holds it: through JSON (JSONB) and back."""
    return json.loads(json.dumps(attachment.as_json()))


def unstamped(ics: bytes) -> bytes:
    return re.sub(rb"DTSTAMP:[^\r]*\r\n", b"", ics)


class TestRecipes:
    @pytest.mark.parametrize("method", ["REQUEST", "CANCEL"])
    @pytest.mark.parametrize(
        "data",
        [
            invite(),
            invite(room_url=None, description=""),
            invite(starts_at=datetime(2030, 10, 20, 10, 0, tzinfo=KST), stamp=datetime(2030, 1, 1, tzinfo=KST)),
            invite(attendees=()),
        ],
    )
    def test_the_recipe_renders_the_bytes_of_the_direct_call(self, data: InviteData, method: Any) -> None:
        queued = InviteAttachment(data, method)
        row = stored(queued)
        assert "base64" not in row and row["invite"]["method"] == method
        sent = stored_attachment(row)
        assert sent.data == meeting_invite(data, method)
        assert (sent.filename, sent.content_type) == (queued.filename, queued.content_type)
        assert sent.filename == ("cancel.ics" if method == "CANCEL" else "invite.ics")
        assert sent.content_type == f"text/calendar; method={method}"

    def test_a_meetings_mailed_invite_is_its_download(self, tmp_path: Path) -> None:
        app_settings = load_settings({"DATA_DIR": str(tmp_path), "MAIL_FROM": "상담센터 <center@example.kr>"})
        for status in (MeetingStatus.BOOKED, MeetingStatus.CANCELLED):
            data = meeting_invite_data(meeting(status), parties(), app_settings)
            method: Any = "CANCEL" if status == MeetingStatus.CANCELLED else "REQUEST"
            assert stored_attachment(stored(InviteAttachment(data, method))).data == meeting_invite(data, method)
            # the download renders the same description; only its stamp (now) may differ
            downloaded = meeting_ics(meeting(status), parties(), app_settings)
            assert unstamped(downloaded) == unstamped(meeting_invite(data, method))

    @settings(max_examples=40, deadline=None)
    @given(
        text=st.text(min_size=0, max_size=60),
        sequence=st.integers(min_value=0, max_value=10_000),
        stamp=st.datetimes(
            min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.sampled_from([UTC, KST])
        ),
    )
    def test_any_text_and_time_survive_the_trip(self, text: str, sequence: int, stamp: datetime) -> None:
        data = invite(summary=text, description=text, sequence=sequence, stamp=stamp, starts_at=stamp)
        assert stored_attachment(stored(InviteAttachment(data))).data == meeting_invite(data)

    def test_a_batch_renders_each_distinct_invite_once(self) -> None:
        rendered: dict[str, bytes] = {}
        first, again = invite(), invite()
        a = stored_attachment(stored(InviteAttachment(first)), rendered)
        b = stored_attachment(stored(InviteAttachment(again)), rendered)
        assert a.data is b.data and len(rendered) == 1  # the second mail reused the first one's .ics
        other = stored_attachment(stored(InviteAttachment(invite(sequence=4))), rendered)
        assert other.data != a.data and len(rendered) == 2

    def test_an_unknown_method_is_refused(self) -> None:
        row = stored(InviteAttachment(invite()))
        row["invite"]["method"] = "PUBLISH"
        with pytest.raises(ValueError, match="PUBLISH"):
            stored_attachment(row)


class TestBytes:
    def test_rows_queued_with_bytes_still_read(self) -> None:
        legacy = Attachment("invite.ics", "text/calendar; method=REQUEST", meeting_invite(invite()))
        row = stored(legacy)
        assert set(row) == {"filename", "content_type", "base64"}
        assert stored_attachment(row) == legacy
