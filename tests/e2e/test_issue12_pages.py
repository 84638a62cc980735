"""The pages issue 12 changed, in Korean, at a desktop and a phone width: throttled registration and
sign-in, a verified firm's held profile change (the firm's view and the staff queue), a request inbox
before and after the final agenda, a disputed outcome on the grid and the agenda, form errors from a
malformed id or an out-of-range value, and a create form sent again, edited, with its used token.

The state is built through the JSON API (fast); each page is then opened in the browser, shot at
1366x900 and 390x844, audited with axe, and read for its Korean text and for English words that
leaked from a missing translation."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import OUTPUT, Journey, Mailbox
from tests.e2e.helpers import Seeded, Seeder, second_tab, seoul_now
from tests.e2e.test_registration_journeys import fill_firm
from tests.factories import PASSWORD, business_number, firm_payload
from tests.factories_ops import LiveServer, live_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

WIDTHS = ((1366, 900), (390, 844))
# English interface words that must not show on a Korean page (visible text or accessible names)
ENGLISH = (
    "Accept",
    "Decline",
    "Reject",
    "Saved",
    "Error",
    "Pending",
    "Outcome",
    "disputed",
    "Agency",
    "Firm",
    "Start",
    "Submit",
    "Change",
    "Request",
    "Reason",
    "Too many",
    "Try again",
    "not a valid",
    "must be",
    "is required",
    "Open what",
    "Bulk import",
    "already submitted",
)


def korean_page(tab: Journey, name: str, *expected: str) -> None:
    """Shoot the page at both widths, audit it, and read it: every `expected` text is there and no
    English interface word is, neither in the text nor in the title or accessible names."""
    page = tab.page
    for text in expected:
        expect(page.locator("body")).to_contain_text(text)
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        tab.shot(f"{name} {width}")
        # nothing wider than the phone's screen: no sideways scrolling of the whole page
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name}: the page is {overflow}px wider than {width}px"
    tab.check_a11y()
    shown: str = page.evaluate(
        """() => [document.title, document.body.innerText,
            ...[...document.querySelectorAll('[aria-label],[placeholder],[title],[alt]')].flatMap(
                e => ['aria-label', 'placeholder', 'title', 'alt'].map(a => e.getAttribute(a) || ''))
           ].join('\\n')"""
    )
    leaked = [word for word in ENGLISH if re.search(rf"\b{re.escape(word)}\b", shown)]
    assert not leaked, f"{name}: English on the Korean page: {leaked}"


class Api:
    """Bearer-token calls to the live server's JSON API as one organization's user."""

    def __init__(self, server: LiveServer, email: str) -> None:
        self.http = httpx.Client(base_url=server.base_url + "/api/v1", timeout=20)
        response = self.http.post("/auth/login", json={"email": email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        self.http.headers["Authorization"] = f"Bearer {response.json()['token']}"
        self.http.cookies.clear()

    def call(self, method: str, path: str, expected: int = 200, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        assert response.status_code == expected, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def server(e2e_database_url: str, tmp_path: Path, mailbox: tuple[Mailbox, int]) -> Iterator[LiveServer]:
    """conftest's server with the real registration limit (5 an hour per address; the journeys'
    default lifts it because all their clients come from 127.0.0.1)."""
    _, smtp_port = mailbox
    env = {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_SECURITY": "none",
        "SCHEDULER_ENABLED": "1",
        "REGISTRATION_LIMIT_PER_HOUR": "5",
    }
    with live_server(e2e_database_url, tmp_path, OUTPUT / "logs", extra_env=env) as running:
        yield running


@pytest.fixture
def seeder(server: LiveServer, staff_login: tuple[str, str]) -> Iterator[Seeder]:
    seeding = Seeder(server, *staff_login)
    yield seeding
    seeding.close()


@pytest.fixture
def api_for(server: LiveServer) -> Iterator[Any]:
    opened: list[Api] = []

    def sign_in(account: Seeded) -> Api:
        opened.append(Api(server, account.email))
        return opened[-1]

    yield sign_in
    for api in opened:
        api.close()


def tab(browser: Browser, lead: Journey, who: str, account: Seeded | None = None, password: str = PASSWORD) -> Journey:
    opened = second_tab(browser, lead, who)
    if account is not None:
        opened.sign_in(account.email, password)
    return opened


def request_with_a_malformed_agency_id(firm_tab: Journey, fair_id: str) -> None:
    """The request form sent with an agency id that is not one comes back with the field's error."""
    firm_tab.go(f"/fairs/{fair_id}/book")
    firm_tab.page.locator("#r-agency option").first.evaluate("o => { o.value = 'not-a-uuid'; }")
    with firm_tab.page.expect_response(lambda r: r.request.method == "POST") as answer:
        firm_tab.page.locator("form[action$='/requests'] button[type=submit]").click()
    assert answer.value.status == 422
    expect(firm_tab.page.locator("#r-agency")).to_have_attribute("aria-invalid", "true")
    described = firm_tab.page.locator("#r-agency").get_attribute("aria-describedby") or ""
    for ref in described.split():
        expect(firm_tab.page.locator(f"#{ref}")).to_have_count(1)
    expect(firm_tab.page.locator("#error-summary a[href='#r-agency']")).to_have_count(1)
    korean_page(firm_tab, "request malformed agency", "목록에서 다시 골라 주세요")


