"""JSON API of accounts: sign-in, sign-out, registration, the caller's own record."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.auth import session_cookie
from service.accounts.schemas import LoginIn, LoginOut, MeOut, RegisterIn, RegisterOut, UserOut
from service.accounts.service import AccountService
from service.config import Settings
from service.identity.principal import Principal, require_principal
from service.lib.clock import today
from service.registry.schemas import organization_out


def user_out(user: Any) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role.value,
        organization_id=user.organization_id,
        phone=user.phone,
        locale=user.locale,
    )


def client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


class AuthController(Controller):
    path = "/api/v1"
    tags = ["accounts"]

    @post("/auth/login", status_code=200)
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[LoginIn],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Response[LoginOut]:
        """Sign in: returns a bearer token and sets the session cookie."""
        accounts = AccountService(db_session, settings.auth)
        raw, token, user = await accounts.login(
            data.email, data.password, client_ip(request), request.headers.get("user-agent")
        )
        body = LoginOut(token=raw, expires_at=token.expires_at.isoformat(), user=user_out(user))
        max_age = settings.auth.token_hours * 3600
        return Response(body, cookies=[session_cookie(raw, settings, max_age)])

    @post("/auth/logout", status_code=204)
    async def logout(
        self,
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Response[None]:
        """Revoke the token (and the browser session) used for this call."""
        caller = require_principal(principal)
        await AccountService(db_session, settings.auth).revoke(caller.token_id)
        return Response(None, status_code=204, cookies=[session_cookie(None, settings)])

    @post("/register")
    async def register(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[RegisterIn],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> RegisterOut:
        """Register an agency or firm with its first user; the organization starts `pending`."""
        user, organization = await AccountService(db_session, settings.auth).register(data, client_ip(request))
        return RegisterOut(user=user_out(user), organization=organization_out(organization, today=today()))

    @get("/me")
    async def get_me(
        self,
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> MeOut:
        """The signed-in user with its organization."""
        caller = require_principal(principal)
        user = await AccountService(db_session, settings.auth).get_user(caller.user_id)
        org = user.organization
        return MeOut(
            id=user.id,
            email=user.email,
            name=user.name,
            role=user.role.value,
            organization_id=user.organization_id,
            locale=user.locale,
            organization=organization_out(org, today=today()) if org else None,
        )


ROUTES = [AuthController]
