"""Who may call what: every route of the app against six actors.

The test walks the app's route table; a route without a rule in RULES fails it, so a new endpoint
cannot ship without someone deciding who may call it. Each rule holds one or more cases: how to
build the call (path values, body, a fresh target) and the status each actor must get.

Actors: anonymous, firm A, firm B, agency X, agency Y (all verified), staff. API calls authenticate
with the bearer token; pages with the session cookie (and a CSRF pair for form posts). Objects a
caller may not see answer 404, actions a caller may not take 403, no identity 401 (API) or a 303
to the sign-in page (HTML).

To extend: add `(METHOD, "/path/{template}")` → Rule(...) below. Helpers: `everyone`, `signed_in`,
`staff_only`, `owner_or_staff`. A rule whose route is not in this build (a domain merged on
another branch) is simply not exercised, so branches can share one table.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.fairs.models import Fair, FairMode, MeetingStatus
from tests.factories import agency_payload, firm_payload, login
from tests.factories_contracts import contract_payload, join, make_fair, make_meeting, report_contract
from tests.factories_ops import ACTORS, World, build_world, csrf_pair, fill_path, route_table

Expect = dict[str, int | tuple[int, ...]]


@dataclass
class Call:
    """One request: path values, a JSON body or form data, and optionally a fresh token for the actor."""

    values: dict[str, str] = field(default_factory=dict)
    json: Any = None
    data: dict[str, str] | None = None
    params: dict[str, str] | None = None  # query string
    token: str | None = None  # overrides the actor's token (e.g. a throwaway one for logout)


Prepare = Callable[[AsyncTestClient[Litestar], World, str], Awaitable[Call]]


async def plain(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    return Call()


@dataclass
class Case:
    expect: Expect
    prepare: Prepare = plain
    label: str = ""


@dataclass
class Rule:
    surface: str  # "api" (bearer) or "page" (cookie + CSRF)
    cases: list[Case]


# -- expectation helpers --------------------------------------------------------------------------
def everyone(status: int) -> Expect:
    return dict.fromkeys(ACTORS, status)


def signed_in(ok: int | tuple[int, ...], anonymous: int = 401) -> Expect:
    return {**dict.fromkeys(ACTORS, ok), "anonymous": anonymous}


def staff_only(ok: int, others: int = 403, anonymous: int = 401) -> Expect:
    return {**dict.fromkeys(ACTORS, others), "anonymous": anonymous, "staff": ok}


def owner_or_staff(owner: str, ok: int, others: int = 404, anonymous: int = 401) -> Expect:
    return {**dict.fromkeys(ACTORS, others), "anonymous": anonymous, owner: ok, "staff": ok}


# -- call builders ----------------------------------------------------------------------------------
async def digest_on(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    return Call(json={"mail_preferences": {"digest": True}})


async def reminders_only_form(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    return Call(data={"reminders": "on"})


async def pending_agency(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    response = await client.post("/api/v1/register", json=agency_payload())
    assert response.status_code == 201, response.text
    client.cookies.clear()
    return Call(values={"organization_id": response.json()["organization"]["id"], "action": "verify"})


async def pending_firm(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    response = await client.post("/api/v1/register", json=firm_payload())
    assert response.status_code == 201, response.text
    client.cookies.clear()
    return Call(values={"organization_id": response.json()["organization"]["id"]})


async def reject_pending(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    call = await pending_agency(client, world, actor)
    call.json = {"reason": "사업자 정보 불일치"}
    return call


def org_of(name: str, body: dict[str, Any] | None = None) -> Prepare:
    async def prepare(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
        org_id = world.account(name).organization_id  # type: ignore[union-attr]
        return Call(values={"organization_id": str(org_id)}, json=body)

    return prepare


async def fresh_token(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    account = world.account(actor)
    return Call(token=await login(client, account.email) if account else None)


async def firm_a_credentials(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    credentials = {"email": world.firm_a.email, "password": "correct-horse-battery"}
    return Call(json=credentials, data=credentials)


async def new_registration(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    return Call(json=agency_payload())


async def empty_registration_form(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    return Call(data={"kind": "agency"})


async def profile_form(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    return Call(data={"district": "no-such-district"})  # the page answers 422 with the error next to the field


async def weights_unchanged(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    return Call(json={"weights": {}})


def values(**path_values: str) -> Prepare:
    async def prepare(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
        return Call(values=dict(path_values))

    return prepare


def need_body() -> dict[str, Any]:
    return {
        "title": "구청 청사 방역 소독 용역",
        "description": "본관과 별관의 정기 방역 소독",
        "category_codes": ["CLN-DIS"],
        "budget_krw": 30_000_000,
        "needed_by": str(date.today() + timedelta(days=30)),
        "delivery_district": "eunpyeong",
    }


async def new_need(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    return Call(json=need_body())


def need_of_x(body: Callable[[World], Any] | None = None) -> Prepare:
    """A fresh need posted by agency X (its firms A and B match it: same category, verified)."""

    async def prepare(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
        response = await client.post("/api/v1/needs", json=need_body(), headers=world.agency_x.headers)
        assert response.status_code == 201, response.text
        return Call(values={"need_id": response.json()["id"]}, json=body(world) if body else None)

    return prepare


def response_of_a(form: bool = False) -> Prepare:
    """A fresh need of agency X with firm A's response to it; the body (JSON, or form data) is a short message."""

    async def prepare(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
        call = await need_of_x()(client, world, actor)
        response = await client.post(
            f"/api/v1/needs/{call.values['need_id']}/responses",
            json={"message": "관심 있습니다"},
            headers=world.firm_a.headers,
        )
        assert response.status_code == 201, response.text
        client.cookies.clear()
        call.values["response_id"] = response.json()["id"]
        if form:
            call.data = {"message": "답장"}
        else:
            call.json = {"message": "답장"}
        return call

    return prepare


async def response_form_of_x(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    call = await need_of_x()(client, world, actor)
    call.data = {"message": "관심 있습니다"}
    return call


# -- members and invitations (issue 15) -----------------------------------------------------------------
def member_of_x(body: dict[str, Any] | None = None, form: bool = False) -> Prepare:
    """Agency X's organization and its (sole admin) user; `body` as JSON, or as form data."""

    async def prepare(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
        values = {"organization_id": str(world.agency_x.organization_id), "user_id": str(world.agency_x.user_id)}
        return Call(values=values, data=body if form else None, json=None if form else body)

    return prepare


async def new_invitation_of_x(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    call = await org_of("agency_x")(client, world, actor)
    call.json = {"email": f"invitee-{uuid.uuid4().hex[:8]}@example.go.kr", "role": "member"}
    return call


async def open_invitation_of_x(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    response = await client.post(
        f"/api/v1/organizations/{world.agency_x.organization_id}/invitations",
        json={"email": f"invitee-{uuid.uuid4().hex[:8]}@example.go.kr", "role": "member"},
        headers=world.agency_x.headers,
    )
    assert response.status_code == 201, response.text
    return Call(values={"invitation_id": response.json()["id"], "verb": "resend"})


async def unknown_invitation_token(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    body = {"token": "no-such-token", "name": "동료", "password": "correct-horse-battery"}
    return Call(json=body, data=body, params={"token": "no-such-token"})


# firms answer a need of X; its agency and staff read and reply
RESPONDERS: Expect = {
    "anonymous": 401,
    "firm_a": 201,
    "firm_b": 201,
    "agency_x": 403,
    "agency_y": 404,
    "staff": 403,
}
RESPONSE_OWNER: Expect = {**RESPONDERS, "firm_a": 200, "firm_b": 404}


# -- fairs, meetings and contracts (real objects) -----------------------------------------------------
def _sessionmaker(world: World) -> Any:
    assert world.sessionmaker is not None
    return world.sessionmaker


_slots = itertools.count()
FAIR_DAY = date.today() + timedelta(days=60)


async def fair_of_x_and_a(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    """A fair that agency X and firm A take part in (B and Y do not)."""
    day = FAIR_DAY + timedelta(days=next(_slots))  # one day per fair: meetings never overlap
    fair_id = await make_fair(_sessionmaker(world), day=day)
    await join(_sessionmaker(world), fair_id, world.agency_x, world.firm_a)
    return Call(values={"fair_id": str(fair_id), "day": day.isoformat()})


async def meeting_of_x_and_a(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    """A booked meeting between agency X and firm A in a fair both joined."""
    call = await fair_of_x_and_a(client, world, actor)
    meeting_id = await make_meeting(
        _sessionmaker(world),
        world.agency_x,
        world.firm_a,
        fair_id=uuid.UUID(call.values["fair_id"]),
        starts_at=datetime.fromisoformat(call.values["day"] + "T01:00:00+00:00"),  # 10:00 in Seoul
        status=MeetingStatus.BOOKED,
    )
    return Call(values={"meeting_id": str(meeting_id), **call.values})


async def contract_of_x_and_a(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    """A contract firm A reported with agency X (not yet confirmed)."""
    body = await report_contract(client, world.firm_a, world.agency_x, world.firm_a)
    client.cookies.clear()
    return Call(values={"contract_id": body["id"]})


def contract_body(firm: str = "firm_a") -> Prepare:
    async def prepare(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
        account = getattr(world, firm)
        return Call(json=contract_payload(world.agency_x, account))

    return prepare


def with_json(prepare: Prepare, body: Any) -> Prepare:
    async def wrapped(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
        call = await prepare(client, world, actor)
        call.json = body
        return call

    return wrapped


async def need_form_of_x(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    call = await need_of_x()(client, world, actor)
    call.data = {"firm_id": str(world.firm_a.organization_id)}
    return call


def query(**params: str) -> Prepare:
    async def prepare(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
        return Call(params=dict(params))

    return prepare


def agency_x_body(**fields: Any) -> Prepare:
    """Unknown path ids, a well-formed body naming agency X (so validation cannot answer first)."""

    async def prepare(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
        return Call(json={"agency_id": str(world.agency_x.organization_id), **fields})

    return prepare


async def target_of_x(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    return Call(values={"agency_id": str(world.agency_x.organization_id), "year": "2021"}, json={"target_krw": 10**8})


# -- account self-service ------------------------------------------------------------------------------
NO_ACCOUNT = {"email": "nobody-here@example.kr"}
BAD_LINK = {"token": "no-such-link", "password": "a-long-enough-password"}


def form(**data: str) -> Prepare:
    async def prepare(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
        return Call(data=dict(data))

    return prepare


async def own_second_session(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    """Another session of the actor (signed in once more), to end with the actor's usual token."""
    account = world.account(actor)
    if account is None:
        return Call()
    token = await login(client, account.email)
    listed = await client.get("/api/v1/me/sessions", headers={"Authorization": f"Bearer {token}"})
    client.cookies.clear()
    return Call(values={"session_id": next(s["id"] for s in listed.json() if s["current"])})


async def throwaway_account(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    """A fresh account's session (none for anonymous): ending "every other session" of it leaves the
    actors' own tokens alone."""
    if world.account(actor) is None:
        return Call(token="")
    payload = firm_payload()
    response = await client.post("/api/v1/register", json=payload)
    assert response.status_code == 201, response.text
    return Call(token=await login(client, payload["user"]["email"]))


FAIR_BODY = {
    "name": "2027 공공구매 상담회",
    "mode": "first_come",
    "days": [{"date": "2027-06-10", "start": "10:00", "end": "15:00"}],
    "slot_minutes": 30,
    "booking_opens_at": "2027-05-01T00:00:00Z",
    "booking_closes_at": "2027-06-01T00:00:00Z",
}


async def move_form(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    return Call(data={"start": "2027-06-10T10:00"})


async def unavailable_form_naming_x(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    """A fair of X and A; the form names agency X (only staff may speak for another participant)."""
    call = await fair_of_x_and_a(client, world, actor)
    call.data = {"organization_id": str(world.agency_x.organization_id), "start": call.values["day"] + "T10:00"}
    return call


async def slots_of_x(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    call = await fair_of_x_and_a(client, world, actor)
    call.params = {"agency_id": str(world.agency_x.organization_id)}
    return call


async def firm_b_joins(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    call = await fair_of_x_and_a(client, world, actor)
    call.json = {"organization_id": str(world.firm_b.organization_id)}
    return call


async def move_meeting_of_x_and_a(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    call = await meeting_of_x_and_a(client, world, actor)
    call.json = {"start": call.values["day"] + "T02:00:00+00:00"}  # 11:00 the same day
    return call


async def request_of_a_to_x(client: AsyncTestClient[Litestar], world: World, actor: str) -> Call:
    """A pending meeting request firm A sent to agency X in a requests-mode fair open for booking."""
    day = FAIR_DAY + timedelta(days=next(_slots))
    async with _sessionmaker(world).begin() as session:
        fair = Fair(
            name="요청형 상담회",
            mode=FairMode.REQUESTS,
            days=[{"date": day.isoformat(), "start": "10:00", "end": "17:00"}],
            slot_minutes=30,
            booking_opens_at=datetime.now(UTC) - timedelta(days=1),
            booking_closes_at=datetime.now(UTC) + timedelta(days=20),
        )
        session.add(fair)
        await session.flush()
        fair_id = fair.id
    await join(_sessionmaker(world), fair_id, world.agency_x, world.firm_a)
    response = await client.post(
        f"/api/v1/fairs/{fair_id}/requests",
        json={"agency_id": str(world.agency_x.organization_id), "priority": 1},
        headers=world.firm_a.headers,
    )
    assert response.status_code == 201, response.text
    client.cookies.clear()
    return Call(values={"fair_id": str(fair_id), "request_id": response.json()["id"], "decision": "accept"})


FIRM_PATCH = {"description": "청사 방역 소독과 정기 위생 관리"}
AGENCY_PATCH = {"phone": "02-2000-0000"}

PARTIES_200: Expect = {**owner_or_staff("agency_x", 200), "firm_a": 200}

RULES: dict[tuple[str, str], Rule] = {
    # -- probes and machine endpoints
    ("GET", "/health"): Rule("api", [Case(everyone(200))]),
    ("GET", "/ready"): Rule("api", [Case(everyone(200))]),
    ("GET", "/metrics"): Rule(
        "api",
        [Case(everyone(404), label="only METRICS_ALLOW_IPS (loopback) or METRICS_TOKEN; the test client is neither")],
    ),
    ("GET", "/schema"): Rule("api", [Case(everyone(200))]),
    ("GET", "/schema/scalar"): Rule("api", [Case(everyone(200))]),
    ("GET", "/schema/openapi.json"): Rule("api", [Case(everyone(200))]),
    ("GET", "/schema/{path:str}"): Rule("api", [Case(everyone(404), values(path="nothing"), "no such docs page")]),
    ("GET", "/static/{file_path:path}"): Rule("api", [Case(everyone(200), values(file_path="app.css"))]),
    # -- accounts API
    ("POST", "/api/v1/auth/login"): Rule("api", [Case(everyone(200), firm_a_credentials)]),
    ("POST", "/api/v1/auth/logout"): Rule("api", [Case(signed_in(204), fresh_token)]),
    ("POST", "/api/v1/register"): Rule("api", [Case(everyone(201), new_registration)]),
    ("GET", "/api/v1/me"): Rule("api", [Case(signed_in(200))]),
    ("PATCH", "/api/v1/me"): Rule("api", [Case(signed_in(200), digest_on)]),
    # -- members and invitations API
    ("GET", "/api/v1/organizations/{organization_id:uuid}/members"): Rule(
        "api", [Case(owner_or_staff("agency_x", 200), org_of("agency_x"))]
    ),
    ("PATCH", "/api/v1/organizations/{organization_id:uuid}/members/{user_id:uuid}"): Rule(
        "api", [Case(owner_or_staff("agency_x", 200), member_of_x({"role": "admin"}), "already admin: no change")]
    ),
    ("DELETE", "/api/v1/organizations/{organization_id:uuid}/members/{user_id:uuid}"): Rule(
        "api", [Case(owner_or_staff("agency_x", 409), member_of_x(), "the last admin stays")]
    ),
    ("POST", "/api/v1/organizations/{organization_id:uuid}/invitations"): Rule(
        "api", [Case(owner_or_staff("agency_x", 201), new_invitation_of_x)]
    ),
    ("GET", "/api/v1/organizations/{organization_id:uuid}/invitations"): Rule(
        "api", [Case(owner_or_staff("agency_x", 200), org_of("agency_x"))]
    ),
    ("DELETE", "/api/v1/invitations/{invitation_id:uuid}"): Rule(
        "api", [Case(owner_or_staff("agency_x", 204), open_invitation_of_x)]
    ),
    ("POST", "/api/v1/invitations/{invitation_id:uuid}/resend"): Rule(
        "api", [Case(owner_or_staff("agency_x", 200), open_invitation_of_x)]
    ),
    ("POST", "/api/v1/invitations/accept"): Rule("api", [Case(everyone(404), unknown_invitation_token)]),
    # -- registry API
    ("POST", "/api/v1/organizations/{organization_id:uuid}/verify"): Rule(
        "api", [Case(staff_only(200), pending_agency), Case(staff_only(404), plain, "unknown id")]
    ),
    ("POST", "/api/v1/organizations/{organization_id:uuid}/reject"): Rule(
        "api", [Case(staff_only(200), reject_pending)]
    ),
    ("GET", "/api/v1/firms/{organization_id:uuid}"): Rule(
        "api",
        [
            Case(signed_in(200), org_of("firm_a"), "a verified firm"),
            Case(staff_only(200, others=404), pending_firm, "a pending firm is invisible to others"),
            Case(signed_in(404), org_of("agency_x"), "an agency is not a firm"),
        ],
    ),
    ("GET", "/api/v1/agencies/{organization_id:uuid}"): Rule(
        "api",
        [
            Case(signed_in(200), org_of("agency_x"), "a verified agency"),
            Case(staff_only(200, others=404), pending_agency, "a pending agency is invisible to others"),
        ],
    ),
    ("PATCH", "/api/v1/firms/{organization_id:uuid}"): Rule(
        "api", [Case(owner_or_staff("firm_a", 200), org_of("firm_a", FIRM_PATCH))]
    ),
    ("PATCH", "/api/v1/agencies/{organization_id:uuid}"): Rule(
        "api", [Case(owner_or_staff("agency_x", 200), org_of("agency_x", AGENCY_PATCH))]
    ),
    ("GET", "/api/v1/categories"): Rule("api", [Case(everyone(200))]),
    ("GET", "/api/v1/firms"): Rule("api", [Case(signed_in(200))]),
    ("GET", "/api/v1/firms/export"): Rule("api", [Case(signed_in(200))]),
    ("GET", "/api/v1/imports/firms/template"): Rule("api", [Case(staff_only(200))]),
    ("POST", "/api/v1/imports/firms"): Rule("api", [Case({**staff_only(422), "staff": (400, 422)}, plain, "no file")]),
    ("GET", "/api/v1/imports/agencies/template"): Rule("api", [Case(staff_only(200))]),
    ("POST", "/api/v1/imports/agencies"): Rule(
        "api", [Case({**staff_only(422), "staff": (400, 422)}, plain, "no file")]
    ),
    ("GET", "/api/v1/organizations/pending"): Rule("api", [Case(staff_only(200))]),
    ("GET", "/api/v1/organizations/changes"): Rule("api", [Case(staff_only(200))]),
    ("POST", "/api/v1/organizations/{organization_id:uuid}/changes/{change_id:uuid}/accept"): Rule(
        "api", [Case(staff_only(404), plain, "unknown organization")]
    ),
    ("POST", "/api/v1/organizations/{organization_id:uuid}/changes/{change_id:uuid}/reject"): Rule(
        "api", [Case(staff_only(404), with_json(plain, {}), "unknown organization")]
    ),
    ("POST", "/staff/organizations/{organization_id:uuid}/changes/{change_id:uuid}/{action:str}"): Rule(
        "page", [Case(staff_only(404, anonymous=303), plain, "unknown organization")]
    ),
    ("GET", "/staff/imports"): Rule("page", [Case(staff_only(200, anonymous=303))]),
    ("POST", "/staff/imports"): Rule("page", [Case(staff_only((200, 400, 422), anonymous=303), plain, "no file")]),
    # -- needs and matching API
    ("POST", "/api/v1/needs"): Rule(
        "api", [Case({**staff_only(403), "agency_x": 201, "agency_y": 201, "staff": 403}, new_need)]
    ),
    ("GET", "/api/v1/needs"): Rule("api", [Case(signed_in(200))]),
    ("GET", "/api/v1/needs/{need_id:uuid}"): Rule(
        "api", [Case({**signed_in(200), "agency_y": 404}, need_of_x(), "matched firms see it")]
    ),
    ("PATCH", "/api/v1/needs/{need_id:uuid}"): Rule(
        "api", [Case(owner_or_staff("agency_x", 200), need_of_x(lambda w: {"title": "방역 소독 (수정)"}))]
    ),
    ("POST", "/api/v1/needs/{need_id:uuid}/close"): Rule("api", [Case(owner_or_staff("agency_x", 200), need_of_x())]),
    ("POST", "/api/v1/needs/{need_id:uuid}/award"): Rule(
        "api",
        [Case(owner_or_staff("agency_x", 200), need_of_x(lambda w: {"firm_id": w.firm_a.organization_id}))],
    ),
    ("GET", "/api/v1/needs/{need_id:uuid}/matches"): Rule("api", [Case(owner_or_staff("agency_x", 200), need_of_x())]),
    ("POST", "/api/v1/needs/{need_id:uuid}/shortlist"): Rule(
        "api",
        [Case(owner_or_staff("agency_x", 201), need_of_x(lambda w: {"firm_id": w.firm_a.organization_id}))],
    ),
    ("POST", "/api/v1/needs/{need_id:uuid}/responses"): Rule(
        "api", [Case(RESPONDERS, need_of_x(lambda w: {"message": "관심 있습니다"}))]
    ),
    ("GET", "/api/v1/needs/{need_id:uuid}/responses"): Rule(
        "api", [Case(owner_or_staff("agency_x", 200), need_of_x())]
    ),
    ("PATCH", "/api/v1/needs/{need_id:uuid}/responses/{response_id:uuid}"): Rule(
        "api", [Case(RESPONSE_OWNER, response_of_a())]
    ),
    ("DELETE", "/api/v1/needs/{need_id:uuid}/responses/{response_id:uuid}"): Rule(
        "api", [Case(RESPONSE_OWNER, response_of_a())]
    ),
    ("POST", "/api/v1/needs/{need_id:uuid}/responses/{response_id:uuid}/reply"): Rule(
        "api", [Case(owner_or_staff("agency_x", 200), response_of_a())]
    ),
    ("GET", "/api/v1/me/invitations"): Rule("api", [Case(signed_in(200))]),
    ("GET", "/api/v1/matching/settings"): Rule("api", [Case(staff_only(200))]),
    ("PUT", "/api/v1/matching/settings"): Rule("api", [Case(staff_only(200), weights_unchanged)]),
    # -- pages
    ("GET", "/"): Rule("page", [Case(everyone(200))]),
    ("GET", "/firms"): Rule("page", [Case(signed_in(200, anonymous=303))]),
    ("GET", "/organizations/search"): Rule("page", [Case(signed_in(200, anonymous=303))]),
    ("GET", "/firms/{organization_id:uuid}"): Rule("page", [Case(signed_in(200, anonymous=303), org_of("firm_a"))]),
    ("GET", "/agencies/{organization_id:uuid}"): Rule(
        "page", [Case(signed_in(200, anonymous=303), org_of("agency_x"))]
    ),
    ("GET", "/login"): Rule("page", [Case(everyone(200))]),
    ("POST", "/login"): Rule("page", [Case(everyone(303), firm_a_credentials)]),
    ("POST", "/logout"): Rule("page", [Case(everyone(303), fresh_token)]),
    ("GET", "/register"): Rule("page", [Case(everyone(200))]),
    ("POST", "/register"): Rule("page", [Case(everyone(422), empty_registration_form)]),
    ("GET", "/me"): Rule("page", [Case(signed_in(200, anonymous=303))]),
    ("POST", "/me/organization"): Rule(
        "page", [Case({**signed_in(422, anonymous=303), "staff": 303}, profile_form, "staff has no organization")]
    ),
    ("GET", "/me/notifications"): Rule("page", [Case(signed_in(200, anonymous=303))]),
    ("POST", "/me/notifications"): Rule("page", [Case(signed_in(303, anonymous=303), reminders_only_form)]),
    ("GET", "/organization/members"): Rule(
        "page", [Case({**signed_in(200, anonymous=303), "staff": 404}, plain, "staff has no organization")]
    ),
    ("POST", "/organization/members/invite"): Rule(
        "page",
        [Case({**signed_in(422, anonymous=303), "staff": 404}, member_of_x({"email": "", "role": "member"}, True))],
    ),
    ("POST", "/organization/members/{user_id:uuid}/role"): Rule(
        "page",
        [Case({**signed_in(404, anonymous=303), "agency_x": 303}, member_of_x({"role": "admin"}, True), "own only")],
    ),
    ("POST", "/organization/members/{user_id:uuid}/remove"): Rule(
        "page", [Case({**signed_in(404, anonymous=303), "agency_x": 409}, member_of_x({}, True), "the last admin")]
    ),
    ("POST", "/organization/invitations/{invitation_id:uuid}/{verb:str}"): Rule(
        "page", [Case({**signed_in(404, anonymous=303), "agency_x": 303}, open_invitation_of_x)]
    ),
    ("GET", "/invitations/accept"): Rule("page", [Case(everyone(404), unknown_invitation_token)]),
    ("POST", "/invitations/accept"): Rule("page", [Case(everyone(404), unknown_invitation_token)]),
    ("GET", "/lang/{code:str}"): Rule("page", [Case(everyone(303), values(code="en"))]),
    ("GET", "/staff/organizations"): Rule("page", [Case(staff_only(200, anonymous=303))]),
    ("POST", "/staff/organizations/{organization_id:uuid}/{action:str}"): Rule(
        "page", [Case(staff_only(303, anonymous=303), pending_agency)]
    ),
    # -- fairs and meetings API
    ("GET", "/api/v1/fairs"): Rule("api", [Case(signed_in(200))]),
    ("POST", "/api/v1/fairs"): Rule("api", [Case(staff_only(201), with_json(plain, FAIR_BODY))]),
    ("GET", "/api/v1/fairs/{fair_id:uuid}"): Rule(
        "api", [Case(signed_in(200), fair_of_x_and_a), Case(signed_in(404), plain, "unknown id")]
    ),
    ("PATCH", "/api/v1/fairs/{fair_id:uuid}"): Rule(
        "api", [Case(staff_only(200), with_json(fair_of_x_and_a, {"name": "2021 상담회 (수정)"}))]
    ),
    ("GET", "/api/v1/fairs/{fair_id:uuid}/participants"): Rule(
        "api", [Case({**owner_or_staff("agency_x", 200), "firm_a": 200}, fair_of_x_and_a, "participants only")]
    ),
    ("GET", "/api/v1/fairs/{fair_id:uuid}/requests"): Rule(
        "api", [Case(signed_in(200), fair_of_x_and_a, "own requests only (an empty list)")]
    ),
    ("POST", "/api/v1/fairs/{fair_id:uuid}/requests"): Rule(
        "api", [Case(signed_in(404), agency_x_body(priority=1), "unknown fair")]
    ),
    ("PUT", "/api/v1/fairs/{fair_id:uuid}/unavailable"): Rule(
        "api", [Case(signed_in(404), with_json(plain, {"starts": []}), "unknown fair")]
    ),
    ("POST", "/api/v1/fairs/{fair_id:uuid}/meetings"): Rule(
        "api",
        [
            Case(
                {**signed_in(404), "agency_x": 403, "agency_y": 403, "staff": 422},
                agency_x_body(start="2027-06-10T01:00:00Z"),
                "firms book; staff must name the firm",
            )
        ],
    ),
    ("POST", "/api/v1/fairs/{fair_id:uuid}/schedule"): Rule("api", [Case(staff_only(404), plain, "unknown fair")]),
    ("POST", "/api/v1/fairs/{fair_id:uuid}/agenda/final"): Rule("api", [Case(staff_only(404), plain, "unknown fair")]),
    ("GET", "/api/v1/fairs/{fair_id:uuid}/slots"): Rule(
        "api",
        [
            Case(signed_in(404), query(agency_id=str(uuid.uuid4())), "unknown fair"),
            Case(PARTIES_200, slots_of_x, "participants and staff"),
        ],
    ),
    ("POST", "/api/v1/fairs/{fair_id:uuid}/participants"): Rule(
        "api",
        [
            Case(signed_in(404), with_json(plain, {"organization_id": str(uuid.uuid4())}), "unknown fair"),
            Case({**signed_in(403), "firm_b": 201, "staff": 201}, firm_b_joins, "firm B joins itself"),
        ],
    ),
    ("PATCH", "/api/v1/meetings/{meeting_id:uuid}"): Rule(
        "api",
        [
            Case(
                {**owner_or_staff("agency_x", 409), "firm_a": 409, "staff": 200},
                move_meeting_of_x_and_a,
                "parties: booking window not open yet; staff moves any time",
            )
        ],
    ),
    ("POST", "/api/v1/meetings/{meeting_id:uuid}/objection"): Rule(
        "api",
        [
            Case(
                {**owner_or_staff("agency_x", 409), "firm_a": 409},
                with_json(meeting_of_x_and_a, {"message": "불참"}),
                "not held yet: 409 for parties and staff, 404 for others",
            )
        ],
    ),
    ("POST", "/api/v1/meetings/{meeting_id:uuid}/outcome"): Rule(
        "api",
        [
            Case(
                {**owner_or_staff("agency_x", 409), "firm_a": 409},
                with_json(meeting_of_x_and_a, {"outcome": "held"}),
                "not held yet: 409 for parties and staff, 404 for others",
            )
        ],
    ),
    ("GET", "/api/v1/me/meetings"): Rule("api", [Case(signed_in(200))]),
    ("GET", "/api/v1/meetings/{meeting_id:uuid}"): Rule(
        "api", [Case({**owner_or_staff("agency_x", 200), "firm_a": 200}, meeting_of_x_and_a)]
    ),
    ("GET", "/api/v1/meetings/{meeting_id:uuid}/history"): Rule(
        "api", [Case({**owner_or_staff("agency_x", 200), "firm_a": 200}, meeting_of_x_and_a)]
    ),
    ("GET", "/api/v1/meetings/{meeting_id:uuid}/invite.ics"): Rule(
        "api", [Case({**owner_or_staff("agency_x", 200), "firm_a": 200}, meeting_of_x_and_a)]
    ),
    ("DELETE", "/api/v1/meetings/{meeting_id:uuid}"): Rule(
        "api", [Case({**owner_or_staff("agency_x", 204), "firm_a": 204}, meeting_of_x_and_a)]
    ),
    ("POST", "/api/v1/requests/{request_id:uuid}/accept"): Rule(
        "api",
        [
            Case(signed_in(404), plain, "unknown"),
            Case({**owner_or_staff("agency_x", 200), "firm_a": 403}, request_of_a_to_x, "the agency decides"),
        ],
    ),
    ("POST", "/api/v1/requests/{request_id:uuid}/decline"): Rule(
        "api",
        [
            Case(signed_in(404), plain, "unknown"),
            Case({**owner_or_staff("agency_x", 200), "firm_a": 403}, request_of_a_to_x, "the agency decides"),
        ],
    ),
    # -- contracts, purchases, targets, reports and exports API
    ("GET", "/api/v1/contracts"): Rule("api", [Case(signed_in(200))]),
    ("POST", "/api/v1/contracts"): Rule(
        "api", [Case({**signed_in(403), "firm_a": 201, "agency_x": 201, "staff": 201}, contract_body())]
    ),
    ("GET", "/api/v1/contracts/{contract_id:uuid}"): Rule(
        "api", [Case({**owner_or_staff("agency_x", 200), "firm_a": 200}, contract_of_x_and_a)]
    ),
    ("GET", "/api/v1/contracts/{contract_id:uuid}/revisions"): Rule(
        "api", [Case({**owner_or_staff("agency_x", 200), "firm_a": 200}, contract_of_x_and_a)]
    ),
    ("PATCH", "/api/v1/contracts/{contract_id:uuid}"): Rule(
        "api",
        [
            Case(
                {**owner_or_staff("agency_x", 200), "firm_a": 200},
                with_json(contract_of_x_and_a, {"amount_krw": 13_000_000, "reason": "변경 계약"}),
            )
        ],
    ),
    ("POST", "/api/v1/contracts/{contract_id:uuid}/confirm"): Rule(
        "api", [Case({**owner_or_staff("agency_x", 200), "firm_a": 403}, contract_of_x_and_a)]
    ),
    ("GET", "/api/v1/purchases"): Rule("api", [Case(staff_only(200))]),
    ("POST", "/api/v1/purchases"): Rule("api", [Case(staff_only(201), agency_x_body(year=2021, amount_krw=5_000_000))]),
    ("POST", "/api/v1/purchases/import"): Rule("api", [Case(staff_only((200, 201, 400, 422)), plain)]),
    ("PUT", "/api/v1/targets/{agency_id:uuid}/{year:int}"): Rule("api", [Case(staff_only(200), target_of_x)]),
    ("GET", "/api/v1/reports/fairs"): Rule("api", [Case(staff_only(200))]),
    ("GET", "/api/v1/reports/fairs.csv"): Rule("api", [Case(staff_only(200))]),
    ("GET", "/api/v1/reports/fairs.xlsx"): Rule("api", [Case(staff_only(200))]),
    ("GET", "/api/v1/reports/sales"): Rule("api", [Case(signed_in(200))]),
    ("GET", "/api/v1/reports/sales.csv"): Rule("api", [Case(signed_in(200))]),
    ("GET", "/api/v1/reports/sales.xlsx"): Rule("api", [Case(signed_in(200))]),
    ("GET", "/api/v1/reports/sales/yoy"): Rule("api", [Case(signed_in(200), query(year="2021"), "own rows")]),
    ("GET", "/api/v1/reports/targets"): Rule(
        "api", [Case({**staff_only(200), "agency_x": 200, "agency_y": 200}, query(year="2021"), "agencies: own row")]
    ),
    ("GET", "/api/v1/reports/targets.csv"): Rule(
        "api", [Case({**staff_only(200), "agency_x": 200, "agency_y": 200}, query(year="2021"), "agencies: own row")]
    ),
    ("GET", "/api/v1/reports/targets.xlsx"): Rule(
        "api", [Case({**staff_only(200), "agency_x": 200, "agency_y": 200}, query(year="2021"), "agencies: own row")]
    ),
    ("GET", "/api/v1/reports/targets/total"): Rule(
        "api", [Case({**staff_only(200), "agency_x": 200, "agency_y": 200}, query(year="2021"), "agencies: own row")]
    ),
    ("GET", "/api/v1/exports/contracts.csv"): Rule("api", [Case(signed_in(200))]),
    ("GET", "/api/v1/exports/contracts.xlsx"): Rule("api", [Case(signed_in(200))]),
    ("GET", "/api/v1/exports/ocds.json"): Rule("api", [Case(staff_only(200))]),
    ("GET", "/api/v1/exports/jobs/{job_id:uuid}"): Rule("api", [Case(signed_in(404), plain, "unknown job")]),
    ("GET", "/api/v1/exports/jobs/{job_id:uuid}/download"): Rule("api", [Case(signed_in(404), plain, "unknown job")]),
    # -- pages: fairs, meetings, needs, matching, contracts, reports, staff
    ("GET", "/fairs"): Rule("page", [Case(signed_in(200, anonymous=303))]),
    ("POST", "/fairs"): Rule("page", [Case(staff_only((200, 303, 422), anonymous=303))]),
    ("GET", "/fairs/{fair_id:uuid}"): Rule(
        "page",
        [Case({**signed_in(303, anonymous=303), "staff": 200}, fair_of_x_and_a, "others go on to their own view")],
    ),
    ("POST", "/fairs/{fair_id:uuid}"): Rule("page", [Case(staff_only((303, 422), anonymous=303), fair_of_x_and_a)]),
    ("GET", "/fairs/{fair_id:uuid}/agenda"): Rule("page", [Case(signed_in(200, anonymous=303), fair_of_x_and_a)]),
    ("GET", "/fairs/{fair_id:uuid}/book"): Rule("page", [Case(signed_in(200, anonymous=303), fair_of_x_and_a)]),
    ("POST", "/fairs/{fair_id:uuid}/book"): Rule("page", [Case(signed_in(404, anonymous=303), plain, "unknown fair")]),
    ("GET", "/fairs/{fair_id:uuid}/unavailable"): Rule(
        "page",
        [
            Case(signed_in(404, anonymous=303), plain, "unknown fair"),
            Case(
                {**owner_or_staff("agency_x", 200, anonymous=303), "firm_a": 200},
                fair_of_x_and_a,
                "participants; staff pick one",
            ),
        ],
    ),
    ("POST", "/fairs/{fair_id:uuid}/unavailable"): Rule(
        "page",
        [
            Case(signed_in(404, anonymous=303), plain, "unknown fair"),
            Case(
                {**owner_or_staff("agency_x", 303, anonymous=303), "firm_a": 303},
                unavailable_form_naming_x,
                "participants mark their own; staff for the one named",
            ),
        ],
    ),
    ("GET", "/fairs/{fair_id:uuid}/grid"): Rule("page", [Case(staff_only(200, anonymous=303), fair_of_x_and_a)]),
    ("GET", "/fairs/{fair_id:uuid}/requests"): Rule("page", [Case(signed_in(200, anonymous=303), fair_of_x_and_a)]),
    ("POST", "/fairs/{fair_id:uuid}/participants"): Rule(
        "page", [Case(signed_in(404, anonymous=303), plain, "unknown fair")]
    ),
    ("POST", "/fairs/{fair_id:uuid}/requests"): Rule(
        "page", [Case(signed_in(404, anonymous=303), plain, "unknown fair")]
    ),
    ("POST", "/fairs/{fair_id:uuid}/requests/{request_id:uuid}/{decision:str}"): Rule(
        "page",
        [
            Case(signed_in(404, anonymous=303), values(decision="accept"), "unknown request"),
            Case(
                {**owner_or_staff("agency_x", 303, anonymous=303), "firm_a": 403},
                request_of_a_to_x,
                "the agency decides",
            ),
        ],
    ),
    ("GET", "/fairs/{fair_id:uuid}/requests/{request_id:uuid}/{decision:str}"): Rule(
        "page",
        [
            Case(signed_in(404, anonymous=303), values(decision="decline"), "unknown request"),
            Case(
                {**owner_or_staff("agency_x", 200, anonymous=303), "firm_a": 403},
                request_of_a_to_x,
                "the agency is asked to confirm",
            ),
        ],
    ),
    ("POST", "/fairs/{fair_id:uuid}/schedule"): Rule(
        "page", [Case(staff_only(404, anonymous=303), plain, "unknown fair")]
    ),
    ("GET", "/meetings/{meeting_id:uuid}/invite.ics"): Rule(
        "page", [Case({**owner_or_staff("agency_x", 200, anonymous=303), "firm_a": 200}, meeting_of_x_and_a)]
    ),
    ("POST", "/meetings/{meeting_id:uuid}/cancel"): Rule(
        "page", [Case({**owner_or_staff("agency_x", 303, anonymous=303), "firm_a": 303}, meeting_of_x_and_a)]
    ),
    ("GET", "/meetings/{meeting_id:uuid}/cancel"): Rule(
        "page", [Case({**owner_or_staff("agency_x", 200, anonymous=303), "firm_a": 200}, meeting_of_x_and_a)]
    ),
    ("GET", "/meetings/{meeting_id:uuid}/move"): Rule(
        "page", [Case(signed_in(404, anonymous=303), plain, "unknown meeting")]
    ),
    ("POST", "/meetings/{meeting_id:uuid}/outcome"): Rule(
        "page",
        [
            Case(signed_in(404, anonymous=303), plain, "unknown meeting"),
            Case(
                {**owner_or_staff("agency_x", 422, anonymous=303), "firm_a": 422},
                meeting_of_x_and_a,
                "the parties and staff; the form is empty",
            ),
        ],
    ),
    ("POST", "/meetings/{meeting_id:uuid}/move"): Rule(
        "page", [Case(signed_in(404, anonymous=303), move_form, "unknown meeting")]
    ),
    ("GET", "/needs"): Rule("page", [Case(signed_in(200, anonymous=303))]),
    ("GET", "/needs/new"): Rule("page", [Case(signed_in(200, anonymous=303))]),
    ("POST", "/needs/new"): Rule(
        "page",
        [Case({**signed_in(403, anonymous=303), "agency_x": 422, "agency_y": 422}, plain, "agencies only; empty form")],
    ),
    ("GET", "/needs/{need_id:uuid}"): Rule(
        "page", [Case({**signed_in(200, anonymous=303), "agency_y": 404}, need_of_x(), "matched firms see it")]
    ),
    ("POST", "/needs/{need_id:uuid}/close"): Rule(
        "page", [Case(owner_or_staff("agency_x", 303, anonymous=303), need_of_x())]
    ),
    ("POST", "/needs/{need_id:uuid}/shortlist"): Rule(
        "page", [Case(owner_or_staff("agency_x", 303, anonymous=303), need_form_of_x, "with firm A")]
    ),
    ("POST", "/needs/{need_id:uuid}/response"): Rule(
        "page", [Case({**RESPONDERS, "firm_a": 303, "firm_b": 303, "anonymous": 303}, response_form_of_x)]
    ),
    ("POST", "/needs/{need_id:uuid}/response/withdraw"): Rule(
        "page", [Case({**RESPONSE_OWNER, "firm_a": 303, "anonymous": 303}, response_of_a(form=True))]
    ),
    ("POST", "/needs/{need_id:uuid}/responses/{response_id:uuid}/reply"): Rule(
        "page", [Case(owner_or_staff("agency_x", 303, anonymous=303), response_of_a(form=True))]
    ),
    ("GET", "/contracts"): Rule("page", [Case(signed_in(200, anonymous=303))]),
    ("GET", "/contracts/new"): Rule("page", [Case(signed_in(200, anonymous=303))]),
    ("POST", "/contracts/new"): Rule("page", [Case(signed_in(422, anonymous=303))]),
    ("GET", "/contracts/{contract_id:uuid}"): Rule(
        "page", [Case({**owner_or_staff("agency_x", 200, anonymous=303), "firm_a": 200}, contract_of_x_and_a)]
    ),
    ("POST", "/contracts/{contract_id:uuid}/confirm"): Rule(
        "page", [Case({**owner_or_staff("agency_x", 303, anonymous=303), "firm_a": 403}, contract_of_x_and_a)]
    ),
    ("POST", "/contracts/{contract_id:uuid}/correct"): Rule(
        "page", [Case({**owner_or_staff("agency_x", 303, anonymous=303), "firm_a": 303}, contract_of_x_and_a)]
    ),
    ("GET", "/reports"): Rule("page", [Case(staff_only(200, anonymous=303))]),
    ("GET", "/reports/mine"): Rule("page", [Case(signed_in(200, anonymous=303))]),
    ("GET", "/reports/export"): Rule(
        "page", [Case(signed_in((200, 303), anonymous=303), query(kind="contracts_csv", year="2021"))]
    ),
    ("GET", "/reports/exports/{job_id:uuid}"): Rule("page", [Case(signed_in(404, anonymous=303), plain, "unknown")]),
    ("GET", "/staff/mail"): Rule("page", [Case(staff_only(200, anonymous=303))]),
    ("GET", "/staff/mail/{message_id:uuid}"): Rule("page", [Case(staff_only(404, anonymous=303), plain, "unknown")]),
    ("POST", "/staff/mail/{message_id:uuid}/cancel"): Rule(
        "page", [Case(staff_only(404, anonymous=303), plain, "unknown")]
    ),
    ("POST", "/staff/mail/{message_id:uuid}/retry"): Rule(
        "page", [Case(staff_only(404, anonymous=303), plain, "unknown")]
    ),
    ("GET", "/staff/matching"): Rule("page", [Case(staff_only(200, anonymous=303))]),
    ("POST", "/staff/matching"): Rule("page", [Case(staff_only((303, 422), anonymous=303))]),
    ("GET", "/staff/purchases"): Rule("page", [Case(staff_only(200, anonymous=303))]),
    ("POST", "/staff/purchases/{action:str}"): Rule(
        "page", [Case(staff_only((303, 404, 422), anonymous=303), values(action="nothing"))]
    ),
    # -- account self-service (issue 15, items 4-6)
    ("POST", "/api/v1/auth/password-reset"): Rule("api", [Case(everyone(202), with_json(plain, NO_ACCOUNT))]),
    ("POST", "/api/v1/auth/password-reset/confirm"): Rule("api", [Case(everyone(410), with_json(plain, BAD_LINK))]),
    ("GET", "/api/v1/me/sessions"): Rule("api", [Case(signed_in(200))]),
    ("DELETE", "/api/v1/me/sessions/{session_id:uuid}"): Rule(
        "api", [Case(signed_in(204), own_second_session), Case(signed_in(404), plain, "unknown id")]
    ),
    ("GET", "/password-reset"): Rule("page", [Case(everyone(200))]),
    ("POST", "/password-reset"): Rule("page", [Case(everyone(422), form(email="bad"))]),
    ("GET", "/password-reset/confirm"): Rule("page", [Case(everyone(410), query(token="unknown"))]),
    ("POST", "/password-reset/confirm"): Rule("page", [Case(everyone(410), form(**BAD_LINK))]),
    ("GET", "/confirm-email"): Rule("page", [Case(everyone(200), query(token="unknown"))]),
    ("POST", "/confirm-email"): Rule("page", [Case(everyone(410), form(token="unknown"))]),
    ("GET", "/me/account/email/confirm"): Rule("page", [Case(everyone(200), query(token="unknown"))]),
    ("POST", "/me/account/email/confirm"): Rule("page", [Case(everyone(410), form(token="unknown"))]),
    ("GET", "/me/account"): Rule("page", [Case(signed_in(200, anonymous=303))]),
    ("POST", "/me/account/profile"): Rule("page", [Case(signed_in(422, anonymous=303), form(name=""))]),
    ("POST", "/me/account/password"): Rule("page", [Case(signed_in(422, anonymous=303))]),
    ("POST", "/me/account/email"): Rule("page", [Case(signed_in(422, anonymous=303))]),
    ("POST", "/me/account/confirmation"): Rule("page", [Case(signed_in(303, anonymous=303))]),
    ("POST", "/me/account/sessions/others"): Rule(
        "page", [Case(signed_in(303, anonymous=303), throwaway_account, "another account: keeps the actors' tokens")]
    ),
    ("POST", "/me/account/sessions/{session_id:uuid}"): Rule(
        "page", [Case(signed_in(404, anonymous=303), plain, "unknown id")]
    ),
}


def matches(expected: int | tuple[int, ...], status: int) -> bool:
    return status in expected if isinstance(expected, tuple) else status == expected


async def perform(
    client: AsyncTestClient[Litestar], world: World, method: str, template: str, rule: Rule, case: Case, actor: str
) -> int:
    call = await case.prepare(client, world, actor)
    client.cookies.clear()
    token = call.token if call.token is not None else world.token(actor)
    url = fill_path(template, call.values)
    headers: dict[str, str] = {}
    kwargs: dict[str, Any] = {}
    if rule.surface == "api":
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if call.json is not None:
            kwargs["json"] = call.json
    elif method == "GET":
        if token:
            headers["cookie"] = f"pm_session={token}"
    else:
        pair = await csrf_pair(client, session=token)
        headers.update(pair.headers(token))
        kwargs["data"] = {**(call.data or {}), "_csrf_token": pair.token}
    if call.params:
        kwargs["params"] = call.params
    response = await client.request(method, url, headers=headers, follow_redirects=False, **kwargs)
    client.cookies.clear()
    assert response.status_code < 500, f"{method} {url} as {actor}: {response.status_code} {response.text[:300]}"
    return response.status_code


class TestAuthorizationMatrix:
    async def test_every_route_has_a_rule(self, app):
        missing = sorted(route_table(app) - RULES.keys())
        assert not missing, "routes without an authorization rule (add them to RULES): " + ", ".join(
            f"{m} {p}" for m, p in missing
        )

    async def test_each_actor_gets_what_the_rule_says(self, app, client, sessionmaker, settings):
        world = await build_world(client, sessionmaker, settings)
        wrong: list[str] = []
        calls = 0
        for (method, template), rule in sorted(RULES.items()):
            if (method, template) not in route_table(app):
                continue
            for case in rule.cases:
                for actor in ACTORS:
                    status = await perform(client, world, method, template, rule, case, actor)
                    calls += 1
                    if not matches(case.expect[actor], status):
                        wrong.append(
                            f"{method} {template} [{case.label}] as {actor}: got {status}, want {case.expect[actor]}"
                        )
        assert not wrong, "authorization matrix mismatches:\n" + "\n".join(wrong)
        assert calls >= 6 * len(route_table(app))


def test_fill_path_uses_names_then_types():
    assert fill_path("/a/{organization_id:uuid}/{action:str}", {"action": "verify"}).endswith("/verify")
    uuid.UUID(fill_path("/{x:uuid}", {})[1:])


from tests.integration.security.consultation_rules import CONSULTATION_RULES  # noqa: E402

RULES.update(CONSULTATION_RULES)
from tests.integration.security.program_rules import PROGRAM_RULES  # noqa: E402

RULES.update(PROGRAM_RULES)
