"""Each role's home after sign-in, in Korean, at a desktop and a phone width: an agency with a need, a
request waiting for its answer, a booked meeting, a contract to confirm and a target; a firm with a need
new since its last visit and its meeting; staff with the queues. Each goes home → the day's action →
back home; every home is shot at 1366x900 and 390x844 and audited with axe (no violation at all)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Journey
from tests.e2e.helpers import Seeded, Seeder, seoul_now
from tests.e2e.test_issue12_pages import Api, korean_page
from tests.factories import PASSWORD, agency_payload
from tests.factories_ops import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def seeder(server: LiveServer, staff_login: tuple[str, str]) -> Iterator[Seeder]:
    seeding = Seeder(server, *staff_login)
    yield seeding
    seeding.close()


def no_axe_violation(tab: Journey) -> None:
    """The last axe report of the tab lists no violation of any impact (check_a11y fails on serious ones)."""
    report = sorted(tab.folder.glob("axe-*.json"))[-1]
    violations = json.loads(report.read_text())["violations"]
    assert violations == [], json.dumps(violations, ensure_ascii=False, indent=1)


def home(tab: Journey, name: str, *expected: str) -> None:
    tab.page.wait_for_url(tab.base_url + "/")
    korean_page(tab, name, *expected)
    no_axe_violation(tab)
    tab.page.set_viewport_size({"width": 1366, "height": 900})


def seed_day(server: LiveServer, seeder: Seeder, agency: Seeded, firm: Seeded) -> dict[str, str]:
    """A need, a request waiting for the agency, a meeting tomorrow, a contract the agency must confirm,
    the agency's target, and an organization waiting for verification."""
    as_agency, as_firm = Api(server, agency.email), Api(server, firm.email)
    need = as_agency.call(
        "POST",
        "/needs",
        201,
        json={
            "title": "구청 청사 방역 소독 용역",
            "category_codes": ["CLN-DIS"],
            "budget_krw": 30_000_000,
            "needed_by": str(date.today() + timedelta(days=30)),
            "delivery_district": "mapo",
        },
    )
    booking_fair = seeder.fair("2026 겨울 공공구매 상담회", "first_come", agency, firm)
    start = (seoul_now() + timedelta(days=1)).replace(hour=9, minute=0)
    as_firm.call(
        "POST", f"/fairs/{booking_fair}/meetings", 201, json={"agency_id": agency.id, "start": start.isoformat()}
    )
    request_fair = seeder.fair("2026 사회적경제 구매 상담회", "requests", agency, firm)
    as_firm.call("POST", f"/fairs/{request_fair}/requests", 201, json={"agency_id": agency.id, "message": "견적 설명"})
    as_firm.call(
        "POST",
        "/contracts",
        201,
        json={
            "agency_id": agency.id,
            "firm_id": firm.id,
            "amount_krw": 12_000_000,
            "contract_date": str(date.today()),
            "title": "청사 방역 소독 용역",
        },
    )
    target = seeder.http.put(
        f"/targets/{agency.id}/{date.today().year}", json={"target_krw": 100_000_000}, headers=seeder.staff
    )
    assert target.status_code == 200, target.text
    waiting = seeder.http.post("/register", json=agency_payload(name="인증대기구청"))
    assert waiting.status_code == 201, waiting.text
    seeder.http.cookies.clear()
    as_agency.close()
    as_firm.close()
    return {"need": need["id"], "request_fair": request_fair, "booking_fair": booking_fair}


class TestHomes:
    def test_each_role_lands_on_its_home_and_goes_to_the_days_action(
        self, journey: Journey, server: LiveServer, seeder: Seeder, staff_login: tuple[str, str]
    ) -> None:
        agency = seeder.agency(name="마포구청")
        firm = seeder.firm(name="마포방역협동조합")
        ids = seed_day(server, seeder, agency, firm)
        page = journey.page

        journey.who = "agency"
        journey.sign_in(agency.email, PASSWORD)
        home(
            journey,
            "agency home",
            "답변을 기다리는 상담 요청",
            "마포방역협동조합",
            "맞는 기업 1곳",
            "확인을 기다리는 계약",
            "2026년 구매 목표",
        )
        page.locator(f"main a[href='/fairs/{ids['request_fair']}/requests']").first.click()
        page.wait_for_url(f"**/fairs/{ids['request_fair']}/requests")
        journey.shot("request inbox from home")
        page.get_by_role("button", name="수락하기").first.click()
        page.wait_for_load_state()
        page.locator("header a.brand").click()
        page.wait_for_url(journey.base_url + "/")
        expect(page.locator("main")).to_contain_text("답변을 기다리는 상담 요청이 없습니다.")
        journey.shot("agency home after answering")
        journey.sign_out()

        journey.who = "firm"
        journey.sign_in(firm.email, PASSWORD)
        home(journey, "firm home", "다가오는 상담", "마포구청", "새 수요", "구청 청사 방역 소독 용역")
        expect(page.locator("main a[href^='/meetings/'][href$='/invite.ics']")).to_have_count(1)
        page.locator(f"main a[href='/needs/{ids['need']}']").click()
        page.wait_for_url(f"**/needs/{ids['need']}")
        journey.shot("need from home")
        page.locator("header a.brand").click()
        page.wait_for_url(journey.base_url + "/")
        # coming back within the same visit keeps the marks (a visit ends after 30 minutes away)
        expect(page.locator("main .tag", has_text="새 수요")).to_have_count(1)
        journey.shot("firm home after the visit")
        journey.sign_out()

        journey.who = "staff"
        journey.sign_in(*staff_login)
        home(journey, "staff home", "인증을 기다리는 기관·기업 1곳", "진행 중인 상담회", "2026년 구매 목표 합계")
        page.locator("main a[href='/staff/organizations']").click()
        page.wait_for_url("**/staff/organizations")
        expect(page.locator("tbody tr", has_text="인증대기구청")).to_have_count(1)
        journey.shot("verification queue from home")
        page.locator("header a.brand").click()
        page.wait_for_url(journey.base_url + "/")
