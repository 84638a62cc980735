"""What a viewer may do with a meeting, before and after its slot: the rules the booking service
enforces and the agenda page follows (Meeting.is_visible_to, can_cancel, can_move, can_rate)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from service.fairs.models import Fair, FairMode, Meeting, MeetingStatus
from service.identity.principal import Principal

AGENCY = uuid.uuid4()
FIRM = uuid.uuid4()
START = datetime(2026, 10, 20, 1, 0, tzinfo=UTC)
END = START + timedelta(minutes=30)
BEFORE = START - timedelta(hours=1)
DURING = START + timedelta(minutes=10)
AFTER = END + timedelta(minutes=1)


def viewer(role: str, organization_id: uuid.UUID | None) -> Principal:
    return Principal(
        user_id=uuid.uuid4(),
        email=f"{role}@example.kr",
        name=role,
        role=role,
        organization_id=organization_id,
        organization_kind=None if role == "staff" else role,
        organization_status=None if role == "staff" else "verified",
        organization_name=None,
        locale="ko",
        token_id=uuid.uuid4(),
    )


STAFF = viewer("staff", None)
THE_AGENCY = viewer("agency", AGENCY)
THE_FIRM = viewer("firm", FIRM)
OUTSIDER = viewer("firm", uuid.uuid4())
PARTIES = [THE_AGENCY, THE_FIRM]


def fair(mode: FairMode = FairMode.FIRST_COME, *, window_open: bool = True) -> Fair:
    opens = BEFORE - timedelta(days=1)
    closes = END + timedelta(days=1) if window_open else BEFORE - timedelta(minutes=1)
    return Fair(
        id=uuid.uuid4(),
        mode=mode,
        days=[],
        slot_minutes=30,
        booking_opens_at=opens,
        booking_closes_at=closes,
    )


def meeting(of: Fair | None = None, status: MeetingStatus = MeetingStatus.BOOKED) -> Meeting:
    return Meeting(
        id=uuid.uuid4(),
        fair_id=of.id if of is not None else None,
        agency_id=AGENCY,
        firm_id=FIRM,
        starts_at=START,
        ends_at=END,
        status=status,
    )


class TestVisibility:
    @pytest.mark.parametrize("who", [STAFF, THE_AGENCY, THE_FIRM])
    def test_staff_and_both_parties_see_the_meeting(self, who: Principal) -> None:
        assert meeting().is_visible_to(who)

    def test_an_outsider_does_not(self) -> None:
        assert not meeting().is_visible_to(OUTSIDER)
        assert not meeting().is_visible_to(viewer("firm", None))


class TestCancel:
    @pytest.mark.parametrize("who", PARTIES)
    def test_a_party_cancels_before_the_slot_only(self, who: Principal) -> None:
        m = meeting(fair())
        assert m.can_cancel(who, BEFORE)
        assert m.why_not_cancel(who, START) == "started"
        assert m.why_not_cancel(who, DURING) == "started"
        assert m.why_not_cancel(who, AFTER) == "started"

    def test_staff_cancel_at_any_time(self) -> None:
        m = meeting(fair())
        assert all(m.can_cancel(STAFF, moment) for moment in (BEFORE, DURING, AFTER))

    def test_an_outsider_never(self) -> None:
        assert meeting(fair()).why_not_cancel(OUTSIDER, BEFORE) == "not_party"

    @pytest.mark.parametrize("status", [MeetingStatus.CANCELLED, MeetingStatus.HELD, MeetingStatus.NO_SHOW])
    def test_only_a_booked_meeting(self, status: MeetingStatus) -> None:
        m = meeting(fair(), status)
        assert m.why_not_cancel(STAFF, BEFORE) == "status"
        assert m.why_not_cancel(THE_FIRM, BEFORE) == "status"


class TestMove:
    @pytest.mark.parametrize("who", PARTIES)
    def test_a_party_moves_before_the_slot_while_a_first_come_window_is_open(self, who: Principal) -> None:
        open_fair = fair()
        assert meeting(open_fair).can_move(who, BEFORE, open_fair)
        assert meeting(open_fair).why_not_move(who, DURING, open_fair) == "started"
        closed = fair(window_open=False)
        assert meeting(closed).why_not_move(who, BEFORE, closed) == "window"

    @pytest.mark.parametrize("who", PARTIES)
    def test_in_request_mode_the_window_does_not_matter(self, who: Principal) -> None:
        closed = fair(FairMode.REQUESTS, window_open=False)
        assert meeting(closed).can_move(who, BEFORE, closed)
        assert meeting(closed).why_not_move(who, AFTER, closed) == "started"

    def test_staff_move_at_any_time(self) -> None:
        closed = fair(window_open=False)
        assert all(meeting(closed).can_move(STAFF, moment, closed) for moment in (BEFORE, DURING, AFTER))

    def test_an_outsider_never(self) -> None:
        open_fair = fair()
        assert meeting(open_fair).why_not_move(OUTSIDER, BEFORE, open_fair) == "not_party"

    def test_only_a_booked_meeting_within_its_own_fair(self) -> None:
        open_fair = fair()
        assert meeting(open_fair, MeetingStatus.CANCELLED).why_not_move(STAFF, BEFORE, open_fair) == "status"
        assert meeting(None).why_not_move(STAFF, BEFORE, None) == "no_fair"
        assert meeting(open_fair).why_not_move(STAFF, BEFORE, fair()) == "no_fair"
        assert meeting(open_fair).movable_within(open_fair)
        assert not meeting(open_fair, MeetingStatus.HELD).movable_within(open_fair)


class TestRate:
    @pytest.mark.parametrize("who", [STAFF, THE_AGENCY, THE_FIRM])
    def test_once_the_slot_is_over(self, who: Principal) -> None:
        m = meeting(fair())
        assert m.why_not_rate(who, BEFORE) == "not_over"
        assert m.why_not_rate(who, DURING) == "not_over"
        assert m.can_rate(who, END)
        assert m.can_rate(who, AFTER)

    @pytest.mark.parametrize("status", [MeetingStatus.HELD, MeetingStatus.NO_SHOW])
    def test_a_reported_meeting_can_be_reported_again(self, status: MeetingStatus) -> None:
        assert meeting(fair(), status).can_rate(THE_FIRM, AFTER)

    def test_not_a_cancelled_meeting_nor_by_an_outsider(self) -> None:
        assert meeting(fair(), MeetingStatus.CANCELLED).why_not_rate(THE_AGENCY, AFTER) == "status"
        assert meeting(fair()).why_not_rate(OUTSIDER, AFTER) == "not_party"
