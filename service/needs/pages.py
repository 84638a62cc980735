"""HTML pages of needs: post a need and close it. Lists and a need's page, which show the matching, are
in `service.matching.pages`."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.identity.principal import Principal
from service.lib.deps import provide_service
from service.lib.errors import DomainError, FieldErrors
from service.lib.pages import FormReader, field_errors, form_action, form_values, redirect, render
from service.needs.schemas import NeedIn
from service.needs.service import NeedService
from service.registry import taxonomy
from service.registry.districts import OTHER, SEOUL_DISTRICTS, district_name
from service.registry.models import FirmType
from service.registry.taxonomy import category_name


def need_choices() -> dict[str, Any]:
    """The pick-lists and label functions of the need templates."""
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
        budget_min_krw=reader.integer("budget_min_krw"),
        quantity=reader.integer("quantity"),
        needed_by=reader.day("needed_by"),
        delivery_district=reader.text("delivery_district"),
        preferred_firm_types=reader.many("preferred_firm_types") or [],
    )


class NeedPages(Controller):
    path = "/needs"
    tags = ["pages"]
    include_in_schema = False
    dependencies = {"needs": provide_service(NeedService)}

    @get("/new")
    async def new_need_form(
        self, request: Request[Any, Any, Any], verified_org: NamedDependency[Principal]
    ) -> Template:
        return render(request, "needs/form.html", values={}, **need_choices())

    @post("/new")
    async def create_need_page(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Principal],
        needs: NamedDependency[NeedService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        form = await request.form()
        errors = FieldErrors()
        data = need_from_form(FormReader(form, errors))

        async def create() -> Response[Any]:
            need = await needs.create(viewer, data, form_errors=errors)
            return redirect(f"/needs/{need.id}")

        def rerender(error: DomainError) -> Response[Any]:
            return render(
                request,
                "needs/form.html",
                status_code=error.status,
                values=form_values(form),
                errors=field_errors(error),
                **need_choices(),
            )

        return await form_action(db_session, create, rerender)

    @post("/{need_id:uuid}/close")
    async def close_page(
        self, need_id: FromPath[uuid.UUID], viewer: NamedDependency[Principal], needs: NamedDependency[NeedService]
    ) -> Response[Any]:
        await needs.close(viewer, need_id)
        return redirect(f"/needs/{need_id}")


ROUTES = [NeedPages]