def rename_held_for_review(firm_b_tab: Journey, firm_b: Seeded, tag: str) -> None:
    """Renamed with a new business number on /me: the change is held, shown old -> new."""
    firm_b_tab.go("/me")
    firm_b_tab.page.locator("#f-name").fill(f"은평돌봄협동조합 {tag}")
    firm_b_tab.page.locator("#f-business_number").fill(business_number())
    firm_b_tab.page.locator("main form[action='/me/organization'] button[type=submit]").click()
    firm_b_tab.page.wait_for_url("**/me?saved=1")
    expect(firm_b_tab.page.locator("h1")).to_have_text(firm_b.name)  # the verified name until reviewed
    expect(firm_b_tab.page.locator("#pending-changes")).to_contain_text(f"은평돌봄협동조합 {tag}")
    korean_page(firm_b_tab, "me pending change", "지원센터 확인 후 반영됩니다", "지원센터 확인을 기다리고", "→")


def fair_form_errors(staff: Journey, tag: str) -> datetime:
    """A script link and a day out of range, both named at their fields (422). Returns the moment
    the form was filled in."""
    staff.go("/fairs")
    page = staff.page
    moment = seoul_now()
    page.locator("#f-name").fill(f"잘못 입력한 상담회 {tag}")
    page.locator("input[name=mode][value=first_come]").check()
    page.locator("#f-dates").fill("0001-01-01")
    page.locator("#f-start").fill("09:00")
    page.locator("#f-end").fill("12:00")
    page.locator("#f-slot_minutes").fill("30")
    page.locator("#f-booking_opens_at").fill(moment.strftime("%Y-%m-%dT%H:%M"))
    page.locator("#f-booking_closes_at").fill(moment.strftime("%Y-12-31T18:00"))
    page.locator("#f-room_url_template").fill("javascript:alert(1)")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.locator("main form button[type=submit]").last.click()
    assert answer.value.status == 422
    expect(page.locator("#f-room_url_template")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-room_url_template")).to_have_attribute(
        "aria-describedby", "h-room_url_template e-room_url_template"
    )
    expect(page.locator("#error-summary a[href='#f-room_url_template']")).to_have_count(1)
    expect(page).to_have_title(re.compile(r"^오류: "))
    korean_page(
        staff,
        "fair form errors",
        "https://로 시작하는 링크를 입력해 주세요",
        "2000년부터 2100년 사이의 날짜로 입력해 주세요",
    )
    return moment


