"""Fairs in a browser: request mode with the auto-scheduler, a slot lost between page load and
click, and booking and the agenda in English. The organizations around each journey are seeded
(registration has its own journeys); every step of the journey itself goes through the pages."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Response, expect

from tests.e2e.conftest import Journey, Mailbox
from tests.e2e.helpers import Seeded, Seeder, add_participants, create_fair, mails_with_invite, second_tab, wait_for
from tests.factories import PASSWORD
from tests.factories_ops import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def seeder(server: LiveServer, staff_login: tuple[str, str]) -> Iterator[Seeder]:
    seeding = Seeder(server, *staff_login)
    yield seeding
    seeding.close()


def tab_for(browser: Browser, journey: Journey, who: str, account: Seeded, locale: str = "ko-KR") -> Journey:
    tab = second_tab(browser, journey, who, locale)
    tab.sign_in(account.email, PASSWORD)
    return tab


def record_server_errors(journey: Journey, seen: list[str]) -> None:
    """Every 5xx answer the tab receives from now on goes into `seen`."""

    def record(response: Response) -> None:
        if response.status >= 500:
            seen.append(f"{response.status} {response.request.method} {response.url}")

    journey.page.on("response", record)


def send_request(tab: Journey, fair_id: str, agency: Seeded, firm: Seeded, priority: str) -> None:
    """The firm's tab sends a request to the agency from the fair's page."""
    tab.go(f"/fairs/{fair_id}")
    tab.page.wait_for_url(f"**/fairs/{fair_id}/book")
    expect(tab.page.locator("h2", has_text="상담 신청")).to_be_visible()
    tab.page.locator("#r-agency").select_option(label=agency.name)
    tab.page.locator("#r-priority").select_option(priority)
    tab.page.locator("#r-message").fill(f"{firm.name}입니다. 방역 소독 견적을 설명드리고 싶습니다.")
    tab.shot("request form")
    tab.check_a11y()
    tab.page.get_by_role("button", name="신청 보내기").click()
    tab.page.wait_for_url("**?msg=requested")
    expect(tab.page.locator("[role=status]")).to_have_text("상담 신청을 보냈습니다.")
    expect(tab.page.locator("main li", has_text="우선순위")).to_contain_text("대기")
    tab.shot("request sent")


def accept_requests(buyer: Journey, fair_id: str, firms: tuple[Seeded, ...]) -> None:
    """The agency accepts each firm's request from its inbox."""
    buyer.go(f"/fairs/{fair_id}/agenda")
    buyer.page.get_by_role("link", name="받은 상담 신청").click()
    buyer.page.wait_for_url(f"**/fairs/{fair_id}/requests")
    expect(buyer.page.locator("tbody tr")).to_have_count(len(firms))
    buyer.shot("request inbox")
    buyer.check_a11y()
    for firm in firms:
        buyer.page.locator("tbody tr", has_text=firm.name).get_by_role("button", name="수락").click()
        buyer.page.wait_for_url("**?done=accepted*")
        expect(buyer.page.locator("[role=status]")).to_have_text(f"{firm.name}의 상담 요청을 수락했습니다.")
        # decided: no accept/decline buttons, only the other decision as an explicit (confirmed) change of mind
        decided = buyer.page.locator("tbody tr", has_text=firm.name)
        expect(decided.get_by_role("button")).to_have_count(0)
        expect(decided.get_by_role("link", name="거절로 바꾸기")).to_be_visible()
    buyer.shot("both accepted")


def schedule(staff: Journey, fair_id: str, agency: Seeded) -> None:
    """Staff press the schedule button; the grid shows the agency's two provisional meetings."""
    staff.go(f"/fairs/{fair_id}")
    staff.page.get_by_role("button", name="자동 배정 실행").click()
    staff.page.wait_for_url(f"**/fairs/{fair_id}/grid?done=scheduled")
    row = staff.page.locator("tbody tr", has_text=agency.name)
    expect(row.locator("td.booked")).to_have_count(2)
    expect(row.locator("td.provisional")).to_have_count(2)
    staff.shot("grid after scheduling")
    staff.check_a11y()


