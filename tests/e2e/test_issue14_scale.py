"""Issue 14 §5, staff at scale: the organization pickers are search boxes, in Korean, at a desktop
and a phone width. Staff find a fair's participants by name and by district (htmx live results), two
same-named firms told apart by their business numbers and districts; an agency finds the firm of a
contract it reports. Each page is shot at 1366x900 and 390x844 and audited with axe."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Journey
from tests.e2e.helpers import Seeder
from tests.e2e.test_issue12_pages import korean_page, tab
from tests.factories_ops import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def seeder(server: LiveServer, staff_login: tuple[str, str]) -> Iterator[Seeder]:
    seeding = Seeder(server, *staff_login)
    yield seeding
    seeding.close()


def search(tab_: Journey, box: str, text: str) -> None:
    """Type into a picker's search box and wait for its live results."""
    page = tab_.page
    with page.expect_response(lambda r: r.request.method == "GET" and "q=" in r.url):
        page.locator(box).fill(text)
    page.wait_for_timeout(100)


class TestPickers:
    def test_participant_and_contract_pickers_search(
        self, journey: Journey, browser: Browser, server: LiveServer, seeder: Seeder, staff_login: tuple[str, str]
    ) -> None:
        tag = uuid.uuid4().hex[:4]
        agency = seeder.agency(name=f"성북구청 {tag}")
        twin_a = seeder.firm(name=f"햇살돌봄협동조합 {tag}", district="seongbuk")
        twin_b = seeder.firm(name=f"햇살돌봄협동조합 {tag}", district="nowon")
        seeder.firm(name=f"노원두레청소 {tag}", district="nowon")
        fair_id = seeder.fair(f"2026 공공구매 상담회 {tag}", "first_come", agency)

        staff = journey
        staff.who = "staff"
        staff.sign_in(*staff_login)
        staff.go(f"/fairs/{fair_id}")
        search(staff, "#organization_id-q", f"햇살돌봄 {tag}")
        options = staff.page.locator("#organization_id-results label.picker-option")
        expect(options).to_have_count(2)
        # same names, ordered by district: 노원 (nowon) before 성북 (seongbuk)
        expect(options.first).to_contain_text("노원구")
        expect(options.last).to_contain_text("성북구")
        options.last.locator("input").check()
        # a second search keeps the first choice (성북), ticked, on top
        search(staff, "#organization_id-q", f"노원 {tag}")
        expect(options).to_have_count(3)
        expect(options.first.locator("input")).to_be_checked()
        korean_page(staff, "participant picker", "이름, 사업자등록번호 또는 자치구로 검색", "노원두레청소")
        options.last.locator("input").check()
        staff.page.get_by_role("button", name="선택한 곳 추가").click()
        staff.page.wait_for_url("**?done=added")
        rows = staff.page.locator("main table tbody th")
        expect(rows).to_have_count(3)

        agency_tab: Any = tab(browser, journey, "agency", agency)
        agency_tab.go("/contracts/new")
        search(agency_tab, "#firm_id-q", f"햇살 {tag}")
        firms = agency_tab.page.locator("#firm_id-results label.picker-option")
        expect(firms).to_have_count(2)
        expect(agency_tab.page.locator("#firm_id-results")).to_contain_text("-")  # business numbers
        korean_page(agency_tab, "contract firm picker", "계약 보고", "햇살돌봄협동조합")
        assert twin_a.id != twin_b.id

        # a paged list: 55 contracts of 2021, 50 a page, the year kept in the page links
        for n in range(55):
            body = {
                "agency_id": agency.id, "firm_id": twin_a.id if n % 2 else twin_b.id, "amount_krw": 1_000_000 * (n + 1),
                "contract_date": f"2021-{1 + n % 12:02d}-15", "title": f"청사 청소 용역 {n + 1}차",
                "channel": "proposal" if n % 3 else "other",
            }  # fmt: skip
            made = seeder.http.post("/contracts", json=body, headers=seeder.staff)
            assert made.status_code == 201, made.text
        staff.go("/contracts?year=2021")
        expect(staff.page.locator("nav.pager a[aria-current=page]")).to_have_text("1")
        staff.page.locator("nav.pager a[rel=next]").click()
        staff.page.wait_for_url("**/contracts?year=2021&page=2")
        expect(staff.page.locator("nav.pager")).to_contain_text("전체 55건 중 51–55")
        expect(staff.page.locator("#f-year")).to_have_value("2021")
        # the contract tables themselves become cards on phones with §6; the filters and page links fit now
        for width, height in ((1366, 900), (390, 844)):
            staff.page.set_viewport_size({"width": width, "height": height})
            staff.shot(f"contracts page 2 {width}")
            for part in ("nav.pager", "form.filters-row"):
                box = staff.page.locator(part).bounding_box()
                assert box is not None and box["x"] + box["width"] <= width, f"{part} wider than {width}px"
        staff.check_a11y()
        # the import page: the code list opens, and the page reads in Korean at both widths
        staff.go("/staff/imports")
        staff.page.locator("details.code-list summary").click()
        korean_page(staff, "import page with codes", "품목분류 코드", "CLN-DIS", "방역·소독")
