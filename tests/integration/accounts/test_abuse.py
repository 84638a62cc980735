"""Sign-in and registration resist abuse from other client addresses (issue 12, items 8 and 9).

Requests here come from chosen client addresses: the app is served in the test's event loop
through httpx's ASGI transport, which sets the ASGI `client` (what `request.client.host` reads),
so concurrent requests really interleave on the database.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.accounts.models import RegistrationAttempt
from service.config import Settings, load_settings
from service.lib import clock
from service.registry.models import Organization
from tests.factories import PASSWORD, agency_payload, firm_payload

VICTIM = "198.51.100.7"
ATTACKER = "203.0.113.66"
START = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)

FromAddress = Callable[[str], httpx.AsyncClient]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The defaults (REGISTRATION_LIMIT_PER_HOUR unset: 5), unlike the other tests' raised limit."""
    return load_settings(
        {
            "DATA_DIR": str(tmp_path / "data"),
            "SECRET_KEY": "test-secret-key-0123456789abcdef",
            "BASE_URL": "http://127.0.0.1:8000",
            "SCHEDULER_ENABLED": "0",
        }
    )


@pytest.fixture
async def from_address(app: Litestar) -> AsyncIterator[FromAddress]:
    """`from_address(ip)`: an HTTP client whose requests reach the app from `ip`."""
    opened: list[httpx.AsyncClient] = []

    def open_client(ip: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(ip, 50000))
        opened.append(httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000"))
        return opened[-1]

    started, stop = asyncio.Event(), asyncio.Event()

    async def serve() -> None:
        # One task enters and leaves the lifespan (its task group must not change tasks).
        async with app.lifespan():
            started.set()
            await stop.wait()

    serving = asyncio.create_task(serve())
    await asyncio.wait([serving, asyncio.create_task(started.wait())], return_when=asyncio.FIRST_COMPLETED)
    if serving.done():
        serving.result()  # startup failed: raise its error
    yield open_client
    for http in opened:
        await http.aclose()
    stop.set()
    await serving


@pytest.fixture
def frozen() -> None:
    clock.set_now(START)


async def sign_in(http: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await http.post("/api/v1/auth/login", json={"email": email, "password": password})


async def registered_email(http: httpx.AsyncClient) -> str:
    payload = agency_payload()
    assert (await http.post("/api/v1/register", json=payload)).status_code == 201
    return str(payload["user"]["email"])


def csrf_from(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "form without a CSRF token"
    return match.group(1)


async def sign_in_by_form(http: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    token = csrf_from((await http.get("/login")).text)
    form = {"email": email, "password": password, "next": "/me", "_csrf_token": token}
    return await http.post("/login", data=form, follow_redirects=False)


async def count(sessionmaker: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.usefixtures("frozen")
class TestNobodyLocksAnotherUserOut:
    async def test_failures_from_one_address_lock_only_that_address(self, from_address: FromAddress):
        victim, attacker = from_address(VICTIM), from_address(ATTACKER)
        email = await registered_email(victim)
        for _ in range(5):
            assert (await sign_in(attacker, email, "wrong-password!")).status_code == 401
        blocked = await sign_in(attacker, email)
        assert blocked.status_code == 429
        assert blocked.headers["content-type"].startswith("application/problem+json")
        assert blocked.headers["retry-after"] == "600"  # all five failed at the same (frozen) moment
        assert (await sign_in(victim, email)).status_code == 200
        assert (await sign_in(from_address("192.0.2.10"), email)).status_code == 200

    async def test_the_lock_lifts_when_the_failures_leave_the_window(self, from_address: FromAddress):
        attacker = from_address(ATTACKER)
        email = await registered_email(from_address(VICTIM))
        for _ in range(5):
            await sign_in(attacker, email, "wrong-password!")
        clock.advance(timedelta(seconds=599))
        blocked = await sign_in(attacker, email)
        assert (blocked.status_code, blocked.headers["retry-after"]) == (429, "1")
        clock.advance(timedelta(seconds=1))
        assert (await sign_in(attacker, email)).status_code == 200

    async def test_the_login_page_too(self, from_address: FromAddress):
        victim, attacker = from_address(VICTIM), from_address(ATTACKER)
        email = await registered_email(victim)
        for _ in range(5):
            assert (await sign_in_by_form(attacker, email, "wrong-password!")).status_code == 401
        blocked = await sign_in_by_form(attacker, email, PASSWORD)
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) == 600
        assert "로그인 실패가 너무 많습니다" in blocked.text
        signed_in = await sign_in_by_form(victim, email, PASSWORD)
        assert (signed_in.status_code, signed_in.headers["location"]) == (303, "/me")

    async def test_an_address_failing_on_many_accounts_is_refused_for_every_account(
        self, from_address: FromAddress, settings: Settings
    ):
        victim, attacker = from_address(VICTIM), from_address(ATTACKER)
        email = await registered_email(victim)
        limit = settings.auth.login_max_failures_per_address
        for i in range(limit):
            assert (await sign_in(attacker, f"guess{i}@example.kr", "wrong-password!")).status_code == 401
        # even a correct password for an account this address never failed on
        blocked = await sign_in(attacker, email)
        assert (blocked.status_code, blocked.headers["retry-after"]) == (429, "600")
        assert (await sign_in(victim, email)).status_code == 200

    async def test_a_few_typos_of_ones_own_cost_nothing(self, from_address: FromAddress):
        victim = from_address(VICTIM)
        email = await registered_email(victim)
        for _ in range(4):
            assert (await sign_in(victim, email, "wrong-password!")).status_code == 401
        before = clock.now()
        assert (await sign_in(victim, email)).status_code == 200
        assert clock.now() == before  # no delay


@pytest.mark.usefixtures("frozen")
class TestDistributedGuessingIsSlowedNotLocked:
    async def test_many_addresses_slow_the_account_down_and_the_owner_still_signs_in(
        self, from_address: FromAddress, settings: Settings
    ):
        email = await registered_email(from_address(VICTIM))
        waits = []
        for n in range(14):  # 14 addresses, one guess each: no address reaches any limit
            before = clock.now()
            response = await sign_in(from_address(f"203.0.113.{n + 1}"), email, "wrong-password!")
            assert response.status_code == 401
            waits.append((clock.now() - before).total_seconds())
        step, cap = settings.auth.login_delay_step_seconds, settings.auth.login_max_delay_seconds
        assert waits[:6] == [0.0] * 6  # the first five failures are free (and the sixth sees five)
        assert waits[6] == step
        assert waits == sorted(waits) and max(waits) == cap  # growing, bounded
        before = clock.now()
        owner = await sign_in(from_address(VICTIM), email)
        assert owner.status_code == 200  # slowed, never 429
        assert (clock.now() - before).total_seconds() == cap

    async def test_the_slowdown_fades_with_the_window(self, from_address: FromAddress):
        email = await registered_email(from_address(VICTIM))
        for n in range(7):
            await sign_in(from_address(f"203.0.113.{n + 1}"), email, "wrong-password!")
        before = clock.now()
        assert (await sign_in(from_address(VICTIM), email)).status_code == 200
        assert clock.now() > before  # slowed now ...
        clock.advance(timedelta(minutes=11))
        before = clock.now()
        assert (await sign_in(from_address(VICTIM), email)).status_code == 200
        assert clock.now() == before  # ... not once the failures are older than the window


@pytest.mark.usefixtures("frozen")
class TestRegistrationsPerAddress:
    async def test_the_sixth_registration_in_an_hour_is_429(self, from_address: FromAddress):
        flood = from_address(ATTACKER)
        for _ in range(5):
            assert (await flood.post("/api/v1/register", json=firm_payload())).status_code == 201
        clock.advance(timedelta(minutes=20))
        refused = await flood.post("/api/v1/register", json=firm_payload())
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["status"] == 429
        assert refused.headers["retry-after"] == str(40 * 60)  # when the first leaves the hour
        assert (await from_address(VICTIM).post("/api/v1/register", json=firm_payload())).status_code == 201
        clock.advance(timedelta(minutes=40))
        assert (await flood.post("/api/v1/register", json=firm_payload())).status_code == 201

    async def test_addresses_of_one_ipv6_64_network_share_the_limit(self, from_address: FromAddress):
        for n in range(5):
            http = from_address(f"2001:db8:77:1::{n + 1:x}")
            assert (await http.post("/api/v1/register", json=agency_payload())).status_code == 201
        refused = await from_address("2001:db8:77:1:ffff::9").post("/api/v1/register", json=agency_payload())
        assert refused.status_code == 429
        other_network = from_address("2001:db8:77:2::1")
        assert (await other_network.post("/api/v1/register", json=agency_payload())).status_code == 201

    async def test_refused_registrations_do_not_count(self, from_address: FromAddress):
        http = from_address(VICTIM)
        taken = await registered_email(http)
        for _ in range(3):
            invalid = agency_payload()
            invalid["user"]["password"] = "short"
            assert (await http.post("/api/v1/register", json=invalid)).status_code == 422
        assert (await http.post("/api/v1/register", json=agency_payload(email=taken))).status_code == 409
        for _ in range(4):
            assert (await http.post("/api/v1/register", json=agency_payload())).status_code == 201
        assert (await http.post("/api/v1/register", json=agency_payload())).status_code == 429

    async def test_the_registration_page_shows_the_limit_in_korean(self, from_address: FromAddress):
        http = from_address(ATTACKER)
        for _ in range(5):
            assert (await http.post("/api/v1/register", json=agency_payload())).status_code == 201
        token = csrf_from((await http.get("/register?kind=agency")).text)
        form = {
            "_csrf_token": token,
            "kind": "agency",
            "user_email": "buyer@eunpyeong.go.kr",
            "user_password": PASSWORD,
            "user_name": "김구매",
            "name": "은평구청",
            "district": "eunpyeong",
            "agency_type": "district_office",
        }
        page = await http.post("/register", data=form, follow_redirects=False)
        assert page.status_code == 429
        assert page.headers["retry-after"] == "3600"
        assert "같은 IP 주소에서 가입 신청이 너무 많습니다" in page.text
        assert 'value="은평구청"' in page.text  # what the user typed is kept

    async def test_concurrent_registrations_from_one_address_stop_at_the_limit(
        self, from_address: FromAddress, sessionmaker: async_sessionmaker[AsyncSession]
    ):
        http = from_address(ATTACKER)
        payloads = [firm_payload() for _ in range(20)]
        responses = await asyncio.gather(*(http.post("/api/v1/register", json=p) for p in payloads))
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201] * 5 + [429] * 15
        assert await count(sessionmaker, Organization) == 5
        assert await count(sessionmaker, RegistrationAttempt) == 5