def publish_final_agenda(staff: Journey, fair_id: str) -> None:
    staff.go(f"/fairs/{fair_id}")
    expect(staff.page.locator(".lead")).to_contain_text("임시 일정")
    staff.page.get_by_role("button", name="최종 일정 확정").click()
    staff.page.wait_for_url(f"**/fairs/{fair_id}/grid?done=scheduled")
    expect(staff.page.locator("td.provisional")).to_have_count(0)
    staff.go(f"/fairs/{fair_id}")
    expect(staff.page.locator(".lead")).to_contain_text("최종 일정")
    staff.shot("final agenda published")


class TestRequestModeWithTheAutoScheduler:
    def test_requests_accepted_then_scheduled_then_final(
        self,
        journey: Journey,
        browser: Browser,
        seeder: Seeder,
        staff_login: tuple[str, str],
        mailbox: tuple[Mailbox, int],
    ) -> None:
        box, _port = mailbox
        tag = uuid.uuid4().hex[:4]
        agency = seeder.agency(name=f"서울시청 {tag}")
        firm_a = seeder.firm(name=f"마포방역협동조합 {tag}")
        firm_b = seeder.firm(name=f"은평돌봄사회적협동조합 {tag}")
        fair_name = f"2026 공공구매 2차 상담회 {tag}"

        # staff create a request-mode fair and add the three organizations from the setup page
        staff = journey
        staff.who = "staff"
        staff.sign_in(*staff_login)
        fair_id = create_fair(staff, fair_name, "requests")
        add_participants(staff, agency.name, firm_a.name, firm_b.name)
        expect(staff.page.get_by_role("button", name="자동 배정 실행")).to_be_visible()
        staff.shot("request fair set up")
        staff.check_a11y()

        # each firm sends a request to the agency from its page
        tabs = []
        for who, firm, priority in (("firm a", firm_a, "1"), ("firm b", firm_b, "2")):
            tab = tab_for(browser, journey, who, firm)
            tabs.append(tab)
            send_request(tab, fair_id, agency, firm, priority)

        # the agency accepts both from its inbox
        buyer = tab_for(browser, journey, "agency", agency)
        accept_requests(buyer, fair_id, (firm_a, firm_b))

        # staff press the schedule button; the grid shows who meets whom
        schedule(staff, fair_id, agency)

        # the agency's agenda shows the placed meetings, provisional for now
        buyer.go(f"/fairs/{fair_id}/agenda")
        meetings = buyer.page.locator("main tbody tr")
        expect(meetings).to_have_count(2)
        expect(buyer.page.locator("main .notice", has_text="임시 일정입니다")).to_be_visible()
        for firm in (firm_a, firm_b):
            expect(meetings.filter(has_text=firm.name)).to_contain_text("(임시)")
        buyer.shot("provisional agenda")
        buyer.check_a11y()

        # staff publish the final agenda; the provisional marks are gone
        publish_final_agenda(staff, fair_id)

        # the final agenda sends the agency a calendar invite for each of its meetings
        wait_for(lambda: len(mails_with_invite(box, agency.email)) == 2, "two invites to the agency")
        for _message, calendar in mails_with_invite(box, agency.email):
            assert str(calendar["METHOD"]) == "REQUEST"

        buyer.page.reload()
        expect(buyer.page.locator("main .notice", has_text="임시 일정입니다")).to_have_count(0)
        expect(buyer.page.locator("main tbody")).not_to_contain_text("(임시)")
        buyer.shot("final agenda")

        firm_tab = tabs[0]
        firm_tab.go(f"/fairs/{fair_id}/agenda")
        expect(firm_tab.page.locator("main tbody tr", has_text=agency.name)).to_have_count(1)
        firm_tab.shot("firm agenda")
        firm_tab.check_a11y()
        for tab in (*tabs, buyer):
            tab.page.context.close()


