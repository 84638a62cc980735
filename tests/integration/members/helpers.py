"""Invite, read the mailed link, accept: the steps the member tests share."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import unquote

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.notify.dispatcher import drain
from tests.factories import PASSWORD, Account, login

TOKEN_RE = re.compile(r"/invitations/accept\?token=([A-Za-z0-9_%\-]+)")


def colleague_email() -> str:
    return f"colleague-{uuid.uuid4().hex[:8]}@example.go.kr"


async def invite(
    client: AsyncTestClient[Litestar], admin: Account, email: str, role: str = "member", org: str | None = None
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/organizations/{org or admin.organization_id}/invitations",
        json={"email": email, "role": role},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def mailed_token(
    sessionmaker: async_sessionmaker[AsyncSession], smtp_settings: Settings, smtp: Any, email: str
) -> str:
    """Send the queued mails and return the token of the last invitation link mailed to `email`."""
    await drain(sessionmaker, smtp_settings)
    [*_, message] = smtp.inbox.to(email)
    text = message.get_body(preferencelist=("plain",)).get_content()
    return unquote(TOKEN_RE.findall(text)[-1])


async def accept(client: AsyncTestClient[Litestar], token: str, name: str = "동료", password: str = PASSWORD) -> Any:
    return await client.post("/api/v1/invitations/accept", json={"token": token, "name": name, "password": password})


async def joined(
    client: AsyncTestClient[Litestar],
    sessionmaker: async_sessionmaker[AsyncSession],
    smtp_settings: Settings,
    smtp: Any,
    admin: Account,
    role: str = "member",
) -> Account:
    """A colleague invited by `admin`, accepted and signed in."""
    email = colleague_email()
    await invite(client, admin, email, role)
    token = await mailed_token(sessionmaker, smtp_settings, smtp, email)
    response = await accept(client, token)
    assert response.status_code == 201, response.text
    return Account(response.json()["user"]["id"], admin.organization_id, email, await login(client, email))
