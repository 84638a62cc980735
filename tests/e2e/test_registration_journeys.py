"""Registration and verification, the way an agency, a firm and the support center meet them in a browser."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Journey
from tests.factories import business_number

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PASSWORD = "correct-horse-battery"


def fill_agency(journey: Journey, address: str, name: str, password: str) -> None:
    page = journey.page
    page.locator("#f-user_email").fill(address)
    page.locator("#f-user_password").fill(password)
    page.locator("#f-user_name").fill("김구매")
    page.locator("#f-name").fill(name)
    page.locator("#f-district").select_option("eunpyeong")
    page.locator("#f-agency_type").select_option("district_office")


def fill_firm(journey: Journey, address: str, name: str) -> None:
    page = journey.page
    page.locator("#f-user_email").fill(address)
    page.locator("#f-user_password").fill(PASSWORD)
    page.locator("#f-user_name").fill("이대표")
    page.locator("#f-name").fill(name)
    page.locator("#f-district").select_option("mapo")
    page.locator("#f-business_number").fill(business_number())
    page.locator("input[name=firm_types][value=cooperative]").check()
    checkbox = page.locator("input[name=category_codes][value=CLN-DIS]")
    if checkbox.count():  # the taxonomy as checkboxes in collapsible groups (registry with the directory) ...
        if not checkbox.is_visible():
            checkbox.locator("xpath=ancestor::details[1]/summary").click()
        checkbox.check()
    else:  # ... or as a comma-separated text field
        page.locator("#f-category_codes").fill("CLN-DIS")
    page.locator("#f-description").fill("청사 방역 소독 전문 협동조합")


def submit(journey: Journey) -> None:
    journey.page.locator("main form button[type=submit]").last.click()
    journey.page.wait_for_load_state()


def from_home(journey: Journey, href: str) -> None:
    """Sign-in lands on the home (`/`); go on through the header's link to `href`."""
    journey.page.wait_for_url(journey.base_url + "/")
    journey.page.locator(f"header a[href='{href}']").click()
    journey.page.wait_for_url(f"**{href}")


class TestAgencyIsVerified:
    def test_register_with_an_error_then_staff_verifies_from_the_queue(self, journey: Journey, staff_login):
        page = journey.page
        address = f"buyer-{uuid.uuid4().hex[:6]}@eunpyeong.go.kr"
        name = f"은평구청 {uuid.uuid4().hex[:4]}"

        journey.who = "agency"
        journey.go("/")
        journey.shot("home")
        journey.check_a11y()
        page.get_by_role("link", name="공공기관 가입").first.click()
        expect(page.locator("h1")).to_have_text("공공기관 가입")
        journey.shot("registration form")
        journey.check_a11y()

        # a password that is too short: the page comes back with the error next to the field
        fill_agency(journey, address, name, password="short")
        submit(journey)
        expect(page.locator("[role=alert]")).to_contain_text("표시된 항목을 고쳐 주세요")
        expect(page.locator("#f-user_password")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#e-user_password")).to_be_visible()
        # the error and the hint are announced with the field, and the browser knows what to fill in
        expect(page.locator("#f-user_password")).to_have_attribute(
            "aria-describedby", "h-user_password e-user_password"
        )
        expect(page.locator("#f-user_password")).to_have_attribute("autocomplete", "new-password")
        expect(page.locator("#f-user_email")).to_have_value(address)  # what was typed is kept
        journey.shot("field error")
        journey.check_a11y()

        page.locator("#f-user_password").fill(PASSWORD)
        submit(journey)
        page.wait_for_url("**/me")
        expect(page.locator(".status strong")).to_have_text("승인 대기")
        journey.shot("awaiting verification")
        journey.check_a11y()
        journey.sign_out()

        journey.who = "staff"
        staff_email, staff_password = staff_login
        journey.sign_in(staff_email, staff_password)
        from_home(journey, "/staff/organizations")
        row = page.locator("tbody tr", has_text=name)
        expect(row).to_have_count(1)
        journey.shot("verification queue")
        journey.check_a11y()
        row.get_by_role("button", name=f"승인 {name}").click()
        page.wait_for_url("**/staff/organizations?done=verify")
        expect(page.locator("[role=status]")).to_be_visible()
        expect(page.locator("tbody tr", has_text=name)).to_have_count(0)
        journey.shot("verified")
        journey.sign_out()

        journey.who = "agency"
        journey.sign_in(address, PASSWORD)
        from_home(journey, "/me")
        expect(page.locator(".status strong")).to_have_text("승인됨")
        expect(page.locator(".status")).to_have_class("status status-verified")
        journey.shot("sees verified")
        journey.check_a11y()


class TestRejectedRegistration:
    def test_the_firm_sees_the_reason(self, journey: Journey, staff_login):
        page = journey.page
        address = f"ceo-{uuid.uuid4().hex[:6]}@coop.kr"
        name = f"마포돌봄협동조합 {uuid.uuid4().hex[:4]}"
        reason = "사업자등록증 사본의 상호가 신청 내용과 다릅니다."

        journey.who = "firm"
        journey.go("/register?kind=firm")
        journey.check_a11y()
        fill_firm(journey, address, name)
        journey.shot("firm form filled")
        submit(journey)
        page.wait_for_url("**/me")
        journey.sign_out()

        journey.who = "staff"
        journey.sign_in(*staff_login)
        from_home(journey, "/staff/organizations")
        row = page.locator("tbody tr", has_text=name)
        row.get_by_label(f"반려 사유 {name}").fill(reason)
        journey.shot("reason typed")
        row.get_by_role("button", name="반려").click()
        page.wait_for_url("**/staff/organizations?done=reject")
        expect(page.locator("tbody tr", has_text=name)).to_have_count(0)
        journey.sign_out()

        journey.who = "firm"
        journey.sign_in(address, PASSWORD)
        from_home(journey, "/me")
        expect(page.locator(".status strong")).to_have_text("반려됨")
        expect(page.locator("main")).to_contain_text(reason)
        journey.shot("sees the reason")
        journey.check_a11y()


class TestEnglishInterface:
    def test_switch_to_english_and_back(self, journey: Journey):
        page = journey.page
        journey.who = "visitor"
        journey.go("/register?kind=agency")
        expect(page.locator("html")).to_have_attribute("lang", "ko")
        page.get_by_role("link", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("h1")).to_have_text("Register an agency")
        assert page.url.endswith("/register?kind=agency"), "the switch returns to the page it was clicked on"
        journey.shot("english registration")
        journey.check_a11y()

        journey.go("/login")
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        journey.shot("english sign in")
        journey.check_a11y()

        page.get_by_role("link", name="한국어").click()
        expect(page.locator("html")).to_have_attribute("lang", "ko")
        expect(page.get_by_role("button", name="로그인")).to_be_visible()
        journey.shot("back to korean")


class TestTheHarnessCanFail:
    def test_axe_reports_a_serious_violation(self, journey: Journey):
        journey.go("/login")
        # a button without an accessible name is a "critical" violation (button-name)
        journey.page.evaluate("() => document.querySelector('main').appendChild(document.createElement('button'))")
        with pytest.raises(AssertionError, match="button-name"):
            journey.check_a11y()
