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
        values = {"consultation_id": response.json()["id"], "action": "cancel"}
        return Call(values=values, json=body, data=body)

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


def pages(ok: int | tuple[int, ...], staff: int | tuple[int, ...]) -> dict[str, int | tuple[int, ...]]:
    return {**dict.fromkeys(ACTORS, ok), "anonymous": 303, "staff": staff}


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
    ("GET", "/consultations"): Rule("page", [Case(pages(200, 200))]),
    ("GET", "/consultations/new"): Rule("page", [Case(pages(200, 404))]),
    ("POST", "/consultations/new"): Rule("page", [Case(pages(422, 404), label="empty form")]),
    ("GET", "/consultations/{consultation_id:uuid}"): Rule(
        "page", [Case(owner_or_staff("firm_a", 200, anonymous=303), consultation_of_a())]
    ),
    ("POST", "/consultations/{consultation_id:uuid}/{action:str}"): Rule(
        "page", [Case(owner_or_staff("firm_a", 303, anonymous=303), consultation_of_a(), "cancel")]
    ),
    ("GET", "/consultations/hours"): Rule("page", [Case(staff_only(200, anonymous=303))]),
    ("POST", "/consultations/hours"): Rule("page", [Case(staff_only(303, anonymous=303), label="no hours")]),
    ("POST", "/consultations/hours/exceptions"): Rule(
        "page", [Case(staff_only(422, anonymous=303), label="empty form")]
    ),
    ("POST", "/consultations/hours/exceptions/{exception_id:uuid}/delete"): Rule(
        "page", [Case(staff_only(303, anonymous=303), exception_of_staff)]
    ),
}
