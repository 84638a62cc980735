"""Double submits create one row: `Idempotency-Key` on the API's creating POSTs, one-time HTML form tokens."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.app import create_app
from service.config import Settings
from service.contracts.models import Contract
from service.fairs.models import Fair, Meeting
from service.lib import clock
from service.needs.models import Need
from service.registry.models import Organization
from tests.factories import PASSWORD, Account, agency_payload, create_staff, verified_agency, verified_firm
from tests.factories_ops import csrf_from

Client = AsyncTestClient[Litestar]
Maker = async_sessionmaker[AsyncSession]

NEED = {
    "title": "구청 청사 방역 소독 용역",
    "description": "본관과 별관의 정기 방역 소독",
    "category_codes": ["CLN-DIS"],
    "budget_krw": 30_000_000,
    "needed_by": str(date.today() + timedelta(days=30)),
    "delivery_district": "eunpyeong",
}


@pytest.fixture
async def agencies(client: Client, sessionmaker: Maker, settings: Settings) -> tuple[Account, Account, Account]:
    staff = await create_staff(client, sessionmaker, settings)
    return staff, await verified_agency(client, staff), await verified_agency(client, staff)


@asynccontextmanager
async def concurrent_client(settings: Settings, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Requests really in flight together: Litestar's test client runs one request at a time (each
    through a blocking portal), so these go to a second app instance through httpx's ASGI transport.
    A context manager, not a fixture: the app's lifespan must end in the task that started it."""
    app = create_app(settings, database_url)
    transport = httpx.ASGITransport(app=app)
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        yield http


