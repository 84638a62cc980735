"""Browser journeys: a real `procmatch serve` subprocess, Debian's Chromium, an in-process SMTP server.

- `server`: the app on a free port, on a fresh clone of the migrated test database, with mail
  going to the `mailbox` fixture's aiosmtpd server and the timed jobs running.
- `browser`: /usr/bin/chromium through Playwright (never Playwright's own
  download: `playwright install` fails on these machines).
- `journey`: a page plus helpers: `shot(name)` saves a numbered screenshot under
  test-output/e2e/<test>/, `check_a11y()` runs axe-core in the page and fails on serious or
  critical violations, and the page must not log a Content-Security-Policy violation.
- axe-core comes from npm (`npm pack axe-core@<AXE_VERSION>`), cached under .data/vendor/; it is
  evaluated through the DevTools protocol, so the app's CSP stays as strict as in production.
"""

from __future__ import annotations

import asyncio
import email
import fcntl
import hashlib
import json
import re
import subprocess
import tarfile
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import TEMPLATE_DB, _drop, _recreate, _with_database
from tests.factories_ops import ROOT, LiveServer, free_port, live_server, make_staff

T = TypeVar("T")
CHROMIUM = "/usr/bin/chromium"
AXE_VERSION = "4.14.1"
# sha256 of package/axe.min.js in that release: a changed file fails loudly instead of auditing with it
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
AXE_CACHE = ROOT / ".data" / "vendor" / f"axe-core-{AXE_VERSION}"
OUTPUT = ROOT / "test-output" / "e2e"
BLOCKING_IMPACTS = ("serious", "critical")


# -- axe-core ---------------------------------------------------------------------------------------
def fetch_axe() -> Path:
    """axe.min.js of AXE_VERSION, fetched once with `npm pack` into .data/vendor/."""
    target = AXE_CACHE / "axe.min.js"
    if target.exists():
        return target
    AXE_CACHE.mkdir(parents=True, exist_ok=True)
    with (AXE_CACHE / ".lock").open("w") as lock:  # pytest-xdist workers fetch it once between them
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            _npm_pack_axe(target)
    return target


def _npm_pack_axe(target: Path) -> None:
    result = subprocess.run(
        ["npm", "pack", f"axe-core@{AXE_VERSION}", "--pack-destination", str(AXE_CACHE), "--silent"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    tarball = AXE_CACHE / f"axe-core-{AXE_VERSION}.tgz"
    if result.returncode != 0 or not tarball.exists():
        raise RuntimeError(f"could not fetch axe-core with npm: {result.stderr[-1000:]}")
    with tarfile.open(tarball) as archive:
        member = archive.extractfile("package/axe.min.js")
        assert member is not None
        target.write_bytes(member.read())
    tarball.unlink()


@pytest.fixture(scope="session")
def axe_source() -> str:
    content = fetch_axe().read_bytes()
    assert hashlib.sha256(content).hexdigest() == AXE_SHA256, f"unexpected axe.min.js in {AXE_CACHE}"
    return content.decode()


# -- mail -------------------------------------------------------------------------------------------
class Mailbox:
    """Collects every message the app sends (aiosmtpd handler)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        with self._lock:
            self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        with self._lock:
            return [m for m in self.messages if address in m["X-Envelope-To"]]


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


# -- server and browser -----------------------------------------------------------------------------
def in_thread(function: Callable[[], T]) -> T:
    """Run blocking setup that calls asyncio.run() off the main thread, where Playwright's sync API
    keeps its own event loop running."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function).result()


@pytest.fixture
def e2e_database_url(server_url: str, template_url: str) -> Iterator[str]:
    """Like `database_url`, safe to use while the browser is open."""
    name = f"t_e2e_{uuid.uuid4().hex[:10]}"
    in_thread(lambda: asyncio.run(_recreate(server_url, name, template=TEMPLATE_DB)))
    yield _with_database(server_url, name)
    in_thread(lambda: asyncio.run(_drop(server_url, name)))


@pytest.fixture
def server(e2e_database_url: str, tmp_path: Path, mailbox: tuple[Mailbox, int]) -> Iterator[LiveServer]:
    _, smtp_port = mailbox
    env = {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_SECURITY": "none",
        "SCHEDULER_ENABLED": "1",
    }
    with live_server(e2e_database_url, tmp_path, OUTPUT / "logs", extra_env=env) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
        )
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Journey:
    """One user's browser tab in a journey, with screenshots and accessibility checks."""

    page: Page
    base_url: str
    folder: Path
    axe: str
    who: str = ""
    step: int = 0
    csp_violations: list[str] = field(default_factory=list)
    audited: list[str] = field(default_factory=list)

    def go(self, path: str) -> None:
        self.page.goto(self.base_url + path)

    def shot(self, name: str) -> Path:
        self.step += 1
        slug = re.sub(r"[^a-z0-9]+", "-", f"{self.who} {name}".lower()).strip("-")
        path = self.folder / f"{self.step:02d}-{slug}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def check_a11y(self) -> None:
        """axe-core on the current page: no serious or critical violation (WCAG 2.x A/AA rules)."""
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            self.page.evaluate(self.axe)
        result = self.page.evaluate(
            """async () => {
                const r = await axe.run(document, {runOnly: {type: 'tag',
                    values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
                return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
            }"""
        )
        self.audited.append(self.page.url)
        blocking = [v for v in result if v["impact"] in BLOCKING_IMPACTS]
        report = self.folder / f"axe-{self.step:02d}.json"
        report.write_text(json.dumps({"url": self.page.url, "violations": result}, ensure_ascii=False, indent=1))
        assert not blocking, f"accessibility violations on {self.page.url}:\n" + json.dumps(
            blocking, ensure_ascii=False, indent=1
        )

    def sign_in(self, address: str, password: str) -> None:
        self.go("/login")
        self.page.locator("#email").fill(address)
        self.page.locator("#password").fill(password)
        self.page.locator("main form button[type=submit]").click()
        self.page.wait_for_load_state()

    def sign_out(self) -> None:
        toggle = self.page.locator("header summary")  # below 1024 px the menu is behind 전체메뉴
        if toggle.is_visible() and self.page.locator("header details[open]").count() == 0:
            toggle.click()
        self.page.locator("header form[action='/logout'] button").click()
        self.page.wait_for_url("**/login")


@pytest.fixture
def journey(browser: Browser, server: LiveServer, axe_source: str, request: pytest.FixtureRequest) -> Iterator[Journey]:
    folder = OUTPUT / re.sub(r"[^A-Za-z0-9_]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*"):
        old.unlink()
    context = browser.new_context(locale="ko-KR", viewport={"width": 1280, "height": 900}, timezone_id="Asia/Seoul")
    page = context.new_page()
    page.set_default_timeout(15_000)
    trip = Journey(page=page, base_url=server.base_url, folder=folder, axe=axe_source)
    page.on(
        "console",
        lambda msg: trip.csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    try:
        yield trip
    finally:
        context.close()
    assert not trip.csp_violations, f"the page broke its CSP: {trip.csp_violations}"


@pytest.fixture
def staff_login(server: LiveServer) -> tuple[str, str]:
    password = "staff-password-2021"
    return in_thread(lambda: make_staff(server.database_url, password=password)), password
