"""The whole product in one journey, through the pages only: an agency and a firm register and are
verified, the agency posts a need and shortlists a match, staff run a first-come fair, the firm books
a meeting (both get a mail with a calendar invite), the firm reports the contract that came of it,
the agency confirms it, and staff find its amount in the exported CSV."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message

import pytest
from playwright.sync_api import Browser, Locator, expect

from tests.e2e.conftest import Journey, Mailbox
from tests.e2e.helpers import (
    SEOUL,
    Seeded,
    Seeder,
    add_participants,
    create_fair,
    mails_with_invite,
    seoul_now,
    wait_for,
)
from tests.e2e.test_registration_journeys import PASSWORD, fill_agency, fill_firm, submit
from tests.factories_ops import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

AMOUNT = 12_345_000


def verify_from_queue(journey: Journey, name: str) -> None:
    page = journey.page
    journey.go("/staff/organizations")
    expect(page.locator("tbody tr", has_text=name)).to_have_count(1)
    journey.shot("verification queue")
    journey.check_a11y()
    page.locator("tbody tr", has_text=name).get_by_role("button", name=f"승인 {name}").click()
    page.wait_for_url("**/staff/organizations?done=verify")
    expect(page.locator("tbody tr", has_text=name)).to_have_count(0)


def subject_of(message: Message) -> str:
    return str(make_header(decode_header(str(message["Subject"]))))


def agency_registers(journey: Journey, agency_email: str, agency_name: str) -> None:
    # 1. the agency registers
    page = journey.page
    journey.who = "agency"
    journey.go("/register?kind=agency")
    journey.check_a11y()
    fill_agency(journey, agency_email, agency_name, PASSWORD)
    journey.shot("registration filled")
    submit(journey)
    page.wait_for_url("**/me")
    expect(page.locator(".status strong")).to_have_text("승인 대기")
    journey.shot("awaiting verification")
    journey.sign_out()


def staff_verify_the_agency(journey: Journey, staff_login: tuple[str, str], agency_name: str) -> None:
    # 2. staff verify it from the queue
    journey.who = "staff"
    journey.sign_in(*staff_login)
    verify_from_queue(journey, agency_name)
    journey.shot("agency verified")
    journey.sign_out()


def agency_posts_a_need_and_shortlists(journey: Journey, agency_email: str, background: list[Seeded]) -> None:
    # 3. the agency posts a purchase need and shortlists a firm from the matches
    page = journey.page
    journey.who = "agency"
    journey.sign_in(agency_email, PASSWORD)
    journey.go("/needs")
    page.get_by_role("link", name="구매 수요 등록").click()
    page.wait_for_url("**/needs/new")
    journey.check_a11y()
    page.locator("#f-title").fill("구청 청사 방역 소독 용역")
    page.locator("#f-description").fill("본관과 별관 청사의 정기 방역 소독, 월 2회")
    category = page.locator("input[name=category_codes][value=CLN-DIS]")
    category.locator("xpath=ancestor::details[1]/summary").click()
    category.check()
    page.locator("#f-budget_krw").fill("30,000,000")
    page.locator("#f-needed_by").fill((seoul_now() + timedelta(days=45)).date().isoformat())
    page.locator("#f-delivery_district").select_option("eunpyeong")
    journey.shot("need filled")
    page.get_by_role("button", name="등록하고 맞춤 기업 보기").click()
    page.wait_for_url("**/needs/*")
    expect(page.locator("h1")).to_have_text("구청 청사 방역 소독 용역")
    cards = page.locator("ol.cards > li.card")
    expect(cards.first).to_be_visible()
    listed = cards.locator("h3 a").all_inner_texts()
    assert {f.name for f in background} <= set(listed), listed
    journey.shot("matches with reasons")
    journey.check_a11y()
    best = cards.first
    best_name = best.locator("h3 a").inner_text()
    best.get_by_role("button", name="관심 기업에 담기").click()
    page.wait_for_load_state()
    expect(page.locator("li.card", has_text=best_name).locator(".tag", has_text="관심 기업")).to_be_visible()
    journey.shot("firm shortlisted")
    journey.sign_out()


def firm_registers_and_staff_verify_it(
    journey: Journey, firm_email: str, firm_name: str, staff_login: tuple[str, str]
) -> None:
    # 4. the journey's firm registers; staff verify it
    page = journey.page
    journey.who = "firm"
    journey.go("/register?kind=firm")
    journey.check_a11y()
    fill_firm(journey, firm_email, firm_name)
    journey.shot("registration filled")
    submit(journey)
    page.wait_for_url("**/me")
    journey.sign_out()

    journey.who = "staff"
    journey.sign_in(*staff_login)
    verify_from_queue(journey, firm_name)


def staff_create_a_fair(journey: Journey, tag: str, agency_name: str, firm_name: str) -> tuple[str, str]:
    # 5. staff create a first-come fair with the booking window open, and add both
    fair_name = f"2026 공공구매 온라인상담회 {tag}"
    # held yesterday: the meeting has taken place by the time its contract is reported (a contract
    # may not be dated before its meeting, nor in the future), whatever the hour the test runs
    fair_id = create_fair(journey, fair_name, "first_come", day=seoul_now() - timedelta(days=1))
    journey.shot("fair created")
    journey.check_a11y()
    add_participants(journey, agency_name, firm_name)
    journey.shot("fair setup with participants")
    journey.check_a11y()
    journey.sign_out()
    return fair_name, fair_id


def firm_books_a_slot(
    journey: Journey, firm_email: str, fair_name: str, fair_id: str, agency_name: str
) -> tuple[datetime, Locator]:
    # 6. the firm books a slot at the agency's table (htmx, no reload)
    page = journey.page
    journey.who = "firm"
    journey.sign_in(firm_email, PASSWORD)
    journey.go("/fairs")
    page.get_by_role("link", name=fair_name).click()
    page.wait_for_url(f"**/fairs/{fair_id}/book")
    table = page.locator("section.fair-table", has_text=agency_name)
    expect(table.locator("li.slot-free")).to_have_count(6)
    journey.shot("booking page")
    journey.check_a11y()
    slot = table.locator("li.slot-free").nth(1)
    start_iso = slot.locator("input[name=start]").get_attribute("value")
    assert start_iso
    start = datetime.fromisoformat(start_iso)
    url_before = page.url
    slot.get_by_role("button").click()
    expect(table.locator("[role=status]")).to_contain_text("예약되었습니다")
    assert page.url == url_before
    expect(table.locator("li.slot-mine")).to_have_count(1)
    journey.shot("slot booked")

    page.get_by_role("link", name="내 상담 일정").click()
    page.wait_for_url(f"**/fairs/{fair_id}/agenda")
    row = page.locator("tbody tr", has_text=agency_name)
    expect(row).to_have_count(1)
    expect(row.locator("th")).to_contain_text(start.astimezone(SEOUL).strftime("%H:%M"))
    journey.shot("firm agenda")
    journey.check_a11y()
    return start, row


def both_get_a_mail_with_an_invite(
    box: Mailbox, firm_email: str, agency_email: str, firm_name: str, agency_name: str, start: datetime
) -> None:
    # 7. both confirmation mails arrive, each with a calendar invite for that slot
    for address in (firm_email, agency_email):
        other = agency_name if address == firm_email else firm_name
        invites = wait_for(
            lambda a=address, o=other: [
                (m, c) for m, c in mails_with_invite(box, a) if "상담 예약 확정" in subject_of(m) and o in subject_of(m)
            ],
            f"the booking mail to {address}",
        )
        assert len(invites) == 1
        _message, calendar = invites[0]
        assert str(calendar["METHOD"]) == "REQUEST"
        event = next(iter(calendar.walk("VEVENT")))
        assert event.decoded("DTSTART") == start, (event.decoded("DTSTART"), start)
        assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=30)


def firm_reports_the_contract(journey: Journey, row: Locator, agency_name: str) -> None:
    # 8. the firm reports the contract that came of the meeting
    page = journey.page
    row.get_by_role("link", name="계약 보고").click()
    page.wait_for_url("**/contracts/new?meeting_id=*")
    expect(page.locator("main .notice")).to_contain_text(agency_name)
    journey.shot("contract form from the meeting")
    journey.check_a11y()
    page.locator("#f-title").fill("청사 방역 소독 연간 용역")
    page.locator("#f-amount_krw").fill(f"{AMOUNT:,}")
    page.locator("#f-contract_date").fill(seoul_now().date().isoformat())
    page.locator("#f-category_code").select_option("CLN-DIS")
    journey.shot("contract form filled")
    page.get_by_role("button", name="보고", exact=True).click()
    page.wait_for_url("**/contracts/*?done=reported")
    expect(page.locator("main dl")).to_contain_text("12,345,000원")
    expect(page.locator("main dl")).to_contain_text("상담")
    journey.shot("contract reported")
    journey.sign_out()


def agency_confirms_it(journey: Journey, agency_email: str) -> None:
    # 9. the agency confirms it
    page = journey.page
    journey.who = "agency"
    journey.sign_in(agency_email, PASSWORD)
    journey.go("/contracts")
    awaiting = page.locator("section[aria-labelledby=await-h] tbody tr", has_text="청사 방역 소독 연간 용역")
    expect(awaiting).to_have_count(1)
    journey.shot("awaiting confirmation")
    awaiting.get_by_role("link", name="청사 방역 소독 연간 용역").click()
    page.get_by_role("button", name="이 계약 확인").click()
    page.wait_for_url("**/contracts/*?done=confirmed")
    expect(page.locator("main dl")).to_contain_text("확인됨")
    journey.shot("contract confirmed")
    journey.check_a11y()
    journey.sign_out()


def staff_find_the_amount_in_the_csv(
    journey: Journey, staff_login: tuple[str, str], firm_name: str, agency_name: str
) -> None:
    # 10. staff download the contracts CSV from the figures page; the amount is in it
    page = journey.page
    journey.who = "staff"
    journey.sign_in(*staff_login)
    journey.go("/reports")
    expect(page.locator("h1")).to_contain_text(str(seoul_now().year))
    journey.shot("figures")
    journey.check_a11y()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="계약 CSV").click()
    download = download_info.value
    text = download.path().read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    ours = [r for r in rows if firm_name in r and agency_name in r]
    assert len(ours) == 1, rows[:3]
    assert str(AMOUNT) in ours[0], ours[0]
    (journey.folder / download.suggested_filename).write_text(text, encoding="utf-8")


class TestFromRegistrationToExportedFigures:
    def test_main_journey(
        self,
        journey: Journey,
        browser: Browser,
        server: LiveServer,
        mailbox: tuple[Mailbox, int],
        staff_login: tuple[str, str],
    ) -> None:
        box, _port = mailbox
        tag = uuid.uuid4().hex[:4]
        agency_email, agency_name = f"buyer-{tag}@eunpyeong.go.kr", f"은평구청 {tag}"
        firm_email, firm_name = f"ceo-{tag}@mapo.coop", f"마포방역협동조합 {tag}"

        # background: three verified firms in the need's category (seeded, not part of the journey)
        seeder = Seeder(server, *staff_login)
        background = [
            seeder.firm(
                name=f"{district}방역사회적협동조합 {tag}",
                district=district_code,
                firm_types=["social_cooperative"],
                description="공공청사 방역 소독, 친환경 약제 사용",
                keywords=["방역", "소독"],
            )
            for district, district_code in (("은평", "eunpyeong"), ("서대문", "seodaemun"), ("종로", "jongno"))
        ]
        seeder.close()

        agency_registers(journey, agency_email, agency_name)
        staff_verify_the_agency(journey, staff_login, agency_name)
        agency_posts_a_need_and_shortlists(journey, agency_email, background)
        firm_registers_and_staff_verify_it(journey, firm_email, firm_name, staff_login)
        fair_name, fair_id = staff_create_a_fair(journey, tag, agency_name, firm_name)
        start, row = firm_books_a_slot(journey, firm_email, fair_name, fair_id, agency_name)
        both_get_a_mail_with_an_invite(box, firm_email, agency_email, firm_name, agency_name, start)
        firm_reports_the_contract(journey, row, agency_name)
        agency_confirms_it(journey, agency_email)
        staff_find_the_amount_in_the_csv(journey, staff_login, firm_name, agency_name)
