"""A firm asks the support center for an everyday consultation (일상상담) and staff confirm it: the
firm sees staff's hours, asks with a topic, a message and a preferred time; staff find it in the queue
with its waiting time and confirm it; the firm gets the calendar invite by mail and sees the confirmed
time. Every page is shot at 1366x900 and 390x844 and audited with axe."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from email.header import decode_header, make_header

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Journey, Mailbox
from tests.e2e.helpers import Seeder, mails_with_invite, seoul_now, wait_for
from tests.e2e.test_issue12_pages import korean_page
from tests.factories import PASSWORD
from tests.factories_ops import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def seeder(server: LiveServer, staff_login: tuple[str, str]) -> Iterator[Seeder]:
    seeding = Seeder(server, *staff_login)
    yield seeding
    seeding.close()


def firm_asks(journey: Journey, email: str, when: datetime) -> str:
    """The firm finds 일상상담 in the menu, sees staff's hours, asks; returns the consultation's URL."""
    page = journey.page
    journey.who = "firm"
    journey.sign_in(email, PASSWORD)
    page.locator("header nav a[href='/consultations']").click()
    page.wait_for_url("**/consultations")
    korean_page(journey, "my consultations", "지원센터 일상상담", "아직 상담이 없습니다.")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.get_by_role("link", name="상담 신청").click()
    page.wait_for_url("**/consultations/new")
    korean_page(journey, "ask form", "직원 상담 가능 시간", "지원센터 3층 상담실")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.get_by_role("button", name="상담 신청하기").click()  # empty: every field at once
    expect(page.locator(".field-error")).to_have_count(3)
    journey.shot("ask form errors")
    page.locator("#f-topic").select_option("bidding")
    page.locator("#f-message").fill("수의계약 한도와 사회적기업 우선구매 절차를 알고 싶습니다.")
    page.locator("#f-preferred_1").fill(when.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="상담 신청하기").click()
    page.wait_for_url("**/consultations/*-*")
    korean_page(journey, "asked", "접수", "입찰·수의계약", "직원이 희망 시간 중 하나를 확정하거나")
    consultation_url = page.url
    journey.sign_out()
    return consultation_url


def staff_confirm(journey: Journey, staff_login: tuple[str, str], consultation_url: str, when: datetime) -> None:
    """Staff find the request in the queue with its waiting time and confirm the firm's time."""
    page = journey.page
    journey.who = "staff"
    journey.sign_in(*staff_login)
    journey.go("/consultations")
    row = page.locator("tbody tr", has_text="성북나눔협동조합")
    expect(row).to_contain_text("접수")
    expect(row).to_contain_text("분")  # waiting time
    korean_page(journey, "queue", "일상상담 접수 목록")
    page.set_viewport_size({"width": 1366, "height": 900})
    row.get_by_role("link").click()
    page.wait_for_url(consultation_url)
    expect(page.locator("#f-start")).to_have_value(when.strftime("%Y-%m-%dT%H:%M"))
    page.locator("#f-place").fill("지원센터 3층 상담실")
    page.get_by_role("button", name="확정", exact=True).click()
    page.wait_for_load_state()
    expect(page.locator("dl.facts")).to_contain_text("확정")
    korean_page(journey, "confirmed by staff", "상담 후 기록", "메모(직원만 봄)")
    journey.sign_out()


def test_a_firm_asks_for_a_consultation_and_staff_confirm_it(
    journey: Journey, seeder: Seeder, staff_login: tuple[str, str], mailbox: tuple[Mailbox, int]
) -> None:
    box, _port = mailbox
    firm = seeder.firm(name="성북나눔협동조합")
    blocks = [
        {"weekday": d, "start": "09:00:00", "end": "18:00:00", "mode": "in_person", "place": "지원센터 3층 상담실"}
        for d in range(7)
    ]
    hours = seeder.http.put("/consultation-hours/me", json={"blocks": blocks}, headers=seeder.staff)
    assert hours.status_code == 200, hours.text
    page = journey.page
    when = (seoul_now() + timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)

    consultation_url = firm_asks(journey, firm.email, when)
    staff_confirm(journey, staff_login, consultation_url, when)

    wait_for(lambda: mails_with_invite(box, firm.email), "the invite to the firm")
    ((message, calendar),) = mails_with_invite(box, firm.email)
    assert str(calendar["METHOD"]) == "REQUEST"
    assert "일상상담이 확정되었습니다" in str(make_header(decode_header(message["Subject"])))

    journey.who = "firm"
    page.set_viewport_size({"width": 1366, "height": 900})
    journey.sign_in(firm.email, PASSWORD)
    journey.go(consultation_url.removeprefix(journey.base_url))
    korean_page(journey, "confirmed for the firm", "확정", "지원센터 3층 상담실")
    expect(page.locator("body")).not_to_contain_text("메모")