class TestSlotTakenBetweenLoadAndClick:
    def test_the_slower_firm_is_told_and_sees_the_fresh_slots(
        self, journey: Journey, browser: Browser, seeder: Seeder
    ) -> None:
        tag = uuid.uuid4().hex[:4]
        agency = seeder.agency(name=f"종로구청 {tag}")
        firm_a = seeder.firm(name=f"종로나눔협동조합 {tag}")
        firm_b = seeder.firm(name=f"성북일자리사회적협동조합 {tag}")
        fair_id = seeder.fair(f"선착순 상담회 {tag}", "first_come", agency, firm_a, firm_b)

        slow = journey
        slow.who = "firm a"
        slow.sign_in(firm_a.email, PASSWORD)
        fast = tab_for(browser, journey, "firm b", firm_b)
        errors: list[str] = []
        record_server_errors(slow, errors)
        record_server_errors(fast, errors)
        for tab in (slow, fast):
            tab.go(f"/fairs/{fair_id}/book")
            expect(tab.page.locator("li.slot-free")).to_have_count(6)
        slow.shot("booking page loaded")
        slow.page.evaluate("() => { window.__loadedOnce = true; }")  # gone if the page reloads

        # firm B takes 10:00 first
        wanted = "10:00"
        fast.page.locator("li.slot-free button", has_text=wanted).click()
        expect(fast.page.locator("[role=status]")).to_contain_text("예약되었습니다")
        fast.shot("took the slot")

        # firm A still sees 10:00 as free and clicks it
        table = slow.page.locator("section.fair-table")
        with slow.page.expect_response(lambda r: r.url.endswith(f"/fairs/{fair_id}/book")) as answer:
            table.locator("li.slot-free button", has_text=wanted).click()
        assert answer.value.status == 200, "htmx swaps 2xx only: a lost race is a normal answer"
        assert "text/html" in (answer.value.headers.get("content-type") or "")
        alert = table.locator("[role=alert]")
        expect(alert).to_have_text("방금 다른 기업이 이 시간을 예약했습니다. 다른 시간을 골라 주세요.")
        assert slow.page.evaluate("() => window.__loadedOnce === true"), "the page reloaded instead of a partial swap"
        expect(table.locator("li.slot-booked", has_text=wanted)).to_contain_text("예약됨")
        expect(table.locator("li.slot-free")).to_have_count(5)
        expect(table.locator("li.slot-mine")).to_have_count(0)
        slow.shot("told the slot was just taken")
        slow.check_a11y()

        # and a fresh slot books fine from the refreshed table
        table.locator("li.slot-free button", has_text="10:30").click()
        expect(table.locator("[role=status]")).to_contain_text("예약되었습니다")
        expect(table.locator("li.slot-mine")).to_have_count(1)
        slow.shot("booked another slot")
        assert errors == []
        fast.page.context.close()


