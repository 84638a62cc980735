"""JSON API of accounts: sign-in, sign-out, registration, the caller's own record."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from service.accounts.auth import session_cookie
from service.accounts.schemas import LoginIn, LoginOut, MeOut, RegisterIn, RegisterOut, UserOut
from service.accounts.service import AccountService, account_service
from service.config import Settings
from service.identity.principal import Principal
from service.lib.clock import today
from service.lib.deps import provide_configured_service
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
    dependencies = {"accounts": provide_configured_service(account_service)}

    @post("/auth/login", status_code=200)
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[LoginIn],
        accounts: NamedDependency[AccountService],
        settings: NamedDependency[Settings],
    ) -> Response[LoginOut]:
        """Sign in: returns a bearer token and sets the session cookie."""
        raw, token, user = await accounts.login(
            data.email, data.password, client_ip(request), request.headers.get("user-agent")
        )
        body = LoginOut(token=raw, expires_at=token.expires_at.isoformat(), user=user_out(user))
        max_age = settings.auth.token_hours * 3600
        return Response(body, cookies=[session_cookie(raw, settings, max_age)])

    @post("/auth/logout", status_code=204)
    async def logout(
        self,
        viewer: NamedDependency[Principal],
        accounts: NamedDependency[AccountService],
        settings: NamedDependency[Settings],
    ) -> Response[None]:
        """Revoke the token (and the browser session) used for this call."""
        await accounts.revoke(viewer.token_id)
        return Response(None, status_code=204, cookies=[session_cookie(None, settings)])

    @post("/register")
    async def register(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[RegisterIn],
        accounts: NamedDependency[AccountService],
    ) -> RegisterOut:
        """Register an agency or firm with its first user; the organization starts `pending`."""
        user, organization = await accounts.register(data, client_ip(request))
        return RegisterOut(user=user_out(user), organization=organization_out(organization, today=today()))

    @get("/me")
    async def get_me(self, viewer: NamedDependency[Principal], accounts: NamedDependency[AccountService]) -> MeOut:
        """The signed-in user with its organization."""
        user = await accounts.read_user(viewer.user_id)
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
