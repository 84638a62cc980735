"""JSON API of contracts, purchase records and yearly targets."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from service.contracts.models import ContractStatus
from service.contracts.purchases import PurchaseService
from service.contracts.schemas import (
    ContractIn,
    ContractOut,
    ContractPatch,
    ImportResult,
    PurchaseIn,
    PurchaseOut,
    RevisionOut,
    TargetIn,
    TargetOut,
    contract_out,
    purchase_out,
    revision_out,
    target_out,
)
from service.contracts.service import ContractParties, ContractService
from service.identity.deps import staff_only
from service.identity.principal import Principal
from service.lib.deps import provide_service
from service.lib.errors import ValidationFailed
from service.lib.openapi import FileOrBodyUploadOperation
from service.lib.pagination import Page, check_page
from service.lib.tabular import MAX_IMPORT_BODY_BYTES, read_upload_or_body


class ContractController(Controller):
    path = "/api/v1/contracts"
    tags = ["contracts"]
    dependencies = {"contracts": provide_service(ContractService)}

    @post("/")
    async def report_contract(
        self,
        data: JSONBody[ContractIn],
        viewer: NamedDependency[Principal],
        contracts: NamedDependency[ContractService],
    ) -> ContractOut:
        """Report a contract (either party or staff); it counts once the other party or staff confirms."""
        contract = await contracts.report(viewer, data)
        return contract_out(contract)

    @get("/")
    async def list_contracts(
        self,
        viewer: NamedDependency[Principal],
        contracts: NamedDependency[ContractService],
        status: FromQuery[str | None] = None,
        year: FromQuery[int | None] = None,
        awaiting_me: FromQuery[bool] = False,
        page: FromQuery[int] = 1,
        page_size: FromQuery[int] = 50,
        fair_id: FromQuery[uuid.UUID | None] = None,
        agency_id: FromQuery[uuid.UUID | None] = None,
        firm_id: FromQuery[uuid.UUID | None] = None,
    ) -> Page[ContractOut]:
        """Contracts of the caller's organization (staff: all); `awaiting_me` lists those to confirm;
        `fair_id`, `agency_id`, `firm_id` narrow the list."""
        offset, limit = check_page(page, page_size)
        wanted: ContractStatus | None = None
        if status is not None:
            try:
                wanted = ContractStatus(status)
            except ValueError:
                raise ValidationFailed.single("status", "must be reported or confirmed") from None
        rows, total = await contracts.list_for(
            viewer,
            status=wanted,
            year=year,
            awaiting_me=awaiting_me,
            offset=offset,
            limit=limit,
            parties=ContractParties(fair_id, agency_id, firm_id),
        )
        return Page(items=[contract_out(c) for c in rows], total=total, page=page, page_size=page_size)

    @get("/{contract_id:uuid}")
    async def get_contract(
        self,
        contract_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        contracts: NamedDependency[ContractService],
    ) -> ContractOut:
        """One contract: its parties and staff only."""
        return contract_out(await contracts.get(viewer, contract_id))

    @patch("/{contract_id:uuid}")
    async def correct_contract(
        self,
        contract_id: FromPath[uuid.UUID],
        data: JSONBody[ContractPatch],
        viewer: NamedDependency[Principal],
        contracts: NamedDependency[ContractService],
    ) -> ContractOut:
        """Correct a contract; the history keeps old → new; a confirmed one returns to `reported`."""
        contract = await contracts.correct(viewer, await contracts.get(viewer, contract_id, for_update=True), data)
        return contract_out(contract)

    @post("/{contract_id:uuid}/confirm", status_code=200)
    async def confirm_contract(
        self,
        contract_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        contracts: NamedDependency[ContractService],
    ) -> ContractOut:
        """Confirm a reported contract: the other party or staff."""
        contract = await contracts.confirm(viewer, await contracts.get(viewer, contract_id, for_update=True))
        return contract_out(contract)

    @get("/{contract_id:uuid}/revisions")
    async def list_contract_revisions(
        self,
        contract_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        contracts: NamedDependency[ContractService],
    ) -> list[RevisionOut]:
        """The history of a contract: reported, corrected (old → new), confirmed; oldest first."""
        contract = await contracts.get(viewer, contract_id)
        return [revision_out(r) for r in await contracts.revisions(contract)]


class PurchaseController(Controller):
    path = "/api/v1"
    tags = ["contracts"]
    guards = [staff_only]
    dependencies = {"purchases": provide_service(PurchaseService)}

    @post("/purchases")
    async def record_purchase(
        self,
        data: JSONBody[PurchaseIn],
        staff: NamedDependency[Principal],
        purchases: NamedDependency[PurchaseService],
    ) -> PurchaseOut:
        """Staff: record an agency's purchase that did not come through the product."""
        return purchase_out(await purchases.record_purchase(staff, data))

    @get("/purchases")
    async def list_purchases(
        self,
        purchases: NamedDependency[PurchaseService],
        year: FromQuery[int | None] = None,
        agency_id: FromQuery[uuid.UUID | None] = None,
        page: FromQuery[int] = 1,
        page_size: FromQuery[int] = 50,
    ) -> Page[PurchaseOut]:
        """Staff: recorded purchases, by year and agency."""
        offset, limit = check_page(page, page_size)
        rows, total = await purchases.list_purchases(year, agency_id, offset, limit)
        return Page(items=[purchase_out(r) for r in rows], total=total, page=page, page_size=page_size)

    @put("/targets/{agency_id:uuid}/{year:int}")
    async def set_target(
        self,
        agency_id: FromPath[uuid.UUID],
        year: FromPath[int],
        data: JSONBody[TargetIn],
        staff: NamedDependency[Principal],
        purchases: NamedDependency[PurchaseService],
    ) -> TargetOut:
        """Staff: set an agency's purchase target for a year."""
        return target_out(await purchases.set_target(staff, agency_id, year, data.target_krw))

    @post(
        "/purchases/import",
        status_code=200,
        request_max_body_size=MAX_IMPORT_BODY_BYTES,
        operation_class=FileOrBodyUploadOperation,
        opt={"idempotent": True},
    )
    async def import_purchases(
        self,
        request: Request[Any, Any, Any],
        staff: NamedDependency[Principal],
        purchases: NamedDependency[PurchaseService],
        dry_run: FromQuery[bool] = True,
    ) -> ImportResult:
        """Staff: import targets and purchases from CSV (UTF-8 with or without BOM, CP949/EUC-KR) or XLSX:
        the multipart field `file`, as the registry imports take it, or the raw file as the body.

        All or nothing: any bad row rejects the whole file (422 with every row's errors).
        `dry_run` (default true) checks without writing.
        """
        content, filename = await read_upload_or_body(request)
        return await purchases.import_file(staff, content, filename, dry_run=dry_run)


ROUTES = [ContractController, PurchaseController]
