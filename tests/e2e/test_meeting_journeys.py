"""Around meetings in a browser (issue 14 §3), Korean, at 1366x900 and 390x844 with axe: the agency
records yesterday's meeting as held and rates it on its agenda row; the firm cancels tomorrow's
meeting through the confirmation step and reads which meeting it cancelled; the agency declines a
request through its confirmation step; staff see every meeting of a fair on its agenda."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Journey
from tests.e2e.helpers import Seeded, Seeder, seoul_now
from tests.e2e.test_issue12_pages import Api, korean_page, tab
from tests.factories import PASSWORD
from tests.factories_ops import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def seeder(server: LiveServer, staff_login: tuple[str, str]) -> Iterator[Seeder]:
    seeding = Seeder(server, *staff_login)
    yield seeding
    seeding.close()


def nine_o_clock(days_from_today: int) -> str:
    day = seoul_now() + timedelta(days=days_from_today)
    return day.replace(hour=9, minute=0).isoformat()


def book(server: LiveServer, firm: Seeded, fair_id: str, agency: Seeded, start: str) -> str:
    api = Api(server, firm.email)
    try:
        meeting = api.call("POST", f"/fairs/{fair_id}/meetings", 201, json={"agency_id": agency.id, "start": start})
        return str(meeting["id"])
    finally:
        api.close()


def rate_yesterdays_meeting(journey: Journey, fair_id: str, meeting_id: str, firm: Seeded) -> None:
    """The agency marks yesterday's meeting held and rates it on its agenda row."""
    journey.go(f"/fairs/{fair_id}/agenda")
    page = journey.page
    row = page.locator(f"#meeting-{meeting_id}")
    expect(row.locator("legend")).to_have_text("상담이 진행되었나요?")
    korean_page(journey, "agenda rating form", "상담이 진행되었나요?", "상담 평가", "결과 저장")
    page.set_viewport_size({"width": 1366, "height": 900})
    row.get_by_label("진행됨").check()
    row.get_by_label("상담 평가").select_option("cooperation_possible")
    row.get_by_role("button", name="결과 저장").click()
    page.wait_for_url(f"**/fairs/{fair_id}/agenda?done=rated&meeting={meeting_id}#meeting-{meeting_id}")
    expect(page.locator("[role=status]")).to_contain_text(f"{firm.name} 상담의 결과를 기록했습니다.")
    expect(row).to_contain_text("우리 측 기록: 진행됨 · 협력 가능")
    korean_page(journey, "agenda rated", "상담의 결과를 기록했습니다", "결과 수정")


def cancel_tomorrows_meeting(firm_tab: Journey, fair_id: str, agency: Seeded) -> None:
    """The firm cancels through the confirmation step and reads which meeting it cancelled."""
    page = firm_tab.page
    firm_tab.go(f"/fairs/{fair_id}/agenda")
    page.locator("main tbody tr", has_text=agency.name).get_by_role("button", name="취소").click()
    page.wait_for_url("**/meetings/*/cancel*")
    expect(page.locator("h1")).to_have_text("상담을 취소할까요?")
    korean_page(firm_tab, "cancel confirmation", "상담을 취소할까요?", agency.name, "아니요, 돌아가기")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.get_by_role("button", name="네, 상담을 취소합니다").click()
    page.wait_for_url(f"**/fairs/{fair_id}/agenda?done=cancelled*")
    expect(page.locator("[role=status]")).to_contain_text(f"{agency.name} 상담을 취소했습니다.")
    expect(page.locator("main tbody tr", has_text=agency.name)).to_contain_text("취소됨")
    korean_page(firm_tab, "agenda cancelled", "상담을 취소했습니다")


def decline_a_request(journey: Journey, server: LiveServer, fair_id: str, agency: Seeded, firm: Seeded) -> None:
    """The firm asks (API); the agency declines through the confirmation step."""
    firm_api = Api(server, firm.email)
    try:
        firm_api.call("POST", f"/fairs/{fair_id}/requests", 201, json={"agency_id": agency.id, "priority": 1})
    finally:
        firm_api.close()
    page = journey.page
    journey.go(f"/fairs/{fair_id}/requests")
    page.locator("main tbody tr", has_text=firm.name).get_by_role("button", name="거절하기").click()
    page.wait_for_url(f"**/fairs/{fair_id}/requests/*/decline*")
    korean_page(journey, "decline confirmation", "상담 요청을 거절할까요?", firm.name)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.get_by_role("button", name="네, 거절합니다").click()
    page.wait_for_url(f"**/fairs/{fair_id}/requests?done=declined*")
    expect(page.locator("[role=status]")).to_have_text(f"{firm.name}의 상담 요청을 거절했습니다.")
    korean_page(journey, "inbox declined", "상담 요청을 거절했습니다", "수락으로 바꾸기")


class TestAroundMeetings:
    def test_rate_a_past_meeting_and_confirm_a_cancel_and_a_decline(
        self, journey: Journey, browser: Browser, seeder: Seeder, server: LiveServer, staff_login: tuple[str, str]
    ) -> None:
        tag = uuid.uuid4().hex[:4]
        agency = seeder.agency(name=f"마포구청 {tag}")
        firm = seeder.firm(name=f"마포방역협동조합 {tag}")
        past = seeder.fair(f"어제의 상담회 {tag}", "first_come", agency, firm, days_from_today=-1)
        coming = seeder.fair(f"내일의 상담회 {tag}", "first_come", agency, firm, days_from_today=1)
        asking = seeder.fair(f"요청형 상담회 {tag}", "requests", agency, firm)
        held_id = book(server, firm, past, agency, nine_o_clock(-1))
        book(server, firm, coming, agency, nine_o_clock(1))

        journey.who = "agency"
        journey.sign_in(agency.email, PASSWORD)
        rate_yesterdays_meeting(journey, past, held_id, firm)
        cancel_tomorrows_meeting(tab(browser, journey, "firm", firm), coming, agency)
        decline_a_request(journey, server, asking, agency, firm)

        # staff see every meeting of the fair on its agenda
        staff = tab(browser, journey, "staff")
        staff.sign_in(*staff_login)
        staff.go(f"/fairs/{past}/agenda")
        expect(staff.page.locator(f"#meeting-{held_id}")).to_contain_text(f"{agency.name} · {firm.name}")
        korean_page(staff, "staff agenda", "진행됨")