class TestEnglishBookingAndAgenda:
    def test_a_firm_books_and_reads_its_agenda_in_english(
        self, journey: Journey, browser: Browser, seeder: Seeder
    ) -> None:
        tag = uuid.uuid4().hex[:4]
        agency = seeder.agency(name=f"Seoul Metropolitan Government {tag}")
        firm = seeder.firm(name=f"Mapo Clean Cooperative {tag}")
        fair_id = seeder.fair(f"Online procurement fair {tag}", "first_come", agency, firm)
        page = journey.page

        journey.who = "firm"
        journey.sign_in(firm.email, PASSWORD)
        journey.go(f"/fairs/{fair_id}/book")
        expect(page.locator("html")).to_have_attribute("lang", "ko")
        page.get_by_role("link", name="English").click()
        page.wait_for_url(f"**/fairs/{fair_id}/book")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("main .hint")).to_have_text(
            "Click a free slot to book it. The page updates without reloading."
        )
        expect(page.get_by_role("link", name="My agenda")).to_be_visible()
        journey.shot("booking page in english")
        journey.check_a11y()

        page.get_by_role("button", name=f"Book {agency.name} ", exact=False).nth(2).click()
        expect(page.locator("[role=status]")).to_have_text("Booked. The meeting is on your agenda.")
        expect(page.locator("li.slot-mine")).to_contain_text("your meeting")
        journey.shot("booked in english")

        page.get_by_role("link", name="My agenda").click()
        page.wait_for_url(f"**/fairs/{fair_id}/agenda")
        expect(page.locator("h1")).to_have_text(f"Online procurement fair {tag} · My agenda")
        row = page.locator("main tbody tr", has_text=agency.name)
        expect(row).to_contain_text("10:00")
        expect(row.get_by_role("link", name="Calendar invite")).to_be_visible()
        expect(row.get_by_role("button", name="Cancel")).to_be_visible()
        expect(page.locator("main thead")).to_contain_text("Online room")
        journey.shot("agenda in english")
        journey.check_a11y()

        # the agency reads the same meeting in English too
        buyer = tab_for(browser, journey, "agency", agency, locale="en-US")
        buyer.go(f"/fairs/{fair_id}/agenda")
        if buyer.page.locator("html").get_attribute("lang") != "en":
            buyer.page.get_by_role("link", name="English").click()
            buyer.page.wait_for_url(f"**/fairs/{fair_id}/agenda")
        expect(buyer.page.locator("html")).to_have_attribute("lang", "en")
        expect(buyer.page.locator("main tbody tr", has_text=firm.name)).to_contain_text("10:00")
        buyer.shot("agency agenda in english")
        buyer.check_a11y()
        buyer.page.context.close()


class TestMarkingSlotsUnavailable:
    def test_the_agency_marks_a_slot_and_the_firm_sees_it_unavailable(
        self, journey: Journey, browser: Browser, seeder: Seeder
    ) -> None:
        tag = uuid.uuid4().hex[:4]
        agency = seeder.agency(name=f"마포구청 {tag}")
        firm = seeder.firm(name=f"망원청소협동조합 {tag}")
        fair_id = seeder.fair(f"선착순 상담회 {tag}", "first_come", agency, firm)
        page = journey.page

        # the agency goes from its agenda to the page of slots it cannot attend
        journey.who = "agency"
        journey.sign_in(agency.email, PASSWORD)
        journey.go(f"/fairs/{fair_id}/agenda")
        page.get_by_role("link", name="참석할 수 없는 시간").click()
        page.wait_for_url(f"**/fairs/{fair_id}/unavailable")
        expect(page.locator("main fieldset legend")).to_have_count(1)
        expect(page.get_by_role("checkbox")).to_have_count(6)
        box = page.get_by_role("checkbox", name="10:00–10:30")
        expect(box).not_to_be_checked()
        box.check()
        page.get_by_role("button", name="저장").click()
        page.wait_for_url("**/unavailable?done=saved")
        expect(page.locator("[role=status]")).to_have_text("저장되었습니다.")
        expect(page.get_by_role("checkbox", name="10:00–10:30")).to_be_checked()
        expect(page.locator("input[type=checkbox]:checked")).to_have_count(1)
        journey.shot("slot marked unavailable")
        journey.check_a11y()

        # the firm's booking page shows that slot as unavailable, the others free
        seller = tab_for(browser, journey, "firm", firm)
        seller.go(f"/fairs/{fair_id}/book")
        table = seller.page.locator("section.fair-table")
        expect(table.locator("li.slot-unavailable")).to_have_count(1)
        expect(table.locator("li.slot-unavailable")).to_contain_text("10:00")
        expect(table.locator("li.slot-free")).to_have_count(5)
        seller.shot("firm sees the slot unavailable")
        seller.page.context.close()
