"""HTML pages of needs and matching: post and manage needs, ranked matches with reasons, shortlist."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.identity.principal import Principal, require_principal, require_staff
from service.lib.clock import today
from service.lib.errors import DomainError, FieldErrors, ValidationFailed
from service.lib.i18n import current_locale
from service.lib.pages import FormReader, field_errors, form_values, redirect, render
from service.matching.scoring import FACTORS
from service.matching.service import MatchingService
from service.needs.schemas import NeedIn
from service.needs.service import NeedService, clean_need
from service.registry import taxonomy
from service.registry.districts import OTHER, SEOUL_DISTRICTS, district_name
from service.registry.models import FirmType
from service.registry.taxonomy import category_name
from service.reports.arithmetic import percent


def _choices() -> dict[str, Any]:
    return {
        "groups": taxonomy.GROUPS,
        "leaves": taxonomy.LEAVES,
        "districts": [*SEOUL_DISTRICTS, OTHER],
        "firm_types": [t.value for t in FirmType],
        "district_name": district_name,
        "category_name": category_name,
    }


def need_from_form(reader: FormReader) -> NeedIn:
    return NeedIn(
        title=reader.text("title"),
        description=reader.text("description") or "",
        category_codes=reader.many("category_codes"),
        budget_krw=reader.integer("budget_krw"),
        quantity=reader.integer("quantity"),
        needed_by=reader.day("needed_by"),
        delivery_district=reader.text("delivery_district"),
        preferred_firm_types=reader.many("preferred_firm_types") or [],
    )


class NeedPages(Controller):
    path = "/needs"
    tags = ["pages"]
    include_in_schema = False

    @get("/")
    async def list_needs_page(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        caller = require_principal(principal)
        matching = MatchingService(db_session)
        settings = await matching.settings()
        if caller.is_firm:
            caller.require_verified()
            ranked = await matching.needs_for_firm(caller, current_locale())
            invitations = await matching.invitations(caller)
            return render(
                request,
                "needs/for_firm.html",
                ranked=ranked,
                invitations=invitations,
                limit=settings.direct_contract_limit_krw,
                **_choices(),
            )
        if not caller.is_staff:
            caller.require_verified()
        needs, total = await NeedService(db_session).list_own(caller, None, 0, 200)
        return render(
            request,
            "needs/list.html",
            needs=needs,
            total=total,
            progress=await NeedService(db_session).target_progress(caller, today().year),
            percent=percent,
            limit=settings.direct_contract_limit_krw,
            **_choices(),
        )

    @get("/new")
    async def new_need_form(
        self, request: Request[Any, Any, Any], principal: NamedDependency[Principal | None]
    ) -> Template:
        caller = require_principal(principal)
        caller.require_verified()
        return render(request, "needs/form.html", values={}, **_choices())

    @post("/new")
    async def create_need_page(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        caller = require_principal(principal)
        form = await request.form()
        errors = FieldErrors()
        data = need_from_form(FormReader(form, errors))
        try:
            if errors:  # report every field at once: the form's and the rules'
                clean_need(data, errors, partial=False)
                errors.raise_if_any()
            need = await NeedService(db_session).create(caller, data)
        except DomainError as exc:
            await db_session.rollback()
            return render(
                request,
                "needs/form.html",
                status_code=exc.status,
                values=form_values(form),
                errors=field_errors(exc),
                **_choices(),
            )
        return redirect(f"/needs/{need.id}")

    @get("/{need_id:uuid}")
    async def need_detail(
        self,
        request: Request[Any, Any, Any],
        need_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        caller = require_principal(principal)
        need = await NeedService(db_session).get_for(caller, need_id)
        matching = MatchingService(db_session)
        matches: list[Any] = []
        shortlisted: dict[uuid.UUID, Any] = {}
        if caller.is_staff or caller.owns(need.agency_id):
            matches = await matching.matches(caller, need, 20, current_locale())
            shortlisted = {s.firm_id: s for s, _ in await matching.shortlisted(need)}
        settings = await matching.settings()
        return render(
            request,
            "needs/detail.html",
            need=need,
            matches=matches,
            shortlisted=shortlisted,
            limit=settings.direct_contract_limit_krw,
            **_choices(),
        )

    @post("/{need_id:uuid}/shortlist")
    async def shortlist_page(
        self,
        request: Request[Any, Any, Any],
        need_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        caller = require_principal(principal)
        need = await NeedService(db_session).get_own(caller, need_id)
        form = await request.form()
        try:
            firm_id = uuid.UUID(str(form.get("firm_id") or ""))
        except ValueError:
            raise ValidationFailed.single("firm_id", "not a firm id") from None
        invite = str(form.get("invite") or "") or None
        try:
            await MatchingService(db_session).shortlist(
                caller, need, firm_id, invite, None, str(form.get("message") or "")
            )
        except DomainError:
            await db_session.rollback()
        return redirect(f"/needs/{need.id}#firm-{firm_id}")

    @post("/{need_id:uuid}/close")
    async def close_page(
        self,
        need_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        await NeedService(db_session).close(require_principal(principal), need_id)
        return redirect(f"/needs/{need_id}")


class WeightPages(Controller):
    path = "/staff/matching"
    tags = ["pages"]
    include_in_schema = False

    @get("/")
    async def weights_page(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        require_staff(principal)
        settings = await MatchingService(db_session).settings()
        return render(request, "needs/weights.html", settings=settings, factors=FACTORS)

    @post("/")
    async def save_weights(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        staff = require_staff(principal)
        form = await request.form()
        errors = FieldErrors()
        reader = FormReader(form, errors)
        weights = {f: float(v) for f in FACTORS if (v := reader.decimal(f)) is not None}
        limit = reader.integer("direct_contract_limit_krw")
        service = MatchingService(db_session)
        try:
            errors.raise_if_any()
            await service.update_settings(staff, weights, limit)
        except DomainError as exc:
            await db_session.rollback()
            return render(
                request,
                "needs/weights.html",
                status_code=exc.status,
                settings=await service.settings(),
                factors=FACTORS,
                errors=field_errors(exc),
            )
        return redirect("/staff/matching?saved=1")


ROUTES = [NeedPages, WeightPages]
