"""HTML pages of the registry: the staff verification queue."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.principal import Principal, require_staff
from service.lib.clock import today
from service.lib.errors import DomainError
from service.lib.pages import redirect, render
from service.registry.service import OrganizationService


class VerificationPages(Controller):
    path = "/staff/organizations"
    tags = ["pages"]
    include_in_schema = False

    @get("/")
    async def pending_queue(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        require_staff(principal)
        pending = await OrganizationService(db_session).pending()
        return render(request, "registry/pending.html", pending=pending, today=today())

    @post("/{organization_id:uuid}/{action:str}")
    async def change_status(
        self,
        request: Request[Any, Any, Any],
        organization_id: FromPath[uuid.UUID],
        action: FromPath[str],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        staff = require_staff(principal)
        service = OrganizationService(db_session)
        if action not in ("verify", "reject", "suspend", "reinstate"):
            return redirect("/staff/organizations")
        form = await request.form()
        try:
            await service.change_status(
                staff, await service.get(organization_id), action, str(form.get("reason") or "")
            )
        except DomainError as exc:
            await db_session.rollback()
            pending = await service.pending()
            return render(
                request,
                "registry/pending.html",
                status_code=exc.status,
                pending=pending,
                today=today(),
                error=exc,
                error_for=organization_id,
            )
        return redirect("/staff/organizations?done=" + action)


ROUTES = [VerificationPages]
