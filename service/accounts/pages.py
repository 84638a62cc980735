"""HTML pages of accounts: sign-in, registration, my organization, language switch."""

from __future__ import annotations

import math
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.api import client_ip
from service.accounts.auth import LANG_COOKIE, session_cookie
from service.accounts.schemas import RegisterIn, UserIn
from service.accounts.service import AccountService
from service.config import SUPPORTED_LOCALES, Settings
from service.identity.principal import Principal, require_principal
from service.lib.clock import today
from service.lib.errors import DomainError, FieldErrors
from service.lib.i18n import gettext
from service.lib.pages import FormReader, field_errors, form_values, redirect, render, safe_next
from service.registry import taxonomy
from service.registry.districts import OTHER, SEOUL_DISTRICTS
from service.registry.forms import organization_from_form
from service.registry.models import AgencyType, FirmType
from service.registry.schemas import organization_out
from service.registry.service import OrganizationService

NextParam = Annotated[str | None, QueryParameter(name="next", required=False)]

# The throttle's refusals (accounts/throttle.py) said with when to come back, from their Retry-After.
WAIT_MESSAGES = {
    "Too many failed sign-in attempts. Try again later.": (
        "Too many failed sign-in attempts. You can sign in again in %(minutes)s minutes."
    ),
    "Too many registrations from this address. Try again later.": (
        "Too many registrations from this address. You can register again in %(minutes)s minutes; "
        "what you entered is kept, except the password."
    ),
}


def wait_message(error: DomainError) -> str | None:
    """A 429's message naming the minutes until the limit lifts, or None for any other error."""
    template = WAIT_MESSAGES.get(error.detail)
    retry_after = (error.headers or {}).get("Retry-After", "")
    if error.status != 429 or template is None or not retry_after.isdigit():
        return None
    return gettext(template) % {"minutes": max(1, math.ceil(int(retry_after) / 60))}


def form_choices() -> dict[str, Any]:
    return {
        "districts": [*SEOUL_DISTRICTS, OTHER],
        "agency_types": [t.value for t in AgencyType],
        "firm_types": [t.value for t in FirmType],
        "groups": taxonomy.GROUPS,
        "leaves": taxonomy.LEAVES,
    }


class AccountPages(Controller):
    tags = ["pages"]
    include_in_schema = False

    @get("/")
    async def home(self, principal: NamedDependency[Principal | None], request: Request[Any, Any, Any]) -> Template:
        return render(request, "home.html")

    @get("/login")
    async def login_form(self, request: Request[Any, Any, Any], next_path: NextParam = None) -> Template:
        return render(request, "accounts/login.html", next=safe_next(next_path, "/me"))

    @post("/login")
    async def login(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        form = await request.form()
        email = str(form.get("email") or "")
        target = safe_next(str(form.get("next") or ""), "/me")
        try:
            raw, _, user = await AccountService(db_session, settings.auth).login(
                email, str(form.get("password") or ""), client_ip(request), request.headers.get("user-agent")
            )
        except DomainError as exc:
            page = render(
                request,
                "accounts/login.html",
                status_code=exc.status,
                email=email,
                next=target,
                error=exc,
                error_message=wait_message(exc),
            )
            page.headers.update(exc.headers)  # Retry-After on 429
            return page
        response: Response[Any] = redirect(
            "/staff/organizations" if user.role.value == "staff" and target == "/me" else target
        )
        response.set_cookie(session_cookie(raw, settings, settings.auth.token_hours * 3600))
        return response

    @post("/logout")
    async def logout(
        self,
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Redirect:
        if principal is not None:
            await AccountService(db_session, settings.auth).revoke(principal.token_id)
        response = redirect("/login")
        response.set_cookie(session_cookie(None, settings))
        return response

    @get("/register")
    async def register_form(self, request: Request[Any, Any, Any], kind: FromQuery[str] = "firm") -> Template:
        kind = kind if kind in ("agency", "firm") else "firm"
        return render(request, "accounts/register.html", kind=kind, values={}, **form_choices())

    @post("/register")
    async def register(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        form = await request.form()
        kind = str(form.get("kind") or "firm")
        kind = kind if kind in ("agency", "firm") else "firm"
        errors = FieldErrors()
        reader = FormReader(form, errors)
        organization = organization_from_form(reader, kind)
        user = UserIn(
            email=reader.text("user_email") or "",
            password=str(form.get("user_password") or ""),
            name=reader.text("user_name") or "",
            phone=reader.text("user_phone"),
            locale=reader.text("user_locale"),
        )
        accounts = AccountService(db_session, settings.auth)
        try:
            errors.raise_if_any()
            created_user, _ = await accounts.register(
                RegisterIn(kind=kind, user=user, organization=organization),  # type: ignore[arg-type]
                client_ip(request),
            )
        except DomainError as exc:
            await db_session.rollback()
            messages = {k.replace("user.", "user_"): v for k, v in field_errors(exc, "organization.").items()}
            if waiting := wait_message(exc):
                messages["_form"] = waiting
            page = render(
                request,
                "accounts/register.html",
                status_code=exc.status,
                kind=kind,
                values=form_values(form),
                errors=messages,
                **form_choices(),
            )
            page.headers.update(exc.headers)  # Retry-After on 429
            return page
        raw, _ = await accounts.issue_token(created_user, request.headers.get("user-agent"))
        response: Response[Any] = redirect("/me")
        response.set_cookie(session_cookie(raw, settings, settings.auth.token_hours * 3600))
        return response

    @get("/me")
    async def my_organization(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        caller = require_principal(principal)
        org = None
        service = OrganizationService(db_session)
        if caller.organization_id:
            org = await service.get(caller.organization_id)
        return render(
            request,
            "accounts/me.html",
            org=org,
            profile=organization_out(org, today=today(), pending=await service.pending_change(org.id)) if org else None,
            values={},
            **form_choices(),
        )

    @post("/me/organization")
    async def update_my_organization(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        caller = require_principal(principal)
        if caller.organization_id is None:
            return redirect("/me")
        service = OrganizationService(db_session)
        org = await service.get(caller.organization_id)
        form = await request.form()
        errors = FieldErrors()
        data = organization_from_form(FormReader(form, errors), org.kind.value)
        try:
            errors.raise_if_any()
            await service.update_profile(caller, org, data)
        except DomainError as exc:
            await db_session.rollback()
            org = await service.get(caller.organization_id)
            return render(
                request,
                "accounts/me.html",
                status_code=exc.status,
                org=org,
                profile=organization_out(org, today=today(), pending=await service.pending_change(org.id)),
                values=form_values(form),
                errors=field_errors(exc),
                **form_choices(),
            )
        return redirect("/me?saved=1")

    @get("/lang/{code:str}")
    async def switch_language(
        self, code: FromPath[str], settings: NamedDependency[Settings], next_path: NextParam = None
    ) -> Redirect:
        response = redirect(safe_next(next_path))
        if code in SUPPORTED_LOCALES:
            response.set_cookie(
                key=LANG_COOKIE,
                value=code,
                max_age=365 * 24 * 3600,
                samesite="lax",
                httponly=True,
                secure=settings.app.secure_cookies,
            )
        return response


ROUTES = [AccountPages]
