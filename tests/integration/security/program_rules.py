"""The authorization matrix's rules for the programs (sessions, activities, targets, the program
table), merged into its RULES."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.factories_ops import ACTORS, World
from tests.integration.security.test_authorization_matrix import Call, Case, Prepare, Rule, signed_in, staff_only

Client = AsyncTestClient[Litestar]


def _session_body() -> dict[str, Any]:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    return {"title": "설명회", "kind": "briefing", "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(), "capacity": 30, "audience": "both",
            "place": "센터"}  # fmt: skip


async def new_session(client: Client, world: World, actor: str) -> Call:
    return Call(json=_session_body())


async def _create(client: Client, world: World) -> str:
    response = await client.post("/api/v1/sessions", json=_session_body(), headers=world.staff.headers)
    assert response.status_code == 201, response.text
    client.cookies.clear()
    return str(response.json()["id"])


def a_session(body: dict[str, Any] | None = None, data: dict[str, str] | None = None) -> Prepare:
    async def prepare(client: Client, world: World, actor: str) -> Call:
        return Call(values={"session_id": await _create(client, world)}, json=body, data=data)

    return prepare


def registration_of_a(body: dict[str, Any] | None = None) -> Prepare:
    async def prepare(client: Client, world: World, actor: str) -> Call:
        session_id = await _create(client, world)
        response = await client.post(
            f"/api/v1/sessions/{session_id}/registrations", json={}, headers=world.firm_a.headers
        )
        assert response.status_code == 201, response.text
        client.cookies.clear()
        registration_id = response.json()["registrations"][0]["id"]
        return Call(values={"session_id": session_id, "registration_id": registration_id}, json=body)

    return prepare


async def activity(client: Client, world: World, actor: str) -> Call:
    return Call(json={"partner": "서울특별시교육청", "date": "2020-03-26", "kind": "agreement"})


async def targets(client: Client, world: World, actor: str) -> Call:
    return Call(values={"year": "2020"}, json={"targets": {"briefing": 20}})


async def year_2020(client: Client, world: World, actor: str) -> Call:
    return Call(params={"year": "2020"})


async def empty_form(client: Client, world: World, actor: str) -> Call:
    return Call(values={"year": "2020"}, data={"year": "2020"})


ORGANIZATIONS = {**dict.fromkeys(ACTORS, 201), "anonymous": 401, "staff": 403}
OWNER_OR_STAFF = {**dict.fromkeys(ACTORS, 404), "anonymous": 401, "firm_a": 200, "staff": 200}

PROGRAM_RULES: dict[tuple[str, str], Rule] = {
    ("POST", "/api/v1/sessions"): Rule("api", [Case(staff_only(201), new_session)]),
    ("GET", "/api/v1/sessions"): Rule("api", [Case(signed_in(200))]),
    ("GET", "/api/v1/sessions/{session_id:uuid}"): Rule("api", [Case(signed_in(200), a_session())]),
    ("PATCH", "/api/v1/sessions/{session_id:uuid}"): Rule(
        "api", [Case(staff_only(200), a_session({"materials_url": "https://center.kr/a.pdf"}))]
    ),
    ("POST", "/api/v1/sessions/{session_id:uuid}/registrations"): Rule("api", [Case(ORGANIZATIONS, a_session({}))]),
    ("GET", "/api/v1/sessions/{session_id:uuid}/registrations"): Rule("api", [Case(signed_in(200), a_session())]),
    ("DELETE", "/api/v1/sessions/{session_id:uuid}/registrations/{registration_id:uuid}"): Rule(
        "api", [Case(OWNER_OR_STAFF, registration_of_a())]
    ),
    ("PATCH", "/api/v1/sessions/{session_id:uuid}/registrations/{registration_id:uuid}"): Rule(
        "api", [Case(staff_only(422), registration_of_a({"attended": True}), "not begun")]
    ),
    ("POST", "/api/v1/activities"): Rule("api", [Case(staff_only(201), activity)]),
    ("GET", "/api/v1/activities"): Rule("api", [Case(staff_only(200))]),
    ("PUT", "/api/v1/programs/targets/{year:int}"): Rule("api", [Case(staff_only(200), targets)]),
    ("GET", "/api/v1/reports/programs"): Rule("api", [Case(staff_only(200), year_2020)]),
    ("GET", "/api/v1/reports/programs.csv"): Rule("api", [Case(staff_only(200), year_2020)]),
    ("GET", "/api/v1/reports/programs.xlsx"): Rule("api", [Case(staff_only(200), year_2020)]),
    # pages
    ("GET", "/reports/programs"): Rule("page", [Case(staff_only(200, anonymous=303))]),
    ("POST", "/reports/programs/targets"): Rule(
        "page", [Case(staff_only(422, anonymous=303), empty_form, "no target")]
    ),
    ("GET", "/programs/sessions"): Rule("page", [Case(signed_in(200, anonymous=303))]),
    ("GET", "/programs/sessions/new"): Rule("page", [Case(staff_only(200, anonymous=303))]),
    ("POST", "/programs/sessions/new"): Rule("page", [Case(staff_only(422, anonymous=303))]),
    ("GET", "/programs/sessions/{session_id:uuid}"): Rule("page", [Case(signed_in(200, anonymous=303), a_session())]),
    ("POST", "/programs/sessions/{session_id:uuid}/register"): Rule(
        "page", [Case({**dict.fromkeys(ACTORS, 303), "staff": 403}, a_session())]
    ),
    ("POST", "/programs/sessions/{session_id:uuid}/registrations/{registration_id:uuid}/cancel"): Rule(
        "page", [Case({**OWNER_OR_STAFF, "firm_a": 303, "staff": 303, "anonymous": 303}, registration_of_a())]
    ),
    ("POST", "/programs/sessions/{session_id:uuid}/attendance"): Rule(
        "page", [Case(staff_only(422, anonymous=303), a_session(), "not begun")]
    ),
    ("POST", "/programs/sessions/{session_id:uuid}/materials"): Rule(
        "page", [Case(staff_only(422, anonymous=303), a_session(), "no link")]
    ),
    ("GET", "/programs/activities"): Rule("page", [Case(staff_only(200, anonymous=303))]),
    ("POST", "/programs/activities"): Rule("page", [Case(staff_only(422, anonymous=303))]),
}
