"""Every page of the three roles on a phone (390x844) and on a desktop (1366x900): no page wider
than the screen, a header at most 64 px tall with its 전체메뉴 menu, axe-core without violations,
a `lang` on every page (the 404 too) and the favicon linked. Screenshots land under
test-output/e2e/test_every_page_fits_a_phone/.

The state (a need, a first-come fair with a booked meeting, a contract, mail in the outbox) is
built through the JSON API, so that lists and tables have rows to lay out as cards."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Journey
from tests.e2e.helpers import Seeded, Seeder, second_tab
from tests.factories import PASSWORD, firm_payload
from tests.factories_ops import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


class Api:
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


@pytest.fixture
def seeder(server: LiveServer, staff_login: tuple[str, str]) -> Iterator[Seeder]:
    seeding = Seeder(server, *staff_login)
    yield seeding
    seeding.close()


def build_state(server: LiveServer, seeder: Seeder) -> dict[str, Any]:
    agency = seeder.agency(name="서울특별시 마포구청", district="mapo")
    firm = seeder.firm(name="마포나눔협동조합", category_codes=["CLN-DIS"])
    fair_id = seeder.fair("2026 마포 공공구매 상담회", "first_come", agency, firm)
    # one organization awaiting verification, so that the staff queue has a row
    waiting = seeder.http.post("/register", json=firm_payload(name="성동두레사회적협동조합", district="seongdong"))
    assert waiting.status_code == 201, waiting.text
    seeder.http.cookies.clear()
    as_agency, as_firm = Api(server, agency.email), Api(server, firm.email)
    slots = as_firm.call("GET", f"/fairs/{fair_id}/slots", params={"agency_id": agency.id})
    free = [s for s in slots if s["status"] == "free"]
    as_firm.call("POST", f"/fairs/{fair_id}/meetings", 201, json={"agency_id": agency.id, "start": free[0]["start"]})
    need = as_agency.call(
        "POST",
        "/needs",
        201,
        json={
            "title": "구청사 정기 방역 소독",
            "description": "본관과 별관, 연 4회 방역 소독",
            "category_codes": ["CLN-DIS"],
            "budget_krw": 18_000_000,
            "needed_by": f"{datetime.now().year + 1}-03-31",
            "delivery_district": "mapo",
        },
    )
    contract = as_agency.call(
        "POST",
        "/contracts",
        201,
        json={
            "agency_id": agency.id,
            "firm_id": firm.id,
            "amount_krw": 12_500_000,
            "contract_date": datetime.now().date().isoformat(),
            "title": "청사 방역 소독 용역",
            "category_code": "CLN-DIS",
        },
    )
    for api in (as_agency, as_firm):
        api.http.close()
    return {"agency": agency, "firm": firm, "fair": fair_id, "need": need["id"], "contract": contract["id"]}


def pages_of(role: str, s: dict[str, Any]) -> list[str]:
    fair, need, contract = s["fair"], s["need"], s["contract"]
    agency, firm = s["agency"].id, s["firm"].id
    common = [
        "/",
        "/fairs",
        f"/fairs/{fair}",
        f"/fairs/{fair}/agenda",
        "/contracts",
        f"/contracts/{contract}",
        "/me",
        "/me/notifications",
        "/me/account",
    ]
    if role == "staff":
        return [
            *common,
            f"/fairs/{fair}/grid",
            "/staff/organizations",
            "/staff/imports",
            "/firms",
            f"/firms/{firm}",
            f"/agencies/{agency}",
            "/needs",
            f"/needs/{need}",
            "/staff/matching",
            "/reports",
            "/staff/purchases",
            "/consultations",
            "/consultations/hours",
            "/programs/sessions",
            "/programs/sessions/new",
            "/programs/activities",
            "/reports/programs",
            "/staff/mail",  # last: the walk goes on to a mail it lists
        ]
    if role == "agency":
        return [
            *common,
            f"/fairs/{fair}/unavailable",
            "/needs",
            "/needs/new",
            f"/needs/{need}",
            "/firms",
            f"/firms/{firm}",
            "/contracts/new",
            "/reports/mine",
            "/organization/members",
            "/consultations",
            "/consultations/new",
            "/programs/sessions",
        ]
    return [
        *common, f"/fairs/{fair}/book", "/needs", f"/needs/{need}", "/contracts/new", "/reports/mine",
        "/organization/members", "/consultations", "/consultations/new", "/programs/sessions",
    ]  # fmt: skip


def fits(tab: Journey, path: str) -> None:
    """The page as it is now: `lang` set, favicon linked, no sideways scroll, header ≤ 64 px at 390."""
    page = tab.page
    facts = page.evaluate(
        """() => ({lang: document.documentElement.lang,
                   icon: !!document.querySelector('link[rel=icon]'),
                   width: document.documentElement.scrollWidth,
                   viewport: window.innerWidth,
                   header: document.querySelector('header.top')?.getBoundingClientRect().height || 0})"""
    )
    assert facts["lang"] in ("ko", "en"), f"{path}: no lang ({facts})"
    assert facts["icon"], f"{path}: no favicon link"
    assert facts["width"] <= facts["viewport"], f"{path}: {facts['width']} px wide at {facts['viewport']} px"
    if facts["viewport"] <= 390:
        assert 0 < facts["header"] <= 64, f"{path}: header {facts['header']} px tall at 390 px"
        small = page.evaluate(
            """() => [...document.querySelectorAll('main :is(button, select, summary, input:not([type=hidden],'
                    + '[type=checkbox],[type=radio]), label:has(> input:is([type=checkbox],[type=radio]))),'
                    + ' header :is(summary, nav a)')]
                .filter(e => e.offsetParent !== null || e.tagName === 'SUMMARY')
                .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height < 44; })
                .map(e => e.tagName + ' ' + (e.textContent || e.name || '').trim().slice(0, 30))"""
        )
        assert not small, f"{path}: controls smaller than 44 px for a thumb: {small}"


def walk(tab: Journey, paths: list[str], statuses: dict[str, int]) -> None:
    """Each path at 390 px (shot, measured, audited), then at 1366 px (shot, measured)."""
    for path in paths:
        for size in (PHONE, DESKTOP):
            tab.page.set_viewport_size(size)
            response = tab.page.goto(tab.base_url + path)
            assert response is not None
            statuses[f"{tab.who} {path}"] = response.status
            tab.page.wait_for_load_state()
            shown = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "id", path)
            tab.shot(f"{shown} {size['width']}")
            if size is PHONE:  # the first screenful, at a size the image viewer shows unscaled
                tab.page.screenshot(path=str(tab.folder / f"{tab.step:02d}-top.png"))
            fits(tab, path)
            if size is PHONE:
                tab.check_a11y()


def menu_opens_and_closes(tab: Journey) -> None:
    """At 390 px the nav is hidden behind 전체메뉴 (aria-expanded false); a tap shows it, Esc hides it;
    at 1366 px the nav is shown and the toggle is not."""
    page = tab.page
    page.set_viewport_size(PHONE)
    tab.go("/")
    toggle = page.locator("header summary")
    nav = page.locator("header nav")
    expect(toggle).to_have_text("전체메뉴")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link", name="계약")).to_be_visible()
    tab.shot("menu open 390")
    tab.check_a11y()
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(toggle).to_be_focused()
    page.set_viewport_size(DESKTOP)
    expect(nav).to_be_visible()
    expect(toggle).to_be_hidden()


def test_every_page_fits_a_phone(
    browser: Browser, journey: Journey, server: LiveServer, seeder: Seeder, staff_login: tuple[str, str]
) -> None:
    state = build_state(server, seeder)
    statuses: dict[str, int] = {}
    journey.who = "anon"
    walk(journey, ["/login", "/register", "/password-reset", "/no-such-page"], statuses)
    journey.page.context.clear_cookies()

    staff = second_tab(browser, journey, "staff")
    staff.sign_in(*staff_login)
    menu_opens_and_closes(staff)
    walk(staff, pages_of("staff", state), statuses)
    mail = staff.page.locator("main a[href^='/staff/mail/']").first.get_attribute("href")
    assert mail, "the outbox lists the booking's mail"
    walk(staff, [mail], statuses)

    for role in ("agency", "firm"):
        account: Seeded = state[role]
        tab = second_tab(browser, journey, role)
        tab.sign_in(account.email, PASSWORD)
        walk(tab, pages_of(role, state), statuses)

    failed = {page: code for page, code in statuses.items() if code >= 400 and "no-such-page" not in page}
    assert not failed, json.dumps(failed, ensure_ascii=False)
    assert statuses["anon /no-such-page"] == 404


def test_menu_works_without_script(browser: Browser, server: LiveServer) -> None:
    """With JavaScript off the <details> menu still opens at 390 px."""
    context = browser.new_context(java_script_enabled=False, viewport=PHONE, locale="ko-KR")
    page = context.new_page()
    try:
        page.goto(server.base_url + "/login")
        nav = page.locator("header nav")
        expect(nav).to_be_hidden()
        page.locator("header summary").click()
        expect(nav).to_be_visible()
        expect(nav.get_by_role("link", name="로그인")).to_be_visible()
    finally:
        context.close()