@pytest.fixture
def slow_creation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each need takes 0.3 s to create, so that requests sent together are in flight together."""
    from service.needs.service import NeedService

    create = NeedService.create

    async def slowly(self: NeedService, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.3)
        return await create(self, *args, **kwargs)

    monkeypatch.setattr(NeedService, "create", slowly)


async def count(sessionmaker: Maker, model: Any, **where: Any) -> int:
    async with sessionmaker() as session:
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return int(await session.scalar(query) or 0)


async def age_keys(sessionmaker: Maker, hours: int) -> None:
    """Make every stored key older (bearer tokens would expire if the clock moved instead)."""
    async with sessionmaker.begin() as session:
        await session.execute(
            text("UPDATE idempotency_keys SET created_at = created_at - make_interval(hours => :hours)"),
            {"hours": hours},
        )


async def post_need(
    client: Client | httpx.AsyncClient, agency: Account, key: str | None, body: dict[str, Any] | None = None
) -> Any:
    headers = {**agency.headers, **({"Idempotency-Key": key} if key is not None else {})}
    return await client.post("/api/v1/needs", json=body or NEED, headers=headers)


class TestIdempotencyKey:
    async def test_same_key_answers_the_first_response_and_creates_once(
        self, client: Client, sessionmaker: Maker, agencies: tuple[Account, ...]
    ) -> None:
        _, agency, _ = agencies
        needs_of_agency = {"agency_id": uuid.UUID(str(agency.organization_id))}
        first = await post_need(client, agency, "need-2026-11-30-a")
        second = await post_need(client, agency, "need-2026-11-30-a")
        assert first.status_code == second.status_code == 201, second.text
        assert second.content == first.content
        assert second.headers.get("idempotent-replayed") == "true"
        assert "idempotent-replayed" not in first.headers
        assert second.headers["content-type"] == first.headers["content-type"]
        assert await count(sessionmaker, Need, **needs_of_agency) == 1
        # the same key with another body: 422 naming the header, nothing created
        other = await post_need(client, agency, "need-2026-11-30-a", {**NEED, "title": "다른 수요"})
        assert other.status_code == 422
        assert other.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in other.json()["errors"]] == ["Idempotency-Key"]
        # a key of 200 characters is fine; empty, blank or longer is a 422 naming the header
        longest = [await post_need(client, agency, "k" * 200) for _ in range(2)]
        assert [r.status_code for r in longest] == [201, 201] and longest[1].content == longest[0].content
        for bad in ("", "   ", "x" * 201):
            response = await post_need(client, agency, bad)
            assert response.status_code == 422, bad
            assert [e["field"] for e in response.json()["errors"]] == ["Idempotency-Key"]
        assert await count(sessionmaker, Need, **needs_of_agency) == 2
        # without a key each POST creates, as before
        assert (await post_need(client, agency, None)).status_code == 201
        assert await count(sessionmaker, Need, **needs_of_agency) == 3
        # a POST that creates nothing ignores the key and stores nothing for it
        for _ in range(2):
            login = await client.post(
                "/api/v1/auth/login",
                json={"email": agency.email, "password": PASSWORD},
                headers={"Idempotency-Key": "login"},
            )
            assert login.status_code == 200 and "idempotent-replayed" not in login.headers
        async with sessionmaker() as session:
            keys = await session.scalars(text("SELECT key FROM idempotency_keys ORDER BY key"))
            assert list(keys) == ["api:k" + "k" * 199, "api:need-2026-11-30-a"]

    async def test_a_failed_creation_leaves_the_key_unused_and_keys_expire_after_24_hours(
        self, client: Client, sessionmaker: Maker, settings: Settings, agencies: tuple[Account, ...]
    ) -> None:
        from service.lib.idempotency import purge_expired  # here, so the other tests run on a tree without it

        _, agency, _ = agencies
        needs_of_agency = {"agency_id": uuid.UUID(str(agency.organization_id))}
        bad = await post_need(client, agency, "retry-me", {**NEED, "budget_krw": -1})
        assert bad.status_code == 422
        good = await post_need(client, agency, "retry-me")
        assert good.status_code == 201 and "idempotent-replayed" not in good.headers
        await age_keys(sessionmaker, hours=23)
        assert (await post_need(client, agency, "retry-me")).headers.get("idempotent-replayed") == "true"
        assert await count(sessionmaker, Need, **needs_of_agency) == 1
        await age_keys(sessionmaker, hours=2)  # 25 hours old now: the key is free again
        again = await post_need(client, agency, "retry-me", {**NEED, "title": "다음 날의 수요"})
        assert again.status_code == 201 and "idempotent-replayed" not in again.headers
        assert await count(sessionmaker, Need, **needs_of_agency) == 2
        assert (await post_need(client, agency, "other")).status_code == 201
        assert await purge_expired(sessionmaker, settings) == 0
        clock.advance(timedelta(hours=25))  # the purge reads the same clock
        assert await purge_expired(sessionmaker, settings) == 2
        async with sessionmaker() as session:
            assert await session.scalar(text("SELECT count(*) FROM idempotency_keys")) == 0

    async def test_twenty_concurrent_requests_with_one_key_create_one_row(
        self,
        settings: Settings,
        database_url: str,
        sessionmaker: Maker,
        agencies: tuple[Account, ...],
        slow_creation: None,
    ) -> None:
        _, agency, _ = agencies
        async with concurrent_client(settings, database_url) as concurrent:
            responses = await asyncio.gather(*(post_need(concurrent, agency, "burst") for _ in range(20)))
            # once the first is done, every retry gets its answer
            again = await post_need(concurrent, agency, "burst")
        statuses = sorted(r.status_code for r in responses)
        assert set(statuses) <= {201, 409}, statuses
        assert 409 in statuses  # some arrived while the first was still being processed
        assert await count(sessionmaker, Need, agency_id=uuid.UUID(str(agency.organization_id))) == 1
        created = [r for r in responses if r.status_code == 201]
        assert len({r.content for r in created}) == 1
        assert all(r.headers.get("retry-after") for r in responses if r.status_code == 409)
        assert again.status_code == 201 and again.content == created[0].content

    async def test_keys_are_per_caller(
        self, client: Client, sessionmaker: Maker, agencies: tuple[Account, ...]
    ) -> None:
        _, first, second = agencies
        a = await post_need(client, first, "shared-key")
        b = await post_need(client, second, "shared-key")
        assert a.status_code == b.status_code == 201
        assert a.json()["id"] != b.json()["id"] and "idempotent-replayed" not in b.headers
        # and each one's retry answers its own need
        assert (await post_need(client, first, "shared-key")).json()["id"] == a.json()["id"]
        assert (await post_need(client, second, "shared-key")).json()["id"] == b.json()["id"]
        assert await count(sessionmaker, Need) == 2
        # anonymous callers (registration) are told apart by client address
        payload = agency_payload()
        registrations = [
            await client.post("/api/v1/register", json=payload, headers={"Idempotency-Key": "shared-key"})
            for _ in range(2)
        ]
        assert [r.status_code for r in registrations] == [201, 201], registrations[1].text
        assert registrations[1].content == registrations[0].content
        assert registrations[1].headers["idempotent-replayed"] == "true"
        assert await count(sessionmaker, Organization, name=payload["organization"]["name"]) == 1


class TestCoverage:
    # Every POST of /api/v1 answering 201, plus the imports (200, they create rows): found from the routes.
    COVERED = {
        "/api/v1/register",
        "/api/v1/needs",
        "/api/v1/needs/{need_id}/shortlist",
        "/api/v1/needs/{need_id}/responses",
        "/api/v1/fairs",
        "/api/v1/fairs/{fair_id}/participants",
        "/api/v1/fairs/{fair_id}/meetings",
        "/api/v1/fairs/{fair_id}/requests",
        "/api/v1/contracts",
        "/api/v1/purchases",
        "/api/v1/purchases/import",
        "/api/v1/imports/firms",
        "/api/v1/imports/agencies",
        "/api/v1/organizations/{organization_id}/invitations",
        "/api/v1/invitations/accept",
        "/api/v1/consultations",
        "/api/v1/consultation-hours/me/exceptions",
        # programs
        "/api/v1/sessions",
        "/api/v1/sessions/{session_id}/registrations",
        "/api/v1/activities",
        "/api/v1/auth/password-reset",
    }

    async def test_openapi_documents_the_header_on_every_creating_post(self, client: Client) -> None:
        schema = (await client.get("/schema/openapi.json")).json()
        documented = set()
        for path, item in schema["paths"].items():
            post = item.get("post")
            if post and any(p["name"] == "Idempotency-Key" for p in post.get("parameters", [])):
                documented.add(path)
                parameter = next(p for p in post["parameters"] if p["name"] == "Idempotency-Key")
                assert parameter["in"] == "header" and parameter["schema"]["maxLength"] == 200
                success = next(r for s, r in post["responses"].items() if s.startswith("2"))
                assert "Idempotent-Replayed" in success["headers"]
        assert documented == self.COVERED


# -- HTML forms -------------------------------------------------------------------------------------------
def form_token(html: str) -> str:
    match = re.search(r'name="_form_token" value="([^"]+)"', html)
    assert match, "form without a one-time token"
    return match.group(1)


async def sign_in(client: Client | httpx.AsyncClient, account: Account) -> None:
    client.cookies.clear()
    token = csrf_from((await client.get("/login")).text)
    response = await client.post("/login", data={"email": account.email, "password": PASSWORD, "_csrf_token": token})
    assert response.status_code in (200, 303)


def need_form(page: str) -> dict[str, str]:
    return {
        "_csrf_token": csrf_from(page),
        "_form_token": form_token(page),
        "title": "구청 청사 방역 소독 용역",
        "category_codes": "CLN-DIS",
        "budget_krw": "30,000,000",
        "needed_by": str(date.today() + timedelta(days=20)),
        "delivery_district": "eunpyeong",
    }


class TestOneTimeFormToken:
    async def test_new_need_form_sent_twice_creates_one_need(
        self, client: Client, sessionmaker: Maker, agencies: tuple[Account, ...]
    ) -> None:
        _, agency, _ = agencies
        needs_of_agency = {"agency_id": uuid.UUID(str(agency.organization_id))}
        await sign_in(client, agency)
        data = need_form((await client.get("/needs/new")).text)
        # a form with errors is shown again; its token stays usable
        bad = await client.post("/needs/new", data={**data, "budget_krw": "삼천만"})
        assert bad.status_code == 422
        first = await client.post("/needs/new", data=data, follow_redirects=False)
        second = await client.post("/needs/new", data=data, follow_redirects=False)
        assert first.status_code == second.status_code == 303
        assert second.headers["location"] == first.headers["location"]  # straight to the need already created
        assert await count(sessionmaker, Need, **needs_of_agency) == 1
        # back, edit, resubmit: the used form says so, with a link to what it created
        edited = await client.post("/needs/new", data={**data, "title": "고친 제목"}, follow_redirects=False)
        assert edited.status_code == 409
        assert "이미 제출된 양식입니다" in edited.text
        assert f'href="{first.headers["location"]}"' in edited.text
        assert await count(sessionmaker, Need, **needs_of_agency) == 1
        # a fresh form (a new token) creates again
        fresh = need_form((await client.get("/needs/new")).text)
        assert fresh["_form_token"] != data["_form_token"]
        assert (await client.post("/needs/new", data=fresh, follow_redirects=False)).status_code == 303
        assert await count(sessionmaker, Need, **needs_of_agency) == 2

    async def test_double_click_in_flight_creates_one_need(
        self,
        settings: Settings,
        database_url: str,
        sessionmaker: Maker,
        agencies: tuple[Account, ...],
        slow_creation: None,
    ) -> None:
        _, agency, _ = agencies
        async with concurrent_client(settings, database_url) as concurrent:
            await sign_in(concurrent, agency)
            data = need_form((await concurrent.get("/needs/new")).text)
            responses = await asyncio.gather(
                *(concurrent.post("/needs/new", data=data, follow_redirects=False) for _ in range(5))
            )
        assert [r.status_code for r in responses] == [303] * 5  # the later ones waited for the first
        assert len({r.headers["location"] for r in responses}) == 1
        assert await count(sessionmaker, Need, agency_id=uuid.UUID(str(agency.organization_id))) == 1

    async def test_new_contract_form_sent_twice_creates_one_contract(
        self, client: Client, sessionmaker: Maker, agencies: tuple[Account, ...]
    ) -> None:
        staff, agency, _ = agencies
        firm = await verified_firm(client, staff)
        await sign_in(client, agency)
        page = (await client.get("/contracts/new")).text
        data = {
            "_csrf_token": csrf_from(page),
            "_form_token": form_token(page),
            "firm_id": str(firm.organization_id),
            "title": "방역 용역",
            "amount_krw": "3,300,000",
            "contract_date": "2021-09-01",
            "channel": "other",
        }
        first = await client.post("/contracts/new", data=data, follow_redirects=False)
        second = await client.post("/contracts/new", data=data, follow_redirects=False)
        assert first.status_code == second.status_code == 303, first.text
        assert second.headers["location"] == first.headers["location"]
        assert await count(sessionmaker, Contract, agency_id=uuid.UUID(str(agency.organization_id))) == 1
        # the other create forms carry a token too
        client.cookies.clear()
        assert form_token((await client.get("/register")).text)
        await sign_in(client, staff)
        for page_path in ("/fairs", "/staff/purchases", "/staff/imports"):
            assert form_token((await client.get(page_path)).text), page_path

    async def test_fair_form_and_htmx_booking_sent_twice_create_one_each(
        self, client: Client, sessionmaker: Maker, agencies: tuple[Account, ...]
    ) -> None:
        staff, agency, _ = agencies
        firm = await verified_firm(client, staff)
        await sign_in(client, staff)
        page = (await client.get("/fairs")).text
        opens = (datetime.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
        closes = (datetime.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
        form = {
            "_csrf_token": csrf_from(page),
            "_form_token": form_token(page),
            "name": "2021 공공구매 1차 온라인상담회",
            "mode": "first_come",
            "dates": "2030-10-20",
            "start": "10:00",
            "end": "12:00",
            "slot_minutes": "30",
            "booking_opens_at": opens,
            "booking_closes_at": closes,
        }
        created = [await client.post("/fairs", data=form, follow_redirects=False) for _ in range(2)]
        assert [r.status_code for r in created] == [303, 303], created[0].text
        assert created[1].headers["location"] == created[0].headers["location"]
        assert await count(sessionmaker, Fair, name=form["name"]) == 1
        fair_url = created[0].headers["location"].split("?")[0]
        joined = await client.post(
            f"{fair_url}/participants",
            data={
                "_csrf_token": form["_csrf_token"],
                "organization_id": [agency.organization_id, firm.organization_id],
            },
            follow_redirects=False,
        )
        assert joined.status_code == 303

        await sign_in(client, firm)
        page = (await client.get(f"{fair_url}/book")).text
        slot = "2030-10-20T10:30:00+09:00"
        token = re.search(
            rf'name="_form_token" value="([^"]+)">\s*'
            rf'<input type="hidden" name="agency_id" value="{agency.organization_id}">\s*'
            rf'<input type="hidden" name="start" value="{re.escape(slot)}">',
            page,
        )
        assert token, "the slot's form has no one-time token"
        book = {"_csrf_token": csrf_from(page), "_form_token": token.group(1), "agency_id": agency.organization_id}
        htmx = {"hx-request": "true"}
        first = await client.post(f"{fair_url}/book", data={**book, "start": slot}, headers=htmx)
        second = await client.post(f"{fair_url}/book", data={**book, "start": slot}, headers=htmx)
        assert first.status_code == second.status_code == 200
        assert "예약되었습니다" in first.text and second.text == first.text  # not "taken": the same answer again
        assert await count(sessionmaker, Meeting, firm_id=uuid.UUID(str(firm.organization_id))) == 1
