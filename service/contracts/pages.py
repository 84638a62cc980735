"""HTML pages of contracts (report, from a meeting too; confirm; correct) and of staff figures entry."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.picker import OrganizationPicker, parse_ids
from service.contracts.labels import channel_label
from service.contracts.models import ContractChannel, ContractStatus
from service.contracts.nav import nav
from service.contracts.purchases import PurchaseService
from service.contracts.repository import OrganizationLookup
from service.contracts.schemas import ContractIn, ContractPatch, ImportResult, PurchaseIn
from service.contracts.service import ContractParties, ContractService, can_confirm
from service.contracts.targets import TargetService, report_year
from service.fairs.booking import BookingService
from service.fairs.models import Meeting
from service.identity.deps import staff_only
from service.identity.principal import Principal
from service.lib.amounts import money
from service.lib.clock import today
from service.lib.deps import provide_service
from service.lib.errors import DomainError, FieldErrors, NotFound, ValidationFailed
from service.lib.i18n import current_locale, gettext
from service.lib.pager import Pager, page_number
from service.lib.pages import FormReader, field_errors, form_action, form_values, redirect, render
from service.registry.models import OrganizationKind
from service.registry.taxonomy import LEAVES

FIRST_LIST_YEAR = 2019
AWAITING_SHOWN = 10  # the rest are one click away: the list filtered to reported contracts


MAX_PARTY_CHARS = 100


def _uuid_text(raw: str | None) -> str:
    found = parse_ids([raw or ""])
    return str(found[0]) if found else ""


def list_filters(params: Any) -> dict[str, str]:
    """The list's filters as sent (unknown values dropped), kept in the page links."""
    year = params.get("year") or ""
    status = params.get("status") or ""
    channel = params.get("channel") or ""
    return {
        "year": year if year.isdigit() and FIRST_LIST_YEAR <= int(year) <= 2100 else "",
        "status": status if status in {s.value for s in ContractStatus} else "",
        "channel": channel if channel in {c.value for c in ContractChannel} else "",
        "fair": _uuid_text(params.get("fair")),
        "agency": _uuid_text(params.get("agency")),
        "firm": _uuid_text(params.get("firm")),
        "q": (params.get("q") or "").strip()[:MAX_PARTY_CHARS],
    }


def contract_filters(filters: dict[str, str]) -> dict[str, Any]:
    """`list_filters` as the arguments of ContractService.list_for."""

    def ident(key: str) -> uuid.UUID | None:
        return uuid.UUID(filters[key]) if filters[key] else None

    return {
        "year": int(filters["year"]) if filters["year"] else None,
        "status": ContractStatus(filters["status"]) if filters["status"] else None,
        "channel": ContractChannel(filters["channel"]) if filters["channel"] else None,
        "parties": ContractParties(ident("fair"), ident("agency"), ident("firm"), filters["q"]),
    }


def _categories() -> list[tuple[str, str]]:
    locale = current_locale()
    return [(c.code, c.name_ko if locale == "ko" else c.name_en) for c in LEAVES]


def _channels() -> list[tuple[str, str]]:
    return [(c.value, channel_label(c.value, current_locale())) for c in ContractChannel]


def _uuid(raw: str | None, own: uuid.UUID | None, is_own_kind: bool) -> uuid.UUID | None:
    if is_own_kind:
        return own
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        return None


def contract_from_form(read: FormReader, viewer: Principal, meeting: Meeting | None) -> ContractIn:
    """The reported contract: the parties come from the meeting, else the caller's own side and the form."""
    errors = read.errors
    own = viewer.organization_id
    agency_id = meeting.agency_id if meeting else _uuid(read.text("agency_id"), own, viewer.is_agency)
    firm_id = meeting.firm_id if meeting else _uuid(read.text("firm_id"), own, viewer.is_firm)
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
    errors.raise_if_any()
    assert agency_id is not None
    assert firm_id is not None
    return ContractIn(
        agency_id=agency_id, firm_id=firm_id, amount_krw=amount or 0, contract_date=day or date.min,
        title=read.text("title") or "", category_code=read.text("category_code"),
        meeting_id=meeting.id if meeting else None, channel=read.text("channel"),
    )  # fmt: skip


