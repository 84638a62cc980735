"""JSON API of the registry: organization status (staff), firm and agency profiles."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from service.identity.deps import staff_only
from service.identity.principal import Principal
from service.lib.clock import today
from service.lib.deps import provide_service
from service.lib.errors import ValidationFailed
from service.lib.openapi import FileUploadOperation
from service.lib.pagination import Page, check_page
from service.lib.tabular import MAX_IMPORT_BODY_BYTES, read_upload
from service.registry.directory import DirectoryQuery, DirectoryService
from service.registry.importer import SPECS, ImportOptions, ImportOutcome, template_csv
from service.registry.imports import ImportService
from service.registry.models import OrganizationKind
from service.registry.schemas import (
    ChangeRejectIn,
    OrganizationIn,
    OrganizationOut,
    PendingChangeOut,
    RejectIn,
    organization_out,
    pending_change_out,
)
from service.registry.service import OrganizationService, can_see_contact, shows_contact


class CategoryOut(msgspec.Struct, kw_only=True):
    code: str
    name_ko: str
    name_en: str
    parent_code: str | None


def directory_query(
    q: FromQuery[str | None] = None,
    category: FromQuery[str | None] = None,
    district: FromQuery[str | None] = None,
    firm_type: FromQuery[str | None] = None,
) -> DirectoryQuery:
    """The directory's filters, the same for a page of firms and the export (empty means no filter)."""
    return DirectoryQuery(
        q=q or None, category=category or None, district=district or None, firm_type=firm_type or None
    )


class DirectoryController(Controller):
    path = "/api/v1"
    tags = ["registry"]
    dependencies = {
        "directory": provide_service(DirectoryService),
        "organizations": provide_service(OrganizationService),
        "filters": Provide(directory_query, sync_to_thread=False),
    }

    @get("/categories")
    async def list_categories(self, organizations: NamedDependency[OrganizationService]) -> list[CategoryOut]:
        """The category taxonomy: groups (parent_code null) and their leaves."""
        rows = await organizations.categories()
        return [CategoryOut(code=r.code, name_ko=r.name_ko, name_en=r.name_en, parent_code=r.parent_code) for r in rows]

    @get("/firms")
    async def list_firms(
        self,
        verified_org: NamedDependency[Principal],
        directory: NamedDependency[DirectoryService],
        filters: NamedDependency[DirectoryQuery],
        page: FromQuery[int] = 1,
        page_size: FromQuery[int] = 50,
    ) -> Page[OrganizationOut]:
        """Verified firms: Korean free text (typos and partial words too) and filters; stable order."""
        offset, limit = check_page(page, page_size)
        firms, total = await directory.search(filters, offset, limit)
        items = [organization_out(f, today=today(), show_contact=can_see_contact(verified_org, f.id)) for f in firms]
        return Page(items=items, total=total, page=page, page_size=page_size)

    @get("/firms/export", media_type="text/csv")
    async def export_firms(
        self,
        verified_org: NamedDependency[Principal],
        directory: NamedDependency[DirectoryService],
        filters: NamedDependency[DirectoryQuery],
    ) -> Response[bytes]:
        """The directory with the same filters as CSV (UTF-8 with BOM, Korean headers), up to 50,000 firms."""
        return Response(
            await directory.export(verified_org, filters),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="firms.csv"'},
        )


class OrganizationStatusController(Controller):
    path = "/api/v1/organizations"
    tags = ["registry"]
    guards = [staff_only]
    dependencies = {"organizations": provide_service(OrganizationService)}

    @get("/pending")
    async def list_pending_organizations(
        self,
        organizations: NamedDependency[OrganizationService],
        kind: FromQuery[str | None] = None,
        page: FromQuery[int] = 1,
        page_size: FromQuery[int] = 50,
    ) -> Page[OrganizationOut]:
        """Staff: the verification queue (agencies and firms awaiting verification), oldest first."""
        offset, limit = check_page(page, page_size)
        if kind is not None and kind not in {k.value for k in OrganizationKind}:
            raise ValidationFailed.single("kind", "must be 'agency' or 'firm'")
        orgs, total = await organizations.pending_page(OrganizationKind(kind) if kind else None, offset, limit)
        return Page(
            items=[organization_out(o, today=today()) for o in orgs], total=total, page=page, page_size=page_size
        )

    @post("/{organization_id:uuid}/verify", status_code=200)
    async def verify_organization(
        self,
        organization_id: FromPath[uuid.UUID],
        staff: NamedDependency[Principal],
        organizations: NamedDependency[OrganizationService],
    ) -> OrganizationOut:
        """Staff: mark an organization verified."""
        org = await organizations.change_status(staff, await organizations.get(organization_id), "verify")
        return organization_out(org, today=today())

    @post("/{organization_id:uuid}/reject", status_code=200)
    async def reject_organization(
        self,
        organization_id: FromPath[uuid.UUID],
        data: JSONBody[RejectIn],
        staff: NamedDependency[Principal],
        organizations: NamedDependency[OrganizationService],
    ) -> OrganizationOut:
        """Staff: reject an organization, with the reason its users will see."""
        org = await organizations.get(organization_id)
        org = await organizations.change_status(staff, org, "reject", data.reason)
        return organization_out(org, today=today())


