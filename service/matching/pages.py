"""HTML pages where needs meet the matching: the needs list (a firm's ranked needs and invitations, an
agency's own needs with its yearly target), a need's page with its ranked firms and shortlist, and the
staff page of the matching weights. Their URLs stay under /needs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

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
from service.lib.pages import FormReader, field_errors, form_action, form_values, redirect, render
from service.matching.scoring import FACTORS
from service.matching.service import MatchingService
from service.matching.tasks import StaffTaskService
from service.needs.models import Need, NeedStatus
from service.needs.pages import need_choices
from service.needs.responses import NeedResponseService, ReplyIn, ResponseIn
from service.needs.service import NeedService

SEOUL = ZoneInfo("Asia/Seoul")


def response_from_form(reader: FormReader) -> ResponseIn:
    """The response form; the proposed time is a `datetime-local` value in Seoul time."""
    raw = reader.text("proposed_at")
    proposed_at = None
    if raw is not None:
        try:
            proposed_at = datetime.fromisoformat(raw)
        except ValueError:
            reader.errors.add("proposed_at", "must be a date and time")
        else:
            proposed_at = proposed_at if proposed_at.tzinfo else proposed_at.replace(tzinfo=SEOUL)
    return ResponseIn(message=reader.text("message"), file_url=reader.text("file_url"), proposed_at=proposed_at)


@dataclass(frozen=True)
class NeedPageParts:
    """Who looks at which need, and the services that fill its page."""

    viewer: Principal
    need: Need
    matching: MatchingService
    responses: NeedResponseService
    tasks: StaffTaskService


async def need_page(
    request: Request[Any, Any, Any], parts: NeedPageParts, *, status_code: int = 200, **extra: Any
) -> Template:
    """A need's page: to a firm the agency and its own response form; to the agency and staff the matching
    firms (marking those without a user account), the shortlist and the responses, newest first."""
    viewer, need = parts.viewer, parts.need
    matches, shortlisted = await parts.matching.for_need_page(viewer, need, current_locale())
    manages = viewer.is_staff or viewer.owns(need.agency_id)
    rows = await parts.responses.for_need(viewer, need) if manages else []
    firm_ids = [firm.id for firm, _ in matches] + [row.firm.id for row in rows]
    mine = await parts.responses.own_live(viewer, need)
    context: dict[str, Any] = {
        "values": {},
        "errors": {},
        "reply_errors": {},
        "reply_values": {},
        "need": need,
        "agency": await parts.responses.agency_of(need),
        "matches": matches,
        "shortlisted": shortlisted,
        "responses": rows,
        "mine": mine,
        "my_replies": (await parts.responses.replies([mine.id])).get(mine.id, []) if mine else [],
        "no_account": await parts.tasks.without_account(firm_ids) if manages else set(),
        "staff_asked": await parts.tasks.asked_for(need) if manages else set(),
        "limit": (await parts.matching.settings()).direct_contract_limit_krw,
        "seoul_input": seoul_input,
        **need_choices(),
        **extra,
    }
    if mine is not None and not context["values"]:
        context["values"] = {
            "message": mine.message,
            "file_url": mine.file_url or "",
            "proposed_at": seoul_input(mine.proposed_at),
        }
    return render(request, "needs/detail.html", status_code=status_code, **context)


def seoul_input(moment: datetime | None) -> str:
    """A moment as a `datetime-local` input's value in Seoul time ("" for none)."""
    return moment.astimezone(SEOUL).strftime("%Y-%m-%dT%H:%M") if moment else ""


class NeedMatchPages(Controller):
    path = "/needs"
    tags = ["pages"]
    include_in_schema = False
    dependencies = {
        "needs": provide_service(NeedService),
        "matching": provide_service(MatchingService),
        "targets": provide_service(TargetService),
        "responses": provide_service(NeedResponseService),
        "tasks": provide_service(StaffTaskService),
    }

    @get("/")
    async def list_needs_page(
        self,
        request: Request[Any, Any, Any],
        verified_org: NamedDependency[Principal],
        needs: NamedDependency[NeedService],
        matching: NamedDependency[MatchingService],
        targets: NamedDependency[TargetService],
        responses: NamedDependency[NeedResponseService],
    ) -> Template:
        limit = (await matching.settings()).direct_contract_limit_krw
        if verified_org.is_firm:
            ranked = await matching.needs_for_firm(verified_org, current_locale())
            return render(
                request,
                "needs/for_firm.html",
                ranked=ranked,
                answered=await responses.answered(verified_org, [n.id for n, _ in ranked]),
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
        responses: NamedDependency[NeedResponseService],
        tasks: NamedDependency[StaffTaskService],
    ) -> Template:
        need = await needs.get_for(viewer, need_id)
        return await need_page(request, NeedPageParts(viewer, need, matching, responses, tasks))

    @post("/{need_id:uuid}/response")
    async def respond_page(
        self,
        request: Request[Any, Any, Any],
        need_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        needs: NamedDependency[NeedService],
        matching: NamedDependency[MatchingService],
        responses: NamedDependency[NeedResponseService],
        tasks: NamedDependency[StaffTaskService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """The firm's response form: a first response, or an edit of its live one."""
        need = await needs.get_for(viewer, need_id)
        form = await request.form()
        errors = FieldErrors()
        data = response_from_form(FormReader(form, errors))
        editing = await responses.own_live(viewer, need) is not None

        async def save() -> Response[Any]:
            if editing:
                await responses.edit(viewer, need, data, form_errors=errors)
            else:
                await responses.respond(viewer, need, data, form_errors=errors)
            return redirect(f"/needs/{need.id}?responded=1#my-response")

        async def rerender(error: DomainError) -> Response[Any]:
            parts = NeedPageParts(viewer, need, matching, responses, tasks)
            return await need_page(
                request, parts, status_code=error.status, values=form_values(form), errors=field_errors(error)
            )

        return await form_action(db_session, save, rerender)

    @post("/{need_id:uuid}/response/withdraw")
    async def withdraw_response_page(
        self,
        need_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        needs: NamedDependency[NeedService],
        responses: NamedDependency[NeedResponseService],
    ) -> Response[Any]:
        need = await needs.get_for(viewer, need_id)
        await responses.withdraw(viewer, need)
        return redirect(f"/needs/{need.id}?withdrawn=1")

    @post("/{need_id:uuid}/responses/{response_id:uuid}/reply")
    async def reply_page(
        self,
        request: Request[Any, Any, Any],
        need_id: FromPath[uuid.UUID],
        response_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        needs: NamedDependency[NeedService],
        matching: NamedDependency[MatchingService],
        responses: NamedDependency[NeedResponseService],
        tasks: NamedDependency[StaffTaskService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """The agency's reply to one response, mailed to the firm."""
        need = await needs.get_own(viewer, need_id)
        form = await request.form()
        message = str(form.get("message") or "")

        async def send() -> Response[Any]:
            await responses.reply(viewer, need, response_id, ReplyIn(message=message))
            return redirect(f"/needs/{need.id}?replied=1#response-{response_id}")

        async def rerender(error: DomainError) -> Response[Any]:
            parts = NeedPageParts(viewer, need, matching, responses, tasks)
            return await need_page(
                request,
                parts,
                status_code=error.status,
                reply_errors={response_id: field_errors(error)},
                reply_values={response_id: message},
            )

        return await form_action(db_session, send, rerender)

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