def correction_from_form(form: FormMultiDict) -> ContractPatch:
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
    errors.raise_if_any()
    return ContractPatch(**fields)


async def _party_pickers(
    request: Request[Any, Any, Any], viewer: Principal, picker: OrganizationPicker, values: dict[str, Any]
) -> list[dict[str, Any]]:
    """The search boxes for the parties the caller does not stand for: its query, results and choice."""
    locale = current_locale()
    parties = []
    for kind, label in ((OrganizationKind.AGENCY, gettext("Agency")), (OrganizationKind.FIRM, gettext("Firm"))):
        if (kind is OrganizationKind.AGENCY and viewer.is_agency) or (kind is OrganizationKind.FIRM and viewer.is_firm):
            continue
        field = f"{kind.value}_id"
        q = request.query_params.get(f"{kind.value}_q") or ""
        chosen = await picker.chosen(parse_ids([str(values.get(field) or "")]), locale)
        exclude = [o.id for o in chosen]
        results = await picker.search(q, kind, exclude=exclude, locale=locale)
        parties.append(
            {"field": field, "kind": kind.value, "label": label, "q": q, "results": results, "chosen": chosen}
        )
    return parties


class ContractPages(Controller):
    path = "/contracts"
    tags = ["pages"]
    include_in_schema = False
    dependencies = {
        "contracts": provide_service(ContractService),
        "organizations": provide_service(OrganizationLookup),
        "booking": provide_service(BookingService),
        "picker": provide_service(OrganizationPicker),
    }

    @get("/")
    async def contract_list(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Principal],
        contracts: NamedDependency[ContractService],
        organizations: NamedDependency[OrganizationLookup],
    ) -> Template:
        """Those awaiting the viewer's confirmation, then all it may see: 50 a page, by year, status and channel."""
        filters = list_filters(request.query_params)
        pager = Pager(page_number(request.query_params.get("page")), 0, filters)
        awaiting, awaiting_total = await contracts.list_for(viewer, awaiting_me=True, limit=AWAITING_SHOWN)
        recent, total = await contracts.list_for(
            viewer, offset=pager.offset, limit=pager.per_page, **contract_filters(filters)
        )
        chosen = {uuid.UUID(filters[k]) for k in ("agency", "firm") if filters[k]}
        names = await organizations.names(
            {c.agency_id for c in recent + awaiting} | {c.firm_id for c in recent + awaiting} | chosen
        )
        return render(
            request, "contracts/list.html", awaiting=awaiting, recent=recent, total=total, names=names, money=money,
            channel_label=channel_label, nav_items=nav(viewer), filters=filters, pager=pager.with_total(total),
            awaiting_total=awaiting_total, fairs=await contracts.fairs_in_contracts(viewer),
            chosen={k: names.get(uuid.UUID(filters[k]), "") for k in ("agency", "firm") if filters[k]},
            years=list(range(today().year, FIRST_LIST_YEAR - 1, -1)), channels=_channels(),
        )  # fmt: skip

    async def _form(
        self,
        request: Request[Any, Any, Any],
        viewer: Principal,
        picker: OrganizationPicker,
        meeting: Meeting | None,
        *,
        values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        values = values or {}
        names = await picker.chosen({meeting.agency_id, meeting.firm_id}) if meeting else []
        return render(
            request, "contracts/new.html", status_code=status_code, meeting=meeting,
            names={o.id: o.name for o in names}, parties=await _party_pickers(request, viewer, picker, values),
            categories=_categories(), channels=_channels(), values=values, errors=errors or {}, nav_items=nav(viewer),
        )  # fmt: skip

    async def _meeting(self, booking: BookingService, viewer: Principal, meeting_id: str | None) -> Meeting | None:
        if not meeting_id:
            return None
        try:
            return await booking.visible_meeting(viewer, uuid.UUID(meeting_id))
        except (ValueError, NotFound):
            return None

    @get("/new")
    async def new_contract(
        self,
        request: Request[Any, Any, Any],
        verified_org: NamedDependency[Principal],
        picker: NamedDependency[OrganizationPicker],
        booking: NamedDependency[BookingService],
        meeting_id: FromQuery[str | None] = None,
    ) -> Template:
        """Report a contract; with ?meeting_id= the parties come from the meeting (linked sales).

        Without a meeting the parties are searched for (?agency_q=, ?firm_q=: the no-script search).
        """
        meeting = await self._meeting(booking, verified_org, meeting_id)
        return await self._form(request, verified_org, picker, meeting)

    @post("/new")
    async def submit_contract(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Principal],
        contracts: NamedDependency[ContractService],
        picker: NamedDependency[OrganizationPicker],
        booking: NamedDependency[BookingService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        form = await request.form()
        read = FormReader(form, FieldErrors())

        async def report() -> Response[Any]:
            meeting = await self._meeting(booking, viewer, read.text("meeting_id"))
            contract = await contracts.report(viewer, contract_from_form(read, viewer, meeting))
            return redirect(f"/contracts/{contract.id}?done=reported")

        async def rerender(error: DomainError) -> Response[Any]:
            meeting = await self._meeting(booking, viewer, read.text("meeting_id"))
            return await self._form(
                request, viewer, picker, meeting, values=form_values(form), errors=field_errors(error),
                status_code=422,
            )  # fmt: skip

        return await form_action(db_session, report, rerender, catch=ValidationFailed)

    @get("/{contract_id:uuid}")
    async def contract_detail(
        self,
        request: Request[Any, Any, Any],
        contract_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        contracts: NamedDependency[ContractService],
        organizations: NamedDependency[OrganizationLookup],
    ) -> Template:
        return await self._detail(request, viewer, contracts, organizations, contract_id)

    async def _detail(
        self,
        request: Request[Any, Any, Any],
        viewer: Principal,
        contracts: ContractService,
        organizations: OrganizationLookup,
        contract_id: uuid.UUID,
        *,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        contract = await contracts.get(viewer, contract_id)
        names = await organizations.names({contract.agency_id, contract.firm_id})
        return render(
            request, "contracts/detail.html", status_code=status_code, contract=contract, names=names,
            history=await contracts.revisions(contract), can_confirm=can_confirm(viewer, contract), money=money,
            categories=_categories(), channels=_channels(), channel_label=channel_label, errors=errors or {},
            nav_items=nav(viewer),
        )  # fmt: skip

    @post("/{contract_id:uuid}/confirm")
    async def confirm_contract_page(
        self,
        contract_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        contracts: NamedDependency[ContractService],
    ) -> Response[Any]:
        await contracts.confirm(viewer, await contracts.get(viewer, contract_id, for_update=True))
        return redirect(f"/contracts/{contract_id}?done=confirmed")

    @post("/{contract_id:uuid}/correct")
    async def correct_contract_page(
        self,
        request: Request[Any, Any, Any],
        contract_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        contracts: NamedDependency[ContractService],
        organizations: NamedDependency[OrganizationLookup],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        form = await request.form()

        async def correct() -> Response[Any]:
            patch = correction_from_form(form)
            await contracts.correct(viewer, await contracts.get(viewer, contract_id, for_update=True), patch)
            return redirect(f"/contracts/{contract_id}?done=corrected")

        async def rerender(error: DomainError) -> Response[Any]:
            return await self._detail(
                request, viewer, contracts, organizations, contract_id, errors=field_errors(error), status_code=422
            )

        return await form_action(db_session, correct, rerender, catch=ValidationFailed)


class PurchasePages(Controller):
    path = "/staff/purchases"
    tags = ["pages"]
    include_in_schema = False
    guards = [staff_only]
    dependencies = {
        "purchases": provide_service(PurchaseService),
        "targets": provide_service(TargetService),
        "organizations": provide_service(OrganizationPicker),
        "booking": provide_service(BookingService),
    }

    async def _page(
        self,
        request: Request[Any, Any, Any],
        staff: Principal,
        targets: TargetService,
        organizations: OrganizationPicker,
        year: int,
        *,
        status_code: int = 200,
        **context: Any,
    ) -> Template:
        return render(
            request, "contracts/purchases.html", status_code=status_code, year=year,
            years=sorted({*report_year(year, await targets.data_years(staff))[1], today().year + 1}, reverse=True),
            targets=await targets.targets(staff, year), pickers=await _agency_pickers(request, organizations, context),
            money=money, nav_items=nav(staff), **context,
        )  # fmt: skip

    @get("/")
    async def purchases_page(
        self,
        request: Request[Any, Any, Any],
        staff: NamedDependency[Principal],
        targets: NamedDependency[TargetService],
        organizations: NamedDependency[OrganizationPicker],
        year: FromQuery[int | None] = None,
    ) -> Template:
        chosen, _years = report_year(year, await targets.data_years(staff))
        return await self._page(request, staff, targets, organizations, chosen)

    @post("/{action:str}")
    async def purchases_action(
        self,
        request: Request[Any, Any, Any],
        action: FromPath[str],
        staff: NamedDependency[Principal],
        purchases: NamedDependency[PurchaseService],
        targets: NamedDependency[TargetService],
        organizations: NamedDependency[OrganizationPicker],
        booking: NamedDependency[BookingService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        form = await request.form()
        read = FormReader(form, FieldErrors())
        year = read.integer("year") or 0

        async def run() -> Response[Any]:
            if action == "import":
                result = await _import(purchases, staff, form)
                return await self._page(request, staff, targets, organizations, year or 2021, imported=result)
            await _record(purchases, staff, action, read, year)
            return redirect(f"/staff/purchases?year={year}&done={action}")

        async def rerender(error: DomainError) -> Response[Any]:
            return await self._page(
                request, staff, targets, organizations, year if 2000 <= year <= 2100 else 2021,
                status_code=error.status, errors=field_errors(error), error=error, values=form_values(form),
            )  # fmt: skip

        return await form_action(db_session, run, rerender)


async def _agency_pickers(
    request: Request[Any, Any, Any], picker: OrganizationPicker, context: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """The agency search of the target form and of the purchase form (?target_q=, ?purchase_q= without script)."""
    locale = current_locale()
    values = context.get("values") or {}
    pickers = {}
    for form in ("target", "purchase"):
        q = request.query_params.get(f"{form}_q") or ""
        sent = values.get("agency_id") if values.get("form") == form else None
        chosen = await picker.chosen(parse_ids([str(sent or "")]), locale)
        results = await picker.search(q, OrganizationKind.AGENCY, exclude=[o.id for o in chosen], locale=locale)
        pickers[form] = {"q": q, "results": results, "chosen": chosen}
    return pickers


async def _import(purchases: PurchaseService, staff: Principal, form: FormMultiDict) -> ImportResult:
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise ValidationFailed.single("file", "choose a CSV or XLSX file")
    return await purchases.import_file(
        staff, await upload.read(), upload.filename or "upload.csv", dry_run=form.get("apply") != "1"
    )


async def _record(purchases: PurchaseService, staff: Principal, action: str, read: FormReader, year: int) -> None:
    """A target (`action` "target") or a purchase ("purchase") entered by hand."""
    errors = read.errors
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
        await purchases.set_target(staff, agency, year, amount)
    elif action == "purchase":
        await purchases.record_purchase(
            staff, PurchaseIn(agency_id=agency, year=year, amount_krw=amount, note=read.text("note") or "")
        )


ROUTES = [ContractPages, PurchasePages]
