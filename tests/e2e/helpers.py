"""Shared steps of the browser journeys: background organizations seeded through the live server's
JSON API (the journeys' own organizations always go through the pages), a second browser tab
with its own session, mail waiting, and the fair setup form."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from icalendar import Calendar
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Journey, Mailbox
from tests.factories import agency_payload, firm_payload
from tests.factories_ops import LiveServer

SEOUL = ZoneInfo("Asia/Seoul")


def seoul_now() -> datetime:
    return datetime.now(SEOUL).replace(second=0, microsecond=0)


@dataclass
class Seeded:
    id: str
    email: str
    name: str


class Seeder:
    """Verified organizations for the background of a journey, registered and verified through
    the API of the running server (the same services the pages call)."""

    def __init__(self, server: LiveServer, staff_email: str, staff_password: str) -> None:
        self.http = httpx.Client(base_url=server.base_url + "/api/v1", timeout=20)
        response = self.http.post("/auth/login", json={"email": staff_email, "password": staff_password})
        assert response.status_code == 200, response.text
        self.staff = {"Authorization": f"Bearer {response.json()['token']}"}
        self.http.cookies.clear()

    def _verified(self, payload: dict[str, Any]) -> Seeded:
        response = self.http.post("/register", json=payload)
        assert response.status_code == 201, response.text
        self.http.cookies.clear()
        org = response.json()["organization"]
        verified = self.http.post(f"/organizations/{org['id']}/verify", headers=self.staff)
        assert verified.status_code == 200, verified.text
        return Seeded(org["id"], payload["user"]["email"], org["name"])

    def firm(self, **org: Any) -> Seeded:
        return self._verified(firm_payload(**org))

    def agency(self, **org: Any) -> Seeded:
        return self._verified(agency_payload(**org))

    def fair(self, name: str, mode: str, *participants: Seeded, days_from_today: int = 1) -> str:
        """A fair 09:00–12:00 (Seoul) `days_from_today` days away (tomorrow: its meetings have not begun
        whenever the test runs; yesterday: they are over), 30-minute slots, booking open from an hour
        ago to the day after tomorrow, with `participants` joined. Returns its id."""
        moment = seoul_now()
        body = {
            "name": name,
            "mode": mode,
            "days": [
                {
                    "date": (moment + timedelta(days=days_from_today)).date().isoformat(),
                    "start": "09:00",
                    "end": "12:00",
                }
            ],
            "slot_minutes": 30,
            "booking_opens_at": (moment - timedelta(hours=1)).isoformat(),
            "booking_closes_at": (moment + timedelta(days=2)).isoformat(),
        }
        response = self.http.post("/fairs", json=body, headers=self.staff)
        assert response.status_code == 201, response.text
        fair_id = str(response.json()["id"])
        for org in participants:
            joined = self.http.post(
                f"/fairs/{fair_id}/participants", json={"organization_id": org.id}, headers=self.staff
            )
            assert joined.status_code == 201, joined.text
        return fair_id

    def close(self) -> None:
        self.http.close()


@dataclass
class SharedTab(Journey):
    """A tab whose screenshots are numbered in one sequence with the lead tab's, so the folder
    reads in the order things happened and no two axe reports share a number."""

    lead: Journey | None = None

    def shot(self, name: str) -> Path:
        assert self.lead is not None
        self.step = self.lead.step
        path = super().shot(name)
        self.lead.step = self.step
        return path


def second_tab(browser: Browser, first: Journey, who: str, locale: str = "ko-KR") -> Journey:
    """Another user's browser (own cookies), saving its screenshots beside the first tab's."""
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900}, timezone_id="Asia/Seoul")
    page = context.new_page()
    page.set_default_timeout(15_000)
    tab = SharedTab(page=page, base_url=first.base_url, folder=first.folder, axe=first.axe, who=who, lead=first)
    page.on(
        "console",
        lambda msg: first.csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return tab


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def mails_with_invite(mailbox: Mailbox, address: str) -> list[tuple[Message, Calendar]]:
    """Messages to `address` that carry a text/calendar attachment, with the parsed calendar."""
    out = []
    for message in mailbox.to(address):
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                payload = part.get_payload(decode=True)
                assert isinstance(payload, bytes)
                out.append((message, Calendar.from_ical(payload)))
    return out


def create_fair(journey: Journey, name: str, mode: str, *, day: datetime | None = None) -> str:
    """Staff fill the new-fair form on /fairs: one day (today unless told) 09:00–12:00 Seoul time,
    30-minute slots, the booking window open from an hour ago to tomorrow. Returns the fair's id."""
    page = journey.page
    moment = seoul_now()
    fair_day = (day or moment).date().isoformat()
    journey.go("/fairs")
    page.locator("#f-name").fill(name)
    page.locator(f"input[name=mode][value={mode}]").check()
    page.locator("#f-dates").fill(fair_day)
    page.locator("#f-start").fill("09:00")
    page.locator("#f-end").fill("12:00")
    page.locator("#f-slot_minutes").fill("30")
    page.locator("#f-booking_opens_at").fill((moment - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.locator("#f-booking_closes_at").fill((moment + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    journey.shot(f"new {mode} fair form")
    journey.check_a11y()
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_url("**/fairs/*?done=created")
    expect(page.locator("h1")).to_have_text(name)
    return page.url.split("/fairs/")[1].split("?")[0]


def add_participants(journey: Journey, *names: str) -> None:
    """On the fair setup page, find organizations by name in the picker, tick them and add them."""
    page = journey.page
    for name in names:
        with page.expect_response(lambda r: r.request.method == "GET" and "q=" in r.url):
            page.locator("#organization_id-q").fill(name)
        page.locator("#organization_id-results label", has_text=name).first.locator("input").check()
    page.get_by_role("button", name="선택한 곳 추가").click()
    page.wait_for_url("**?done=added")
    for name in names:
        expect(page.locator("main table tbody th", has_text=name)).to_have_count(1)
