"""JSON API of the registry: organization status (staff), firm and agency profiles."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.schemas import RejectIn
from service.identity.audit import record_audit
from service.identity.principal import Principal, require_principal, require_staff
from service.lib.clock import today
from service.lib.errors import NotFound, ValidationFailed
from service.lib.openapi import FileUploadOperation
from service.lib.pagination import Page, check_page
from service.lib.tabular import MAX_IMPORT_BODY_BYTES, read_upload
from service.registry.business_number import display
from service.registry.certification import effective_firm_types
from service.registry.directory import DirectoryQuery, DirectoryService
from service.registry.districts import district_name
from service.registry.importer import SPECS, ImportOptions, ImportOutcome, export_csv, template_csv
from service.registry.imports import ImportService
from service.registry.models import CategoryRow, OrganizationKind
from service.registry.schemas import (
    OrganizationIn,
    OrganizationOut,
    PendingChangeOut,
    organization_out,
    pending_change_out,
)
from service.registry.service import OrganizationService


def can_see_contact(viewer: Principal, organization_id: uuid.UUID) -> bool:
    """Contact details of a firm: only for verified agencies, staff and the firm itself."""
    return viewer.is_staff or viewer.owns(organization_id) or (viewer.is_agency and viewer.is_verified)


class CategoryOut(msgspec.Struct, kw_only=True):
    code: str
    name_ko: str
    name_en: str
    parent_code: str | None


class DirectoryController(Controller):
    path = "/api/v1"
    tags = ["registry"]

    @get("/categories")
    async def list_categories(self, db_session: NamedDependency[AsyncSession]) -> list[CategoryOut]:
        """The category taxonomy: groups (parent_code null) and their leaves."""
        rows = await db_session.scalars(select(CategoryRow).order_by(CategoryRow.code))
        return [CategoryOut(code=r.code, name_ko=r.name_ko, name_en=r.name_en, parent_code=r.parent_code) for r in rows]

    @get("/firms")
    async def list_firms(
        self,
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        q: FromQuery[str | None] = None,
        category: FromQuery[str | None] = None,
        district: FromQuery[str | None] = None,
        firm_type: FromQuery[str | None] = None,
        page: FromQuery[int] = 1,
        page_size: FromQuery[int] = 50,
    ) -> Page[OrganizationOut]:
        """Verified firms: Korean free text (typos and partial words too) and filters; stable order."""
        viewer = require_principal(principal)
        viewer.require_verified()
        offset, limit = check_page(page, page_size)
        firms, total = await DirectoryService(db_session).search(
            DirectoryQuery(q=q, category=category, district=district, firm_type=firm_type), offset, limit
        )
        items = [organization_out(f, today=today(), show_contact=can_see_contact(viewer, f.id)) for f in firms]
        return Page(items=items, total=total, page=page, page_size=page_size)

    @get("/firms/export", media_type="text/csv")
    async def export_firms(
        self,
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        q: FromQuery[str | None] = None,
        category: FromQuery[str | None] = None,
        district: FromQuery[str | None] = None,
        firm_type: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        """The directory with the same filters as CSV (UTF-8 with BOM, Korean headers), up to 50,000 firms."""
        viewer = require_principal(principal)
        viewer.require_verified()
        query = DirectoryQuery(
            q=q or None, category=category or None, district=district or None, firm_type=firm_type or None
        )
        firms, _ = await DirectoryService(db_session).search(query, 0, EXPORT_LIMIT)
        on_day = today()
        rows = []
        for f in firms:
            contact = can_see_contact(viewer, f.id)
            rows.append(
                {
                    "상호": f.name,
                    "사업자등록번호": display(f.business_number) if f.business_number else "",
                    "자치구": district_name(f.district, "ko"),
                    # Only the types that count today: an expired certification is not listed.
                    "기업유형": "; ".join(effective_firm_types(f.firm_types, f.certified_until, on_day)),
                    "품목분류": "; ".join(f.category_codes),
                    "소개": f.description,
                    "키워드": "; ".join(f.keywords),
                    "전화번호": f.phone if contact else "",
                    "이메일": f.email if contact else "",
                    "웹사이트": f.website if contact else "",
                }
            )
        # Like every export (reports/export_service.py): who, when, which filters, how many rows.
        await record_audit(
            db_session,
            actor_id=viewer.user_id,
            action="export.firms_csv",
            target_type="export",
            target_id=None,
            changes={
                "filters": {k: v for k, v in vars(query).items() if v is not None},
                "rows": len(rows),
                "rows_with_contacts": sum(1 for f in firms if can_see_contact(viewer, f.id)),
            },
        )
        return Response(
            export_csv(rows),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="firms.csv"'},
        )


EXPORT_LIMIT = 50_000


class OrganizationStatusController(Controller):
    path = "/api/v1/organizations"
    tags = ["registry"]

    @get("/pending")
    async def list_pending_organizations(
        self,
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        kind: FromQuery[str | None] = None,
        page: FromQuery[int] = 1,
        page_size: FromQuery[int] = 50,
    ) -> Page[OrganizationOut]:
        """Staff: the verification queue (agencies and firms awaiting verification), oldest first."""
        require_staff(principal)
        offset, limit = check_page(page, page_size)
        if kind is not None and kind not in {k.value for k in OrganizationKind}:
            raise ValidationFailed.single("kind", "must be 'agency' or 'firm'")
        orgs, total = await OrganizationService(db_session).pending_page(
            OrganizationKind(kind) if kind else None, offset, limit
        )
        return Page(
            items=[organization_out(o, today=today()) for o in orgs], total=total, page=page, page_size=page_size
        )

    @post("/{organization_id:uuid}/verify", status_code=200)
    async def verify_organization(
        self,
        organization_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> OrganizationOut:
        """Staff: mark an organization verified."""
        staff = require_staff(principal)
        service = OrganizationService(db_session)
        org = await service.change_status(staff, await service.get(organization_id), "verify")
        return organization_out(org, today=today())

    @post("/{organization_id:uuid}/reject", status_code=200)
    async def reject_organization(
        self,
        organization_id: FromPath[uuid.UUID],
        data: JSONBody[RejectIn],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> OrganizationOut:
        """Staff: reject an organization, with the reason its users will see."""
        staff = require_staff(principal)
        service = OrganizationService(db_session)
        org = await service.change_status(staff, await service.get(organization_id), "reject", data.reason)
        return organization_out(org, today=today())


class ProfileChangeController(Controller):
    """Staff review of verified firms' own edits of name, business number, firm types, certification."""

    path = "/api/v1/organizations"
    tags = ["registry"]

    @get("/changes")
    async def list_pending_changes(
        self,
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        page: FromQuery[int] = 1,
        page_size: FromQuery[int] = 50,
    ) -> Page[PendingChangeOut]:
        """Staff: profile changes awaiting review (old → new per field), oldest first."""
        require_staff(principal)
        offset, limit = check_page(page, page_size)
        service = OrganizationService(db_session)
        changes, total = await service.pending_changes_page(offset, limit)
        items = [pending_change_out(change, org) for change, org in changes]
        return Page(items=items, total=total, page=page, page_size=page_size)

    @post("/{organization_id:uuid}/changes/{change_id:uuid}/accept", status_code=200)
    async def accept_change(
        self,
        organization_id: FromPath[uuid.UUID],
        change_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> OrganizationOut:
        """Staff: apply a held change (audited old → new); 409 if it was already decided."""
        staff = require_staff(principal)
        service = OrganizationService(db_session)
        org = await service.decide_change(staff, await service.get(organization_id), change_id, "accept")
        return organization_out(org, today=today())

    @post("/{organization_id:uuid}/changes/{change_id:uuid}/reject", status_code=200)
    async def reject_change(
        self,
        organization_id: FromPath[uuid.UUID],
        change_id: FromPath[uuid.UUID],
        data: JSONBody[ChangeRejectIn],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> OrganizationOut:
        """Staff: drop a held change, with an optional reason (audited); 409 if it was already decided."""
        staff = require_staff(principal)
        service = OrganizationService(db_session)
        org = await service.decide_change(staff, await service.get(organization_id), change_id, "reject", data.reason)
        return organization_out(org, today=today())


class ChangeRejectIn(msgspec.Struct, kw_only=True):
    reason: str | None = None


class ProfileController(Controller):
    path = "/api/v1"
    tags = ["registry"]

    @get("/firms/{organization_id:uuid}")
    async def get_firm(
        self,
        organization_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> OrganizationOut:
        """A firm's profile; contact details only for verified agencies and staff."""
        return await _get_profile(db_session, require_principal(principal), organization_id, OrganizationKind.FIRM)

    @get("/agencies/{organization_id:uuid}")
    async def get_agency(
        self,
        organization_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> OrganizationOut:
        """An agency's profile."""
        return await _get_profile(db_session, require_principal(principal), organization_id, OrganizationKind.AGENCY)

    @patch("/firms/{organization_id:uuid}")
    async def update_firm(
        self,
        organization_id: FromPath[uuid.UUID],
        data: JSONBody[OrganizationIn],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> OrganizationOut:
        """Edit a firm's profile: its own users or staff. Every change is audited."""
        return await _update_profile(db_session, principal, organization_id, OrganizationKind.FIRM, data)

    @patch("/agencies/{organization_id:uuid}")
    async def update_agency(
        self,
        organization_id: FromPath[uuid.UUID],
        data: JSONBody[OrganizationIn],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> OrganizationOut:
        """Edit an agency's profile: its own users or staff. Every change is audited."""
        return await _update_profile(db_session, principal, organization_id, OrganizationKind.AGENCY, data)


async def _get_profile(
    session: AsyncSession, viewer: Principal, organization_id: uuid.UUID, kind: OrganizationKind
) -> OrganizationOut:
    service = OrganizationService(session)
    org = await service.get(organization_id, kind)
    own = viewer.is_staff or viewer.owns(org.id)
    if not own:
        viewer.require_verified()
        if not org.is_verified:
            raise NotFound("No such organization.")
    return organization_out(
        org,
        today=today(),
        show_contact=can_see_contact(viewer, org.id) or kind == "agency",
        pending=await service.pending_change(org.id) if own else None,
    )


async def _update_profile(
    session: AsyncSession,
    principal: Principal | None,
    organization_id: uuid.UUID,
    kind: OrganizationKind,
    data: OrganizationIn,
) -> OrganizationOut:
    caller = require_principal(principal)
    service = OrganizationService(session)
    org = await service.update_profile(caller, await service.get(organization_id, kind), data)
    return organization_out(org, today=today(), pending=await service.pending_change(org.id))


class RowErrorOut(msgspec.Struct, kw_only=True):
    row: int
    column: str
    value: str
    reason: str


class ImportOut(msgspec.Struct, kw_only=True):
    dry_run: bool
    written: bool
    total: int
    valid: int
    created: int
    updated: int
    errors: list[RowErrorOut]


def import_out(outcome: ImportOutcome) -> ImportOut:
    return ImportOut(
        dry_run=outcome.dry_run,
        written=outcome.written,
        total=outcome.total,
        valid=outcome.valid,
        created=outcome.created,
        updated=outcome.updated,
        errors=[RowErrorOut(row=e.row, column=e.column, value=e.value, reason=e.reason) for e in outcome.errors],
    )


TEMPLATE_NAMES = {
    OrganizationKind.FIRM: "firms-import-template.csv",
    OrganizationKind.AGENCY: "agencies-import-template.csv",
}


def _template(principal: Principal | None, kind: OrganizationKind) -> Response[bytes]:
    require_staff(principal)
    return Response(
        template_csv(SPECS[kind]),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{TEMPLATE_NAMES[kind]}"'},
    )


async def _import(
    request: Request[Any, Any, Any],
    principal: Principal | None,
    session: AsyncSession,
    kind: OrganizationKind,
    options: ImportOptions,
) -> ImportOut:
    staff = require_staff(principal)
    content, filename = await read_upload(request)
    return import_out(await ImportService(session).import_organizations(staff, kind, content, filename, options))


def _import_options(
    dry_run: FromQuery[bool] = True,
    all_or_nothing: FromQuery[bool] = True,
    on_duplicate: FromQuery[str] = "report",
    verify: FromQuery[bool] = False,
) -> ImportOptions:
    """The query parameters every import route takes (firms and agencies alike)."""
    return ImportOptions(dry_run=dry_run, all_or_nothing=all_or_nothing, on_duplicate=on_duplicate, verify=verify)


class ImportController(Controller):
    path = "/api/v1/imports"
    tags = ["registry"]
    dependencies = {"import_options": Provide(_import_options, sync_to_thread=False)}

    @get("/firms/template", media_type="text/csv")
    async def import_template(self, principal: NamedDependency[Principal | None]) -> Response[bytes]:
        """Staff: the firm CSV template with the Korean column headers (UTF-8 with BOM)."""
        return _template(principal, OrganizationKind.FIRM)

    @get("/agencies/template", media_type="text/csv")
    async def agency_import_template(self, principal: NamedDependency[Principal | None]) -> Response[bytes]:
        """Staff: the agency CSV template with the Korean column headers (UTF-8 with BOM)."""
        return _template(principal, OrganizationKind.AGENCY)

    @post(
        "/firms",
        status_code=200,
        request_max_body_size=MAX_IMPORT_BODY_BYTES,
        operation_class=FileUploadOperation,
        opt={"idempotent": True},
    )
    async def import_firms(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        import_options: NamedDependency[ImportOptions],
    ) -> ImportOut:
        """Staff: import firms from CSV/XLSX (multipart `file`). Dry run by default: writes nothing."""
        return await _import(request, principal, db_session, OrganizationKind.FIRM, import_options)

    @post(
        "/agencies",
        status_code=200,
        request_max_body_size=MAX_IMPORT_BODY_BYTES,
        operation_class=FileUploadOperation,
        opt={"idempotent": True},
    )
    async def import_agencies(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        import_options: NamedDependency[ImportOptions],
    ) -> ImportOut:
        """Staff: import agencies from CSV/XLSX (multipart `file`), as for firms. Dry run by default."""
        return await _import(request, principal, db_session, OrganizationKind.AGENCY, import_options)


ROUTES = [
    DirectoryController,
    OrganizationStatusController,
    ProfileChangeController,
    ProfileController,
    ImportController,
]
