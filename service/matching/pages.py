"""HTML pages where needs meet the matching: the needs list (a firm's ranked needs and invitations, an
agency's own needs with its yearly target), a need's page with its ranked firms and shortlist, and the
staff page of the matching weights. Their URLs stay under /needs."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.contracts.targets import TargetService
from service.identity.deps import staff_only
from service.identity.principal import Principal
from service.lib.amounts import percent
from service.lib.clock import today
from service.lib.deps import provide_service
from service.lib.errors import DomainError, FieldErrors, ValidationFailed
from service.lib.i18n import current_locale
from service.lib.pager import Pager, page_number
from service.lib.pages import FormReader, field_errors, form_action, redirect, render
from service.matching.scoring import FACTORS
from service.matching.service import MatchingService
from service.needs.models import NeedStatus
from service.needs.pages import need_choices
from service.needs.service import NeedService


class NeedMatchPages(Controller):
    path = "/needs"
    tags = ["pages"]
    include_in_schema = False
    dependencies = {
        "needs": provide_service(NeedService),
        "matching": provide_service(MatchingService),
        "targets": provide_service(TargetService),
    }

    @get("/")
    async def list_needs_page(
        self,
        request: Request[Any, Any, Any],
        verified_org: NamedDependency[Principal],
        needs: NamedDependency[NeedService],
        matching: NamedDependency[MatchingService],
        targets: NamedDependency[TargetService],
    ) -> Template:
        limit = (await matching.settings()).direct_contract_limit_krw
        if verified_org.is_firm:
            return render(
                request,
                "needs/for_firm.html",
                ranked=await matching.needs_for_firm(verified_org, current_locale()),
                invitations=await matching.invitations(verified_org),
                limit=limit,
                **need_choices(),
            )
        status = request.query_params.get("status") or ""
        status = status if status in {s.value for s in NeedStatus} else ""
        pager = Pager(page_number(request.query_params.get("page")), 0, {"status": status})
        rows, total = await needs.list_own(verified_org, status or None, pager.offset, pager.per_page)
        return render(
            request,
            "needs/list.html",
            needs=rows,
            total=total,
            pager=pager.with_total(total),
            status=status,
            statuses=[s.value for s in NeedStatus],
            progress=await targets.progress(verified_org, today().year),
            percent=percent,
            limit=limit,
            **need_choices(),
        )

    @get("/{need_id:uuid}")
    async def need_detail(
        self,
        request: Request[Any, Any, Any],
        need_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        needs: NamedDependency[NeedService],
        matching: NamedDependency[MatchingService],
    ) -> Template:
        need = await needs.get_for(viewer, need_id)
        matches, shortlisted = await matching.for_need_page(viewer, need, current_locale())
        return render(
            request,
            "needs/detail.html",
            need=need,
            matches=matches,
            shortlisted=shortlisted,
            limit=(await matching.settings()).direct_contract_limit_krw,
            **need_choices(),
        )

    @post("/{need_id:uuid}/shortlist")
    async def shortlist_page(
        self,
        request: Request[Any, Any, Any],
        need_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        needs: NamedDependency[NeedService],
        matching: NamedDependency[MatchingService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        need = await needs.get_own(viewer, need_id)
        form = await request.form()
        try:
            firm_id = uuid.UUID(str(form.get("firm_id") or ""))
        except ValueError:
            raise ValidationFailed.single("firm_id", "not a firm id") from None
        back = redirect(f"/needs/{need.id}#firm-{firm_id}")
        invite = str(form.get("invite") or "") or None

        async def shortlist() -> Response[Any]:
            await matching.shortlist(viewer, need, firm_id, invite, None, str(form.get("message") or ""))
            return back

        return await form_action(db_session, shortlist, lambda _: back)


class WeightPages(Controller):
    path = "/staff/matching"
    tags = ["pages"]
    include_in_schema = False
    guards = [staff_only]
    dependencies = {"matching": provide_service(MatchingService)}

    @get("/")
    async def weights_page(
        self, request: Request[Any, Any, Any], matching: NamedDependency[MatchingService]
    ) -> Template:
        return render(request, "needs/weights.html", settings=await matching.settings(), factors=FACTORS)

    @post("/")
    async def save_weights(
        self,
        request: Request[Any, Any, Any],
        staff: NamedDependency[Principal],
        matching: NamedDependency[MatchingService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        form = await request.form()
        errors = FieldErrors()
        reader = FormReader(form, errors)
        weights = {f: float(v) for f in FACTORS if (v := reader.decimal(f)) is not None}
        limit = reader.integer("direct_contract_limit_krw")

        async def save() -> Response[Any]:
            errors.raise_if_any()
            await matching.update_settings(staff, weights, limit)
            return redirect("/staff/matching?saved=1")

        async def rerender(error: DomainError) -> Response[Any]:
            return render(
                request,
                "needs/weights.html",
                status_code=error.status,
                settings=await matching.settings(),
                factors=FACTORS,
                errors=field_errors(error),
            )

        return await form_action(db_session, save, rerender)


ROUTES = [NeedMatchPages, WeightPages]
