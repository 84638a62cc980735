"""HTML pages of the registry: the staff verification queue."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.identity.principal import Principal, require_principal, require_staff
from service.lib.clock import today
from service.lib.errors import DomainError, NotFound, ValidationFailed
from service.lib.pages import redirect, render
from service.lib.tabular import MAX_IMPORT_BODY_BYTES
from service.registry import taxonomy
from service.registry.api import can_see_contact
from service.registry.directory import DirectoryQuery, DirectoryService
from service.registry.districts import OTHER, SEOUL_DISTRICTS, district_name
from service.registry.importer import SPECS, ImportOptions
from service.registry.imports import ImportService
from service.registry.models import FirmType, OrganizationKind
from service.registry.schemas import PendingChangeOut, organization_out, pending_change_out
from service.registry.service import OrganizationService
from service.registry.taxonomy import category_name


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
        return await _queue_page(request, OrganizationService(db_session))

    @post("/{organization_id:uuid}/changes/{change_id:uuid}/{action:str}")
    async def decide_change(
        self,
        request: Request[Any, Any, Any],
        organization_id: FromPath[uuid.UUID],
        change_id: FromPath[uuid.UUID],
        action: FromPath[str],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Staff: accept or reject a verified firm's held profile change."""
        staff = require_staff(principal)
        service = OrganizationService(db_session)
        form = await request.form()
        try:
            org = await service.get(organization_id)
            await service.decide_change(staff, org, change_id, action, str(form.get("reason") or ""))
        except DomainError as exc:
            await db_session.rollback()
            return await _queue_page(request, service, exc.status, error=exc)
        return redirect("/staff/organizations?done=change-" + action)

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
        form = await request.form()
        try:
            await service.change_status(
                staff, await service.get(organization_id), action, str(form.get("reason") or "")
            )
        except DomainError as exc:
            await db_session.rollback()
            return await _queue_page(request, service, exc.status, error=exc, error_for=organization_id)
        return redirect("/staff/organizations?done=" + action)


async def _held_changes(service: OrganizationService) -> list[PendingChangeOut]:
    """Firms' profile changes awaiting review, oldest first (the queue shows the first 200)."""
    changes, _ = await service.pending_changes_page(0, 200)
    return [pending_change_out(change, org) for change, org in changes]


async def _queue_page(
    request: Request[Any, Any, Any], service: OrganizationService, status_code: int = 200, **extra: Any
) -> Template:
    """The verification queue: organizations awaiting verification and firms' held changes."""
    return render(
        request,
        "registry/pending.html",
        status_code=status_code,
        pending=await service.pending(),
        changes=await _held_changes(service),
        today=today(),
        **extra,
    )


class DirectoryPages(Controller):
    tags = ["pages"]
    include_in_schema = False

    @get("/firms")
    async def directory(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        q: FromQuery[str | None] = None,
        category: FromQuery[str | None] = None,
        district: FromQuery[str | None] = None,
        firm_type: FromQuery[str | None] = None,
        page: FromQuery[int] = 1,
    ) -> Template:
        viewer = require_principal(principal)
        viewer.require_verified()
        query = DirectoryQuery(
            q=q or None, category=category or None, district=district or None, firm_type=firm_type or None
        )
        page = max(page, 1)
        try:
            firms, total = await DirectoryService(db_session).search(query, (page - 1) * PAGE_SIZE, PAGE_SIZE)
            error = None
        except DomainError as exc:
            firms, total, error = [], 0, exc
        template = "registry/_results.html" if request.headers.get("hx-request") else "registry/directory.html"
        return render(
            request,
            template,
            firms=firms,
            total=total,
            page=page,
            pages=max(1, -(-total // PAGE_SIZE)),
            query=query,
            error=error,
            groups=taxonomy.GROUPS,
            leaves=taxonomy.LEAVES,
            districts=[*SEOUL_DISTRICTS, OTHER],
            firm_types=[t.value for t in FirmType],
            district_name=district_name,
            category_name=category_name,
            today=today(),
        )

    @get("/firms/{organization_id:uuid}")
    async def firm_profile(
        self,
        request: Request[Any, Any, Any],
        organization_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        return await _profile_page(request, principal, db_session, organization_id, OrganizationKind.FIRM)

    @get("/agencies/{organization_id:uuid}")
    async def agency_profile(
        self,
        request: Request[Any, Any, Any],
        organization_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        return await _profile_page(request, principal, db_session, organization_id, OrganizationKind.AGENCY)


async def _profile_page(
    request: Request[Any, Any, Any],
    principal: Principal | None,
    session: AsyncSession,
    organization_id: uuid.UUID,
    kind: OrganizationKind,
) -> Template:
    viewer = require_principal(principal)
    org = await OrganizationService(session).get(organization_id, kind)
    own = viewer.is_staff or viewer.owns(org.id)
    if not own:
        viewer.require_verified()
        if not org.is_verified:
            raise NotFound("No such organization.")
    history = await OrganizationService(session).history(org.id) if viewer.is_staff else []
    return render(
        request,
        "registry/profile.html",
        org=org,
        profile=organization_out(org, today=today(), show_contact=kind == "agency" or can_see_contact(viewer, org.id)),
        history=history,
        district_name=district_name,
        category_name=category_name,
    )


class ImportPages(Controller):
    path = "/staff/imports"
    tags = ["pages"]
    include_in_schema = False

    @get("/")
    async def import_form(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal | None],
        kind: FromQuery[str] = "firm",
    ) -> Template:
        require_staff(principal)
        chosen = _import_kind(kind)
        return render(
            request,
            "registry/import.html",
            kind=chosen.value,
            spec=SPECS[chosen],
            outcome=None,
            options=ImportOptions(),
        )

    @post("/", request_max_body_size=MAX_IMPORT_BODY_BYTES)
    async def run_import(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        staff = require_staff(principal)
        form = await request.form()
        kind = _import_kind(str(form.get("kind") or "firm"))
        options = ImportOptions(
            dry_run=form.get("mode") != "import",
            all_or_nothing=form.get("all_or_nothing") == "on",
            on_duplicate="update" if form.get("on_duplicate") == "update" else "report",
            verify=form.get("verify") == "on",
        )
        upload = form.get("file")
        error: DomainError | None = None
        outcome = None
        if upload is None or isinstance(upload, str) or not upload.filename:
            error = ValidationFailed.single("file", "Choose a CSV or XLSX file.")
        else:
            try:
                content = await upload.read()
                outcome = await ImportService(db_session).import_organizations(
                    staff, kind, content, upload.filename or "upload.csv", options
                )
            except DomainError as exc:
                await db_session.rollback()
                error = exc
        return render(
            request,
            "registry/import.html",
            status_code=error.status if error else 200,
            kind=kind.value,
            spec=SPECS[kind],
            outcome=outcome,
            options=options,
            error=error,
        )


def _import_kind(value: str) -> OrganizationKind:
    """Unknown kinds fall back to firms: the page always shows a usable form."""
    return OrganizationKind.AGENCY if value == "agency" else OrganizationKind.FIRM


PAGE_SIZE = 20
ROUTES = [VerificationPages, DirectoryPages, ImportPages]
