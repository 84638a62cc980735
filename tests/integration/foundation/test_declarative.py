"""The declared caller (viewer / staff / verified_org, guards) and form_action's savepoint, on a real app."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Controller, Litestar, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.identity.audit import record_audit
from service.identity.deps import staff_only
from service.identity.models import AuditEvent
from service.identity.principal import Principal
from service.lib.errors import ValidationFailed
from service.lib.pages import field_errors, form_action
from service.plugin import AppPlugin
from tests.factories import create_staff, firm_payload, register, verified_firm

MARK = "probe.write"


class Probe(Controller):
    path = "/api/v1/probe"

    @get("/viewer")
    async def who(self, viewer: NamedDependency[Principal]) -> str:
        return viewer.email

    @get("/verified")
    async def verified(self, verified_org: NamedDependency[Principal]) -> str:
        return verified_org.email

    @get("/staff", guards=[staff_only])
    async def staff_page(self) -> str:
        return "staff"

    @post("/form", status_code=200)
    async def submit(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Principal],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        refuse = request.query_params.get("refuse") == "1"

        async def action() -> Response[Any]:
            await record_audit(db_session, actor_id=viewer.user_id, action=MARK, target_type="probe", target_id=None)
            if refuse:
                raise ValidationFailed.single("amount", "too large")
            return Response({"done": True})

        # htmx re-renders answer 200: the refusal must still leave nothing written
        return await form_action(db_session, action, lambda error: Response({"errors": field_errors(error)}))


@pytest.fixture
async def probe_client(settings: Settings, database_url: str) -> AsyncIterator[AsyncTestClient[Litestar]]:
    app = Litestar(plugins=[AppPlugin(settings, database_url)], route_handlers=[Probe])
    async with AsyncTestClient(app, base_url="http://127.0.0.1:8000") as client:
        yield client


async def test_callers_are_declared(
    probe_client: AsyncTestClient[Litestar], sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    client = probe_client
    assert (await client.get("/api/v1/probe/viewer", headers={"Accept": "application/json"})).status_code == 401
    staff = await create_staff(client, sessionmaker, settings)
    pending = await register(client, firm_payload())
    firm = await verified_firm(client, staff)

    assert (await client.get("/api/v1/probe/viewer", headers=pending.headers)).text == pending.email
    refused = await client.get("/api/v1/probe/verified", headers={**pending.headers, "Accept": "application/json"})
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("awaiting-verification")
    assert (await client.get("/api/v1/probe/verified", headers=firm.headers)).text == firm.email
    assert (await client.get("/api/v1/probe/verified", headers=staff.headers)).text == staff.email

    assert (await client.get("/api/v1/probe/staff", headers={"Accept": "application/json"})).status_code == 401
    assert (await client.get("/api/v1/probe/staff", headers=firm.headers)).status_code == 403
    assert (await client.get("/api/v1/probe/staff", headers=staff.headers)).text == "staff"


async def test_a_refused_form_action_leaves_nothing_written(
    probe_client: AsyncTestClient[Litestar], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    client = probe_client
    account = await register(client, firm_payload())

    async def written() -> int:
        async with sessionmaker() as session:
            return int(await session.scalar(select(func.count()).where(AuditEvent.action == MARK)) or 0)

    refused = await client.post("/api/v1/probe/form?refuse=1", headers=account.headers)
    assert refused.status_code == 200
    assert refused.json() == {"errors": {"amount": "too large"}}
    assert await written() == 0

    done = await client.post("/api/v1/probe/form", headers=account.headers)
    assert done.json() == {"done": True}
    assert await written() == 1
    assert uuid.UUID(account.user_id)