def form_sent_twice(staff: Journey, tag: str, moment: datetime) -> None:
    """The form sent, then edited and sent again with its used token: the answer says so and links
    the fair."""
    page = staff.page
    page.locator("#f-dates").fill(moment.date().isoformat())
    page.locator("#f-room_url_template").fill("")
    page.locator("main form").last.evaluate(
        """f => fetch(f.action, {method: 'POST', body: new URLSearchParams(new FormData(f)),
            redirect: 'manual', credentials: 'same-origin'})"""
    )
    page.locator("#f-name").fill(f"고쳐서 다시 보낸 상담회 {tag}")  # an edited resubmission of the used token
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.locator("main form button[type=submit]").last.click()
    assert answer.value.status == 409
    expect(page.locator("h1")).to_have_text("이미 제출된 양식입니다")
    expect(page.get_by_role("link", name="제출된 내용 보기")).to_have_attribute("href", re.compile(r"/fairs/"))
    korean_page(staff, "form sent twice", "제출된 내용 보기")


def throttles(browser: Browser, journey: Journey, seeder: Seeder, outsider: Seeded, tag: str) -> None:
    """The sixth registration from this address in an hour, and a locked sign-in."""
    extra = seeder.http.post("/register", json=firm_payload())
    assert extra.status_code == 201, extra.text
    seeder.http.cookies.clear()
    visitor = tab(browser, journey, "visitor")
    visitor.go("/register?kind=firm")
    fill_firm(visitor, f"late-{tag}@example.kr", f"늦은협동조합 {tag}")
    with visitor.page.expect_response(lambda r: r.request.method == "POST") as answer:
        visitor.page.locator("main form button[type=submit]").last.click()
    assert answer.value.status == 429
    korean_page(visitor, "register throttled", "같은 IP 주소에서 가입 신청이", "분 뒤에 다시 신청해 주세요")

    for _ in range(5):
        wrong = seeder.http.post("/auth/login", json={"email": outsider.email, "password": "not-the-password"})
        assert wrong.status_code == 401, wrong.text
    visitor.go("/login")
    visitor.page.locator("#email").fill(outsider.email)
    visitor.page.locator("#password").fill(PASSWORD)
    with visitor.page.expect_response(lambda r: r.request.method == "POST") as answer:
        visitor.page.locator("main form button[type=submit]").click()
    assert answer.value.status == 429
    korean_page(visitor, "sign-in locked", "로그인 실패가 너무 많습니다", "분 뒤에 다시 로그인해 주세요")


def participant_id_not_listed(staff: Journey, fair_id: str, outsider: Seeded) -> None:
    page = staff.page
    staff.go(f"/fairs/{fair_id}")
    page.get_by_label(outsider.name, exact=False).evaluate("box => { box.value = 'not-a-uuid'; }")
    page.get_by_label(outsider.name, exact=False).check()
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="선택한 곳 추가").click()
    assert answer.value.status == 422
    korean_page(staff, "setup participant error", "올바른 ID가 아닙니다")


