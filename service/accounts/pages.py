"""HTML pages of accounts: sign-in, registration, my organization, language switch."""

from __future__ import annotations

import math
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie, FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.api import client_ip
from service.accounts.auth import LANG_COOKIE, session_cookie
from service.accounts.links import LinkGone
from service.accounts.me import MyAccount, ProfileChange
from service.accounts.members_pages import ROUTES as MEMBER_PAGES
from service.accounts.picker import OrganizationPicker, parse_ids, parse_kind
from service.accounts.recovery import PasswordRecovery
from service.accounts.schemas import RegisterIn, UserIn
from service.accounts.service import AccountService, account_service
from service.accounts.sessions import device_label
from service.config import SUPPORTED_LOCALES, Settings
from service.identity.principal import Principal
from service.lib.clock import today
from service.lib.deps import provide_configured_service, provide_service
from service.lib.errors import DomainError, FieldErrors
from service.lib.i18n import current_locale, gettext
from service.lib.pages import FormReader, field_errors, form_action, form_values, redirect, render, safe_next
from service.registry import taxonomy
from service.registry.districts import OTHER, SEOUL_DISTRICTS
from service.registry.forms import organization_from_form
from service.registry.models import AgencyType, FirmType, Organization
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


def registration_from_form(form: FormMultiDict, kind: str) -> RegisterIn:
    """The registration as typed; fields that cannot be read (a number that is not one) raise 422."""
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
    errors.raise_if_any()
    return RegisterIn(kind=kind, user=user, organization=organization)  # type: ignore[arg-type]


def form_choices() -> dict[str, Any]:
    return {
        "districts": [*SEOUL_DISTRICTS, OTHER],
        "agency_types": [t.value for t in AgencyType],
        "firm_types": [t.value for t in FirmType],
        "groups": taxonomy.GROUPS,
        "leaves": taxonomy.LEAVES,
    }


def language_cookie(code: str, settings: Settings) -> Cookie:
    """The interface language the browser asks for (it wins over the account's, see accounts/auth.py)."""
    return Cookie(
        key=LANG_COOKIE, value=code, max_age=365 * 24 * 3600, samesite="lax", httponly=True,
        secure=settings.app.secure_cookies, path="/",
    )  # fmt: skip


def registration_kind(value: Any) -> str:
    """The kind of organization to register; anything unknown registers a firm."""
    return value if value in ("agency", "firm") else "firm"


def signed_in_redirect(target: str, raw_token: str, settings: Settings) -> Response[Any]:
    """A redirect to `target` that keeps the new token as the browser's session cookie."""
    response: Response[Any] = redirect(target)
    response.set_cookie(session_cookie(raw_token, settings, settings.auth.token_hours * 3600))
    return response


def refusal_page(request: Request[Any, Any, Any], template: str, refusal: DomainError, **context: Any) -> Template:
    """A form shown again after `refusal`, with its status and its headers (Retry-After on 429)."""
    page = render(request, template, status_code=refusal.status, **context)
    page.headers.update(refusal.headers)
    return page


