"""HTML pages of the registry: the staff verification queue, the directory, profiles, imports."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.config import Settings
from service.identity.deps import staff_only
from service.identity.principal import Principal
from service.lib.clock import today
from service.lib.deps import provide_service
from service.lib.errors import DomainError, ValidationFailed
from service.lib.i18n import current_locale
from service.lib.pager import Pager, page_number
from service.lib.pages import form_action, redirect, render
from service.lib.tabular import MAX_IMPORT_BODY_BYTES
from service.registry import taxonomy
from service.registry.api import directory_query
from service.registry.directory import DirectoryQuery, DirectoryService
from service.registry.districts import OTHER, SEOUL_DISTRICTS, district_name
from service.registry.history import readable_history
from service.registry.importer import SPECS, ImportOptions
from service.registry.imports import ImportService
from service.registry.models import FirmType, OrganizationKind
from service.registry.schemas import PendingChangeOut, organization_out, pending_change_out
from service.registry.service import OrganizationService, shows_contact
from service.registry.taxonomy import GROUPS, LEAVES, category_name
from service.registry.uploads import UploadStore


class VerificationPages(Controller):
    path = "/staff/organizations"
    tags = ["pages"]
    include_in_schema = False
    guards = [staff_only]
    dependencies = {"organizations": provide_service(OrganizationService)}

    @get("/")
    async def pending_queue(
        self, request: Request[Any, Any, Any], organizations: NamedDependency[OrganizationService]
    ) -> Template:
        return await queue_page(request, organizations)

    @post("/{organization_id:uuid}/changes/{change_id:uuid}/{action:str}")
    async def decide_change(
        self,
        request: Request[Any, Any, Any],
        organization_id: FromPath[uuid.UUID],
        change_id: FromPath[uuid.UUID],
        action: FromPath[str],
        staff: NamedDependency[Principal],
        organizations: NamedDependency[OrganizationService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Staff: accept or reject a verified firm's held profile change."""
        reason = str((await request.form()).get("reason") or "")

        async def decide() -> None:
            org = await organizations.get(organization_id)
            await organizations.decide_change(staff, org, change_id, action, reason)

        return await queue_action(request, organizations, db_session, decide, done="change-" + action)

    @post("/{organization_id:uuid}/{action:str}")
    async def change_status(
        self,
        request: Request[Any, Any, Any],
        organization_id: FromPath[uuid.UUID],
        action: FromPath[str],
        staff: NamedDependency[Principal],
        organizations: NamedDependency[OrganizationService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Staff: verify, reject, suspend or reinstate an organization."""
        reason = str((await request.form()).get("reason") or "")

        async def change() -> None:
            await organizations.change_status(staff, await organizations.get(organization_id), action, reason)

        return await queue_action(request, organizations, db_session, change, done=action, error_for=organization_id)


async def queue_action(
    request: Request[Any, Any, Any],
    organizations: OrganizationService,
    db_session: AsyncSession,
    write: Callable[[], Awaitable[None]],
    *,
    done: str,
    **error_context: Any,
) -> Response[Any]:
    """A decision taken from the queue: back to the queue saying what was `done`, or the queue with the refusal."""

    async def act() -> Response[Any]:
        await write()
        return redirect("/staff/organizations?done=" + done)

    return await form_action(
        db_session, act, lambda error: queue_page(request, organizations, error.status, error=error, **error_context)
    )


async def held_changes(organizations: OrganizationService) -> list[PendingChangeOut]:
    """Firms' profile changes awaiting review, oldest first (the queue shows the first 200)."""
    changes, _ = await organizations.pending_changes_page(0, 200)
    return [pending_change_out(change, org) for change, org in changes]


async def queue_page(
    request: Request[Any, Any, Any], organizations: OrganizationService, status_code: int = 200, **extra: Any
) -> Template:
    """The verification queue, 50 a page (oldest first, with whether their users confirmed their
    addresses: it informs the decision, it does not block it), and firms' held changes."""
    pager = Pager(page_number(request.query_params.get("page")), 0)
    pending, total = await organizations.pending_page(None, pager.offset, pager.per_page)
    return render(
        request,
        "registry/pending.html",
        status_code=status_code,
        pending=pending,
        pending_total=total,
        pager=pager.with_total(total),
        contacts=await organizations.contact_emails([org.id for org in pending]),
        changes=await held_changes(organizations),
        today=today(),
        **extra,
    )


class DirectoryPages(Controller):
    tags = ["pages"]
    include_in_schema = False
    dependencies = {
        "directory": provide_service(DirectoryService),
        "organizations": provide_service(OrganizationService),
        "filters": Provide(directory_query, sync_to_thread=False),
    }

    @get("/firms")
    async def directory(
        self,
        request: Request[Any, Any, Any],
        verified_org: NamedDependency[Principal],
        directory: NamedDependency[DirectoryService],
        filters: NamedDependency[DirectoryQuery],
    ) -> Template:
        wanted = {
            "q": filters.q,
            "category": filters.category,
            "district": filters.district,
            "firm_type": filters.firm_type,
        }
        pager = Pager(page_number(request.query_params.get("page")), 0, {k: v or "" for k, v in wanted.items()})
        try:
            firms, total = await directory.search(filters, pager.offset, pager.per_page)
            error = None
        except DomainError as exc:
            firms, total, error = [], 0, exc
        template = "registry/_results.html" if request.headers.get("hx-request") else "registry/directory.html"
        return render(
            request,
            template,
            firms=firms,
            total=total,
            pager=pager.with_total(total),
            query=filters,
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
        viewer: NamedDependency[Principal],
        organizations: NamedDependency[OrganizationService],
    ) -> Template:
        return await profile_page(request, organizations, viewer, organization_id, OrganizationKind.FIRM)

    @get("/agencies/{organization_id:uuid}")
    async def agency_profile(
        self,
        request: Request[Any, Any, Any],
        organization_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        organizations: NamedDependency[OrganizationService],
    ) -> Template:
        return await profile_page(request, organizations, viewer, organization_id, OrganizationKind.AGENCY)


async def profile_page(
    request: Request[Any, Any, Any],
    organizations: OrganizationService,
    viewer: Principal,
    organization_id: uuid.UUID,
    kind: OrganizationKind,
) -> Template:
    org = await organizations.visible(viewer, organization_id, kind)
    return render(
        request,
        "registry/profile.html",
        org=org,
        profile=organization_out(org, today=today(), show_contact=shows_contact(viewer, org)),
        contact_visible=shows_contact(viewer, org),
        history=readable_history(await organizations.history_for(viewer, org.id), current_locale()),
        district_name=district_name,
        category_name=category_name,
    )


class ImportPages(Controller):
    path = "/staff/imports"
    tags = ["pages"]
    include_in_schema = False
    guards = [staff_only]
    dependencies = {"imports": provide_service(ImportService)}

    @get("/")
    async def import_form(self, request: Request[Any, Any, Any], kind: FromQuery[str] = "firm") -> Template:
        return import_page(request, import_kind(kind), ImportOptions())

    @post("/", request_max_body_size=MAX_IMPORT_BODY_BYTES)
    async def run_import(
        self,
        request: Request[Any, Any, Any],
        staff: NamedDependency[Principal],
        imports: NamedDependency[ImportService],
        settings: NamedDependency[Settings],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Check or import a file; a checked file is kept (a token on the page) so the import needs no second pick."""
        form = await request.form()
        kind = import_kind(str(form.get("kind") or "firm"))
        options = ImportOptions(
            dry_run=form.get("mode") != "import",
            all_or_nothing=form.get("all_or_nothing") == "on",
            on_duplicate="update" if form.get("on_duplicate") == "update" else "report",
            verify=form.get("verify") == "on",
        )
        store = UploadStore(settings.app.data_dir)
        kept = {"upload_token": str(form.get("upload_token") or ""), "upload_name": str(form.get("upload_name") or "")}
        # htmx swaps only 2xx answers: a refused file is shown with its error behind a 200 there
        refused_status = 200 if request.headers.get("hx-request") else None

        async def run() -> Response[Any]:
            content, filename = await chosen_file(form.get("file"), kept["upload_token"], store)
            outcome = await imports.import_organizations(staff, kind, content, filename, options)
            store.forget(kept["upload_token"])
            kept.update(upload_token="", upload_name="")
            if not outcome.written:
                kept.update(upload_token=store.keep(content, filename), upload_name=filename)
            return import_page(request, kind, options, outcome=outcome, **kept)

        return await form_action(
            db_session,
            run,
            lambda error: import_page(
                request, kind, options, error=error, status_code=refused_status or error.status, **kept
            ),
        )


async def chosen_file(upload: Any, token: str, store: UploadStore) -> tuple[bytes, str]:
    """The file sent with the form, else the one kept from the dry run under `token`."""
    if upload is not None and not isinstance(upload, str) and upload.filename:
        return await upload.read(), upload.filename
    if token:
        kept = store.load(token)
        if kept is None:
            raise ValidationFailed.single("file", "The checked file is no longer kept; choose it again.")
        return kept
    raise ValidationFailed.single("file", "Choose a CSV or XLSX file.")


def import_page(
    request: Request[Any, Any, Any], kind: OrganizationKind, options: ImportOptions, **context: Any
) -> Template:
    """The import form for `kind`, with the outcome of the last run or its error when there is one."""
    context.setdefault("outcome", None)
    context.setdefault("error", None)
    return render(
        request, "registry/import.html", kind=kind.value, spec=SPECS[kind], options=options,
        category_groups=[(g, [c for c in LEAVES if c.parent_code == g.code]) for g in GROUPS], **context,
    )  # fmt: skip


def import_kind(value: str) -> OrganizationKind:
    """Unknown kinds fall back to firms: the page always shows a usable form."""
    return OrganizationKind.AGENCY if value == "agency" else OrganizationKind.FIRM


ROUTES = [VerificationPages, DirectoryPages, ImportPages]
