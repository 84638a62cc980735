"""Request and response shapes of contracts, purchase records and targets."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import msgspec

from service.contracts.models import Contract, ContractRevision, PurchaseRecord, PurchaseTarget


class ContractIn(msgspec.Struct, kw_only=True):
    agency_id: uuid.UUID
    firm_id: uuid.UUID
    amount_krw: int
    contract_date: date
    title: str
    category_code: str | None = None
    meeting_id: uuid.UUID | None = None
    need_id: uuid.UUID | None = None
    channel: str | None = None


class ContractPatch(msgspec.Struct, kw_only=True):
    """Corrections: only the fields sent change; `null` clears an optional link."""

    amount_krw: int | msgspec.UnsetType = msgspec.UNSET
    contract_date: date | msgspec.UnsetType = msgspec.UNSET
    title: str | msgspec.UnsetType = msgspec.UNSET
    category_code: str | msgspec.UnsetType | None = msgspec.UNSET
    meeting_id: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET
    need_id: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET
    channel: str | msgspec.UnsetType = msgspec.UNSET

    def fields(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.__struct_fields__ if getattr(self, f) is not msgspec.UNSET}


class ContractOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    agency_id: uuid.UUID
    firm_id: uuid.UUID
    amount_krw: int
    contract_date: date
    title: str
    category_code: str | None
    meeting_id: uuid.UUID | None
    fair_id: uuid.UUID | None
    need_id: uuid.UUID | None
    channel: str
    status: str
    linked: bool
    reported_side: str
    reported_by: uuid.UUID | None
    confirmed_by: uuid.UUID | None
    confirmed_at: datetime | None
    created_at: datetime
    updated_at: datetime


def contract_out(contract: Contract) -> ContractOut:
    return ContractOut(
        id=contract.id,
        agency_id=contract.agency_id,
        firm_id=contract.firm_id,
        amount_krw=contract.amount_krw,
        contract_date=contract.contract_date,
        title=contract.title,
        category_code=contract.category_code,
        meeting_id=contract.meeting_id,
        fair_id=contract.fair_id,
        need_id=contract.need_id,
        channel=str(contract.channel),
        status=str(contract.status),
        linked=contract.is_linked,
        reported_side=str(contract.reported_side),
        reported_by=contract.reported_by,
        confirmed_by=contract.confirmed_by,
        confirmed_at=contract.confirmed_at,
        created_at=contract.created_at,
        updated_at=contract.updated_at,
    )


class RevisionOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    action: str
    actor_id: uuid.UUID | None
    actor_side: str
    changes: dict[str, Any]
    at: datetime


def revision_out(revision: ContractRevision) -> RevisionOut:
    return RevisionOut(
        id=revision.id,
        action=revision.action,
        actor_id=revision.actor_id,
        actor_side=revision.actor_side,
        changes=revision.changes,
        at=revision.at,
    )


class PurchaseIn(msgspec.Struct, kw_only=True):
    agency_id: uuid.UUID
    year: int
    amount_krw: int
    note: str = ""


class PurchaseOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    agency_id: uuid.UUID
    year: int
    amount_krw: int
    note: str
    source: str
    created_at: datetime


def purchase_out(record: PurchaseRecord) -> PurchaseOut:
    return PurchaseOut(
        id=record.id,
        agency_id=record.agency_id,
        year=record.year,
        amount_krw=record.amount_krw,
        note=record.note,
        source=record.source,
        created_at=record.created_at,
    )


class TargetIn(msgspec.Struct, kw_only=True):
    target_krw: int


class TargetOut(msgspec.Struct, kw_only=True):
    agency_id: uuid.UUID
    year: int
    target_krw: int


def target_out(target: PurchaseTarget) -> TargetOut:
    return TargetOut(agency_id=target.agency_id, year=target.year, target_krw=target.target_krw)


class ImportRowError(msgspec.Struct, kw_only=True):
    row: int
    field: str
    message: str


class ImportResult(msgspec.Struct, kw_only=True):
    dry_run: bool
    rows: int
    targets: int
    purchases: int
    purchases_krw: int
    applied: bool
