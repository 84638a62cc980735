"""Typed builders for test data, going through the API or the services like a user would."""

from __future__ import annotations

import itertools
import random
import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.accounts.service import AccountService
from service.config import Settings
from service.registry.business_number import check_digit

PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)


def business_number(seed: int | None = None) -> str:
    """A checksum-valid, unique-per-call business number."""
    rng = random.Random(seed if seed is not None else next(_counter) * 7919 + uuid.uuid4().int % 1000)
    body = f"{rng.randint(100, 999)}{rng.randint(10, 99)}{rng.randint(1000, 9999)}"
    return body + str(check_digit(body))


@dataclass
class Account:
    user_id: str
    organization_id: str | None
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def agency_payload(email: str | None = None, **org: Any) -> dict[str, Any]:
    n = next(_counter)
    return {
        "kind": "agency",
        "user": {
            "email": email or f"agency{n}-{uuid.uuid4().hex[:6]}@example.go.kr",
            "password": PASSWORD,
            "name": "구매담당",
        },
        "organization": {"name": f"테스트구청{n}", "agency_type": "district_office", "district": "eunpyeong", **org},
    }


def firm_payload(email: str | None = None, **org: Any) -> dict[str, Any]:
    n = next(_counter)
    return {
        "kind": "firm",
        "user": {"email": email or f"firm{n}-{uuid.uuid4().hex[:6]}@example.kr", "password": PASSWORD, "name": "대표"},
        "organization": {
            "name": f"테스트협동조합{n}",
            "business_number": business_number(),
            "firm_types": ["cooperative"],
            "district": "mapo",
            "category_codes": ["CLN-DIS"],
            "description": "청사 방역 소독 전문",
            **org,
        },
    }


async def login(client: AsyncTestClient[Litestar], email: str, password: str = PASSWORD) -> str:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    client.cookies.clear()  # API tests authenticate by bearer token only
    return str(response.json()["token"])


async def register(client: AsyncTestClient[Litestar], payload: dict[str, Any]) -> Account:
    response = await client.post("/api/v1/register", json=payload)
    assert response.status_code == 201, response.text
    body = response.json()
    token = await login(client, payload["user"]["email"])
    return Account(body["user"]["id"], body["organization"]["id"], payload["user"]["email"], token)


async def create_staff(
    client: AsyncTestClient[Litestar], sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> Account:
    email = f"staff-{uuid.uuid4().hex[:8]}@center.kr"
    async with sessionmaker.begin() as session:
        user = await AccountService(session, settings.auth).create_staff(email, PASSWORD, "직원")
        user_id = str(user.id)
    return Account(user_id, None, email, await login(client, email))


async def verify(client: AsyncTestClient[Litestar], staff: Account, organization_id: str | None) -> None:
    response = await client.post(f"/api/v1/organizations/{organization_id}/verify", headers=staff.headers)
    assert response.status_code == 200, response.text


async def verified_agency(client: AsyncTestClient[Litestar], staff: Account, **org: Any) -> Account:
    account = await register(client, agency_payload(**org))
    await verify(client, staff, account.organization_id)
    return account


async def verified_firm(client: AsyncTestClient[Litestar], staff: Account, **org: Any) -> Account:
    account = await register(client, firm_payload(**org))
    await verify(client, staff, account.organization_id)
    return account
