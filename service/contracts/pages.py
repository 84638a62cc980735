"""HTML pages of contracts (report, from a meeting too; confirm; correct) and of staff figures entry."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.contracts.models import ContractChannel
from service.contracts.purchases import PurchaseService
from service.contracts.repository import organization_choices, organization_names
from service.contracts.schemas import ContractIn, ContractPatch, PurchaseIn
from service.contracts.service import ContractService, can_confirm
from service.fairs.booking import BookingService
from service.fairs.models import Meeting
from service.identity.principal import Principal, require_principal, require_staff
from service.lib.errors import DomainError, FieldErrors, NotFound, ValidationFailed
from service.lib.i18n import current_locale
from service.lib.pages import FormReader, field_errors, form_values, redirect, render
from service.registry.models import OrganizationKind
from service.registry.taxonomy import LEAVES
from service.reports.charts import money
from service.reports.labels import channel_label
from service.reports.pages import nav


def _categories() -> list[tuple[str, str]]:
    locale = current_locale()
    return [(c.code, c.name_ko if locale == "ko" else c.name_en) for c in LEAVES]


def _channels() -> list[tuple[str, str]]:
    return [(c.value, channel_label(c.value, current_locale())) for c in ContractChannel]


class ContractPages(Controller):
    path = "/contracts"
    tags = ["pages"]
    include_in_schema = False

    @get("/")
    async def contract_list(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        viewer = require_principal(principal)
        service = ContractService(db_session)
        awaiting, _ = await service.list_for(viewer, awaiting_me=True, limit=100)
        recent, total = await service.list_for(viewer, limit=100)
        names = await organization_names(
            db_session, {c.agency_id for c in recent + awaiting} | {c.firm_id for c in recent + awaiting}
        )
        return render(
            request, "contracts/list.html", awaiting=awaiting, recent=recent, total=total, names=names, money=money,
            channel_label=channel_label, nav_items=nav(viewer),
        )  # fmt: skip

    async def _form(
        self,
        request: Request[Any, Any, Any],
        viewer: Principal,
        session: AsyncSession,
        meeting: Meeting | None,
        *,
        values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        agencies = await organization_choices(session, OrganizationKind.AGENCY) if not viewer.is_agency else []
        firms = await organization_choices(session, OrganizationKind.FIRM) if not viewer.is_firm else []
        names = await organization_names(session, {meeting.agency_id, meeting.firm_id}) if meeting else {}
        return render(
            request, "contracts/new.html", status_code=status_code, meeting=meeting, names=names, agencies=agencies,
            firms=firms, categories=_categories(), channels=_channels(), values=values or {}, errors=errors or {},
            nav_items=nav(viewer),
        )  # fmt: skip

    async def _meeting(self, session: AsyncSession, viewer: Principal, meeting_id: str | None) -> Meeting | None:
        if not meeting_id:
            return None
        try:
            return await BookingService(session).visible_meeting(viewer, uuid.UUID(meeting_id))
        except (ValueError, NotFound):
            return None

    @get("/new")
    async def new_contract(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        meeting_id: FromQuery[str | None] = None,
    ) -> Template:
        """Report a contract; with ?meeting_id= the parties come from the meeting (linked sales)."""
        viewer = require_principal(principal)
        viewer.require_verified()
        meeting = await self._meeting(db_session, viewer, meeting_id)
        return await self._form(request, viewer, db_session, meeting)

    @post("/new")
    async def submit_contract(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        viewer = require_principal(principal)
        form = await request.form()
        errors = FieldErrors()
        read = FormReader(form, errors)
        meeting = await self._meeting(db_session, viewer, read.text("meeting_id"))
        agency_id = (
            meeting.agency_id if meeting else _uuid(read.text("agency_id"), viewer.organization_id, viewer.is_agency)
        )
        firm_id = meeting.firm_id if meeting else _uuid(read.text("firm_id"), viewer.organization_id, viewer.is_firm)
        amount = read.integer("amount_krw")
        day = read.day("contract_date")
        if agency_id is None:
            errors.add("agency_id", "required")
        if firm_id is None:
            errors.add("firm_id", "required")
        if amount is None and "amount_krw" not in {e.field for e in errors.items}:
            errors.add("amount_krw", "required")
        if day is None and "contract_date" not in {e.field for e in errors.items}:
            errors.add("contract_date", "required")
        try:
            errors.raise_if_any()
            assert agency_id is not None
            assert firm_id is not None
            data = ContractIn(
                agency_id=agency_id, firm_id=firm_id, amount_krw=amount or 0, contract_date=day or date.min,
                title=read.text("title") or "", category_code=read.text("category_code"),
                meeting_id=meeting.id if meeting else None, channel=read.text("channel"),
            )  # fmt: skip
            contract = await ContractService(db_session).report(viewer, data)
        except ValidationFailed as exc:
            await db_session.rollback()
            meeting = await self._meeting(db_session, viewer, read.text("meeting_id"))  # reload after the rollback
            return await self._form(
                request,
                viewer,
                db_session,
                meeting,
                values=form_values(form),
                errors=field_errors(exc),
                status_code=422,
            )
        return redirect(f"/contracts/{contract.id}?done=reported")

    @get("/{contract_id:uuid}")
    async def contract_detail(
        self,
        request: Request[Any, Any, Any],
        contract_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        viewer = require_principal(principal)
        return await self._detail(request, viewer, db_session, contract_id)

    async def _detail(
        self,
        request: Request[Any, Any, Any],
        viewer: Principal,
        session: AsyncSession,
        contract_id: uuid.UUID,
        *,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        service = ContractService(session)
        contract = await service.get(viewer, contract_id)
        names = await organization_names(session, {contract.agency_id, contract.firm_id})
        return render(
            request, "contracts/detail.html", status_code=status_code, contract=contract, names=names,
            history=await service.revisions(contract), can_confirm=can_confirm(viewer, contract), money=money,
            categories=_categories(), channels=_channels(), channel_label=channel_label, errors=errors or {},
            nav_items=nav(viewer),
        )  # fmt: skip

    @post("/{contract_id:uuid}/confirm")
    async def confirm_contract_page(
        self,
        contract_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        viewer = require_principal(principal)
        service = ContractService(db_session)
        await service.confirm(viewer, await service.get(viewer, contract_id, for_update=True))
        return redirect(f"/contracts/{contract_id}?done=confirmed")

    @post("/{contract_id:uuid}/correct")
    async def correct_contract_page(
        self,
        request: Request[Any, Any, Any],
        contract_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        viewer = require_principal(principal)
        form = await request.form()
        errors = FieldErrors()
        read = FormReader(form, errors)
        fields: dict[str, Any] = {}
        amount = read.integer("amount_krw")
        if amount is not None:
            fields["amount_krw"] = amount
        day = read.day("contract_date")
        if day is not None:
            fields["contract_date"] = day
        for name in ("title", "channel"):
            if read.text(name):
                fields[name] = read.text(name)
        fields["category_code"] = read.text("category_code")
        service = ContractService(db_session)
        try:
            errors.raise_if_any()
            await service.correct(
                viewer, await service.get(viewer, contract_id, for_update=True), ContractPatch(**fields)
            )
        except ValidationFailed as exc:
            await db_session.rollback()
            return await self._detail(
                request, viewer, db_session, contract_id, errors=field_errors(exc), status_code=422
            )
        return redirect(f"/contracts/{contract_id}?done=corrected")


def _uuid(raw: str | None, own: uuid.UUID | None, is_own_kind: bool) -> uuid.UUID | None:
    if is_own_kind:
        return own
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        return None


class PurchasePages(Controller):
    path = "/staff/purchases"
    tags = ["pages"]
    include_in_schema = False

    async def _page(
        self,
        request: Request[Any, Any, Any],
        staff: Principal,
        session: AsyncSession,
        year: int,
        *,
        status_code: int = 200,
        **context: Any,
    ) -> Template:
        from service.reports.service import ReportService

        targets = await ReportService(session).targets(staff, year)
        return render(
            request, "contracts/purchases.html", status_code=status_code, year=year, targets=targets,
            agencies=await organization_choices(session, OrganizationKind.AGENCY), money=money, nav_items=nav(staff),
            **context,
        )  # fmt: skip

    @get("/")
    async def purchases_page(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        year: FromQuery[int | None] = None,
    ) -> Template:
        from service.lib.clock import today

        staff = require_staff(principal)
        return await self._page(request, staff, db_session, year or today().year)

    @post("/{action:str}")
    async def purchases_action(
        self,
        request: Request[Any, Any, Any],
        action: FromPath[str],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        staff = require_staff(principal)
        form = await request.form()
        errors = FieldErrors()
        read = FormReader(form, errors)
        year = read.integer("year") or 0
        service = PurchaseService(db_session)
        try:
            if action == "import":
                upload = form.get("file")
                if upload is None or isinstance(upload, str):
                    raise ValidationFailed.single("file", "choose a CSV or XLSX file")
                result = await service.import_file(
                    staff, await upload.read(), upload.filename or "upload.csv", dry_run=form.get("apply") != "1"
                )
                return await self._page(request, staff, db_session, year or 2021, imported=result)
            agency = _uuid(read.text("agency_id"), None, False)
            amount = read.integer("amount_krw")
            if agency is None:
                errors.add("agency_id", "required")
            if amount is None:
                errors.add("amount_krw", "required")
            errors.raise_if_any()
            assert agency is not None
            assert amount is not None
            if action == "target":
                await service.set_target(staff, agency, year, amount)
            elif action == "purchase":
                await service.record_purchase(
                    staff, PurchaseIn(agency_id=agency, year=year, amount_krw=amount, note=read.text("note") or "")
                )
        except DomainError as exc:
            await db_session.rollback()
            return await self._page(
                request, staff, db_session, year if 2000 <= year <= 2100 else 2021, status_code=exc.status,
                errors=field_errors(exc), error=exc, values=form_values(form),
            )  # fmt: skip
        return redirect(f"/staff/purchases?year={year}&done={action}")


ROUTES = [ContractPages, PurchasePages]