class ProfileChangeController(Controller):
    """Staff review of verified firms' own edits of name, business number, firm types, certification."""

    path = "/api/v1/organizations"
    tags = ["registry"]
    guards = [staff_only]
    dependencies = {"organizations": provide_service(OrganizationService)}

    @get("/changes")
    async def list_pending_changes(
        self,
        organizations: NamedDependency[OrganizationService],
        page: FromQuery[int] = 1,
        page_size: FromQuery[int] = 50,
    ) -> Page[PendingChangeOut]:
        """Staff: profile changes awaiting review (old → new per field), oldest first."""
        offset, limit = check_page(page, page_size)
        changes, total = await organizations.pending_changes_page(offset, limit)
        items = [pending_change_out(change, org) for change, org in changes]
        return Page(items=items, total=total, page=page, page_size=page_size)

    @post("/{organization_id:uuid}/changes/{change_id:uuid}/accept", status_code=200)
    async def accept_change(
        self,
        organization_id: FromPath[uuid.UUID],
        change_id: FromPath[uuid.UUID],
        staff: NamedDependency[Principal],
        organizations: NamedDependency[OrganizationService],
    ) -> OrganizationOut:
        """Staff: apply a held change (audited old → new); 409 if it was already decided."""
        org = await organizations.get(organization_id)
        org = await organizations.decide_change(staff, org, change_id, "accept")
        return organization_out(org, today=today())

    @post("/{organization_id:uuid}/changes/{change_id:uuid}/reject", status_code=200)
    async def reject_change(
        self,
        organization_id: FromPath[uuid.UUID],
        change_id: FromPath[uuid.UUID],
        data: JSONBody[ChangeRejectIn],
        staff: NamedDependency[Principal],
        organizations: NamedDependency[OrganizationService],
    ) -> OrganizationOut:
        """Staff: drop a held change, with an optional reason (audited); 409 if it was already decided."""
        org = await organizations.get(organization_id)
        org = await organizations.decide_change(staff, org, change_id, "reject", data.reason)
        return organization_out(org, today=today())


class ProfileController(Controller):
    path = "/api/v1"
    tags = ["registry"]
    dependencies = {"organizations": provide_service(OrganizationService)}

    @get("/firms/{organization_id:uuid}")
    async def get_firm(
        self,
        organization_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        organizations: NamedDependency[OrganizationService],
    ) -> OrganizationOut:
        """A firm's profile; contact details only for verified agencies and staff."""
        return await profile_out(organizations, viewer, organization_id, OrganizationKind.FIRM)

    @get("/agencies/{organization_id:uuid}")
    async def get_agency(
        self,
        organization_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        organizations: NamedDependency[OrganizationService],
    ) -> OrganizationOut:
        """An agency's profile."""
        return await profile_out(organizations, viewer, organization_id, OrganizationKind.AGENCY)

    @patch("/firms/{organization_id:uuid}")
    async def update_firm(
        self,
        organization_id: FromPath[uuid.UUID],
        data: JSONBody[OrganizationIn],
        viewer: NamedDependency[Principal],
        organizations: NamedDependency[OrganizationService],
    ) -> OrganizationOut:
        """Edit a firm's profile: its own users or staff. Every change is audited."""
        return await updated_profile_out(organizations, viewer, organization_id, OrganizationKind.FIRM, data)

    @patch("/agencies/{organization_id:uuid}")
    async def update_agency(
        self,
        organization_id: FromPath[uuid.UUID],
        data: JSONBody[OrganizationIn],
        viewer: NamedDependency[Principal],
        organizations: NamedDependency[OrganizationService],
    ) -> OrganizationOut:
        """Edit an agency's profile: its own users or staff. Every change is audited."""
        return await updated_profile_out(organizations, viewer, organization_id, OrganizationKind.AGENCY, data)


