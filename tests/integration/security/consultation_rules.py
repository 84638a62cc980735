"""The authorization matrix's rules for everyday consultations (merged into its RULES)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.factories_ops import ACTORS, World
from tests.integration.security.test_authorization_matrix import Call, Case, Rule, owner_or_staff, signed_in, staff_only


def _future() -> dict[str, str]:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    return {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}


def _ask_body() -> dict[str, Any]:
    return {"topic": "procedure", "message": "절차 문의", "preferred": [_future()]}


async def new_consultation(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    return Call(json=_ask_body())


def consultation_of_a(body: dict[str, Any] | None = None) -> Any:
    async def prepare(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
        response = await client.post("/api/v1/consultations", json=_ask_body(), headers=world.firm_a.headers)
        assert response.status_code == 201, response.text
        client.cookies.clear()
        return Call(values={"consultation_id": response.json()["id"]}, json=body, data=body)

    return prepare


async def exception_of_staff(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    day = (date.today() + timedelta(days=40)).isoformat()
    response = await client.post(
        "/api/v1/consultation-hours/me/exceptions", json={"day": day}, headers=world.staff.headers
    )
    assert response.status_code == 201, response.text
    return Call(values={"exception_id": response.json()["id"]})


async def closed_day(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    return Call(json={"day": (date.today() + timedelta(days=41)).isoformat()})


async def no_blocks(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    return Call(json={"blocks": []})


ORGANIZATIONS_ASK = {**dict.fromkeys(ACTORS, 201), "anonymous": 401, "staff": 422}  # staff log: organization_id

CONSULTATION_RULES: dict[tuple[str, str], Rule] = {
    ("POST", "/api/v1/consultations"): Rule("api", [Case(ORGANIZATIONS_ASK, new_consultation)]),
    ("GET", "/api/v1/consultations"): Rule("api", [Case(signed_in(200))]),
    ("GET", "/api/v1/consultations/{consultation_id:uuid}"): Rule(
        "api", [Case(owner_or_staff("firm_a", 200), consultation_of_a())]
    ),
    ("PATCH", "/api/v1/consultations/{consultation_id:uuid}"): Rule(
        "api", [Case(owner_or_staff("firm_a", 200), consultation_of_a({"status": "cancelled"}), "cancel")]
    ),
    ("GET", "/api/v1/consultation-hours"): Rule("api", [Case(signed_in(200))]),
    ("GET", "/api/v1/consultation-hours/me"): Rule("api", [Case(staff_only(200))]),
    ("PUT", "/api/v1/consultation-hours/me"): Rule("api", [Case(staff_only(200), no_blocks)]),
    ("GET", "/api/v1/consultation-hours/me/exceptions"): Rule("api", [Case(staff_only(200))]),
    ("POST", "/api/v1/consultation-hours/me/exceptions"): Rule("api", [Case(staff_only(201), closed_day)]),
    ("DELETE", "/api/v1/consultation-hours/me/exceptions/{exception_id:uuid}"): Rule(
        "api", [Case(staff_only(204), exception_of_staff)]
    ),
}