class TestIssue12PagesInKorean:
    def test_changed_pages_read_in_korean_at_both_widths(
        self,
        journey: Journey,
        browser: Browser,
        server: LiveServer,
        seeder: Seeder,
        api_for: Any,
        staff_login: tuple[str, str],
    ) -> None:
        tag = uuid.uuid4().hex[:4]
        # four registrations from this address: the fifth is the last one the hour allows
        agency = seeder.agency(name=f"마포구청 {tag}")
        firm_a = seeder.firm(name=f"마포방역협동조합 {tag}")
        firm_b = seeder.firm(name=f"은평돌봄사회적협동조합 {tag}")
        outsider = seeder.firm(name=f"서대문청소협동조합 {tag}")
        fair_id = seeder.fair(f"2026 공공구매 상담회 {tag}", "requests", agency, firm_a, firm_b, days_from_today=-1)
        staff_api = seeder.http
        as_agency, as_firm_a = (api_for(o) for o in (agency, firm_a))

        # both firms ask the agency; the agency accepts one and declines the other
        asked = [
            api.call("POST", f"/fairs/{fair_id}/requests", 201, json={"agency_id": agency.id, "message": "견적 설명"})
            for api in (as_firm_a, api_for(firm_b))
        ]
        as_agency.call("POST", f"/requests/{asked[0]['id']}/accept")
        as_agency.call("POST", f"/requests/{asked[1]['id']}/decline")

        # -- agency: the inbox offers the other decision on decided requests ----------------------
        agency_tab = tab(browser, journey, "agency", agency)
        agency_tab.go(f"/fairs/{fair_id}/requests")
        changes = agency_tab.page.locator("main a[href*='change=true']")
        expect(changes).to_have_count(2)  # each decided request offers only the other decision, confirmed first
        korean_page(agency_tab, "inbox decided", "수락으로 바꾸기", "거절로 바꾸기")

        # -- firm A: a request form sent with a malformed agency id comes back with the field's error
        firm_tab = tab(browser, journey, "firm a", firm_a)
        request_with_a_malformed_agency_id(firm_tab, fair_id)

        # -- firm B: renamed with a new business number on /me; the change is held, old -> new ------
        firm_b_tab = tab(browser, journey, "firm b", firm_b)
        rename_held_for_review(firm_b_tab, firm_b, tag)

        # -- staff: the queue of held changes -------------------------------------------------------
        staff = journey
        staff.who = "staff"
        staff.sign_in(*staff_login)
        staff.go("/staff/organizations")
        expect(staff.page.locator("#changes caption")).to_have_text("확인을 기다리는 정보 변경")
        korean_page(staff, "staff change queue", "변경 승인", "변경 반려", f"은평돌봄협동조합 {tag}")

        # the fair form: a script link and a day out of range, both named at their fields (422)
        moment = fair_form_errors(staff, tag)
        page = staff.page

        # the form sent, then edited and sent again with its used token: the answer says so and links the fair
        form_sent_twice(staff, tag, moment)

        # the setup page: a participant id that is not one of the listed organizations
        participant_id_not_listed(staff, fair_id, outsider)

        # the agenda becomes final (its slots are over: the fair is today 09:00-12:00), then the
        # two sides report different outcomes
        scheduled = staff_api.post(f"/fairs/{fair_id}/schedule", headers=seeder.staff)
        assert scheduled.status_code == 200, scheduled.text
        final = staff_api.post(f"/fairs/{fair_id}/agenda/final", headers=seeder.staff)
        assert final.status_code == 200, final.text
        meeting_id = as_agency.call("GET", "/me/meetings", params={"fair_id": fair_id})[0]["id"]
        as_agency.call("POST", f"/meetings/{meeting_id}/outcome", json={"outcome": "held"})
        as_firm_a.call("POST", f"/meetings/{meeting_id}/outcome", json={"outcome": "no_show"})

        staff.go(f"/fairs/{fair_id}/grid")
        expect(page.locator(".disputed")).to_have_count(1)
        korean_page(staff, "grid disputed", "결과 이견", "기관 보고: 진행됨", "기업 보고: 불참")

        agency_tab.go(f"/fairs/{fair_id}/agenda")
        expect(agency_tab.page.locator(".disputed")).to_have_count(1)
        korean_page(agency_tab, "agenda disputed", "결과 이견")

        agency_tab.go(f"/fairs/{fair_id}/requests")
        expect(agency_tab.page.locator("main table form")).to_have_count(0)
        korean_page(agency_tab, "inbox after final agenda", "상담 요청이 마감되었습니다")

        # -- throttles: the sixth registration from this address in an hour, a locked sign-in ------
        throttles(browser, journey, seeder, outsider, tag)