async def profile_out(
    organizations: OrganizationService, viewer: Principal, organization_id: uuid.UUID, kind: OrganizationKind
) -> OrganizationOut:
    org = await organizations.visible(viewer, organization_id, kind)
    return organization_out(
        org,
        today=today(),
        show_contact=shows_contact(viewer, org),
        pending=await organizations.pending_change_for(viewer, org),
    )


async def updated_profile_out(
    organizations: OrganizationService,
    viewer: Principal,
    organization_id: uuid.UUID,
    kind: OrganizationKind,
    data: OrganizationIn,
) -> OrganizationOut:
    org = await organizations.update_profile(viewer, await organizations.get(organization_id, kind), data)
    return organization_out(org, today=today(), pending=await organizations.pending_change(org.id))


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


def import_template_csv(kind: OrganizationKind) -> Response[bytes]:
    return Response(
        template_csv(SPECS[kind]),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{TEMPLATE_NAMES[kind]}"'},
    )


async def import_upload(
    request: Request[Any, Any, Any],
    staff: Principal,
    imports: ImportService,
    kind: OrganizationKind,
    options: ImportOptions,
) -> ImportOut:
    content, filename = await read_upload(request)
    return import_out(await imports.import_organizations(staff, kind, content, filename, options))


def import_options(
    dry_run: FromQuery[bool] = True,
    all_or_nothing: FromQuery[bool] = True,
    on_duplicate: FromQuery[str] = "report",
    verify: FromQuery[bool] = False,
) -> ImportOptions:
    """The query parameters every import route takes (firms and agencies alike)."""
    return ImportOptions(dry_run=dry_run, all_or_nothing=all_or_nothing, on_duplicate=on_duplicate, verify=verify)


# How both import routes are declared: 200 with the outcome, a multipart upload, safe to retry.
IMPORT_ROUTE: dict[str, Any] = {
    "status_code": 200,
    "request_max_body_size": MAX_IMPORT_BODY_BYTES,
    "operation_class": FileUploadOperation,
    "opt": {"idempotent": True},
}


class ImportController(Controller):
    path = "/api/v1/imports"
    tags = ["registry"]
    guards = [staff_only]
    dependencies = {
        "import_options": Provide(import_options, sync_to_thread=False),
        "imports": provide_service(ImportService),
    }

    @get("/firms/template", media_type="text/csv")
    async def import_template(self) -> Response[bytes]:
        """Staff: the firm CSV template with the Korean column headers (UTF-8 with BOM)."""
        return import_template_csv(OrganizationKind.FIRM)

    @get("/agencies/template", media_type="text/csv")
    async def agency_import_template(self) -> Response[bytes]:
        """Staff: the agency CSV template with the Korean column headers (UTF-8 with BOM)."""
        return import_template_csv(OrganizationKind.AGENCY)

    @post("/firms", **IMPORT_ROUTE)
    async def import_firms(
        self,
        request: Request[Any, Any, Any],
        staff: NamedDependency[Principal],
        imports: NamedDependency[ImportService],
        import_options: NamedDependency[ImportOptions],
    ) -> ImportOut:
        """Staff: import firms from CSV/XLSX (multipart `file`). Dry run by default: writes nothing."""
        return await import_upload(request, staff, imports, OrganizationKind.FIRM, import_options)

    @post("/agencies", **IMPORT_ROUTE)
    async def import_agencies(
        self,
        request: Request[Any, Any, Any],
        staff: NamedDependency[Principal],
        imports: NamedDependency[ImportService],
        import_options: NamedDependency[ImportOptions],
    ) -> ImportOut:
        """Staff: import agencies from CSV/XLSX (multipart `file`), as for firms. Dry run by default."""
        return await import_upload(request, staff, imports, OrganizationKind.AGENCY, import_options)


ROUTES = [
    DirectoryController,
    OrganizationStatusController,
    ProfileChangeController,
    ProfileController,
    ImportController,
]
