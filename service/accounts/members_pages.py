"""HTML pages of an organization's members: the members page for its people, and accepting an invitation."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.auth import session_cookie
from service.accounts.members import MemberService, invitation_state, sole_admin
from service.accounts.models import Invitation
from service.accounts.service import AccountService, account_service
from service.config import Settings
from service.identity.principal import Principal
from service.lib.clock import now
from service.lib.deps import provide_configured_service, provide_service
from service.lib.errors import DomainError, NotFound
from service.lib.i18n import current_locale
from service.lib.pages import field_errors, form_action, form_values, redirect, render
from service.registry.history import readable_history

NOTICES = ("invited", "resent", "revoked", "role", "removed")


def own_organization(viewer: Principal) -> uuid.UUID:
    if viewer.organization_id is None:
        raise NotFound("You have no organization; staff manage an organization's members through the API.")
    return viewer.organization_id


async def members_page(
    request: Request[Any, Any, Any], viewer: Principal, members: MemberService, status_code: int = 200, **context: Any
) -> Template:
    """The members, and for admins the invitations, the forms and the members' history."""
    organization_id = own_organization(viewer)
    org = await members.organization(viewer, organization_id)
    admin = await members.is_admin(viewer, organization_id)
    invitations = list(await members.invitations(viewer, organization_id)) if admin else []
    history = readable_history(await members.history(viewer, organization_id), current_locale()) if admin else []
    notice = request.query_params.get("done")
    people = await members.members(viewer, organization_id)
    context.setdefault("values", {"role": "member"})
    return render(
        request, "accounts/members.html", status_code=status_code, org=org, admin=admin,
        members=people, sole_admin=sole_admin(people), invitations=invitations,
        states={i.id: invitation_state(i, now()) for i in invitations}, history=history,
        notice=notice if notice in NOTICES else None, **context,
    )  # fmt: skip


class MemberPages(Controller):
    path = "/organization"
    tags = ["pages"]
    include_in_schema = False
    dependencies = {"members": provide_service(MemberService)}

    @get("/members")
    async def members_list(
        self, request: Request[Any, Any, Any], viewer: NamedDependency[Principal],
        members: NamedDependency[MemberService],
    ) -> Template:  # fmt: skip
        return await members_page(request, viewer, members)

    async def _act(
        self, request: Request[Any, Any, Any], viewer: Principal, members: MemberService, db_session: AsyncSession,
        action: Any, done: str,
    ) -> Response[Any]:  # fmt: skip
        form = await request.form()

        async def run() -> Response[Any]:
            await action(form)
            return redirect(f"/organization/members?done={done}")

        async def refused(error: DomainError) -> Response[Any]:
            return await members_page(
                request, viewer, members, error.status, values=form_values(form), errors=field_errors(error)
            )

        return await form_action(db_session, run, refused)

    @post("/members/invite")
    async def invite(
        self, request: Request[Any, Any, Any], viewer: NamedDependency[Principal],
        members: NamedDependency[MemberService], db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:  # fmt: skip
        async def action(form: Any) -> None:
            email, role = str(form.get("email") or ""), str(form.get("role") or "")
            await members.invite(viewer, own_organization(viewer), email, role)

        return await self._act(request, viewer, members, db_session, action, "invited")

    @post("/members/{user_id:uuid}/role")
    async def change_role(
        self, request: Request[Any, Any, Any], user_id: FromPath[uuid.UUID], viewer: NamedDependency[Principal],
        members: NamedDependency[MemberService], db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:  # fmt: skip
        async def action(form: Any) -> None:
            await members.change_role(viewer, own_organization(viewer), user_id, str(form.get("role") or ""))

        return await self._act(request, viewer, members, db_session, action, "role")

    @post("/members/{user_id:uuid}/remove")
    async def remove(
        self, request: Request[Any, Any, Any], user_id: FromPath[uuid.UUID], viewer: NamedDependency[Principal],
        members: NamedDependency[MemberService], db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:  # fmt: skip
        async def action(form: Any) -> None:
            await members.remove(viewer, own_organization(viewer), user_id)

        return await self._act(request, viewer, members, db_session, action, "removed")

    @post("/invitations/{invitation_id:uuid}/{verb:str}")
    async def invitation_action(
        self, request: Request[Any, Any, Any], invitation_id: FromPath[uuid.UUID], verb: FromPath[str],
        viewer: NamedDependency[Principal], members: NamedDependency[MemberService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:  # fmt: skip
        """`resend` or `revoke` an invitation."""
        if verb not in ("resend", "revoke"):
            raise NotFound("No such action.")

        async def action(form: Any) -> None:
            own_organization(viewer)  # the page manages the caller's own organization (staff: the API)
            if verb == "resend":
                await members.resend(viewer, invitation_id)
            else:
                await members.revoke(viewer, invitation_id)

        return await self._act(
            request, viewer, members, db_session, action, "resent" if verb == "resend" else "revoked"
        )


async def accept_page(
    request: Request[Any, Any, Any], members: MemberService, token: str, status_code: int = 200, **context: Any
) -> Template:
    """The invitation behind `token` with the form to accept it, or why it cannot be accepted."""
    invitation: Invitation | None = None
    has_account = False
    context.setdefault("values", {})
    try:
        invitation = await members.by_token(token)
        has_account = await members.existing_account(invitation) is not None
    except DomainError as error:
        context.setdefault("gone", error)
        status_code = error.status if status_code == 200 else status_code
    return render(
        request, "accounts/accept_invitation.html", status_code=status_code, invitation=invitation,
        has_account=has_account, token=token, **context,
    )  # fmt: skip


class InvitationPages(Controller):
    """Accepting an invitation from the mailed link: anyone holding the token."""

    path = "/invitations"
    tags = ["pages"]
    include_in_schema = False
    dependencies = {
        "members": provide_service(MemberService),
        "accounts": provide_configured_service(account_service),
    }

    @get("/accept")
    async def accept_form(
        self, request: Request[Any, Any, Any], members: NamedDependency[MemberService], token: FromQuery[str] = ""
    ) -> Template:
        return await accept_page(request, members, token)

    @post("/accept")
    async def accept(
        self, request: Request[Any, Any, Any], members: NamedDependency[MemberService],
        accounts: NamedDependency[AccountService], settings: NamedDependency[Settings],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:  # fmt: skip
        form = await request.form()
        token = str(form.get("token") or "")

        async def join() -> Response[Any]:
            user, _ = await members.accept(token, str(form.get("name") or ""), str(form.get("password") or ""))
            raw, _token = await accounts.issue_token(user, request.headers.get("user-agent"))
            response: Response[Any] = redirect("/?joined=1")
            response.set_cookie(session_cookie(raw, settings, settings.auth.token_hours * 3600))
            return response

        async def refused(error: DomainError) -> Response[Any]:
            values = {"name": str(form.get("name") or "")}
            return await accept_page(request, members, token, error.status, values=values, errors=field_errors(error))

        return await form_action(db_session, join, refused)


ROUTES = [MemberPages, InvitationPages]