async def my_organization_page(
    request: Request[Any, Any, Any],
    organizations: OrganizationService,
    org: Organization | None,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """The caller's own organization with its held change, and the form to edit it."""
    profile = None
    if org is not None:
        profile = organization_out(org, today=today(), pending=await organizations.pending_change(org.id))
    context.setdefault("values", {})
    return render(
        request, "accounts/me.html", status_code=status_code, org=org, profile=profile, **context, **form_choices()
    )


class AccountPages(Controller):
    tags = ["pages"]
    include_in_schema = False
    dependencies = {
        "accounts": provide_configured_service(account_service),
        "organizations": provide_service(OrganizationService),
    }

    @get("/login")
    async def login_form(self, request: Request[Any, Any, Any], next_path: NextParam = None) -> Template:
        return render(request, "accounts/login.html", next=safe_next(next_path))

    @post("/login")
    async def login(
        self,
        request: Request[Any, Any, Any],
        accounts: NamedDependency[AccountService],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        form = await request.form()
        email = str(form.get("email") or "")
        target = safe_next(str(form.get("next") or ""))
        # No savepoint (form_action) here: a refused sign-in writes nothing in this session (the
        # throttle counts it in its own), and the throttle's delay must not hold a connection.
        try:
            raw, _, _user = await accounts.login(
                email, str(form.get("password") or ""), client_ip(request), request.headers.get("user-agent")
            )
        except DomainError as exc:
            return refusal_page(
                request,
                "accounts/login.html",
                exc,
                email=email,
                next=target,
                error=exc,
                error_message=wait_message(exc),
            )
        return signed_in_redirect(target, raw, settings)

    @post("/logout")
    async def logout(
        self,
        principal: NamedDependency[Principal | None],
        accounts: NamedDependency[AccountService],
        settings: NamedDependency[Settings],
    ) -> Redirect:
        """Anyone may sign out: a caller who is not signed in is only sent to the sign-in page."""
        if principal is not None:
            await accounts.revoke(principal.token_id)
        response = redirect("/login")
        response.set_cookie(session_cookie(None, settings))
        return response

    @get("/register")
    async def register_form(self, request: Request[Any, Any, Any], kind: FromQuery[str] = "firm") -> Template:
        return render(request, "accounts/register.html", kind=registration_kind(kind), values={}, **form_choices())

    @post("/register")
    async def register(
        self,
        request: Request[Any, Any, Any],
        accounts: NamedDependency[AccountService],
        settings: NamedDependency[Settings],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        form = await request.form()
        kind = registration_kind(form.get("kind"))

        async def create() -> Response[Any]:
            created_user, _ = await accounts.register(registration_from_form(form, kind), client_ip(request))
            raw, _ = await accounts.issue_token(created_user, request.headers.get("user-agent"))
            return signed_in_redirect("/me", raw, settings)

        def refused(error: DomainError) -> Response[Any]:
            messages = {k.replace("user.", "user_"): v for k, v in field_errors(error, "organization.").items()}
            if waiting := wait_message(error):
                messages["_form"] = waiting
            return refusal_page(
                request,
                "accounts/register.html",
                error,
                kind=kind,
                values=form_values(form),
                errors=messages,
                **form_choices(),
            )

        return await form_action(db_session, create, refused)

    @get("/me")
    async def my_organization(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Principal],
        organizations: NamedDependency[OrganizationService],
    ) -> Template:
        org = await organizations.get(viewer.organization_id) if viewer.organization_id else None
        return await my_organization_page(request, organizations, org)

    @post("/me/organization")
    async def update_my_organization(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Principal],
        organizations: NamedDependency[OrganizationService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        organization_id = viewer.organization_id
        if organization_id is None:
            return redirect("/me")
        org = await organizations.get(organization_id)
        form = await request.form()

        async def save() -> Response[Any]:
            errors = FieldErrors()
            data = organization_from_form(FormReader(form, errors), org.kind.value)
            errors.raise_if_any()
            await organizations.update_profile(viewer, org, data)
            return redirect("/me?saved=1")

        async def refused(error: DomainError) -> Response[Any]:
            return await my_organization_page(
                request,
                organizations,
                await organizations.get(organization_id),
                error.status,
                values=form_values(form),
                errors=field_errors(error),
            )

        return await form_action(db_session, save, refused)

    @get("/lang/{code:str}")
    async def switch_language(
        self, code: FromPath[str], settings: NamedDependency[Settings], next_path: NextParam = None
    ) -> Redirect:
        response = redirect(safe_next(next_path))
        if code in SUPPORTED_LOCALES:
            response.set_cookie(language_cookie(code, settings))
        return response


class OrganizationSearchPages(Controller):
    """The organization picker's live results (htmx), for staff and verified organizations."""

    path = "/organizations"
    tags = ["pages"]
    include_in_schema = False
    dependencies = {"picker": provide_service(OrganizationPicker)}

    @get("/search")
    async def organization_search(
        self,
        request: Request[Any, Any, Any],
        verified_org: NamedDependency[Principal],
        picker: NamedDependency[OrganizationPicker],
        q: FromQuery[str | None] = None,
        kind: FromQuery[str | None] = None,
        field: FromQuery[str] = "organization_id",
    ) -> Template:
        """An HTML fragment of radio buttons (or checkboxes with multi=1) named `field`.

        The query may come as `q` or as `<name>_q` (the name the no-script search box uses on the form);
        organizations already chosen (`field` values sent along) stay on top, chosen.
        """
        field = field if field.replace("_", "").isalnum() else "organization_id"
        pid = request.query_params.get("pid") or field
        pid = pid if pid.replace("-", "").replace("_", "").isalnum() else field
        # the box's own name: `q`, or `<something>_q` when a form has several boxes
        text = q if q is not None else next((v for k, v in request.query_params.items() if k.endswith("_q")), None)
        chosen_ids = parse_ids(request.query_params.getall(field, []))
        locale = current_locale()
        results = await picker.search(text, parse_kind(kind), exclude=chosen_ids, locale=locale)
        return render(
            request, "accounts/_picker_results.html", field=field, pid=pid,
            multi=request.query_params.get("multi") == "1", q=text or "", results=results,
            chosen=await picker.chosen(chosen_ids, locale),
        )  # fmt: skip


# -- password reset and account settings (issue 15, items 4-6) ------------------------------------
TokenParam = Annotated[str, QueryParameter(name="token", required=False)]
SETTINGS_NOTICES = {
    "profile": "Saved.",
    "password": "Your password was changed; your other sessions were signed out.",
    "email": "A confirmation link is on its way to the new address. The address changes once it is opened.",
    "sessions": "Your other sessions were signed out.",
    "session": "The session was signed out.",
    "confirmation": "A new confirmation link is on its way.",
    "email_changed": "Your email address was changed.",
}


async def account_page(
    request: Request[Any, Any, Any],
    viewer: Principal,
    mine: MyAccount,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """The settings page: profile, password, email, sessions, with the form in error (if any)."""
    user = await mine.user(viewer.user_id)
    notice = SETTINGS_NOTICES.get(request.query_params.get("done") or "")
    context.setdefault("values", {})
    return render(
        request,
        "accounts/account.html",
        status_code=status_code,
        user=user,
        sessions=await mine.sessions(viewer.user_id, viewer.token_id),
        device_label=device_label,
        notice=notice,
        locales=SUPPORTED_LOCALES,
        **context,
    )


class PasswordResetPages(Controller):
    """Forgotten password: ask for a link, then set a new password from it (anyone)."""

    path = "/password-reset"
    tags = ["pages"]
    include_in_schema = False
    dependencies = {"recovery": provide_service(PasswordRecovery)}

    @get("/")
    async def reset_form(self, request: Request[Any, Any, Any]) -> Template:
        return render(request, "accounts/password_reset.html", values={})

    @post("/")
    async def request_reset(
        self, request: Request[Any, Any, Any], recovery: NamedDependency[PasswordRecovery]
    ) -> Template:
        form = await request.form()
        email = str(form.get("email") or "")
        try:
            await recovery.request(email, client_ip(request))
        except DomainError as exc:
            return refusal_page(
                request, "accounts/password_reset.html", exc, values={"email": email},
                errors=field_errors(exc), error_message=reset_wait_message(exc),
            )  # fmt: skip
        return render(request, "accounts/password_reset.html", sent=True, values={"email": email.strip()})

    @get("/confirm")
    async def new_password_form(
        self, request: Request[Any, Any, Any], recovery: NamedDependency[PasswordRecovery], token: TokenParam = ""
    ) -> Template:
        try:
            await recovery.check(token)
        except LinkGone as exc:
            return refusal_page(request, "accounts/password_new.html", exc, gone=True, token="")
        return render(request, "accounts/password_new.html", token=token)

    @post("/confirm")
    async def set_new_password(
        self,
        request: Request[Any, Any, Any],
        recovery: NamedDependency[PasswordRecovery],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        form = await request.form()
        token = str(form.get("token") or "")

        async def save() -> Response[Any]:
            await recovery.confirm(token, str(form.get("password") or ""))
            return redirect("/login?reset=1")

        def refused(error: DomainError) -> Response[Any]:
            gone = isinstance(error, LinkGone)
            return refusal_page(
                request, "accounts/password_new.html", error, token="" if gone else token,
                gone=gone, errors=field_errors(error),
            )  # fmt: skip

        return await form_action(db_session, save, refused)


def reset_wait_message(error: DomainError) -> str | None:
    retry_after = (error.headers or {}).get("Retry-After", "")
    if error.status != 429 or not retry_after.isdigit():
        return None
    minutes = max(1, math.ceil(int(retry_after) / 60))
    return gettext("Too many password reset requests from this address. Try again in %(minutes)s minutes.") % {
        "minutes": minutes
    }


def settings_redirect(done: str) -> Redirect:
    return redirect(f"/me/account?done={done}")


class AccountSettingsPages(Controller):
    """`/me/account`: the signed-in user's name, phone, language, password, email and sessions."""

    path = "/me/account"
    tags = ["pages"]
    include_in_schema = False
    dependencies = {"mine": provide_service(MyAccount)}

    @get("/")
    async def settings_page(
        self, request: Request[Any, Any, Any], viewer: NamedDependency[Principal], mine: NamedDependency[MyAccount]
    ) -> Template:
        return await account_page(request, viewer, mine)

    async def _act(
        self,
        request: Request[Any, Any, Any],
        viewer: Principal,
        mine: MyAccount,
        db_session: AsyncSession,
        action: Callable[[FormMultiDict], Awaitable[Response[Any]]],
        section: str,
    ) -> Response[Any]:
        """Run one of the page's forms; a refusal shows the page again with that form's errors."""
        form = await request.form()

        async def refused(error: DomainError) -> Response[Any]:
            return await account_page(
                request, viewer, mine, error.status, section=section,
                values=form_values(form), errors=field_errors(error),
            )  # fmt: skip

        return await form_action(db_session, lambda: action(form), refused)

    @post("/profile")
    async def save_profile(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Principal],
        mine: NamedDependency[MyAccount],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        async def save(form: FormMultiDict) -> Response[Any]:
            change = ProfileChange(
                name=str(form.get("name") or ""),
                phone=str(form.get("phone") or "") or None,
                locale=str(form.get("locale") or ""),
            )
            user = await mine.update_profile(viewer.user_id, change)
            response = settings_redirect("profile")
            response.set_cookie(language_cookie(user.locale, settings))  # the chosen language shows at once
            return response

        return await self._act(request, viewer, mine, db_session, save, "profile")

    @post("/password")
    async def change_password(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Principal],
        mine: NamedDependency[MyAccount],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        async def save(form: FormMultiDict) -> Response[Any]:
            current, new = str(form.get("current_password") or ""), str(form.get("new_password") or "")
            await mine.change_password(viewer.user_id, current, new, keep=viewer.token_id)
            return settings_redirect("password")

        return await self._act(request, viewer, mine, db_session, save, "password")

    @post("/email")
    async def change_email(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Principal],
        mine: NamedDependency[MyAccount],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        async def save(form: FormMultiDict) -> Response[Any]:
            await mine.request_email_change(
                viewer.user_id, str(form.get("email") or ""), str(form.get("password") or "")
            )
            return settings_redirect("email")

        return await self._act(request, viewer, mine, db_session, save, "email")

    @post("/confirmation")
    async def resend_confirmation(
        self, viewer: NamedDependency[Principal], mine: NamedDependency[MyAccount]
    ) -> Redirect:
        await mine.send_confirmation(await mine.user(viewer.user_id))
        return settings_redirect("confirmation")

    @post("/sessions/others")
    async def end_other_sessions(
        self, viewer: NamedDependency[Principal], mine: NamedDependency[MyAccount]
    ) -> Redirect:
        await mine.end_other_sessions(viewer.user_id, keep=viewer.token_id)
        return settings_redirect("sessions")

    @post("/sessions/{session_id:uuid}")
    async def end_one_session(
        self, session_id: FromPath[uuid.UUID], viewer: NamedDependency[Principal], mine: NamedDependency[MyAccount]
    ) -> Redirect:
        await mine.end_session(viewer.user_id, session_id)
        return settings_redirect("session")


async def email_link_action(
    request: Request[Any, Any, Any],
    db_session: AsyncSession,
    confirm: Callable[[str], Awaitable[Any]],
    *,
    change: bool,
) -> Response[Any]:
    """Use a mailed address link (a new address to confirm, or the registration's) from its page's form."""
    form = await request.form()

    async def save() -> Response[Any]:
        user = await confirm(str(form.get("token") or ""))
        return render(request, "accounts/email_link.html", done=True, change=change, email=user.email)

    def refused(error: DomainError) -> Response[Any]:
        return refusal_page(request, "accounts/email_link.html", error, change=change, error=error)

    return await form_action(db_session, save, refused)


class EmailLinkPages(Controller):
    """The links mailed to confirm an address: a page with one button (a mail scanner that opens the
    link changes nothing), whose POST uses the link up."""

    tags = ["pages"]
    include_in_schema = False
    dependencies = {"mine": provide_service(MyAccount)}

    @get("/me/account/email/confirm")
    async def email_change_page(self, request: Request[Any, Any, Any], token: TokenParam = "") -> Template:
        return render(request, "accounts/email_link.html", token=token, action="/me/account/email/confirm", change=True)

    @post("/me/account/email/confirm")
    async def confirm_email_change(
        self,
        request: Request[Any, Any, Any],
        mine: NamedDependency[MyAccount],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        return await email_link_action(request, db_session, mine.confirm_email_change, change=True)

    @get("/confirm-email")
    async def confirm_email_page(self, request: Request[Any, Any, Any], token: TokenParam = "") -> Template:
        return render(request, "accounts/email_link.html", token=token, action="/confirm-email", change=False)

    @post("/confirm-email")
    async def confirm_email(
        self,
        request: Request[Any, Any, Any],
        mine: NamedDependency[MyAccount],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        return await email_link_action(request, db_session, mine.confirm_email, change=False)


ROUTES = [
    AccountPages,
    OrganizationSearchPages,
    PasswordResetPages,
    AccountSettingsPages,
    EmailLinkPages,
    *MEMBER_PAGES,
]
