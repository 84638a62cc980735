"""JSON API of accounts: sign-in, sign-out, registration, the caller's own record."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from service.accounts.auth import session_cookie
from service.accounts.callers import CallerAccount, CallerCache
from service.accounts.me import UNCHANGED, MyAccount, ProfileChange
from service.accounts.members_api import ROUTES as MEMBER_ROUTES
from service.accounts.preferences import MailPreferenceService
from service.accounts.recovery import PasswordRecovery
from service.accounts.schemas import (
    LoginIn,
    LoginOut,
    MeOut,
    MePatchIn,
    PasswordResetAccepted,
    PasswordResetConfirmIn,
    PasswordResetDone,
    PasswordResetIn,
    RegisterIn,
    RegisterOut,
    SessionOut,
    UserOut,
    preferences_out,
    user_out,
)
from service.accounts.service import AccountService, account_service
from service.config import Settings
from service.identity.principal import Principal
from service.lib.clock import today
from service.lib.deps import provide_configured_service, provide_service
from service.registry.schemas import organization_out


async def provide_my_account(viewer: NamedDependency[Principal], state: State) -> CallerAccount:
    """The caller's account, read with the caller (one dependency after `viewer`: Litestar resolves
    two independent ones in a task group, which costs more than this request's whole lookup)."""
    callers: CallerCache = state.callers
    return await callers.account(viewer)


def me_out(account: CallerAccount) -> MeOut:
    org = account.organization
    return MeOut(
        id=account.user_id,
        email=account.email,
        name=account.name,
        role=account.role,
        organization_id=account.organization_id,
        locale=account.locale,
        organization=organization_out(org, today=today()) if org else None,
        mail_preferences=preferences_out(account),
    )


def client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


class AuthController(Controller):
    path = "/api/v1"
    tags = ["accounts"]
    dependencies = {
        "accounts": provide_configured_service(account_service),
        "preferences": provide_service(MailPreferenceService),
        "mine": provide_service(MyAccount),
        "my_account": Provide(provide_my_account),
    }

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
    async def get_me(self, my_account: NamedDependency[CallerAccount]) -> MeOut:
        """The signed-in user with its organization (read with the caller: no further round trip)."""
        return me_out(my_account)

    @patch("/me")
    async def update_me(
        self,
        data: JSONBody[MePatchIn],
        viewer: NamedDependency[Principal],
        mine: NamedDependency[MyAccount],
        preferences: NamedDependency[MailPreferenceService],
    ) -> UserOut:
        """Change the caller's name, phone or language (fields left out stay as they are) and
        `mail_preferences`, the optional mails (reminders, followups, digest); mails that carry
        obligations cannot be turned off. A refusal writes nothing (the request's transaction)."""
        change = ProfileChange(name=given(data.name), phone=given(data.phone), locale=given(data.locale))
        user = await mine.update_profile(viewer.user_id, change)
        if data.mail_preferences is not None:
            user = await preferences.apply(viewer.user_id, data.mail_preferences)
        return user_out(user)


RESET_ACCEPTED = "If an account uses this email, a link to reset its password is on its way."


def given(value: object) -> object:
    """A PATCH field as the account service reads it: left out means unchanged."""
    return UNCHANGED if value is msgspec.UNSET else value


class MyAccountController(Controller):
    """Password reset (anyone), and what a signed-in user changes on their own account."""

    path = "/api/v1"
    tags = ["accounts"]
    dependencies = {"recovery": provide_service(PasswordRecovery), "mine": provide_service(MyAccount)}

    @post("/auth/password-reset", status_code=202, opt={"idempotent": True})
    async def request_password_reset(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[PasswordResetIn],
        recovery: NamedDependency[PasswordRecovery],
    ) -> PasswordResetAccepted:
        """Mail a one-time link (valid 1 h) if the email has an account: the same answer, in the same
        time, either way. 429 beyond 10 requests an hour from one address."""
        await recovery.request(data.email, client_ip(request))
        return PasswordResetAccepted(detail=RESET_ACCEPTED)

    @post("/auth/password-reset/confirm", status_code=200)
    async def confirm_password_reset(
        self, data: JSONBody[PasswordResetConfirmIn], recovery: NamedDependency[PasswordRecovery]
    ) -> PasswordResetDone:
        """Set the new password from the link's token (once); every session of the user ends.
        410 when the link was used or expired."""
        _, ended = await recovery.confirm(data.token, data.password)
        return PasswordResetDone(sessions_ended=ended)

    @get("/me/sessions")
    async def my_sessions(
        self, viewer: NamedDependency[Principal], mine: NamedDependency[MyAccount]
    ) -> list[SessionOut]:
        """The caller's live sessions (bearer tokens and browser sessions), the one in use first."""
        sessions = await mine.sessions(viewer.user_id, viewer.token_id)
        return [SessionOut(**vars(s)) for s in sessions]

    @delete("/me/sessions/{session_id:uuid}", status_code=204)
    async def end_my_session(
        self, session_id: FromPath[uuid.UUID], viewer: NamedDependency[Principal], mine: NamedDependency[MyAccount]
    ) -> None:
        """End one of the caller's sessions (404 for another user's)."""
        await mine.end_session(viewer.user_id, session_id)


ROUTES = [AuthController, MyAccountController, *MEMBER_ROUTES]
